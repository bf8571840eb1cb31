"""Keep a retried trial's reported rows.

Tune writes each trial's ``result.json`` and ``progress.csv`` on the driver's staging
folder and copies them to ``storage_path`` with the experiment state, every few seconds.
When a trial's worker dies and the trial is retried from its checkpoint, Tune's loggers
first copy those files back *from* ``storage_path``, so rows reported since the last copy
(the last fold's report, typically) are dropped from the files though the trial resumes
after that fold. Pushing the files to storage the moment the trial is requeued closes that
window.
"""

from __future__ import annotations

from typing import Any

from ray import tune

from tune_study.ray_compat import push_trial_rows


class KeepRowsOnRetry(tune.Callback):
    """On ``on_trial_recover``, copy the trial's row files from the driver to storage."""

    def on_trial_recover(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        push_trial_rows(trial)
