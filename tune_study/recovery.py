"""Keep a retried trial's reported rows.

Tune writes each trial's ``result.json`` and ``progress.csv`` on the driver's staging
folder and copies them to ``storage_path`` with the experiment state, every
``TUNE_GLOBAL_CHECKPOINT_S`` seconds. When a trial's worker dies and the trial is retried
from its checkpoint, Tune's loggers first copy those files back *from* ``storage_path``,
so rows reported since the last copy (the last fold's report, typically) are dropped from
the files though the trial resumes after that fold. Pushing the files to storage the moment
the trial is requeued closes that window.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.fs
from ray import tune
from ray.tune.result import EXPR_PROGRESS_FILE, EXPR_RESULT_FILE

ROW_FILES = (EXPR_RESULT_FILE, EXPR_PROGRESS_FILE)


class KeepRowsOnRetry(tune.Callback):
    """On ``on_trial_recover``, copy the trial's row files from the driver to storage."""

    def on_trial_recover(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        for name in ROW_FILES:
            local = Path(trial.local_path, name)
            if local.is_file():
                pyarrow.fs.copy_files(
                    local.as_posix(),
                    Path(trial.storage.trial_fs_path, name).as_posix(),
                    destination_filesystem=trial.storage.storage_filesystem,
                )
