"""Shared fixtures: small synthetic data sets that keep the suite fast on 2 CPU cores."""

import os
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from centerir.demo import make_demo_dataset


@pytest.fixture(autouse=True)
def _two_threads():
    torch.set_num_threads(2)


@pytest.fixture(scope="session")
def small_demo():
    """24 subjects x 4 one-second windows, 19 channels."""
    return make_demo_dataset(seed=1, n_subjects=24, segments_per_subject=4, window_seconds=1.0)


@pytest.fixture
def npy_files(tmp_path, small_demo):
    """The small demo saved as X.npy, y.npy, groups.npy; returns their paths."""
    paths = {name: tmp_path / f"{name}.npy" for name in ("x", "y", "groups")}
    np.save(paths["x"], small_demo.x)
    np.save(paths["y"], small_demo.y)
    np.save(paths["groups"], small_demo.groups)
    return paths


@dataclass
class Finished:
    """What a command line did: exit code and its output."""

    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run_main(capsys, monkeypatch):
    """Run a command line's ``main(argv)`` in this process (no interpreter start), with the
    environment restored afterwards; returns a :class:`Finished`. Exceptions other than
    ``SystemExit`` propagate, as they would end the real command with a traceback."""

    def run(main, argv) -> Finished:
        monkeypatch.setattr(os, "environ", dict(os.environ))
        capsys.readouterr()
        try:
            code = main([str(arg) for arg in argv])
        except SystemExit as exit_:
            code = exit_.code
        out, err = capsys.readouterr()
        return Finished(code, out, err)

    return run
