"""Several objectives: non-dominated sorting, the Pareto ranking, its summary and exports."""

import itertools
import json

import numpy as np
import pandas as pd
import pytest

from centerir.config import load_config
from centerir.contract import (
    BASELINES_FILE,
    PUBLISHED,
    SETTINGS_FILE,
    STUDY_NOTE_KEY,
    Role,
    Status,
    folds_key,
    std_key,
    write_json_file,
)
from results import load, open_study, rank, summary_lines
from results.cli import main as results_main
from results.pareto import dominates, front_numbers
from results.ranking import candidates, front
from results.report import write_report
from tests.test_results import BASE, PAPER_PARAMS, make_trial

OBJECTIVES = ("mae", "few_mae")


def brute_force_fronts(values: np.ndarray) -> list[int]:
    """Fronts by definition: peel off, again and again, the points nothing left dominates."""
    left = set(range(len(values)))
    fronts = [0] * len(values)
    number = 0
    while left:
        number += 1
        layer = {
            i
            for i in left
            if not any(
                all(values[j] <= values[i]) and any(values[j] < values[i]) for j in left if j != i
            )
        }
        for i in layer:
            fronts[i] = number
        left -= layer
    return fronts


@pytest.mark.parametrize("seed", range(20))
def test_fronts_match_a_brute_force_check_on_random_points(seed):
    rng = np.random.default_rng(seed)
    n, m = rng.integers(1, 40), rng.integers(2, 4)
    values = rng.integers(0, 6, size=(n, m)).astype(float)  # small integers: ties and repeats
    assert front_numbers(values).tolist() == brute_force_fronts(values)


def test_no_point_dominates_another_of_its_front_and_each_later_one_is_beaten():
    values = np.random.default_rng(1).normal(size=(60, 3))
    fronts = front_numbers(values)
    for i, j in itertools.permutations(range(60), 2):
        if fronts[i] == fronts[j]:
            assert not dominates(values[i], values[j])
    for i in np.flatnonzero(fronts > 1):
        better = values[fronts == fronts[i] - 1]
        assert dominates(better, values[i][None, :]).any()


def report(values: dict[str, list[float]], status=Status.COMPLETE) -> dict:
    """A trial's last report: every metric's folds, mean and std."""
    done = len(next(iter(values.values())))
    row = {
        "folds_done": done,
        "folds_total": 3,
        "centerir_share": 0.05,
        "seconds": done,
        "device": "cpu",
        "status": str(status),
        "message": "" if status == Status.COMPLETE else f"{status} after {done} folds",
    }
    for name, folds in values.items():
        row[name] = float(np.mean(folds))
        row[std_key(name)] = float(np.std(folds, ddof=1)) if done > 1 else 0.0
        row[folds_key(name)] = folds
    return row


def scores(mae: float, few: float, done: int = 3) -> dict[str, list[float]]:
    return {"mae": [mae] * done, "few_mae": [few] * done, "r2": [0.1] * done}


@pytest.fixture
def pareto_experiment(tmp_path):
    """Front 1: aaa (paper), bbb, ccc; front 2: ddd; a pruned and a diverged trial that would
    dominate everything; plain MSE and the mean predictor as baselines."""
    write_json_file(
        tmp_path / SETTINGS_FILE,
        {"base_config": BASE, "objectives": "mae,few_mae", "objective": "mae"},
    )
    write_json_file(
        tmp_path / BASELINES_FILE,
        {str(Role.MEAN_PREDICTOR): report(scores(2.2, 6.0))},
    )
    trials = {
        "aaa": (PAPER_PARAMS, scores(2.0, 4.0)),
        "bbb": ({**PAPER_PARAMS, "lr": 1e-3}, scores(1.8, 5.0)),
        "ccc": ({**PAPER_PARAMS, "lr": 3e-4, "lambda": 1e-3}, scores(2.4, 3.0)),
        "ddd": ({**PAPER_PARAMS, "lr": 5e-4}, scores(2.5, 5.5)),
    }
    for trial_id, (params, values) in trials.items():
        make_trial(tmp_path, trial_id, params, [report(values)])
    make_trial(
        tmp_path, "ppp", {**PAPER_PARAMS, "lr": 2e-4}, [report(scores(0.5, 0.5, 2), "pruned")]
    )
    make_trial(
        tmp_path, "vvv", {**PAPER_PARAMS, "lr": 0.9}, [report(scores(0.1, 0.1, 1), "diverged")]
    )
    make_trial(
        tmp_path,
        "mse",
        {**PAPER_PARAMS, "lambda": 0.0, "role": str(Role.PLAIN_MSE)},
        [report(scores(1.9, 4.5))],
    )
    return tmp_path


def test_ranking_orders_by_front_then_the_first_objective(pareto_experiment):
    ranked = rank(load(pareto_experiment), *OBJECTIVES)
    rows = candidates(ranked)
    assert rows["trial_id"].tolist() == ["bbb", "aaa", "ccc", "ddd"]
    assert rows["front"].tolist() == [1, 1, 1, 2]
    assert front(ranked)["trial_id"].tolist() == ["bbb", "aaa", "ccc"]
    # pruned, diverged and baseline rows are on no front and never ranked
    others = ranked[ranked["front"].isna()]
    assert set(others["trial_id"]) <= {"mse", ""} and others["rank"].isna().all()
    assert not {"ppp", "vvv"} & set(ranked["trial_id"])


def test_a_maximised_objective_is_sorted_the_other_way():
    frame = pd.DataFrame(
        {
            "trial_id": ["a", "b", "c"],
            "role": "search",
            "status": "complete",
            "mae": [1.0, 2.0, 3.0],
            "mae_std": 0.1,
            "r2": [0.1, 0.5, 0.4],
            "r2_std": 0.1,
        }
    )
    ranked = rank(frame, "mae", "r2")
    assert dict(zip(ranked["trial_id"], ranked["front"], strict=True)) == {"a": 1, "b": 1, "c": 2}


def test_summary_shows_the_front_with_fold_spread_and_what_dominates_it(pareto_experiment):
    text = "\n".join(summary_lines(open_study(pareto_experiment), 10))
    assert "Pareto front on mae, few_mae: 3 of 4 complete configurations" in text
    assert "1.8 ± 0 [1.8, 1.8]" in text  # bbb's mae: mean ± std [lowest, highest fold]
    assert "by Pareto front, then fold-averaged mae" in text
    assert "hyperparameter importance for mae" in text
    assert "hyperparameter importance for few_mae" in text
    # the mean predictor (2.2, 6.0) dominates no front config; plain MSE (1.9, 4.5) beats none
    assert "WARNING: predicting a constant" not in text


def test_a_front_the_mean_predictor_dominates_leads_with_a_warning(pareto_experiment):
    write_json_file(
        pareto_experiment / BASELINES_FILE,
        {str(Role.MEAN_PREDICTOR): report(scores(1.0, 1.0))},
    )
    lines = summary_lines(open_study(pareto_experiment), 10)
    assert lines[0].startswith("WARNING: predicting a constant (the training mean or median)")


def test_folder_export_writes_every_front_config_for_centerir(pareto_experiment, tmp_path):
    out = tmp_path / "pareto"
    assert results_main([str(pareto_experiment), "--export", str(out)]) == 0
    written = sorted(path.name for path in out.iterdir())
    assert written == ["rank1_bbb.json", "rank2_aaa.json", "rank3_ccc.json"]
    assert load_config(out / "rank1_bbb.json").lr == 1e-3
    assert load_config(out / "rank3_ccc.json").lambda_ == 1e-3
    note = json.loads((out / "rank3_ccc.json").read_text())[STUDY_NOTE_KEY]
    assert note["front"] == 1 and note["cv_values"] == {"mae": 2.4, "few_mae": 3.0}
    assert note["objectives"] == list(OBJECTIVES)


def test_folder_export_refuses_export_top_with_several_objectives(pareto_experiment, tmp_path):
    code = results_main(
        [str(pareto_experiment), "--export", str(tmp_path / "p"), "--export-top", "2"]
    )
    assert code == 2 and not (tmp_path / "p").exists()


def test_the_report_draws_the_pareto_front(pareto_experiment, tmp_path):
    page = write_report(open_study(pareto_experiment), tmp_path / "report", "t")
    assert (tmp_path / "report" / "pareto.png").stat().st_size > 10_000
    html = page.read_text()
    assert "<h2>Pareto front</h2>" in html and "Ranked by Pareto front" in html


def test_single_objective_ranking_is_unchanged_by_the_pareto_code(pareto_experiment):
    ranked = rank(load(pareto_experiment), "mae")
    assert "front" not in ranked
    assert candidates(ranked)["trial_id"].tolist() == ["bbb", "aaa", "ccc", "ddd"]
    assert PUBLISHED["lr"] == 1e-4  # aaa is the paper's configuration


def test_folder_export_onto_a_file_is_refused_before_anything(pareto_experiment, tmp_path):
    (tmp_path / "pareto").write_text("mine")
    assert results_main([str(pareto_experiment), "--export", str(tmp_path / "pareto")]) == 2
    assert (tmp_path / "pareto").read_text() == "mine"


def run_results(*args, capsys) -> tuple[int, str, str]:
    code = results_main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_folder_export_sharing_a_path_with_another_output_writes_nothing(
    pareto_experiment, tmp_path, capsys
):
    for other in (["--csv", tmp_path / "c1"], ["--report", tmp_path / "c1" / "r"]):
        code, out, err = run_results(
            pareto_experiment, "--export", tmp_path / "c1", *other, capsys=capsys
        )
        assert code == 2 and out == "" and len(err.splitlines()) == 1, err
        assert "expected a folder of its own for --export" in err
        assert not (tmp_path / "c1").exists()


def test_refusals_that_need_the_study_come_before_its_summary(pareto_experiment, tmp_path, capsys):
    code, out, err = run_results(
        pareto_experiment, "--export", tmp_path / "p", "--export-top", "2", capsys=capsys
    )
    assert code == 2 and out == "" and len(err.splitlines()) == 1


def test_a_folder_export_refuses_a_folder_holding_another_export(
    pareto_experiment, tmp_path, capsys
):
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "rank7_deadbeef.json").write_text("{}")
    code, out, err = run_results(pareto_experiment, "--export", tmp_path / "p", capsys=capsys)
    assert code == 2 and out == "" and "got rank7_deadbeef.json that this export" in err
    assert [path.name for path in (tmp_path / "p").iterdir()] == ["rank7_deadbeef.json"]


def test_a_hostile_trial_id_cannot_steer_an_export_out_of_its_folder(pareto_experiment, tmp_path):
    result = pareto_experiment / "t_ccc" / "result.json"
    row = json.loads(result.read_text())
    result.write_text(json.dumps({**row, "trial_id": "x/../../../ESCAPED"}) + "\n")
    assert results_main([str(pareto_experiment), "--export", str(tmp_path / "p")]) == 0
    names = sorted(path.name for path in (tmp_path / "p").iterdir())
    assert names[-1] == "rank3_x__________ESCAPED.json"  # "/" and "." as "_"
    assert [path.parent for path in tmp_path.rglob("*ESCAPED*")] == [tmp_path / "p"]


def test_an_objective_every_trial_shares_gives_no_importance_and_no_crash(pareto_experiment):
    for trial_id in ("aaa", "bbb", "ccc", "ddd"):
        result = pareto_experiment / f"t_{trial_id}" / "result.json"
        row = json.loads(result.read_text())
        row.update(few_mae=4.0, few_mae_folds=[4.0, 4.0, 4.0])
        result.write_text(json.dumps(row) + "\n")
    text = "\n".join(summary_lines(open_study(pareto_experiment), 10))
    assert "none (every complete trial has the same few_mae)" in text


def test_the_fold_range_skips_folds_without_a_value():
    from results.table import fold_summary

    row = pd.Series({"few_mae": 3.5, "few_mae_std": 0.7, "few_mae_folds": [np.nan, 3.0, 4.0]})
    assert fold_summary(row, "few_mae") == "3.5 ± 0.7 [3, 4]"
    assert fold_summary(pd.Series({"mae": 2.0, "mae_std": 0.1}), "mae") == "2 ± 0.1"
