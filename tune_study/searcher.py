"""The study's searchers: Optuna told what really happened, and baselines it never sees.

Ray's ``OptunaSearch`` tells every trial that ended with a result as COMPLETE with its last
value. Our trials report a ``status``: a pruned trial (or one stopped by the time budget)
must reach Optuna as PRUNED (its value is partial; TPE must not learn from it as if it were
final) and a diverged one as FAIL. ``OptunaSearch.on_trial_complete`` already does exactly
that when given no result (PRUNED, or FAIL with ``error=True``), so only public calls are
made here.

:class:`BaselinesFirst` wraps a searcher to run fixed baseline configurations (plain MSE:
the published configuration with lambda 0) that are not proposals: the wrapped searcher
never hears of them, so they neither use a proposal nor teach the sampler.
"""

from __future__ import annotations

import warnings
from typing import Any

from ray.tune.search import Searcher
from ray.tune.search.optuna import OptunaSearch

from centerir.contract import STATUS, Status


class StatusAwareOptunaSearch(OptunaSearch):
    """``OptunaSearch`` that maps a trial's reported ``status`` to Optuna's trial state."""

    def suggest(self, trial_id: str) -> dict | None:
        with warnings.catch_warnings():
            # the published lambda is enqueued as it is, also outside a data-derived range
            warnings.filterwarnings("ignore", message="Fixed parameter")
            return super().suggest(trial_id)

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        if isinstance(self.metric, list):
            return  # Optuna keeps no intermediate values for several objectives
        # Intermediate values are the running fold means; a diverged trial may have none.
        value = result.get(self.metric)
        if result.get(STATUS) == Status.DIVERGED or value is None or value != value:
            return
        super().on_trial_result(trial_id, result)

    def on_trial_complete(
        self, trial_id: str, result: dict | None = None, error: bool = False
    ) -> None:
        status = (result or {}).get(STATUS)
        if status is not None and status != Status.COMPLETE:
            # no value: Optuna records PRUNED, or FAIL for a divergence
            super().on_trial_complete(trial_id, None, error=status == Status.DIVERGED)
            return
        super().on_trial_complete(trial_id, result, error)


class BaselinesFirst(Searcher):
    """Hands out ``fixed`` configs right after the wrapped searcher's first proposal.

    Parameters
    ----------
    searcher : Searcher
        The real search (e.g. :class:`StatusAwareOptunaSearch`).
    fixed : list of dict
        Trial configs to run as they are; their trials are never reported to ``searcher``.
    """

    def __init__(self, searcher: Searcher, fixed: list[dict[str, Any]]):
        super().__init__(metric=searcher.metric, mode=searcher.mode)
        self.searcher = searcher  # the attribute name Tune's save/restore walks
        self.fixed = list(fixed)
        self.proposals = 0
        self.fixed_trials: set[str] = set()

    def set_search_properties(self, metric: str | None, mode: str | None, config: dict, **spec):
        return self.searcher.set_search_properties(metric, mode, config, **spec)

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        if self.fixed and self.proposals >= 1:
            self.fixed_trials.add(trial_id)
            return self.fixed.pop(0)
        suggestion = self.searcher.suggest(trial_id)
        if suggestion is not None and suggestion != Searcher.FINISHED:
            self.proposals += 1
        return suggestion

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        if trial_id not in self.fixed_trials:
            self.searcher.on_trial_result(trial_id, result)

    def on_trial_complete(
        self, trial_id: str, result: dict | None = None, error: bool = False
    ) -> None:
        if trial_id not in self.fixed_trials:
            self.searcher.on_trial_complete(trial_id, result, error)

    def get_state(self) -> dict[str, Any]:
        return {
            "fixed": list(self.fixed),
            "proposals": self.proposals,
            "fixed_trials": set(self.fixed_trials),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self.fixed = list(state["fixed"])
        self.proposals = state["proposals"]
        self.fixed_trials = set(state["fixed_trials"])
