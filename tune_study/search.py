"""The study's search: Optuna's TPE over the space, the published configuration first, then
plain MSE as a baseline the sampler never hears of, at most so many trials at once."""

from __future__ import annotations

import functools
import sys
import warnings
from typing import Any

import optuna
from optuna.samplers import TPESampler
from ray.tune.search import ConcurrencyLimiter

from centerir.config import Config, ConfigError
from centerir.contract import (
    PLAIN_MSE,
    PUBLISHED,
    ROLE,
    Role,
    objective_mode,
    optuna_direction,
)
from search_spaces import SearchSpace
from tune_study.searcher import BaselinesFirst, StatusAwareOptunaSearch
from tune_study.settings import StudySettings


def make_sampler(settings: StudySettings) -> TPESampler:
    """TPE with multivariate, grouped modelling (for one objective or several); random for
    the first third of the budget."""
    startup = min(10, max(2, settings.num_samples // 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return TPESampler(
            seed=settings.seed, multivariate=True, group=True, n_startup_trials=startup
        )


def with_searched_defaults(point: dict[str, Any], space: SearchSpace) -> dict[str, Any]:
    """``point`` plus the published defaults of any other key the space searches."""
    defaults = Config().to_dict()
    return {**{key: defaults[key] for key in space.searched_keys}, **point}


def plain_mse_params(space: SearchSpace) -> dict[str, Any]:
    """The plain-MSE baseline's trial config: the published one with lambda 0."""
    return {**with_searched_defaults(PLAIN_MSE, space), ROLE: str(Role.PLAIN_MSE)}


@functools.cache
def open_optuna_storage(url: str) -> optuna.storages.RDBStorage:
    """The Optuna database at ``url`` (opened once per process, so a bad URL, a missing
    driver or an unreachable database is refused before Ray starts or anything is written)."""
    try:
        return optuna.storages.RDBStorage(url)
    except Exception as err:  # SQLAlchemy and its drivers raise many kinds for a bad URL
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ConfigError(
            f"optuna_storage {url!r} cannot be opened ({type(err).__name__}: {first}); give "
            "a database URL like sqlite:///study.db in an existing folder."
        ) from None


def name_objectives(storage: optuna.storages.RDBStorage, settings: StudySettings) -> None:
    """Create the study in the Optuna database with its directions and its objectives'
    names, so optuna-dashboard labels them (``OptunaSearch`` then loads it)."""
    study = optuna.create_study(
        storage=storage,
        study_name=settings.name,
        directions=[optuna_direction(name) for name in settings.objective_names],
        load_if_exists=True,
    )
    with warnings.catch_warnings():  # Optuna marks it experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.set_metric_names(list(settings.objective_names))


def make_search(
    settings: StudySettings, space: SearchSpace, concurrency: int
) -> ConcurrencyLimiter:
    """The search algorithm of a new study (``num_samples`` proposals, plus one plain-MSE
    baseline trial when the published configuration can run in this space)."""
    published = with_searched_defaults(PUBLISHED, space)
    points, fixed = [], []
    if space.admits(published):
        points.append(space.as_trial_params(published))
        fixed.append(plain_mse_params(space))
    else:
        print(
            f"note: the published configuration {PUBLISHED} does not fit the "
            f"'{settings.space}' space for this data, so neither it nor plain MSE is enqueued",
            file=sys.stderr,
        )
    storage = None
    if settings.optuna_storage:
        storage = open_optuna_storage(settings.optuna_storage)
        name_objectives(storage, settings)
    names = settings.objective_names
    modes = [objective_mode(name) for name in names]
    searcher = StatusAwareOptunaSearch(
        space=space,
        metric=list(names) if settings.multi_objective else names[0],
        mode=modes if settings.multi_objective else modes[0],
        points_to_evaluate=points or None,
        sampler=make_sampler(settings),
        study_name=settings.name,
        storage=storage,
    )
    return ConcurrencyLimiter(BaselinesFirst(searcher, fixed), max_concurrent=concurrency)


def baseline_trials(space: SearchSpace) -> int:
    """Trials the study runs beyond ``num_samples``: the plain-MSE baseline, if it runs."""
    return int(space.admits(with_searched_defaults(PUBLISHED, space)))
