"""results: load an experiment folder, rank complete trials, export configs."""

import json

import pytest

from centerir.config import load_config
from results import ExperimentError, best_configs, load, rank
from results.table import format_ranking

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
