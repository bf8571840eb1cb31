"""results: load an experiment folder, rank complete trials, export configs."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from centerir.config import load_config
from centerir.contract import (
    BASELINES_FILE,
    HOLDOUT_FILE,
    PLAIN_MSE,
    PUBLISHED,
    SETTINGS_FILE,
    STOPPED_FILE,
    STUDY_NOTE_KEY,
    HeldOutScore,
    Status,
    folds_key,
    std_key,
    write_json_file,
)
from results import ExperimentError, best_configs, load, open_study, rank, summary_lines
from results.export import export_configs
from results.importance import (
    importance_bars,
    importance_lines,
    parallel_coordinates,
    param_importances,
)
from results.report import write_report
from results.table import format_ranking

ROOT = Path(__file__).resolve().parents[1]

BASE = {
    "lr": 1e-4,
    "batch_size": 32,
    "epochs": 5,
    "boundaries": 16,
    "k": [1, 3, 5, 15],
    "lambda": 5e-8,
    "folds": 3,
    "seed": 42,
}


def make_trial(folder, trial_id, params, reports, error=None):
    trial = folder / f"t_{trial_id}"
    trial.mkdir()
    (trial / "params.json").write_text(json.dumps(params))
    lines = [json.dumps({"trial_id": trial_id, **r}) for r in reports]
    (trial / "result.json").write_text("\n".join(lines) + ("\n" if lines else ""))
    if error:
        (trial / "error.txt").write_text(f"Traceback...\n{error}\n")


def fold_report(maes, status=Status.COMPLETE, message="", share=0.05):
    """A trial's report after ``len(maes)`` folds, as ``CVResult.report`` writes it."""
    done = len(maes)
    report = {
        "folds_done": done,
        "folds_total": 3,
        "centerir_share": share,
        "seconds": done,
        "device": "cpu",
        "status": str(status),
        "message": message,
    }
    for name, offset in (("mae", 0), ("rmse", 1), ("r2", None), ("balanced_mae", 0.5)):
        values = [0.1] * done if offset is None else [m + offset for m in maes]
        report[name] = sum(values) / done
        report[std_key(name)] = 0.1
        report[folds_key(name)] = values
    return report


def fold_reports(maes, status=Status.COMPLETE, message="", share=0.05):
    return [
        fold_report(maes[:done], Status.RUNNING if done < len(maes) else status, message, share)
        for done in range(1, len(maes) + 1)
    ]


def write_study(folder, baselines=None):
    write_json_file(folder / SETTINGS_FILE, {"base_config": BASE, "objective": "mae"})
    if baselines:
        write_json_file(folder / BASELINES_FILE, baselines)


PAPER_PARAMS = {**PUBLISHED, "k_set_b16": "1-3-5-15"}


@pytest.fixture
def experiment(tmp_path):
    write_study(tmp_path)
    paper = PAPER_PARAMS
    make_trial(tmp_path, "aaa", paper, fold_reports([2.0, 2.2, 2.1]))
    make_trial(
        tmp_path,
        "bbb",
        {**paper, "lr": 1e-3, "k": "1-3", "k_set_b16": "1-3"},
        fold_reports([1.0, 3.0, 1.1]),
    )  # early folds look worse than its final mean
    make_trial(
        tmp_path,
        "ccc",
        {**paper, "lr": 5e-4},
        fold_reports([1.5, 1.6], status="pruned", message="pruned after 2 folds"),
    )
    make_trial(tmp_path, "ddd", {**paper, "lr": 1.0}, [], error="RuntimeError: boom")
    make_trial(tmp_path, "eee", {**paper, "lr": 2e-4}, fold_reports([1.9], status="running"))
    return tmp_path


def test_load_one_row_per_trial_with_status(experiment):
    frame = load(experiment)
    status = dict(zip(frame["trial_id"], frame["status"], strict=True))
    assert status == {
        "aaa": "complete",
        "bbb": "complete",
        "ccc": "pruned",
        "ddd": "errored",
        "eee": "running",
    }
    row = frame.set_index("trial_id").loc["bbb"]
    assert row["mae_folds"] == [1.0, 3.0, 1.1] and row["mae"] == pytest.approx(5.1 / 3)
    assert frame.set_index("trial_id").loc["ddd", "message"] == "RuntimeError: boom"
    assert frame["role"].tolist() == ["published"] + ["search"] * 4


def test_a_trial_the_time_budget_stopped_is_listed_as_stopped_with_its_folds(experiment):
    write_json_file(
        experiment / STOPPED_FILE,
        {"reason": "the time budget of 60 s", "trials": ["eee", "aaa"]},  # aaa had finished
    )
    frame = load(experiment)
    row = frame.set_index("trial_id").loc["eee"]
    assert row["status"] == "stopped"
    assert row["message"] == "stopped by the time budget of 60 s after 1 of 3 folds"
    assert frame.set_index("trial_id").loc["aaa", "status"] == "complete"
    assert "eee" not in rank(frame)["trial_id"].tolist()
    text = format_ranking(rank(frame), frame, ("mae",))
    assert "stopped: 1 trial(s)\n  eee (1/3 folds): stopped by the time budget of 60 s" in text


@pytest.mark.parametrize("saved", [[], {"reason": 5, "trials": []}, {"reason": "x", "trials": [1]}])
def test_a_damaged_stopped_trials_file_is_one_line(experiment, saved):
    write_json_file(experiment / STOPPED_FILE, saved)
    with pytest.raises(ExperimentError, match="stopped_trials.json: expected"):
        load(experiment)


def test_rank_uses_final_fold_averaged_mae_of_complete_trials_only(experiment):
    ranked = rank(load(experiment))
    assert ranked["trial_id"].tolist() == ["bbb", "aaa"]  # pruned 1.55 and running 1.9 excluded
    assert ranked["rank"].tolist() == [1, 2]


def test_best_config_is_accepted_by_centerir_train(experiment, tmp_path):
    best = best_configs(rank(load(experiment)), 1)[0]
    path = tmp_path / "best.json"
    path.write_text(json.dumps(best))
    config = load_config(path)
    assert config.lr == 1e-3 and config.k == (1, 3) and config.folds == 3


def test_ranking_text_marks_the_paper_and_lists_the_rest_by_status(experiment):
    frame = load(experiment)
    text = format_ranking(rank(frame), frame, ("mae",))
    assert "aaa (paper)" in text and "rank 2 of 2" in text
    assert "pruned: 1 trial(s)" in text and "pruned after 2 folds" in text
    assert "errored: 1 trial(s)" in text and "RuntimeError: boom" in text


def test_not_an_experiment(tmp_path):
    with pytest.raises(ExperimentError, match="no such folder"):
        load(tmp_path / "nope")
    with pytest.raises(ExperimentError, match="centerir-tune experiment folder"):
        load(tmp_path)


def run_results(*args):
    return subprocess.run(
        [sys.executable, "-m", "results", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_cli_prints_ranking_comparison_and_exports(experiment, tmp_path):
    out = tmp_path / "out"
    done = run_results(
        experiment, "--export", out / "best.yaml", "--export-top", "2", "--csv", out / "all.csv"
    )
    assert done.returncode == 0, done.stderr
    assert "bbb" in done.stdout and "Wilcoxon signed-rank p =" in done.stdout
    assert "with 3 folds no test can go below p = 0.25" in done.stdout
    assert "selection-biased" in done.stdout and "held-out subjects: none" in done.stdout
    assert load_config(out / "best.yaml").lr == 1e-3  # YAML round trip into centerir
    assert load_config(out / "best_rank2.yaml").lr == 1e-4
    note = yaml.safe_load((out / "best.yaml").read_text())[STUDY_NOTE_KEY]
    assert note["objective"] == "mae" and note["held_out_subjects"] == []
    table = pd.read_csv(out / "all.csv")
    assert len(table) == 5 and set(table["status"]) >= {"complete", "pruned", "errored"}
    assert table.set_index("trial_id").loc["bbb", "mae_folds"] == "1;3;1.1"


def test_exported_config_runs_with_centerir_train(experiment, tmp_path, npy_files):
    from centerir.cli import main as centerir_main

    export_configs(rank(load(experiment)), tmp_path / "best.json")
    code = centerir_main(
        [
            "train",
            "--config",
            str(tmp_path / "best.json"),
            "--x",
            str(npy_files["x"]),
            "--y",
            str(npy_files["y"]),
            "--epochs",
            "1",
            "--folds",
            "2",
        ]
    )
    assert code == 0


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing", "no such folder"),
        (lambda d: d, "centerir-tune experiment folder"),
        (lambda d: empty_study(d), "has no trials yet"),
        (lambda d: running_study(d), r"no complete trial to rank \(1 running\)"),
    ],
)
def test_cli_errors_are_one_line_exit_2(tmp_path, make, message):
    out = tmp_path / "best.json"
    done = run_results(make(tmp_path), "--export", out)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and re.search(message, lines[0]), done.stderr
    assert not out.exists()


def empty_study(folder):
    write_study(folder)
    return folder


def running_study(folder):
    empty_study(folder)
    make_trial(
        folder,
        "r1",
        {"lr": 1e-4, "boundaries": 16, "k": "1", "lambda": 1e-8},
        fold_reports([2.0], status="running"),
    )
    return folder


def test_watch_reprints_while_the_study_runs(experiment):
    process = subprocess.Popen(
        [sys.executable, "-m", "results", str(experiment), "--watch", "--every", "0.3"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    time.sleep(4)
    # SIGTERM: a background job (as in CI) ignores SIGINT
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert output.count("trials complete; top") >= 2


def find_browser():
    return next(
        (
            shutil.which(n)
            for n in ("chromium", "chromium-browser", "google-chrome")
            if shutil.which(n)
        ),
        None,
    )


def check_renders_in_chromium(page: Path, scratch: Path) -> None:
    """Screenshot ``page`` in headless Chromium and check it is no blank page (skip where
    no Chromium is installed; fail under CI, which installs it)."""
    import matplotlib.image

    browser = find_browser()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install Debian's chromium for the report test")
        pytest.skip("no chromium on this machine (make test installs it where apt-get works)")
    shot = scratch / "shot.png"
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={scratch / 'profile'}",
            "--window-size=1200,2400",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    pixels = matplotlib.image.imread(shot)[..., :3]
    not_white = (pixels < 0.95).any(axis=-1).mean()
    assert not_white > 0.01, f"screenshot looks blank ({not_white:.1%} non-white pixels)"
    assert len(np.unique((pixels * 255).astype(int).reshape(-1, 3), axis=0)) > 50


def test_report_renders_in_headless_chromium(experiment, tmp_path):
    page = write_report(open_study(experiment), tmp_path / "report", "Study test")
    assert {p.name for p in page.parent.iterdir()} == {
        "report.html",
        "history.png",
        "hyperparameters.png",
        "fold_spread.png",
        "importance.png",
        "parallel.png",
    }
    text = page.read_text()
    assert text.count("data:image/png;base64,") == 5 and "bbb" in text
    assert "Hyperparameter importance (fANOVA)" in text
    assert "hyperparameter importance for mae: none (needs at least 4 complete" in text
    check_renders_in_chromium(page, tmp_path)


def test_parquet_table_round_trip(experiment, tmp_path):
    done = run_results(experiment, "--parquet", tmp_path / "all.parquet")
    assert done.returncode == 0, done.stderr
    table = pd.read_parquet(tmp_path / "all.parquet")
    assert len(table) == 5 and "mae" in table and "config" not in table


def test_report_of_a_single_complete_trial(tmp_path):
    write_study(tmp_path)
    make_trial(tmp_path, "one", PAPER_PARAMS, fold_reports([2.0, 2.1, 2.2]))
    page = write_report(open_study(tmp_path), tmp_path / "report", "one trial")
    assert "only one complete configuration" in page.read_text()


def baseline(maes):
    """A model-free baseline's report (as ``constant_predictor_cv(...).report()``)."""
    return fold_report(maes, share=float("nan"))


@pytest.fixture
def with_baselines(tmp_path):
    """Best (3.0) worse than the mean predictor (2.5); plain MSE between."""
    write_study(
        tmp_path,
        {"mean_predictor": baseline([2.4, 2.5, 2.6]), "median_predictor": baseline([2.6] * 3)},
    )
    make_trial(tmp_path, "pap", PAPER_PARAMS, fold_reports([3.0, 3.1, 3.2], share=1e-5))
    plain = {**PLAIN_MSE, "k_set_b16": "1-3-5-15", "role": "plain_mse"}
    make_trial(tmp_path, "mse", plain, fold_reports([2.0, 2.1, 2.0], share=0.0))
    make_trial(tmp_path, "tpe", {**PAPER_PARAMS, "lr": 3e-4}, fold_reports([2.9, 3.0, 3.1]))
    return tmp_path


def test_baselines_are_ranked_rows_but_never_best(with_baselines):
    study = open_study(with_baselines)
    ranked = study.ranked
    assert ranked["role"].tolist() == [
        "plain_mse",
        "mean_predictor",
        "median_predictor",
        "search",
        "published",
    ]
    assert ranked["rank"].tolist()[:3] == [pd.NA] * 3 and ranked["rank"].tolist()[3:] == [1, 2]
    assert best_configs(ranked)[0]["lr"] == 3e-4  # plain MSE is better, but a baseline
    mean_row = ranked[ranked["role"] == "mean_predictor"].iloc[0]
    assert mean_row["mae_folds"] == [2.4, 2.5, 2.6] and mean_row["trial_id"] == ""


def test_no_better_than_the_mean_is_the_first_line_of_the_summary(with_baselines):
    lines = summary_lines(open_study(with_baselines))
    assert lines[0].startswith("WARNING: the best configuration (tpe) is NO BETTER than")
    assert "mae 3.0000 vs 2.5000; better on 0 of 3 folds" in lines[0]
    text = "\n".join(lines)
    assert "tpe" in text and "(mean predictor)" in text and "(no CenterIR)" in text
    assert "CenterIR (published configuration, pap (paper)) does not help against plain" in text
    assert "note: in 2 of 2 ranked configurations the CenterIR term pulled" not in text
    assert "note: in 1 of 2 ranked configurations the CenterIR term" in text  # pap's 1e-5


def test_held_out_scores_are_shown_beside_the_biased_cv_values(with_baselines):
    def score(role, trial_id, mae):
        return HeldOutScore(
            role=role,
            config={},
            trial_id=trial_id,
            status="complete",
            metrics={"mae": mae, "subject_mae": mae - 0.1},
            intervals={"mae": [mae - 0.5, mae + 0.5], "subject_mae": [mae - 0.6, mae + 0.4]},
            mean_prediction=2.0,
            held_out_mean=2.2,
            tuning_mean=2.1,
        ).to_dict()

    holdout = {
        "fraction": 0.2,
        "reason": "2 of 10 subjects held out (--holdout 0.2)",
        "subjects": [3, 7],
        "scores": {
            "best": score("best", "tpe", 2.0),
            "mean_predictor": score("mean_predictor", "", 2.5),
        },
    }
    write_json_file(with_baselines / HOLDOUT_FILE, holdout)
    text = "\n".join(summary_lines(open_study(with_baselines)))
    assert "held-out subjects: 2 of 10 subjects held out (--holdout 0.2), never" in text
    assert "CV mae (selection-biased)" in text and "held-out MAE [95% CI] (unbiased)" in text
    assert "2.000 [1.50, 2.50]" in text
    assert (
        "on the held-out subjects the best configuration beats predicting the training mean" in text
    )
    assert "not yet scored on the held-out subjects: published configuration" in text


def test_an_unreadable_trial_folder_is_an_errored_row(tmp_path):
    write_study(tmp_path)
    make_trial(tmp_path, "ok", PAPER_PARAMS, fold_reports([2.0, 2.0, 2.0]))
    bad = tmp_path / "t_bad"
    bad.mkdir()
    (bad / "params.json").write_bytes(b"\xff\xfe not json")
    frame = load(tmp_path)
    row = frame.set_index("trial_name").loc["t_bad"]
    assert row["status"] == "errored" and "unreadable params.json" in row["message"]
    assert rank(frame)["trial_id"].tolist() == ["ok"]


def test_an_internal_error_in_results_propagates_as_a_traceback(experiment, monkeypatch):
    from results import cli

    def broken(*args, **kwargs):
        raise ValueError("an internal failure")

    monkeypatch.setattr(cli, "summary_lines", broken)
    with pytest.raises(ValueError, match="an internal failure"):
        cli.main([str(experiment)])


def edit_json(path, change):
    values = json.loads(path.read_text())
    change(values)
    path.write_text(json.dumps(values))


def with_holdout(folder):
    score = HeldOutScore(role="best", config={}, trial_id="tpe", status="complete")
    score.metrics = {"mae": 2.0}
    score.intervals = {"mae": [1.5, 2.5]}
    holdout = {"reason": "2 of 10", "subjects": [1, 2], "scores": {"best": score.to_dict()}}
    write_json_file(folder / HOLDOUT_FILE, holdout)


def score_edit(change):
    def edit(d):
        with_holdout(d)
        edit_json(d / HOLDOUT_FILE, lambda v: change(v["scores"]["best"]))

    return edit


DAMAGED = {
    "holdout without reason": (
        lambda d: (with_holdout(d), edit_json(d / HOLDOUT_FILE, lambda v: v.pop("reason"))),
        r"holdout\.json: expected held-out 'subjects' \(a list\), 'reason'",
    ),
    "holdout subjects as text": (
        lambda d: (with_holdout(d), edit_json(d / HOLDOUT_FILE, lambda v: v.update(subjects="ab"))),
        r"holdout\.json: expected held-out 'subjects' \(a list\)",
    ),
    "score metrics as text": (
        score_edit(lambda s: s.update(metrics="x")),
        r"holdout\.json: expected a held-out score record, got a bad 'metrics'",
    ),
    "score interval of one value": (
        score_edit(lambda s: s.update(intervals={"mae": [1]})),
        r"holdout\.json: expected a held-out score record, got a bad 'intervals'",
    ),
    "score with an unknown key": (
        score_edit(lambda s: s.update(foo=1)),
        r"holdout\.json: expected a held-out score record with keys from",
    ),
    "objective unknown": (
        lambda d: edit_json(d / SETTINGS_FILE, lambda v: v.update(objective="foo")),
        r"centerir_study\.json: expected objectives among the reported metrics, got 'foo'",
    ),
    "huge outer folds": (
        lambda d: edit_json(d / SETTINGS_FILE, lambda v: v.update(outer_folds=10**12)),
        r"expected outer_folds to be null or an integer from 2 to 100, got 1000000000000",
    ),
    "outer folds as text": (
        lambda d: edit_json(d / SETTINGS_FILE, lambda v: v.update(outer_folds="x")),
        r"expected outer_folds to be null or an integer",
    ),
    "bad base config": (
        lambda d: edit_json(d / SETTINGS_FILE, lambda v: v["base_config"].update(folds="x")),
        r"centerir_study\.json: base_config: folds must be an integer",
    ),
    "plain MSE posing as a baseline file row": (
        lambda d: (d / BASELINES_FILE).write_text(json.dumps({"plain_mse": {"mae": 1.0}})),
        r"baselines\.json: expected baseline reports by role, got 'plain_mse'",
    ),
}


@pytest.mark.parametrize("case", sorted(DAMAGED))
def test_a_damaged_experiment_folder_is_one_line_and_exit_2(with_baselines, case, run_main):
    from results.cli import main as results_main

    damage, message = DAMAGED[case]
    damage(with_baselines)
    out = with_baselines / "best.json"
    done = run_main(results_main, [with_baselines, "--export", out])
    assert done.returncode == 2, done.stdout[-2000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and re.search(message, lines[0]), done.stderr
    assert not out.exists()


def test_odd_values_in_trial_files_are_errored_rows_not_crashes(with_baselines, run_main):
    from results.cli import main as results_main

    edit_json(with_baselines / "t_tpe" / "params.json", lambda v: v.update(k=5))
    (with_baselines / "t_pap" / "result.json").write_text('{"mae": null, "status": "complete"}\n')
    with_holdout(with_baselines)
    edit_json(with_baselines / HOLDOUT_FILE, lambda v: v["scores"]["best"].update(metrics={}))
    done = run_main(results_main, [with_baselines])
    assert done.returncode == 2 and "no complete trial to rank" in done.stderr
    frame = load(with_baselines)
    row = frame.set_index("trial_name").loc["t_tpe"]
    assert row["status"] == "errored" and "unreadable trial files" in row["message"]


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (
            lambda d: d / "a_file" / "best.json",
            r"expected a writable place .* a file, not a folder",
        ),
        (lambda d: d / "a_folder.json", r"expected a file path for the exported config, got a"),
        (lambda d: d / "best.txt", r"expected a \.json, \.yaml or \.yml file, or a folder"),
    ],
)
def test_unwritable_export_paths_are_refused_before_anything(experiment, target, message, run_main):
    from results.cli import main as results_main

    (experiment / "a_file").write_text("x")
    (experiment / "a_folder.json").mkdir()
    done = run_main(results_main, [experiment, "--export", target(experiment)])
    assert done.returncode == 2 and re.search(message, done.stderr), done.stderr
    assert done.stdout == ""


def importance_frame(n: int) -> pd.DataFrame:
    """``n`` complete candidate rows whose mae depends on lr alone."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "rank": range(1, n + 1),
            "role": "search",
            "lr": 10 ** rng.uniform(-4, -2, n),
            "boundaries": rng.integers(5, 20, n),
            "k": rng.choice(["1-3", "1-3-5-15"], n),
            "lambda": 10 ** rng.uniform(-8, -2, n),
            "batch_size": 32,  # not varied: not scored
            "dropout": 0.3,
        }
    )
    frame["mae"] = 2 + (np.log10(frame["lr"]) + 3) ** 2 + rng.normal(0, 0.01, n)
    frame["few_mae"] = 3 + (np.log10(frame["lambda"]) + 5) ** 2 + rng.normal(0, 0.01, n)
    return frame


def test_importance_finds_the_one_hyperparameter_the_objective_depends_on():
    by_objective, how = param_importances(importance_frame(16), ("mae",))
    shares = by_objective["mae"]
    assert list(shares)[0] == "lr" and shares["lr"] > 0.5
    assert set(shares) == {"lr", "boundaries", "k", "lambda"}
    assert sum(shares.values()) == pytest.approx(1.0)
    assert how == "Optuna's fANOVA over 16 complete trials"
    assert param_importances(importance_frame(16), ("mae",)) == (by_objective, how)  # seeded


def test_importance_is_given_per_objective():
    by_objective_and_how = param_importances(importance_frame(16), ("mae", "few_mae"))
    by_objective = by_objective_and_how[0]
    assert list(by_objective) == ["mae", "few_mae"]
    assert list(by_objective["mae"])[0] == "lr"
    assert list(by_objective["few_mae"])[0] == "lambda"
    lines = importance_lines(by_objective_and_how, ("mae", "few_mae"))
    assert [line.split(" (")[0] for line in lines] == [
        "hyperparameter importance for mae",
        "hyperparameter importance for few_mae",
    ]
    figure = importance_bars(by_objective_and_how, ("mae", "few_mae"))
    ax = figure.axes[0]
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["mae", "few_mae"]
    keys = [label.get_text() for label in ax.get_yticklabels()]
    for name, bars in zip(("mae", "few_mae"), ax.containers, strict=True):
        # each bar sits in its hyperparameter's row and is as long as its share
        assert [bar.get_width() for bar in bars] == [by_objective[name][k] for k in keys]


def test_importance_needs_a_few_complete_trials_and_says_so():
    assert importance_lines(param_importances(importance_frame(3), ("mae",)), ("mae",)) == [
        "hyperparameter importance for mae: none (needs at least 4 complete trials, got 3)."
    ]
    figure = parallel_coordinates(importance_frame(3), ("mae",))
    assert "needs at least 4 complete trials" in figure.texts[0].get_text()


def test_optuna_plots_leave_the_other_figures_style_alone():
    import matplotlib.pyplot as plt

    before = dict(plt.rcParams)
    importance_bars(param_importances(importance_frame(8), ("mae",)), ("mae",))
    parallel_coordinates(importance_frame(8), ("mae",))
    assert dict(plt.rcParams) == before
    plt.close("all")
