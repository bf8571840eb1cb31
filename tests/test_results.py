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

from centerir.config import load_config
from results import ExperimentError, best_configs, load, rank
from results.export import export_configs
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


def fold_reports(maes, status="complete", message=""):
    rows = []
    for done in range(1, len(maes) + 1):
        mean = sum(maes[:done]) / done
        rows.append(
            {
                "folds_done": done,
                "folds_total": 3,
                "fold_maes": maes[:done],
                "mae": mean,
                "mae_std": 0.1,
                "rmse": mean + 1,
                "r2": 0.1,
                "balanced_mae": mean + 0.5,
                "few_mae": mean + 2,
                "seconds": done,
                "device": "cpu",
                "status": "running" if done < len(maes) else status,
                "message": message,
            }
        )
    return rows


@pytest.fixture
def experiment(tmp_path):
    (tmp_path / "centerir_study.json").write_text(json.dumps({"base_config": BASE}))
    paper = {"lr": 1e-4, "boundaries": 16, "k_set_b16": "1-3-5-15", "k": "1-3-5-15", "lambda": 5e-8}
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
    assert row["fold_maes"] == [1.0, 3.0, 1.1] and row["mae"] == pytest.approx(5.1 / 3)
    assert frame.set_index("trial_id").loc["ddd", "message"] == "RuntimeError: boom"
    assert frame["is_paper"].tolist() == [True, False, False, False, False]


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
    text = format_ranking(rank(frame), frame)
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
    assert load_config(out / "best.yaml").lr == 1e-3  # YAML round trip into centerir
    assert load_config(out / "best_rank2.yaml").lr == 1e-4
    table = pd.read_csv(out / "all.csv")
    assert len(table) == 5 and set(table["status"]) >= {"complete", "pruned", "errored"}


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
    (folder / "centerir_study.json").write_text(json.dumps({"base_config": BASE}))
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


def test_report_renders_in_headless_chromium(experiment, tmp_path):
    import matplotlib.image

    browser = find_browser()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install Debian's chromium for the report test")
        pytest.skip("no chromium on this machine (make test installs it where apt-get works)")
    frame = load(experiment)
    page = write_report(frame, rank(frame), tmp_path / "report", "Study test")
    assert {p.name for p in page.parent.iterdir()} == {
        "report.html",
        "history.png",
        "hyperparameters.png",
        "fold_spread.png",
    }
    text = page.read_text()
    assert text.count("data:image/png;base64,") == 3 and "bbb" in text
    shot = tmp_path / "shot.png"
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
            f"--user-data-dir={tmp_path / 'profile'}",
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


def test_parquet_table_round_trip(experiment, tmp_path):
    done = run_results(experiment, "--parquet", tmp_path / "all.parquet")
    assert done.returncode == 0, done.stderr
    table = pd.read_parquet(tmp_path / "all.parquet")
    assert len(table) == 5 and "mae" in table and "config" not in table


def test_report_of_a_single_complete_trial(tmp_path):
    (tmp_path / "centerir_study.json").write_text(json.dumps({"base_config": BASE}))
    make_trial(
        tmp_path,
        "one",
        {"lr": 1e-4, "boundaries": 16, "k": "1-3-5-15", "lambda": 5e-8},
        fold_reports([2.0, 2.1, 2.2]),
    )
    frame = load(tmp_path)
    page = write_report(frame, rank(frame), tmp_path / "report", "one trial")
    assert "only one complete trial" in page.read_text()
