"""``python -m centerir prepare``: synthetic recordings written with MNE (FIF, EDF,
BrainVision, a tiny BIDS tree) -> X, y, groups, meta.json; and every refusal."""

import json
import warnings

import mne  # the [eeg] extra, also in the dev extra: CI runs these tests
import mne_bids
import numpy as np
import pytest

from centerir.cli import main
from centerir.data import load_dataset
from centerir.npy_writer import NpyRowWriter

SFREQ = 100.0
CHANNELS = ["Fp1", "Fp2", "Cz", "Pz"]
SECONDS = 12.0  # two 5 s windows side by side (starts 0, 5 s), or with 1 s overlap (0, 4 s)
SCORES = {"S01": 3.0, "S02": 7.5, "S03": 12.0, "S04": 15.0}


def signal(seed: int, n_channels: int = len(CHANNELS), seconds: float = SECONDS) -> np.ndarray:
    """(C, samples) volts: channel c is a 2 Hz sine of (c + 1) * 10 µV plus small noise, so
    channel order and units are visible in the output."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SFREQ)) / SFREQ
    amplitudes = (np.arange(n_channels) + 1)[:, None] * 10e-6
    return amplitudes * np.sin(2 * np.pi * 2 * t) + rng.normal(0, 0.1e-6, (n_channels, t.size))


def make_raw(seed: int, channels=CHANNELS, sfreq=SFREQ, seconds=SECONDS):
    data = signal(seed, len(channels), seconds)
    info = mne.create_info(list(channels), sfreq, "eeg")
    return mne.io.RawArray(data, info, verbose="error")


def write(raw, path) -> None:
    if path.suffix == ".fif":
        raw.save(path, overwrite=True, verbose="error")
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw.export(path, verbose="error")


@pytest.fixture
def recordings(tmp_path):
    """Two recordings per subject in each of FIF, EDF, BrainVision, and a score table that
    also lists a subject without recordings."""

    def make(suffix: str):
        folder = tmp_path / suffix.strip(".")
        folder.mkdir()
        for number, subject in enumerate(SCORES):
            for run in (1, 2):
                write(make_raw(10 * number + run), folder / f"{subject}_run{run}_raw{suffix}")
        table = tmp_path / "scores.csv"
        rows = [f"{s},{v}" for s, v in SCORES.items()] + ["S99,n/a"]
        table.write_text("Subject,Score\n" + "\n".join(rows) + "\n")
        return folder, table

    return make


def prepare(run_main, tmp_path, folder, table, *extra, out="prepared"):
    args = [
        "prepare", f"{folder}/*", "--scores", table, "--target", "Score",
        "--subject-column", "Subject", "--subject-pattern", r"(S\d+)_", "--window", "5",
        "--out", tmp_path / out, *extra,
    ]  # fmt: skip
    return run_main(main, args)


@pytest.mark.parametrize("suffix", [".fif", ".edf", ".vhdr"])
def test_prepare_writes_windows_in_microvolts_in_channel_order(
    suffix, recordings, tmp_path, run_main
):
    folder, table = recordings(suffix)
    order = "Pz,Fp1,Cz"
    done = prepare(run_main, tmp_path, folder, table, "--channels", order, "--overlap", "1")
    assert done.returncode == 0, done.stderr
    assert "1 subjects of" in done.stdout and "(unused)" in done.stdout
    out = tmp_path / "prepared"
    x, y = np.load(out / "X.npy"), np.load(out / "y.npy")
    groups = np.load(out / "groups.npy")
    # 12 s at 5 s windows starting every 4 s: starts 0, 4 -> 2 windows; 2 runs x 4 subjects
    assert x.shape == (16, 1, 3, 500) and x.dtype == np.float32
    assert groups.tolist() == [s for s in SCORES for _ in range(4)]
    assert y.tolist() == [SCORES[s] for s in groups]
    # the first recording read is S01 run 1 (seed 1); Pz is channel 4 (40 µV), Fp1 (10 µV)...
    expected = signal(1)[[3, 0, 2], :500] * 1e6
    tolerance = 0.5 if suffix == ".edf" else 1e-3  # EDF stores 16-bit integers
    np.testing.assert_allclose(x[0, 0], expected, atol=tolerance)
    np.testing.assert_allclose(x[1, 0], signal(1)[[3, 0, 2], 400:900] * 1e6, atol=tolerance)
    meta = json.loads((out / "meta.json").read_text())
    assert meta["ch_names"] == ["Pz", "Fp1", "Cz"]
    assert (meta["sfreq"], meta["n_times"], meta["n_windows"]) == (SFREQ, 500, 16)
    assert (meta["window_seconds"], meta["overlap_seconds"], meta["unit"]) == (5.0, 1.0, "uV")
    assert meta["subjects"]["S02"] == {"score": 7.5, "kept": 4, "rejected": 0, "over_cap": 0}
    assert len(meta["sources"]) == 8 and meta["scores"]["unused_subjects"] == 1
    assert all(len(digest) == 64 for s in meta["sources"] for digest in s["sha256"].values())
    assert meta["command"][:4] == ["python", "-m", "centerir", "prepare"]
    assert load_dataset(out / "X.npy", out / "y.npy", out / "groups.npy").meta == meta


def test_train_runs_on_prepared_windows_and_records_their_meta(recordings, tmp_path, run_main):
    folder, table = recordings(".fif")
    assert prepare(run_main, tmp_path, folder, table, "--overlap", "2.5").returncode == 0
    out = tmp_path / "prepared"
    done = run_main(
        main,
        ["train", "--x", out / "X.npy", "--y", out / "y.npy", "--groups", out / "groups.npy",
         "--folds", "2", "--epochs", "1", "--boundaries", "4", "--k", "1-2", "--out",
         tmp_path / "cv"],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    metrics = json.loads((tmp_path / "cv" / "metrics.json").read_text())
    assert metrics["data_meta"]["ch_names"] == CHANNELS


def test_bids_folder_with_participants_scores(tmp_path, run_main):
    root = tmp_path / "bids"
    for number, label in enumerate(("01", "02")):
        for task in ("rest", "eyes"):
            raw = make_raw(number)
            path = mne_bids.BIDSPath(subject=label, task=task, root=root, datatype="eeg")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                mne_bids.write_raw_bids(
                    raw, path, format="BrainVision", allow_preload=True, verbose="error"
                )
    (root / "participants.tsv").write_text("participant_id\tgds\nsub-01\t4\nsub-02\t9\n")
    done = run_main(
        main,
        ["prepare", "--bids-root", root, "--task", "rest", "--target", "gds", "--window", "4",
         "--out", tmp_path / "out"],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    groups = np.load(tmp_path / "out" / "groups.npy")
    assert groups.tolist() == ["sub-01"] * 3 + ["sub-02"] * 3  # 12 s / 4 s, rest task only
    assert np.load(tmp_path / "out" / "y.npy").tolist() == [4.0] * 3 + [9.0] * 3


def test_rejection_and_cap_are_counted(recordings, tmp_path, run_main):
    folder, table = recordings(".fif")
    loud = make_raw(5)
    loud._data[:, 600:] *= 100  # the second 5 s window of this recording is 1000s of µV
    write(loud, folder / "S03_run1_raw.fif")
    done = prepare(
        run_main, tmp_path, folder, table, "--reject-uv", "200", "--max-windows-per-subject", "3"
    )
    assert done.returncode == 0, done.stderr
    meta = json.loads((tmp_path / "prepared" / "meta.json").read_text())
    assert meta["subjects"]["S03"] == {"score": 12.0, "kept": 3, "rejected": 1, "over_cap": 0}
    assert meta["subjects"]["S01"] == {"score": 3.0, "kept": 3, "rejected": 0, "over_cap": 1}
    assert np.load(tmp_path / "prepared" / "X.npy").shape[0] == 12
    assert "S03: kept 3, rejected 1" in done.stdout


def test_processing_resamples_filters_and_references(recordings, tmp_path, run_main):
    folder, table = recordings(".fif")
    done = prepare(
        run_main, tmp_path, folder, table, "--sfreq", "50", "--l-freq", "1", "--h-freq", "20",
        "--notch", "15", "--reference", "average",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    x = np.load(tmp_path / "prepared" / "X.npy")
    assert x.shape == (16, 1, 4, 250)
    np.testing.assert_allclose(x.sum(axis=2), 0, atol=1e-3)  # average reference: sums to 0
    meta = json.loads((tmp_path / "prepared" / "meta.json").read_text())
    assert meta["filters"] == {"l_freq": 1.0, "h_freq": 20.0, "notch": [15.0]}
    assert (meta["reference"], meta["sfreq"]) == ("average", 50.0)


def bad_cases(tmp_path, folder, table):
    """(extra flags or replaced arguments, expected message) for each refusal."""
    other_rate = folder / "S02_run2_raw.fif"
    return {
        "no match": (["--subject-pattern", r"(S\d+)_", f"{tmp_path}/none/*.edf"], "to match"),
        "pattern without group": (["--subject-pattern", r"S\d+_"], "must hold a group"),
        "overlap >= window": (["--overlap", "5"], "--overlap must be >= 0 and below"),
        "negative window": (["--window", "-1"], "--window must be a finite number > 0"),
        "nan": (["--sfreq", "nan"], "expected a finite number"),
        "missing column": (["--target", "GDS"], "expected a column 'GDS'"),
        "unknown channel": (["--channels", "Fp1,FP2"], "did you mean 'Fp2'"),
        "repeated channel": (["--channels", "Fp1,Fp1"], "each channel once"),
        "too short": (["--window", "20"], "at least one window"),
        "other rate": ([("rate", other_rate)], "--sfreq"),
        "no score": ([("table", "Subject,Score\nS01,1\nS02,2\n")], "'S03'"),
        "non-numeric score": ([("table", "Subject,Score\nS01,1\nS02,x\nS03,3\n")], "got 'x'"),
        "duplicate subject": ([("table", "Subject,Score\nS01,1\nS01,2\n")], "again"),
        "corrupt file": ([("corrupt", folder / "S01_run1_raw.fif")], "S01_run1_raw.fif"),
        "output is the input": ([("out", folder)], "apart from the inputs"),
        "output exists": ([("out-exists", tmp_path / "old")], "without prepared windows"),
    }


@pytest.mark.parametrize(
    "case",
    ["no match", "pattern without group", "overlap >= window", "negative window", "nan",
     "missing column", "unknown channel", "repeated channel", "too short", "other rate",
     "no score", "non-numeric score", "duplicate subject", "corrupt file",
     "output is the input", "output exists"],
)  # fmt: skip
def test_bad_input_is_one_line_exit_2_and_writes_nothing(case, recordings, tmp_path, run_main):
    folder, table = recordings(".fif")
    changes, message = bad_cases(tmp_path, folder, table)[case]
    out = tmp_path / "prepared"
    args = [
        "prepare", f"{folder}/*", "--scores", table, "--target", "Score",
        "--subject-column", "Subject", "--subject-pattern", r"(S\d+)_", "--window", "5",
    ]  # fmt: skip
    for change in changes:
        if not isinstance(change, tuple):
            args.append(change)
            continue
        kind, value = change
        if kind == "rate":
            write(make_raw(0, sfreq=200.0), value)
        elif kind == "table":
            table.write_text(value)
        elif kind == "corrupt":
            value.write_bytes(value.read_bytes()[:300])
        elif kind in ("out", "out-exists"):
            out = value
            out.mkdir(exist_ok=True)
            if kind == "out-exists":
                (out / "X.npy").write_bytes(b"old")
    if case == "no match":
        args[1] = args.pop()  # the glob replaces the recordings
    before = sorted(p.name for p in out.iterdir()) if out.exists() else None
    done = run_main(main, [*args, "--out", out])
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if "error:" in line]  # after any bar
    assert len(errors) == 1 and message in errors[0], done.stderr
    after = sorted(p.name for p in out.iterdir()) if out.exists() else None
    assert after == before


def test_missing_channels_refused_or_recording_dropped(recordings, tmp_path, run_main):
    folder, table = recordings(".fif")
    write(make_raw(1, channels=["Fp1", "Fp2", "Cz"]), folder / "S02_run2_raw.fif")
    done = prepare(run_main, tmp_path, folder, table)
    assert done.returncode == 2 and "S02_run2_raw.fif: expected channels Pz" in done.stderr
    done = prepare(run_main, tmp_path, folder, table, "--drop-missing-recordings")
    assert done.returncode == 0, done.stderr
    assert "left out" in done.stdout and "S02_run2_raw.fif: lacks Pz" in done.stdout
    assert np.load(tmp_path / "prepared" / "X.npy").shape[0] == 14


def test_missing_mne_names_the_extra(recordings, tmp_path, run_main, monkeypatch):
    import centerir.recordings

    def no_module(name):
        raise ImportError(name)

    monkeypatch.setattr(centerir.recordings.importlib, "import_module", no_module)
    folder, table = recordings(".fif")
    done = prepare(run_main, tmp_path, folder, table)
    assert done.returncode == 2
    assert "pip install 'centerir-tune[eeg]'" in done.stderr
    assert not (tmp_path / "prepared").exists()


def test_row_writer_trims_to_rows_written(tmp_path):
    writer = NpyRowWriter(tmp_path / "x.npy", (1, 2, 3), np.float32, max_rows=10**9)
    rows = np.arange(24, dtype=np.float64).reshape(4, 1, 2, 3)
    writer.append(rows[:3])
    writer.append(rows[3:])
    writer.finish()
    np.testing.assert_array_equal(np.load(tmp_path / "x.npy"), rows.astype(np.float32))
    with pytest.raises(ValueError, match="at most"):
        small = NpyRowWriter(tmp_path / "y.npy", (1, 2, 3), np.float32, max_rows=1)
        small.append(rows[:2])
