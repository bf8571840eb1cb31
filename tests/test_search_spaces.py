"""Search spaces: every sampled config is valid, every branch reachable."""

import optuna
import pytest

from centerir.contract import PUBLISHED, UserError
from search_spaces import SPACES, get_space, k_param_name
from search_spaces.space import k_values

optuna.logging.set_verbosity(optuna.logging.WARNING)


def sample(space, n, seed=0):
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    configs = []
    for _ in range(n):
        trial = study.ask()
        returned = space(trial)
        configs.append({**trial.params, **returned})
        study.tell(trial, 0.0)
    return configs


@pytest.mark.parametrize("name", sorted(SPACES))
def test_every_sampled_config_is_in_range_and_valid(name):
    space = SPACES[name]
    for config in sample(space, 200):
        assert space.lr[0] <= config["lr"] <= space.lr[1]
        assert space.lambda_[0] <= config["lambda"] <= space.lambda_[1]
        assert space.boundaries[0] <= config["boundaries"] <= space.boundaries[1]
        assert max(k_values(config["k"])) <= config["boundaries"]
        assert config[k_param_name(config["boundaries"])] == config["k"]
        assert ("batch_size" in config) == bool(space.batch_sizes)
        assert ("dropout" in config) == bool(space.dropout)


def test_every_branch_is_reachable():
    space = SPACES["default"]
    configs = sample(space, 600)
    assert {c["boundaries"] for c in configs} == set(space.boundary_values())
    assert {c["k"] for c in configs} == set(space.k_sets)
    small = {c["k"] for c in configs if c["boundaries"] < 15}
    assert "1-3-5-15" not in small


def test_strict_remainder_offers_only_dividing_sets():
    kept = {b: (b - 1, b - 1) for b in range(8, 21)}  # one empty bin in every fold
    space = get_space("default", remainder="strict", kept_bins=kept)
    for config in sample(space, 200):
        n = config["boundaries"] - 1
        assert all(n % k == 0 for k in k_values(config["k"]))
    assert space.valid_k_sets(16) == ["1", "1-3", "1-3-5", "1-3-5-15"]


def test_strict_with_a_boundaries_value_no_set_fits_is_refused():
    kept = {b: (b,) for b in range(8, 21)}  # 11 and 13 and 17 and 19 are prime
    with pytest.raises(UserError, match=r"no k set .* is valid for boundaries \[11, 13, 17, 19\]"):
        get_space(
            "default", remainder="strict", kept_bins=kept, overrides={"k_sets": ["1-2", "1-3"]}
        )


def test_paper_point_lies_in_the_default_and_paper_spaces():
    for name in ("default", "paper"):
        assert SPACES[name].contains(PUBLISHED)
        params = SPACES[name].as_trial_params(PUBLISHED)
        assert params[k_param_name(16)] == "1-3-5-15"


def test_a_point_outside_the_lambda_range_is_still_admitted_for_enqueueing():
    narrow = get_space("default", overrides={"lambda": [1e-4, 1e-2], "lr": [1e-3, 1e-2]})
    assert not narrow.contains(PUBLISHED) and narrow.admits(PUBLISHED)
    assert not get_space("default", overrides={"boundaries": [8, 12]}).admits(PUBLISHED)


def test_overrides_from_a_study_file():
    space = get_space("default", overrides={"lr": [1e-4, 1e-3], "k_sets": ["1", "1-3"]})
    assert space.lr == (1e-4, 1e-3) and space.k_sets == ("1", "1-3")
    with pytest.raises(UserError, match=r"unknown \[ranges\] key"):
        get_space("default", overrides={"learning_rate": [1, 2]})
    with pytest.raises(UserError, match="lr range must satisfy 0 < low <= high"):
        get_space("default", overrides={"lr": [-1, 1]})
    with pytest.raises(UserError, match="space must be one of"):
        get_space("nope")
