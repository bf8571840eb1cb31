"""The Ray Tune study end to end: local demo study, resume after SIGKILL, GPU shares, 2 nodes.

Each test starts its own Ray (in a private HOME and RAY_TMPDIR) and stops what it started;
all traffic stays on loopback addresses.
"""

import contextlib
import json
import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from benchmarks.study_runs import private_env
from centerir.config import load_config
from centerir.contract import HOLDOUT_FILE, REFITS, SETTINGS_FILE
from centerir.demo import make_demo_dataset
from centerir.holdout import holdout_split
from results import candidates, load, open_study, trials_only
from results.experiment import read_reports, trial_folders
from tune_study.ray_compat import saved_trial_progress, staged_trial_folders

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
TINY = ["--folds", "2", "--epochs", "1"]
NO_HOLDOUT = ["--holdout", "0"]  # for tests about the search alone: no refits at the end


def trials_of(experiment: Path):
    """The experiment's trial rows (no model-free baselines)."""
    return trials_only(load(experiment))


def launch(args, env, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "tune_study.launch", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        **kwargs,
    )


def start_launcher(args, env, capture=False, new_session=True):
    """The launcher in the background; ``new_session`` lets a test SIGKILL it with its Ray."""
    output = subprocess.PIPE if capture else subprocess.DEVNULL
    return subprocess.Popen(
        [sys.executable, "-m", "tune_study.launch", *args],
        env=env,
        cwd=ROOT,
        stdout=output,
        stderr=subprocess.STDOUT if capture else subprocess.DEVNULL,
        text=True,
        start_new_session=new_session,
    )


def reports(trial_dir: Path) -> list[dict]:
    return read_reports(trial_dir / "result.json")


def test_demo_study_end_to_end(tmp_path):
    env = private_env(tmp_path)
    done = launch(
        ["--num-samples", "3", *TINY, "--storage-path", str(tmp_path / "runs"), "--name", "demo"],
        env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Ray dashboard: http://127.0.0.1:" in done.stderr
    assert "held-out subjects: 12 of 60 subjects held out (default 0.2)" in done.stderr
    assert "lambda range" in done.stderr and "times MSE's gradient" in done.stderr
    assert "3 of 3 searched trials complete" in done.stdout and "(paper)" in done.stdout
    for label in ("(no CenterIR)", "(mean predictor)", "(median predictor)"):
        assert label in done.stdout
    assert "held-out MAE [95% CI] (unbiased)" in done.stdout
    assert "CenterIR (published configuration" in done.stdout
    experiment = tmp_path / "runs" / "demo"
    trials = trials_of(experiment)
    assert len(trials) == 4 and set(trials["status"]) == {"complete"}
    assert sorted(trials["role"]) == ["plain_mse", "published", "search", "search"]
    assert all(len(maes) == 2 for maes in trials["mae_folds"])
    assert all(len(maes) == 2 for maes in trials["subject_mae_folds"])
    assert (experiment / "report" / "report.html").is_file() and "report:" in done.stdout
    assert "Wilcoxon signed-rank" in done.stdout
    best = load_config(experiment / "best_config.json")
    assert best.folds == 2 and best.epochs == 1
    study = open_study(experiment)
    assert best.lr == candidates(study.ranked)["lr"].iloc[0]
    assert set(study.holdout["scores"]) == {str(key) for key in REFITS}
    held_out = set(study.holdout["subjects"])
    assert len(held_out) == 12
    demo = make_demo_dataset(seed=0)
    tuning, held_out_rows = holdout_split(demo.y, demo.groups, 0.2, seed=42)
    assert set(demo.groups[held_out_rows]) == held_out
    for trial in trial_folders(experiment):  # the search never saw a held-out subject
        checkpoint = sorted(trial.glob("checkpoint_*"))[-1]
        folds = json.loads((checkpoint / "folds.json").read_text())["folds"]
        tested = [index for fold in folds for index in fold["test_index"]]
        assert sorted(tested) == list(range(len(tuning)))  # each tuning window tested once
        assert not set(demo.groups[tuning[tested]]) & held_out
    json_note = json.loads((experiment / "best_config.json").read_text())["from_study"]
    assert set(json_note["held_out_subjects"]) == held_out


def checkpoints(trial_dir: Path) -> int:
    return len(list(trial_dir.glob("checkpoint_*")))


def saved_progress(experiment: Path) -> dict[str, int] | None:
    """Folds done per trial folder as Tune's saved experiment state (what --resume
    restores) records them; None while no state is saved or while one is being written."""
    return saved_trial_progress(experiment, "folds_done")


KILL_TRIALS, KILL_FOLDS = 3, 3  # trials: the published, plain MSE and one proposal


def kill_moment_reached(moment: str, progress: dict[str, int]) -> bool:
    """first: a trial is mid-CV, none has finished; between: one or more trials finished,
    none is mid-CV and some are still to come; last: all but one finished, that one mid-CV."""
    finished = sum(done == KILL_FOLDS for done in progress.values())
    midway = sum(0 < done < KILL_FOLDS for done in progress.values())
    if moment == "first":
        return finished == 0 and midway == 1
    if moment == "between":
        return 0 < finished < KILL_TRIALS and midway == 0
    return finished == KILL_TRIALS - 1 and midway == 1


def uninterrupted_fold_maes(experiment: Path, trial: Path) -> list[float]:
    """The trial's config cross-validated in one go, here, on one thread like its worker."""
    import torch

    from centerir.config import Config
    from centerir.cv import cross_validate
    from centerir.demo import make_demo_dataset

    frame = load(experiment)
    (values,) = frame.loc[frame["trial_name"] == trial.name, "config"]  # the config it ran
    config = Config.from_dict(values)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = cross_validate(config, make_demo_dataset(seed=0))
    finally:
        torch.set_num_threads(threads)
    return [fold.metrics["mae"] for fold in result.folds]


@pytest.mark.parametrize("moment", ["first", "between", "last"])
def test_resume_after_sigkill_keeps_finished_trials_and_runs_each_once(tmp_path, moment):
    """The launcher SIGKILLed during the first trial, between trials or during the last."""
    env = private_env(tmp_path)
    experiment = tmp_path / "runs" / "killed"
    args = [
        *NO_HOLDOUT,
        "--num-samples",
        str(KILL_TRIALS - 1),
        "--max-concurrent",
        "1",
        "--folds",
        str(KILL_FOLDS),
        "--epochs",
        "20",  # a fold (~7 s) outlasts the 5 s between saves of Tune's state
        "--storage-path",
        str(tmp_path / "runs"),
        "--name",
        "killed",
    ]
    process = start_launcher(args, env)
    deadline = time.time() + 300
    progress = None
    while time.time() < deadline and process.poll() is None:
        progress = saved_progress(experiment) if experiment.is_dir() else None
        if progress and kill_moment_reached(moment, progress):
            break
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)  # the launcher and the Ray it started
    process.wait()
    assert progress and kill_moment_reached(moment, progress), f"'{moment}' not seen: {progress}"
    finished = {
        name: (experiment / name / "result.json").read_text()
        for name, done in progress.items()
        if done == KILL_FOLDS
    }
    midway = [experiment / name for name, done in progress.items() if 0 < done < KILL_FOLDS]

    resumed = launch(
        ["--resume", "--storage-path", str(tmp_path / "runs"), "--name", "killed"], env
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    frame = trials_of(experiment)
    assert len(frame) == KILL_TRIALS and set(frame["status"]) == {"complete"}
    assert frame["trial_id"].is_unique
    for name, text in finished.items():  # finished trials were not run again
        assert (experiment / name / "result.json").read_text() == text
        assert checkpoints(experiment / name) == KILL_FOLDS
    for trial in trial_folders(experiment):
        folds = [r["folds_done"] for r in reports(trial)]
        assert folds[-1] == KILL_FOLDS and set(folds) == set(range(1, KILL_FOLDS + 1))
    for trial in midway:  # continued at its next fold, and scored as if never stopped
        rows = reports(trial)
        assert [r["folds_done"] for r in rows].count(1) == 1
        assert rows[-1]["mae_folds"] == uninterrupted_fold_maes(experiment, trial)


class PlantedPayload:
    """Unpickling this runs ``touch <marker>``: what a planted ``tuner.pkl`` could do."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def folder_state(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


def test_resume_never_unpickles_a_copied_or_tampered_experiment(tmp_path):
    """A copy of a finished study with a planted tuner.pkl, a Ray file others can write and
    a damaged saved search state: each refused in one line before Ray starts, nothing run
    or written."""
    env = private_env(tmp_path)
    runs = tmp_path / "runs"
    done = launch(
        ["--num-samples", "1", *TINY, *NO_HOLDOUT, "--storage-path", str(runs), "--name", "mine"],
        env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    marker = tmp_path / "pwned"
    shutil.copytree(runs / "mine", runs / "copy")
    (runs / "copy" / "tuner.pkl").write_bytes(pickle.dumps(PlantedPayload(marker)))
    original = runs / "mine"
    state = sorted(original.glob("experiment_state-*.json"))[-1]
    intact = state.read_text()

    def tampered_copy():
        return "copy", "copied or moved here"

    def writable_by_others():
        (original / "tuner.pkl").chmod(0o666)
        return "mine", "others can write to"

    def damaged_state():
        (original / "tuner.pkl").chmod(0o644)
        state.write_text(intact[: len(intact) // 2])
        return "mine", "damaged file"

    for case in (tampered_copy, writable_by_others, damaged_state):
        name, message = case()
        before = folder_state(runs)
        refused = launch(["--resume", "--storage-path", str(runs), "--name", name], env)
        assert refused.returncode == 2, refused.stderr[-3000:]
        assert refused.stderr.count("\n") == 1 and message in refused.stderr
        assert "Traceback" not in refused.stderr and not marker.exists()
        assert folder_state(runs) == before, case.__name__


def saved_scores(experiment: Path) -> dict[str, dict]:
    """Held-out scores saved so far (empty while none, or while the file is replaced)."""
    try:
        return json.loads((experiment / HOLDOUT_FILE).read_text())["scores"]
    except (OSError, ValueError, KeyError):
        return {}


def test_a_finished_held_out_refit_is_not_repeated_after_sigkill_and_resume(tmp_path):
    env = private_env(tmp_path)
    experiment = tmp_path / "runs" / "refits"
    common = ["--storage-path", str(tmp_path / "runs"), "--name", "refits"]
    # two CPUs per trial and refit: one refit at a time, so there are moments between them
    args = ["--num-samples", "1", "--folds", "2", "--epochs", "15", "--holdout", "0.2"]
    args += ["--cpus-per-trial", "2", *common]
    process = start_launcher(args, env)
    deadline = time.time() + 400
    while time.time() < deadline and process.poll() is None:
        if 1 <= len(saved_scores(experiment)) < len(REFITS):
            break
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    before = saved_scores(experiment)
    assert 1 <= len(before) < len(REFITS), f"no moment between refits seen: {sorted(before)}"

    resumed = launch(["--resume", *common], env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    (line,) = [x for x in resumed.stderr.splitlines() if "held-out subjects: refitting" in x]
    refitted = line.split("(", 1)[1].split(")", 1)[0].split(", ")
    assert refitted and not set(refitted) & set(before)  # only what was missing
    after = saved_scores(experiment)
    assert set(after) == {str(key) for key in REFITS}
    for key, record in before.items():  # kept as saved, not refitted again
        assert after[key] == record
    assert "held-out MAE [95% CI] (unbiased)" in resumed.stdout


def test_nested_cv_scores_each_outer_fold_on_subjects_its_search_never_saw(tmp_path):
    env = private_env(tmp_path)
    done = launch(
        [
            "--outer-folds",
            "3",
            "--num-samples",
            "1",
            *TINY,
            "--storage-path",
            str(tmp_path / "runs"),
            "--name",
            "nested",
        ],
        env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "nested CV: 3 of 3 outer folds complete" in done.stdout
    assert "outer-fold MAE of tuned (best refitted):" in done.stdout
    assert "outer-fold MAE of mean predictor:" in done.stdout
    assert "configurations chosen: boundaries" in done.stdout
    top = tmp_path / "runs" / "nested"
    demo = make_demo_dataset(seed=0)
    seen_outer = []
    for number in (1, 2, 3):
        sub = top / f"nested-outer{number}"
        study = open_study(sub)
        held_out = set(study.holdout["subjects"])
        seen_outer.append(held_out)
        tuning = np.flatnonzero(~np.isin(demo.groups, list(held_out)))
        for trial in trial_folders(sub):  # no outer-test subject in any fold of any trial
            checkpoint = sorted(trial.glob("checkpoint_*"))[-1]
            folds = json.loads((checkpoint / "folds.json").read_text())["folds"]
            tested = [index for fold in folds for index in fold["test_index"]]
            assert sorted(tested) == list(range(len(tuning)))
            assert not set(demo.groups[tuning[tested]]) & held_out
        assert set(study.holdout["scores"]) == {str(key) for key in REFITS}
    assert set().union(*seen_outer) == set(demo.groups.tolist())  # outer folds cover all
    assert sum(len(s) for s in seen_outer) == 60  # and never overlap
    shown = subprocess.run(
        [sys.executable, "-m", "results", str(top)], capture_output=True, text=True, env=env
    )
    assert shown.returncode == 0 and "nested CV: 3 of 3 outer folds complete" in shown.stdout


def test_a_nested_study_resumes_only_its_unfinished_outer_folds(tmp_path):
    env = private_env(tmp_path)
    top = tmp_path / "runs" / "nr"
    common = ["--storage-path", str(tmp_path / "runs"), "--name", "nr"]
    args = ["--outer-folds", "2", "--num-samples", "1", "--folds", "2", "--epochs", "3"]
    process = start_launcher([*args, *common], env)
    deadline = time.time() + 400
    first, second = top / "nr-outer1", top / "nr-outer2"
    while time.time() < deadline and process.poll() is None:
        if len(saved_scores(first)) == len(REFITS) and (second / SETTINGS_FILE).exists():
            break
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert len(saved_scores(first)) == len(REFITS), "outer fold 1 did not finish in time"
    assert len(saved_scores(second)) < len(REFITS), "outer fold 2 finished before the kill"
    kept = {p: p.read_bytes() for p in first.rglob("*.json") if "report" not in p.parts}

    resumed = launch(["--resume", *common], env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "nested CV: 2 of 2 outer folds complete" in resumed.stdout
    for path, content in kept.items():  # the finished outer fold was not run again
        if path.name.startswith(("experiment_state", "search", "basic-variant")):
            continue  # Tune's own state files are rewritten on restore
        assert path.read_bytes() == content, path
    assert len(saved_scores(second)) == len(REFITS)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


RAY = str(Path(sys.executable).parent / "ray")


@contextlib.contextmanager
def loopback_cluster(home: Path, head_cpus: int, head_gpus: int):
    """Head 127.0.0.2 + worker 127.0.0.3 (1 CPU) on loopback; yields (env, address)."""
    env = private_env(home)
    port = free_port()
    common = ["--object-store-memory=200000000", "--disable-usage-stats"]
    head = [
        "--head",
        "--node-ip-address=127.0.0.2",
        f"--port={port}",
        f"--num-cpus={head_cpus}",
        f"--num-gpus={head_gpus}",
        "--include-dashboard=false",
    ]
    subprocess.run(
        [RAY, "start", *head, *common], env=env, check=True, capture_output=True, timeout=120
    )
    if (home / ".ray" / "auth_token").exists():
        env["RAY_AUTH_MODE"] = "token"
    try:
        worker = [
            f"--address=127.0.0.2:{port}",
            "--node-ip-address=127.0.0.3",
            "--num-cpus=1",
            "--dashboard-agent-listen-port=52367",
        ]
        subprocess.run(
            [RAY, "start", *worker, *common], env=env, check=True, capture_output=True, timeout=120
        )
        yield env, f"127.0.0.2:{port}"
    finally:
        subprocess.run([RAY, "stop", "--force"], env=env, capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def two_node_cluster(tmp_path_factory):
    """Head (2 CPUs, 1 declared GPU) + worker (1 CPU) on loopback."""
    home = tmp_path_factory.mktemp("cluster")
    with loopback_cluster(home, head_cpus=2, head_gpus=1) as (env, address):
        yield env, address, home


def test_half_gpu_per_trial_runs_two_trials_at_once_and_falls_back_to_cpu(two_node_cluster):
    env, address, home = two_node_cluster
    done = launch(
        [
            "--address",
            address,
            *NO_HOLDOUT,
            "--num-samples",
            "1",
            "--gpus-per-trial",
            "0.5",
            "--folds",
            "2",
            "--epochs",
            "3",
            "--storage-path",
            str(home / "runs"),
            "--name",
            "gpu",
        ],
        env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    spans = []
    for trial in trial_folders(home / "runs" / "gpu"):
        rows = reports(trial)
        assert rows[-1]["device"] == "cpu"
        assert "CUDA is not available" in rows[-1]["message"]
        end = rows[-1]["timestamp"]
        spans.append((end - rows[-1]["time_total_s"], end))
    (a_start, a_end), (b_start, b_end) = spans
    assert a_start < b_end and b_start < a_end, f"trials did not overlap: {spans}"


def test_trials_run_on_both_nodes(two_node_cluster):
    env, address, home = two_node_cluster
    done = launch(
        [
            "--address",
            address,
            *NO_HOLDOUT,
            "--num-samples",
            "4",
            "--gpus-per-trial",
            "0",
            "--folds",
            "2",
            "--epochs",
            "3",
            "--storage-path",
            str(home / "runs"),
            "--name",
            "nodes",
        ],
        env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    nodes = {reports(t)[-1]["node_ip"] for t in trial_folders(home / "runs" / "nodes")}
    assert nodes == {"127.0.0.2", "127.0.0.3"}


def test_pruned_trials_reach_optuna_as_pruned_and_are_never_ranked(tmp_path):
    import optuna

    env = private_env(tmp_path)
    database = f"sqlite:///{tmp_path / 'study.db'}"
    done = launch(
        [
            *NO_HOLDOUT,
            "--num-samples",
            "7",
            "--max-concurrent",
            "1",
            "--folds",
            "3",
            "--epochs",
            "2",
            "--prune",
            "--optuna-storage",
            database,
            "--storage-path",
            str(tmp_path / "runs"),
            "--name",
            "pruned",
        ],
        env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    frame = trials_of(tmp_path / "runs" / "pruned")
    pruned = frame[frame["status"] == "pruned"]
    assert len(pruned) >= 1
    assert all(folds == 2 for folds in pruned["folds_done"])
    assert all("the 25th percentile (from the best) of" in message for message in pruned["message"])
    study = optuna.load_study(study_name="pruned", storage=database)
    states = [t.state for t in study.trials]
    assert states.count(optuna.trial.TrialState.PRUNED) == len(pruned)
    # plain MSE is never told to Optuna: the complete proposals are
    proposals = frame[frame["role"].isin(["search", "published"])]
    assert (
        states.count(optuna.trial.TrialState.COMPLETE) == (proposals["status"] == "complete").sum()
    )
    assert len(study.trials) == 7
    assert "pruned:" in done.stdout
    ranked_ids = done.stdout.split("trials complete; top")[-1].split("pruned:")[0]
    assert not any(trial_id in ranked_ids for trial_id in pruned["trial_id"])


def test_a_trial_the_time_budget_stops_is_listed_as_stopped_never_complete(tmp_path):
    import optuna

    env = private_env(tmp_path)
    database = f"sqlite:///{tmp_path / 'study.db'}"
    common = ["--storage-path", str(tmp_path / "runs"), "--name", "budget"]
    args = ["--num-samples", "2", "--max-concurrent", "1", "--folds", "3", "--epochs", "30"]
    done = launch(
        [*NO_HOLDOUT, *args, "--time-budget", "20", "--optuna-storage", database, *common], env
    )
    frame = trials_of(tmp_path / "runs" / "budget")
    completed = (frame["status"] == "complete").any()  # the first trial may finish in time
    assert done.returncode == (0 if completed else 1), done.stderr[-3000:]
    assert completed or "no trial completed: nothing to export" in done.stdout
    stopped = frame[frame["status"] == "stopped"]
    assert len(stopped) >= 1 and set(frame["status"]) <= {"complete", "stopped"}
    assert all("stopped by the time budget of 20 s after" in m for m in stopped["message"])
    assert "stopped: " in done.stdout
    study = optuna.load_study(study_name="budget", storage=database)
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    proposals = frame[frame["role"].isin(["search", "published"])]
    assert len(complete) == (proposals["status"] == "complete").sum()


def listening_sockets() -> dict[int, str]:
    """Socket inode -> local address of every TCP listener on this machine."""
    found = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A":  # LISTEN
                found[int(fields[9])] = fields[1].rsplit(":", 1)[0]
    return found


def is_loopback(hex_address: str) -> bool:
    if len(hex_address) == 8:  # IPv4, little-endian bytes
        return hex_address.endswith("7F")
    if hex_address == "00000000000000000000000001000000":  # ::1
        return True
    return hex_address.startswith("0000000000000000FFFF0000") and hex_address.endswith("7F")


def test_a_local_study_listens_on_loopback_only(tmp_path):
    env = private_env(tmp_path)
    experiment = tmp_path / "runs" / "listen"
    process = start_launcher(
        [
            *NO_HOLDOUT,
            "--num-samples",
            "2",
            "--folds",
            "2",
            "--epochs",
            "8",
            "--storage-path",
            str(tmp_path / "runs"),
            "--name",
            "listen",
        ],
        env,
    )
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not any(experiment.glob("*/checkpoint_*")):
            time.sleep(0.5)
        assert any(experiment.glob("*/checkpoint_*")), "the study did not start in time"
        sockets = listening_sockets()
        checked = 0
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                if os.getsid(int(proc.name)) != process.pid:
                    continue
                links = [os.readlink(fd) for fd in (proc / "fd").iterdir()]
            except OSError:
                continue
            for link in links:
                if link.startswith("socket:["):
                    address = sockets.get(int(link[8:-1]))
                    if address is not None:
                        checked += 1
                        assert is_loopback(address), f"pid {proc.name} listens on {address}"
        assert checked >= 5  # GCS, raylet, dashboard, workers... all seen
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def trial_worker_pids(session: int) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if (
                proc.name.isdigit()
                and os.getsid(int(proc.name)) == session
                and (proc / "cmdline").read_bytes().startswith(b"ray::ImplicitFunc")
            ):
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


def staged_rows(env: dict[str, str], name: str) -> list[dict]:
    """Rows the driver has logged so far in its staging folder (before any copy to storage)."""
    staged = staged_trial_folders(Path(env["RAY_TMPDIR"]), name)
    return [row for trial in staged for row in read_reports(trial / "result.json")]


def test_a_killed_trial_worker_is_retried_from_its_last_fold(tmp_path):
    env = private_env(tmp_path)
    experiment = tmp_path / "runs" / "worker"
    process = start_launcher(
        [
            *NO_HOLDOUT,
            "--num-samples",
            "1",
            "--max-concurrent",
            "1",  # one trial worker at a time: the published trial's, then plain MSE's
            "--folds",
            "3",
            "--epochs",
            "6",
            "--storage-path",
            str(tmp_path / "runs"),
            "--name",
            "worker",
        ],
        env,
        capture=True,
    )
    try:
        # Kill once the driver has logged fold 1 and, a moment later, registered its
        # checkpoint (Tune asks the worker for it after logging the row), but before Tune's
        # periodic copy to storage (every 5 s): the row must survive the retry.
        deadline = time.time() + 180
        while time.time() < deadline and not staged_rows(env, "worker"):
            time.sleep(0.05)
        time.sleep(1.0)
        workers = trial_worker_pids(process.pid)
        assert workers, "no trial worker found"
        launcher_nice = os.getpriority(os.PRIO_PROCESS, process.pid)
        # trials run at the launcher's priority, not Ray's default nice 15
        assert [os.getpriority(os.PRIO_PROCESS, pid) for pid in workers] == [launcher_nice]
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        output, _ = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0, output[-3000:]
    frame = trials_of(experiment)
    assert list(frame["status"]) == ["complete", "complete"] and set(frame["folds_done"]) == {3}
    (trial,) = [t for t in trial_folders(experiment) if "_lam0_" not in t.name]  # killed first
    rows = reports(trial)
    assert [r["folds_done"] for r in rows] == [1, 2, 3]
    # restored from the fold-1 checkpoint: two folds trained since, fold 1 not again
    assert rows[-1]["iterations_since_restore"] == 2, rows[-1]
    assert rows[-1]["mae_folds"][0] == rows[0]["mae_folds"][0]


def worker_node_pids() -> list[int]:
    """Ray processes of the node on 127.0.0.3 (its raylet and what it started)."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and b"127.0.0.3" in (proc / "cmdline").read_bytes():
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


def test_stopping_the_worker_node_reschedules_its_trials_on_the_head(tmp_path):
    with loopback_cluster(tmp_path, head_cpus=1, head_gpus=0) as (env, address):
        experiment = tmp_path / "runs" / "lost"
        process = start_launcher(
            [
                "--address",
                address,
                *NO_HOLDOUT,
                "--num-samples",
                "2",
                "--gpus-per-trial",
                "0",
                "--folds",
                "3",
                "--epochs",
                "6",
                "--storage-path",
                str(tmp_path / "runs"),
                "--name",
                "lost",
            ],
            env,
            capture=True,
            new_session=False,
        )
        deadline = time.time() + 180
        # both trials (one per node: each node has 1 CPU) have finished a fold
        while (
            time.time() < deadline
            and len({c.parent for c in experiment.glob("*/checkpoint_*")}) < 2
        ):
            time.sleep(0.2)
        lost = worker_node_pids()
        assert lost, "no process of the worker node found"
        for pid in lost:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        output, _ = process.communicate(timeout=420)
    assert process.returncode == 0, output[-3000:]
    assert "after retrying" in output  # the worker node's trial failed and ran again
    frame = trials_of(experiment)
    assert list(frame["status"]) == ["complete"] * 3
    assert {reports(t)[-1]["node_ip"] for t in trial_folders(experiment)} == {"127.0.0.2"}


MO_TRIALS = 6  # proposals of the two-objective study; plus the plain-MSE baseline


def test_a_two_objective_study_resumes_with_its_optuna_state_and_reports_its_front(tmp_path):
    """SIGKILL after a few trials, resume: every proposal asked of Optuna once, the study
    named in the Optuna database, a front table, and a report with the Pareto plot."""
    import optuna

    from tests.test_results import check_renders_in_chromium

    env = private_env(tmp_path)
    database = f"sqlite:///{tmp_path / 'study.db'}"
    experiment = tmp_path / "runs" / "mo"
    args = [
        *["--objectives", "mae,few_mae", "--num-samples", str(MO_TRIALS)],
        *["--folds", "3", "--epochs", "2", "--max-concurrent", "1"],
        *["--optuna-storage", database, "--storage-path", str(tmp_path / "runs"), "--name", "mo"],
    ]
    process = start_launcher(args, env)
    deadline = time.time() + 300
    progress: dict[str, int] | None = None
    while time.time() < deadline and process.poll() is None:
        progress = saved_progress(experiment) if experiment.is_dir() else None
        if progress and sum(done == 3 for done in progress.values()) >= 2:
            break
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert progress and sum(done == 3 for done in progress.values()) >= 2, progress

    resumed = launch(["--resume", "--storage-path", str(tmp_path / "runs"), "--name", "mo"], env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    frame = trials_of(experiment)
    assert len(frame) == MO_TRIALS + 1 and set(frame["status"]) == {"complete"}
    assert frame["trial_id"].is_unique
    searched = frame[frame["role"].isin(["search", "published"])]
    keys = ["lr", "boundaries", "k", "lambda"]
    assert not searched.duplicated(subset=keys).any()  # nothing proposed twice

    study = optuna.load_study(study_name="mo", storage=database)
    assert study.metric_names == ["mae", "few_mae"] and len(study.directions) == 2
    complete = study.get_trials(states=[optuna.trial.TrialState.COMPLETE])
    assert len(complete) == MO_TRIALS and all(len(t.values) == 2 for t in complete)

    assert "Pareto front on mae, few_mae:" in resumed.stdout
    assert "hyperparameter importance for few_mae" in resumed.stdout
    best = load_config(experiment / "best_config.json")
    ranked = open_study(experiment).ranked
    first = candidates(ranked).iloc[0]
    assert first["front"] == 1 and best.lr == first["lr"]
    page = experiment / "report" / "report.html"
    text = page.read_text()
    for heading in ("Pareto front", "Hyperparameter importance", "Parallel coordinates"):
        assert f"<h2>{heading}" in text
    check_renders_in_chromium(page, tmp_path)
