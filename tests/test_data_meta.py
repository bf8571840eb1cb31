"""meta.json beside X: picked up by train / fit-final, carried into the model, and
``predict`` refusing windows of another sampling rate, channel order or window length."""

import json
import shutil

import numpy as np
import pytest

from centerir.cli import main
from centerir.contract import UserError
from centerir.data import load_dataset
from centerir.data_meta import META_FORMAT, check_same_setup
from tests.test_prepare import prepare, recordings  # noqa: F401 (a fixture)

SETUP = {"format": META_FORMAT, "sfreq": 100.0, "ch_names": ["Fp1", "Cz"], "n_times": 500}


@pytest.fixture
def model(recordings, tmp_path, run_main):  # noqa: F811
    """A model fitted (1 epoch) on prepared FIF windows; returns (model path, folder, table)."""
    folder, table = recordings(".fif")
    assert prepare(run_main, tmp_path, folder, table).returncode == 0
    out = tmp_path / "prepared"
    done = run_main(
        main,
        ["fit-final", "--x", out / "X.npy", "--y", out / "y.npy", "--groups",
         out / "groups.npy", "--final-epochs", "1", "--boundaries", "4", "--k", "1-2",
         "--out", tmp_path / "model.pt"],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return tmp_path / "model.pt", folder, table


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--sfreq", "50", "--window", "10"], "got sampling rate 50 Hz, the model's 100 Hz"),
        (["--channels", "Fp2,Fp1,Cz,Pz"], "got channel 1 'Fp2', the model's 'Fp1'"),
    ],
)
def test_predict_refuses_windows_recorded_differently(model, tmp_path, run_main, flags, message):
    path, folder, table = model
    # --window 10 at 50 Hz keeps 500 samples: only the rate differs from the model's data
    done = prepare(run_main, tmp_path, folder, table, *flags, out="other")
    assert done.returncode == 0, done.stderr
    x = tmp_path / "other" / "X.npy"
    done = run_main(main, ["predict", "--model", path, "--x", x, "--out", tmp_path / "p.csv"])
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert not (tmp_path / "p.csv").exists()


def test_predict_accepts_the_same_setup_and_notes_plain_arrays(model, tmp_path, run_main):
    path, _, _ = model
    x = tmp_path / "prepared" / "X.npy"
    done = run_main(main, ["predict", "--model", path, "--x", x, "--out", tmp_path / "p.csv"])
    assert done.returncode == 0 and "note" not in done.stderr, done.stderr
    plain = tmp_path / "plain"
    plain.mkdir()
    shutil.copy(x, plain / "X.npy")
    done = run_main(
        main, ["predict", "--model", path, "--x", plain / "X.npy", "--out", tmp_path / "q.csv"]
    )
    assert done.returncode == 0 and "has no meta.json record" in done.stderr


def test_meta_of_other_windows_is_refused(tmp_path):
    np.save(tmp_path / "X.npy", np.zeros((3, 1, 2, 500), np.float32))
    np.save(tmp_path / "y.npy", np.arange(3.0))
    record = {**SETUP, "n_windows": 4}
    (tmp_path / "meta.json").write_text(json.dumps(record))
    with pytest.raises(UserError, match="got one of 4 windows of 2 x 500; it belongs to other"):
        load_dataset(tmp_path / "X.npy", tmp_path / "y.npy")
    (tmp_path / "meta.json").write_text(json.dumps({**record, "n_windows": 3, "sfreq": -1}))
    with pytest.raises(UserError, match="sfreq must be a number > 0"):
        load_dataset(tmp_path / "X.npy", tmp_path / "y.npy")


def test_same_setup_checks_window_length():
    with pytest.raises(UserError, match="got windows of 250 samples, the model's 500"):
        check_same_setup(SETUP, {**SETUP, "n_times": 250}, "X.npy")
    check_same_setup(SETUP, dict(SETUP), "X.npy")
