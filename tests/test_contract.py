"""The study's contract: defined once, readable without torch, round-tripping its records."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from centerir import contract
from centerir.contract import (
    HeldOutScore,
    Role,
    Status,
    UserError,
    is_config,
    read_settings,
    trial_folder_name,
    trial_id_of_folder,
    write_settings,
)

ROOT = Path(__file__).resolve().parents[1]


def test_results_and_the_contract_import_without_torch():
    script = (
        "import sys\n"
        "import centerir.contract, centerir.config, results, results.cli\n"
        "loaded = [m for m in ('torch', 'ray') if m in sys.modules]\n"
        "print(','.join(loaded))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_published_config_is_the_config_default_and_is_recognised():
    from centerir.config import Config

    defaults = Config().to_dict()
    assert is_config(defaults, contract.PUBLISHED)
    assert not is_config({**defaults, "lambda": 0.0}, contract.PUBLISHED)
    assert is_config({**defaults, "lambda": 0.0}, contract.PLAIN_MSE)


def test_trial_folder_names_carry_the_config_and_give_back_the_id():
    name = trial_folder_name({**contract.PUBLISHED, "lr": 3.2e-4}, "a1b2c3d4")
    assert name == "lr3.2e-04_b16_k1-3-5-15_lam5e-08_a1b2c3d4"
    assert trial_id_of_folder(name) == "a1b2c3d4"
    assert "_lam0_" in trial_folder_name(contract.PLAIN_MSE, "x")


def test_settings_round_trip_and_a_broken_file_is_a_user_error(tmp_path):
    write_settings(tmp_path / "study", {"base_config": {"folds": 3}, "objective": "mae"})
    assert read_settings(tmp_path / "study")["base_config"] == {"folds": 3}
    (tmp_path / "study" / contract.SETTINGS_FILE).write_text("{not json")
    with pytest.raises(UserError, match=r"centerir_study\.json: expected the study settings"):
        read_settings(tmp_path / "study")
    (tmp_path / "study" / contract.SETTINGS_FILE).write_text("[]")
    with pytest.raises(UserError, match="'base_config' table"):
        read_settings(tmp_path / "study")


def test_held_out_scores_round_trip_through_json_with_nan_as_null(tmp_path):
    score = HeldOutScore(role=str(Role.MEAN_PREDICTOR), config={}, trial_id="", status="complete")
    path = tmp_path / "h.json"
    contract.write_json_file(path, {"scores": {"m": score.to_dict()}})
    text = path.read_text()
    assert "NaN" not in text and json.loads(text)["scores"]["m"]["mean_prediction"] is None
    back = HeldOutScore.from_dict(json.loads(text)["scores"]["m"])
    assert math.isnan(back.mean_prediction) and back.status == Status.COMPLETE
    with pytest.raises(UserError, match="expected a held-out score record"):
        HeldOutScore.from_dict({"role": "x", "surprise": 1})


def test_every_status_role_and_metric_name_is_distinct():
    assert len({str(s) for s in Status}) == len(Status)
    assert len({str(r) for r in Role}) == len(Role) == len(contract.ROLE_LABELS)
    assert len(set(contract.METRICS)) == len(contract.METRICS)
    assert all(contract.objective_mode(m) in ("min", "max") for m in contract.METRICS)
