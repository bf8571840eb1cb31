"""``python -m results`` on careless or hostile input: a broken study file, a bad flag or
an unwritable output is one ``error:`` line naming it, exit code 2 and nothing written; a
damaged trial folder is listed as unreadable with its reason while the rest is ranked."""

import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from centerir.config import load_config
from centerir.contract import (
    BASELINES_FILE,
    HOLDOUT_FILE,
    SETTINGS_FILE,
    HeldOutScore,
    write_json_file,
    write_settings,
)
from results import candidates, load, rank
from results.cli import main as results_main
from tests.test_results import BASE, PAPER_PARAMS, fold_report, fold_reports, make_trial

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def study(tmp_path):
    """An experiment folder ``exp`` with baselines and two complete trials: ``good`` (the
    paper's configuration) and ``other``, which the trial cases damage."""
    folder = tmp_path / "exp"
    write_settings(folder, {"base_config": BASE, "objective": "mae"})
    write_json_file(
        folder / BASELINES_FILE, {"mean_predictor": fold_report([2.4, 2.5, 2.6], share=math.nan)}
    )
    make_trial(folder, "good", PAPER_PARAMS, fold_reports([2.0, 2.1, 2.0]))
    make_trial(folder, "other", {**PAPER_PARAMS, "lr": 3e-4}, fold_reports([2.2, 2.3, 2.2]))
    return folder


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``folder`` (links not followed) with its size and mtime."""
    paths = [Path(root) / name for root, dirs, files in os.walk(folder) for name in dirs + files]
    return {str(p): (p.lstat().st_size, p.lstat().st_mtime_ns) for p in paths}


def assert_one_line(done, pattern: str) -> None:
    """Exit code 2 and exactly one ``error:`` line on stderr, matching ``pattern``."""
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, (done.stdout[-2000:], done.stderr[-2000:])
    assert len(lines) == 1 and "error:" in lines[0], done.stderr
    assert re.search(pattern, lines[0]), lines[0]
    assert "Traceback" not in done.stderr


def run_cli(run_main, tmp_path, argv):
    """Run the command line in this process; assert it wrote nothing under ``tmp_path``."""
    before = snapshot(tmp_path)
    done = run_main(results_main, argv)
    if done.returncode != 0:
        assert snapshot(tmp_path) == before, "a refused run wrote files"
    return done


def run_results(*args, timeout=60):
    """Run ``python -m results`` in a fresh interpreter (for inputs that could block)."""
    return subprocess.run(
        [sys.executable, "-m", "results", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def edit_json(path: Path, **changes) -> None:
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


def append_report(folder: Path, line: str) -> None:
    """Append a line to trial ``other``'s result.json (its line 4)."""
    with (folder / "t_other" / "result.json").open("a") as handle:
        handle.write(line)


def last_report(**changes) -> str:
    """A whole report line of trial ``other`` after its third fold, with ``changes``."""
    return json.dumps({**fold_report([2.2, 2.3, 2.2]), **changes}) + "\n"


def outside_link(folder: Path, name: str, target: Path) -> None:
    """Replace ``folder / name`` with a link to ``target`` (outside the experiment)."""
    path = folder / name
    if path.is_dir():
        path.rename(target)
    elif path.exists():
        target.write_bytes(path.read_bytes())
        path.unlink()
    path.symlink_to(target)


# --- a broken whole-study file: one line, exit 2 --------------------------------------------
def with_holdout(folder: Path, **score_changes) -> None:
    score = HeldOutScore(role="best", config={}, trial_id="good", status="complete")
    score.metrics, score.intervals = {"mae": 2.0}, {"mae": [1.5, 2.5]}
    holdout = {"reason": "2 of 10", "subjects": [1, 2], "scores": {"best": score.to_dict()}}
    holdout["scores"]["best"].update(score_changes)
    write_json_file(folder / HOLDOUT_FILE, holdout)


def edit_holdout_scores(folder: Path) -> None:
    """Add a score for a refit the study never makes."""
    path = folder / HOLDOUT_FILE
    holdout = json.loads(path.read_text())
    holdout["scores"]["worst"] = holdout["scores"]["best"]
    path.write_text(json.dumps(holdout))


def bad_baseline(**changes):
    def damage(folder):
        report = {**fold_report([2.4, 2.5, 2.6], share=math.nan), **changes}
        write_json_file(folder / BASELINES_FILE, {"mean_predictor": report})

    return damage


SETTINGS = r"centerir_study\.json: expected "
STUDY_DAMAGE = {
    "settings not JSON": (
        lambda d: (d / SETTINGS_FILE).write_text("{nope"),
        SETTINGS + r"the study settings .* as JSON, got invalid JSON",
    ),
    "settings empty": (
        lambda d: (d / SETTINGS_FILE).write_text(""),
        SETTINGS + r"the study settings .* as JSON, got invalid JSON",
    ),
    "settings bad UTF-8": (
        lambda d: (d / SETTINGS_FILE).write_bytes(b'{"base_config": "\xff"}'),
        SETTINGS + r"study settings .* as UTF-8 text",
    ),
    "settings a list": (
        lambda d: (d / SETTINGS_FILE).write_text("[]"),
        SETTINGS + r"the study settings with a 'base_config' table, got another JSON value",
    ),
    "settings base_config a list": (
        lambda d: edit_json(d / SETTINGS_FILE, base_config=[]),
        SETTINGS + r"the study settings with a 'base_config' table",
    ),
    "settings objective a number": (
        lambda d: edit_json(d / SETTINGS_FILE, objective=3),
        SETTINGS + r"objectives among the reported metrics, got 3",
    ),
    "settings unknown key": (
        lambda d: edit_json(d / SETTINGS_FILE, objectiv="r2"),
        SETTINGS + r"only the keys a study writes, got 'objectiv' \(did you mean 'objective'\?\)",
    ),
    "settings key given twice": (
        lambda d: (d / SETTINGS_FILE).write_text(
            '{"base_config": {}, "objective": "mae", "objective": "r2"}'
        ),
        SETTINGS + r".*key 'objective' given twice",
    ),
    "settings a link out of the experiment": (
        lambda d: outside_link(d, SETTINGS_FILE, d.parent / "elsewhere.json"),
        SETTINGS + r"the study settings inside the experiment folder .*, got a link to ",
    ),
    "baselines a list": (
        lambda d: write_json_file(d / BASELINES_FILE, []),
        r"baselines\.json: expected a JSON object of baseline reports by role, got a list",
    ),
    "baseline MAE negative": (
        bad_baseline(mae=-1.0),
        r"baselines\.json: mean_predictor: expected mae >= 0 \(an error cannot be negative\), "
        r"got -1\.0",
    ),
    "baseline MAE as text": (
        bad_baseline(mae="2.5"),
        r"baselines\.json: mean_predictor: expected mae as a number or null, got text",
    ),
    "baseline fold R² above 1": (
        bad_baseline(r2_folds=[0.1, 1.5, 0.1]),
        r"baselines\.json: mean_predictor: expected r2_folds <= 1 \(an R² cannot exceed 1\)",
    ),
    "baseline folds of the wrong length": (
        bad_baseline(mae_folds=[2.4, 2.5]),
        r"expected mae_folds with one value per finished fold \(3\), got 2",
    ),
    "baseline fold count as text": (
        bad_baseline(folds_done="3"),
        r"baselines\.json: mean_predictor: expected folds_done as a whole number >= 0, got text",
    ),
    "held-out MAE negative": (
        lambda d: with_holdout(d, metrics={"mae": -2.0}),
        r"holdout\.json: scores best: expected mae >= 0 \(an error cannot be negative\)",
    ),
    "held-out interval reversed": (
        lambda d: with_holdout(d, intervals={"mae": [2.5, 1.5]}),
        r"holdout\.json: scores best: expected mae's interval as \[low, high\], got \[2\.5, 1\.5\]",
    ),
    "held-out interval negative": (
        lambda d: with_holdout(d, intervals={"mae": [-1.0, 2.5]}),
        r"holdout\.json: scores best: expected mae >= 0",
    ),
    "held-out metric unknown": (
        lambda d: with_holdout(d, metrics={"accuracy": 0.9}),
        r"holdout\.json: scores best: expected metrics named as in mae, .*, got 'accuracy'",
    ),
    "held-out score of an unknown refit": (
        lambda d: (with_holdout(d), edit_holdout_scores(d)),
        r"holdout\.json: expected scores of best, published, plain_mse, mean_predictor, got "
        r"'worst'",
    ),
    "experiment without trials": (
        lambda d: [os.rename(p, d.parent / p.name) for p in d.glob("t_*")],
        r"exp: the experiment has no trials yet",
    ),
}


@pytest.mark.parametrize("case", sorted(STUDY_DAMAGE))
def test_a_broken_study_file_is_one_line_exit_2_and_nothing_written(
    study, tmp_path, run_main, case
):
    damage, pattern = STUDY_DAMAGE[case]
    damage(study)
    out = tmp_path / "out"
    done = run_cli(
        run_main, tmp_path, [study, "--export", out / "best.json", "--csv", out / "a.csv"]
    )
    assert_one_line(done, pattern)
    assert done.stdout == ""


NOT_AN_EXPERIMENT = {
    "a file": (
        lambda d: d / SETTINGS_FILE,
        r"centerir_study\.json: expected a Tune experiment folder, got a file, not a folder",
    ),
    "nothing": (
        lambda d: d / "missing",
        r"missing: expected a Tune experiment folder, got no such folder",
    ),
    "an empty folder": (
        lambda d: (d / "empty").mkdir() or d / "empty",
        r"empty: expected a centerir-tune experiment folder \(with centerir_study\.json\)",
    ),
}


@pytest.mark.parametrize("case", sorted(NOT_AN_EXPERIMENT))
def test_an_experiment_path_that_is_no_experiment_is_one_line(study, tmp_path, run_main, case):
    make, pattern = NOT_AN_EXPERIMENT[case]
    done = run_cli(run_main, tmp_path, [make(study)])
    assert_one_line(done, pattern)


def test_an_outer_fold_linked_out_of_a_nested_study_is_one_line(study, tmp_path, run_main):
    edit_json(study / SETTINGS_FILE, outer_folds=2)
    elsewhere = tmp_path / "elsewhere"
    write_settings(elsewhere, {"base_config": BASE, "objective": "mae"})
    (study / "exp-outer1").symlink_to(elsewhere)
    done = run_cli(run_main, tmp_path, [study])
    assert_one_line(done, r"exp-outer1: expected an outer fold's study inside the experiment")


# --- a damaged trial: listed as unreadable with its reason, the rest ranked -----------------
def set_params(**changes):
    return lambda d: edit_json(d / "t_other" / "params.json", **changes)


def write_file(name: str, content: bytes):
    return lambda d: (d / "t_other" / name).write_bytes(content)


def replace_line(number: int, text: str):
    def damage(folder):
        path = folder / "t_other" / "result.json"
        lines = path.read_text().splitlines(keepends=True)
        lines[number - 1] = text
        path.write_text("".join(lines))

    return damage


PARAMS, RESULT, FILES = "params.json", "result.json", "trial files"
TRIAL_DAMAGE = {
    "params not JSON": (write_file(PARAMS, b"{"), PARAMS, r"as JSON, got invalid JSON"),
    "params empty": (write_file(PARAMS, b""), PARAMS, r"as JSON, got invalid JSON"),
    "params bad UTF-8": (write_file(PARAMS, b'{"lr": "\xff"}'), PARAMS, r"as UTF-8 text"),
    "params a list": (
        write_file(PARAMS, b"[]"),
        PARAMS,
        r"expected the parameters as a JSON object, got a list",
    ),
    "lr as text": (set_params(lr="abc"), FILES, r"expected lr as a number, got text"),
    "lr beyond float range": (
        set_params(lr=10**400),
        FILES,
        r"expected lr as a number, got the number 100000000000\.\.\.",
    ),
    "lr negative": (set_params(lr=-1e-4), FILES, r"lr must be > 0, got lr=-0\.0001"),
    "k null": (
        set_params(k=None),
        FILES,
        r"expected k as a k set name such as '1-3-5-15', got null",
    ),
    "k a number": (set_params(k=5), FILES, r"expected k as a k set name .*, got the number 5"),
    "boundaries fractional": (
        set_params(boundaries=1.5),
        FILES,
        r"expected boundaries as a whole number, got the number 1\.5",
    ),
    "a baseline's role": (
        set_params(role="mean_predictor"),
        FILES,
        r"expected role one of search, published, plain_mse, got 'mean_predictor'",
    ),
    "last report a list": (
        lambda d: append_report(d, "[]\n"),
        RESULT,
        r"result\.json line 4: expected a report as a JSON object, got a list",
    ),
    "last report a number": (
        lambda d: append_report(d, "3\n"),
        RESULT,
        r"line 4: expected a report as a JSON object, got the number 3",
    ),
    "fold MAEs null": (
        lambda d: append_report(d, last_report(mae_folds=None)),
        RESULT,
        r"line 4: expected mae_folds as a list of numbers, got null",
    ),
    "fold MAE as text": (
        lambda d: append_report(d, last_report(mae_folds=[2.2, "x", 2.2])),
        RESULT,
        r"line 4: expected mae_folds as a number or null, got text",
    ),
    "MAE as text": (
        lambda d: append_report(d, last_report(mae="1.0")),
        RESULT,
        r"line 4: expected mae as a number or null, got text",
    ),
    "MAE as a list": (
        lambda d: append_report(d, last_report(mae=[1.0])),
        RESULT,
        r"line 4: expected mae as a number or null, got a list",
    ),
    "MAE negative": (
        lambda d: append_report(d, last_report(mae=-5.0)),
        RESULT,
        r"line 4: expected mae >= 0 \(an error cannot be negative\), got -5\.0",
    ),
    "std negative": (
        lambda d: append_report(d, last_report(mae_std=-0.1)),
        RESULT,
        r"line 4: expected mae_std as a number >= 0 or null, got -0\.1",
    ),
    "status unknown": (
        lambda d: append_report(d, last_report(status="best")),
        RESULT,
        r"line 4: expected status one of pending, running, complete, .*, got 'best'",
    ),
    "more folds done than there are": (
        lambda d: append_report(d, last_report(folds_done=4)),
        RESULT,
        r"line 4: expected folds_done <= folds_total, got 4 > 3",
    ),
    "a middle line not JSON": (
        replace_line(2, '{"mae": 1.0, "sta\n'),
        RESULT,
        r"line 2: expected a report as JSON, got invalid JSON",
    ),
    "a line nested too deep": (
        lambda d: append_report(d, "[" * 100_000 + "\n"),
        RESULT,
        r"line 4: expected a report as JSON, got invalid JSON \(maximum recursion depth",
    ),
    "error.txt not UTF-8 beside a running report": (
        lambda d: (
            append_report(d, last_report(status="running")),
            write_file("error.txt", b"Traceback\n\xff\n")(d),
        ),
        "error.txt",
        r"expected error of a trial as UTF-8 text",
    ),
    "trial folder a link out of the experiment": (
        lambda d: outside_link(d, "t_other", d.parent / "elsewhere"),
        "trial folder",
        r"t_other: expected a trial folder inside the experiment folder .*, got a link to ",
    ),
    "params.json a link out of the experiment": (
        lambda d: outside_link(d / "t_other", PARAMS, d.parent / "elsewhere.json"),
        "trial folder",
        r"params\.json: expected a trial's params\.json inside the experiment folder",
    ),
    "params.json a link loop": (
        lambda d: ((d / "t_other" / PARAMS).unlink(), (d / "t_other" / PARAMS).symlink_to(PARAMS)),
        "trial folder",
        r"params\.json: expected a trial's params\.json, got a link that leads nowhere",
    ),
}


@pytest.mark.parametrize("case", sorted(TRIAL_DAMAGE))
def test_a_damaged_trial_is_listed_as_unreadable_and_the_rest_ranked(study, run_main, case):
    damage, what, pattern = TRIAL_DAMAGE[case]
    damage(study)
    done = run_main(results_main, [study])
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert "errored: 1 trial(s)" in done.stdout
    listed = [line for line in done.stdout.splitlines() if line.startswith("  other (0/3 folds)")]
    assert len(listed) == 1, done.stdout
    assert re.search(rf": unreadable {what} \(.*{pattern}", listed[0]), listed[0]
    frame = load(study)
    assert candidates(rank(frame))["trial_id"].tolist() == ["good"]
    row = frame.set_index("trial_name").loc["t_other"]
    assert row["status"] == "errored" and row["message"].startswith(f"unreadable {what} (")


def test_an_unreadable_trial_is_listed_in_the_report(study, tmp_path, run_main):
    (study / "t_other" / "params.json").write_text("{")
    done = run_main(results_main, [study, "--report", tmp_path / "report"])
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "report" / "report.html").read_text()
    assert "errored: 1 trial(s)" in page and "other (0/3 folds): unreadable params.json" in page


def test_a_last_line_cut_short_leaves_the_trial_at_its_last_whole_report(study, run_main):
    append_report(study, '{"trial_id": "other", "mae": 9.0, "status": "comp')  # no newline
    frame = load(study)
    assert candidates(rank(frame))["trial_id"].tolist() == ["good", "other"]
    assert frame.set_index("trial_id").loc["other", "mae"] == pytest.approx(6.7 / 3)


def test_nan_as_ray_writes_it_is_an_unknown_value_not_a_damage(study):
    append_report(study, last_report(centerir_share=math.nan, subject_mae=math.nan))
    row = load(study).set_index("trial_id").loc["other"]
    assert row["status"] == "complete" and math.isnan(row["centerir_share"])


def test_control_characters_from_the_files_are_printed_escaped(study, run_main):
    append_report(study, last_report(status="pruned", message="\x1b]0;owned\x07\x1b[2J"))
    done = run_main(results_main, [study])
    assert done.returncode == 0 and "\x1b" not in done.stdout and "\x07" not in done.stdout
    assert r"\x1b]0;owned\x07\x1b[2J" in done.stdout


def test_a_held_out_metric_left_unknown_exports_a_config_centerir_accepts(
    study, tmp_path, run_main
):
    with_holdout(study, metrics={"mae": 2.0, "subject_mae": None})
    done = run_main(results_main, [study, "--export", tmp_path / "best.json"])
    assert done.returncode == 0, done.stderr
    assert load_config(tmp_path / "best.json").lr == 1e-4  # strict JSON: null, never NaN


# --- output paths: checked before anything is read --------------------------------------------
def setup_outputs(folder: Path) -> None:
    (folder / "a_file").write_text("x")
    (folder / "a_folder.json").mkdir()
    (folder / "best_rank2.json").mkdir()
    (folder / "report_with_folder" / "report.html").mkdir(parents=True)


OUTPUT_CASES = {
    "export to a folder": (
        lambda d: ["--export", d / "a_folder.json"],
        r"a_folder\.json: expected a file path for the exported config, got a folder",
    ),
    "export under a file": (
        lambda d: ["--export", d / "a_file" / "best.json"],
        r"expected a writable place for the exported config, got .*a_file, which is a file, not a "
        r"folder",
    ),
    "export rank 2 onto a folder": (
        lambda d: ["--export", d / "best.json", "--export-top", "2"],
        r"best_rank2\.json: expected a file path for the exported config, got a folder",
    ),
    "export without a config suffix": (
        lambda d: ["--export", d / "best.txt"],
        r"best\.txt: expected a \.json, \.yaml or \.yml file, or a folder \(no suffix\), for "
        r"--export, got \.txt suffix",
    ),
    "csv to a folder": (
        lambda d: ["--csv", d / "a_folder.json"],
        r"expected a file path for the CSV table, got a folder",
    ),
    "parquet under a file": (
        lambda d: ["--parquet", d / "a_file" / "all.parquet"],
        r"expected a writable place for the Parquet table, got .*a_file, which is a file",
    ),
    "report where a file is": (
        lambda d: ["--report", d / "a_file"],
        r"expected a writable place for the report, got .*a_file, which is a file, not a folder",
    ),
    "report to a URI": (
        lambda d: ["--report", "s3://bucket/x"],
        r"s3:/bucket/x.*: expected a local path for the report, got a URI",
    ),
    "export to a URI": (
        lambda d: ["--export", "s3://bucket/best.json"],
        r"expected a local path for .*, got a URI",
    ),
    "report page a folder": (
        lambda d: ["--report", d / "report_with_folder"],
        r"report\.html: expected a file path for the report, got a folder",
    ),
    "csv onto the study's settings": (
        lambda d: ["--csv", d / "exp" / SETTINGS_FILE],
        r"expected a place for the CSV table outside a study's record, got the study's own "
        r"centerir_study\.json",
    ),
    "export into a trial folder": (
        lambda d: ["--export", d / "exp" / "t_good" / "best.json"],
        r"outside a study's record, got a file of a trial folder",
    ),
    "csv and parquet to one file": (
        lambda d: ["--csv", d / "all.out", "--parquet", d / "all.out"],
        r"all\.out: expected a file of its own for the Parquet table, got the CSV table's",
    ),
}


@pytest.mark.parametrize("case", sorted(OUTPUT_CASES))
def test_a_bad_output_path_is_refused_before_any_work(study, tmp_path, run_main, case):
    flags, pattern = OUTPUT_CASES[case]
    setup_outputs(tmp_path)
    done = run_cli(run_main, tmp_path, [study, *flags(tmp_path)])
    assert_one_line(done, pattern)
    assert done.stdout == ""  # nothing ranked before the refusal


def test_outputs_are_checked_before_the_experiment_is_read(tmp_path, run_main):
    setup_outputs(tmp_path)
    done = run_cli(run_main, tmp_path, [tmp_path / "missing", "--csv", tmp_path / "a_folder.json"])
    assert_one_line(done, r"a_folder\.json: expected a file path for the CSV table")


# --- flags ------------------------------------------------------------------------------------
FLAG_CASES = {
    "top zero": (["--top", "0"], r"--top must be >= 1, got --top 0"),
    "top negative": (["--top", "-3"], r"--top must be >= 1, got --top -3"),
    "top fractional": (["--top", "1.5"], r"argument --top: expected a whole number, got '1\.5'"),
    "top in full-width digits": (["--top", "１"], r"argument --top: expected a whole number"),
    "export-top zero": (["--export-top", "0"], r"--export-top must be from 1 to 100, got"),
    "export-top huge": (["--export-top", "10000000"], r"--export-top must be from 1 to 100"),
    "every nan": (["--watch", "--every", "nan"], r"argument --every: expected a finite number"),
    "every inf": (["--watch", "--every", "inf"], r"argument --every: expected a finite number"),
    "every zero": (["--watch", "--every", "0"], r"--every must be > 0 and <= 3600 seconds"),
    "every negative": (["--watch", "--every", "-1"], r"--every must be > 0"),
    "every huge": (["--watch", "--every", "1e12"], r"--every must be > 0 and <= 3600 seconds"),
    "watch with an output": (["--watch", "--csv", "all.csv"], r"--watch only prints; give --csv"),
}


@pytest.mark.parametrize("case", sorted(FLAG_CASES))
def test_a_bad_flag_is_one_line_exit_2(study, tmp_path, run_main, case):
    flags, pattern = FLAG_CASES[case]
    done = run_cli(run_main, tmp_path, [study, *flags])
    assert_one_line(done, pattern)


# --- inputs that could block: FIFOs, watched folders (fresh interpreters, with a timeout) -----
def fifo(folder: Path, name: str) -> Path:
    path = folder / name
    if path.exists():
        path.unlink()
    os.mkfifo(path)
    return path


FIFO_CASES = {
    "settings": (lambda d: (fifo(d, SETTINGS_FILE), d)[1], r"centerir_study\.json: expected "),
    "baselines": (lambda d: (fifo(d, BASELINES_FILE), d)[1], r"baselines\.json: expected "),
    "holdout": (lambda d: (fifo(d, HOLDOUT_FILE), d)[1], r"holdout\.json: expected "),
}


@pytest.mark.parametrize("case", sorted(FIFO_CASES))
def test_a_fifo_for_a_study_file_is_one_line_not_a_hang(study, case):
    make, pattern = FIFO_CASES[case]
    assert_one_line(run_results(make(study)), pattern + r".* as a regular file, got a FIFO")


def test_an_experiment_path_that_is_a_fifo_is_one_line_not_a_hang(tmp_path):
    done = run_results(fifo(tmp_path, "exp"))
    assert_one_line(done, r"exp: expected a Tune experiment folder, got a file, not a folder")


def test_a_fifo_output_is_refused_not_a_hang(study, tmp_path):
    done = run_results(study, "--csv", fifo(tmp_path, "all.csv"))
    assert_one_line(done, r"all\.csv: expected a file path for the CSV table, got a FIFO")


def test_fifos_in_trial_folders_are_listed_not_a_hang(study):
    make_trial(study, "running", {**PAPER_PARAMS, "lr": 5e-4}, fold_reports([2.0], "running"))
    fifo(study / "t_running", "error.txt")
    make_trial(study, "third", {**PAPER_PARAMS, "lr": 6e-4}, fold_reports([2.0, 2.0, 2.0]))
    fifo(study / "t_third", "result.json")
    fifo(study / "t_other", "params.json")
    done = run_results(study)
    assert done.returncode == 0, done.stderr
    for trial, name in (
        ("running", "error.txt"),
        ("third", "result.json"),
        ("other", "params.json"),
    ):
        assert re.search(
            rf"  {trial} \(0/3 folds\): unreadable {re.escape(name)} \(.*{re.escape(name)}: "
            r"expected .* as a regular file",
            done.stdout,
        ), done.stdout


def test_watch_on_a_broken_folder_is_one_line_at_once(study):
    (study / SETTINGS_FILE).write_text("{nope")
    started = time.monotonic()
    done = run_results(study, "--watch", "--every", "0.2")
    assert_one_line(done, r"centerir_study\.json: expected the study settings")
    assert time.monotonic() - started < 30


def test_watch_lists_a_damaged_trial_and_keeps_watching(study):
    (study / "t_other" / "params.json").write_text("{")
    process = subprocess.Popen(
        [sys.executable, "-m", "results", str(study), "--watch", "--every", "0.3"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    time.sleep(4)
    process.send_signal(signal.SIGTERM)
    output, errors = process.communicate(timeout=30)
    assert process.returncode == 0, errors
    assert output.count("other (0/3 folds): unreadable params.json") >= 2
