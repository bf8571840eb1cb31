"""OptunaSearch that tells Optuna what really happened to a trial.

Ray's ``OptunaSearch`` tells every trial that ended with a result as COMPLETE with its last
value. Our trials report a ``status``: a pruned trial must reach Optuna as PRUNED (its MAE
is partial, TPE must not learn from it as if it were final) and a diverged one as FAIL.
"""

from __future__ import annotations

import logging

from optuna.trial import TrialState
from ray.tune.search.optuna import OptunaSearch

logger = logging.getLogger(__name__)

STATE_OF_STATUS = {"pruned": TrialState.PRUNED, "diverged": TrialState.FAIL}


class StatusAwareOptunaSearch(OptunaSearch):
    """``OptunaSearch`` that maps a trial's reported ``status`` to Optuna's trial state."""

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        # Intermediate values are the running fold means; a diverged trial may have none.
        if result.get("status") == "diverged" or result.get(self.metric) != result.get(self.metric):
            return
        super().on_trial_result(trial_id, result)

    def on_trial_complete(
        self, trial_id: str, result: dict | None = None, error: bool = False
    ) -> None:
        state = STATE_OF_STATUS.get((result or {}).get("status"))
        if state is None or trial_id in self._completed_trials:
            super().on_trial_complete(trial_id, result, error)
            return
        self._ot_study.tell(self._ot_trials[trial_id], None, state=state)
        self._completed_trials.add(trial_id)
