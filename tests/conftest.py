"""Shared fixtures: small synthetic data sets that keep the suite fast on 2 CPU cores."""

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
