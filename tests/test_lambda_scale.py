"""Where lambda matters: the measured gradient ratio, the range it gives, the trial share."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from centerir.config import Config
from centerir.cv import cross_validate
from centerir.lambda_scale import SHARE_RANGE, centerir_gradient_ratio, lambda_range


def test_range_gives_the_asked_shares_of_mse_pull(small_demo):
    config = Config(boundaries=8, k=(1, 2), batch_size=16)
    ratio = centerir_gradient_ratio(config, small_demo, np.arange(64), torch.device("cpu"))
    assert np.isfinite(ratio) and ratio > 0
    low, high = lambda_range(ratio)
    assert low * ratio == pytest.approx(SHARE_RANGE[0]) and high * ratio == pytest.approx(
        SHARE_RANGE[1]
    )
    again = centerir_gradient_ratio(config, small_demo, np.arange(64), torch.device("cpu"))
    assert again == ratio  # seeded
    with pytest.raises(ValueError, match="ratio must be a positive finite number"):
        lambda_range(float("nan"))


def test_a_trial_reports_the_centerir_share_it_had(small_demo):
    config = Config(folds=2, epochs=1, boundaries=8, k=(1, 2), batch_size=16)
    ratio = centerir_gradient_ratio(config, small_demo, np.arange(64), torch.device("cpu"))
    plain = cross_validate(replace(config, lambda_=0.0), small_demo).report()
    strong = cross_validate(replace(config, lambda_=1.0 / ratio), small_demo)
    assert plain["centerir_share"] == 0.0
    assert 0.05 < strong.report()["centerir_share"] < 20  # about 1 at initial weights
