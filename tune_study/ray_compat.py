"""Every use of Ray's private or undocumented parts, in one seam.

Each entry says which public API is missing and what breaks if Ray changes it. The range of
Ray versions this was tested with is :data:`TESTED_RAY` (also in ``pyproject.toml``);
:func:`check_ray` refuses, at start-up, a Ray whose private parts we need are gone.
"""

from __future__ import annotations

import json
import os
from importlib import metadata
from pathlib import Path
from typing import Any

from centerir.contract import UserError, read_text_file

TESTED_RAY = ((2, 60), (2, 61))  # tested with 2.60.x: [2.60, 2.61)

# Environment switches Ray reads when first imported or when its processes start. Public
# APIs take none of these as arguments.
# - "0" keeps every listener of a single-machine Ray on 127.0.0.1 (ray._private.ray_constants
#   ENABLE_RAY_CLUSTERS_ENV_VAR). If Ray drops it, a local Ray listens on all interfaces:
#   tests/test_study.py::test_a_local_study_listens_on_loopback_only fails.
LOCAL_ONLY_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
# - "0" selects Tune's older console output, the only one that honours a custom
#   CLIReporter (ray.tune.experimental.output). If dropped: Tune prints every result box.
OLD_OUTPUT_ENV = "RAY_AIR_NEW_OUTPUT"
# - nice level of Ray's worker processes, read by the raylet (Ray's config table, not
#   documented). Ray's default 15 made trials using every core ~10 % slower. If dropped:
#   trials run at nice 15 again (slower, still correct).
WORKER_NICENESS_ENV = "RAY_worker_niceness"
# - seconds between saves of the experiment state (documented among Tune's environment
#   variables, but not settable through RunConfig).
CHECKPOINT_PERIOD_ENV = "TUNE_GLOBAL_CHECKPOINT_S"
# - "1": Tune adds no logger callbacks of its own (documented among Tune's environment
#   variables; RunConfig has no switch). The study passes the JSON and CSV loggers it reads
#   back; Tune's TensorBoard logger would warn on every NaN metric (a fold with no few-shot
#   window) and write event files nobody reads. If dropped: those warnings come back.
AUTO_LOGGERS_ENV = "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS"


def check_ray() -> None:
    """Refuse a Ray outside :data:`TESTED_RAY` whose private parts we use are missing.

    A Ray outside the tested range that still has them is used (with no warning): the
    parts below are the only ones that would break.
    """
    from ray.train._internal.storage import StorageContext
    from ray.tune.experiment.trial import Trial

    missing = [
        name
        for name, ok in (
            ("Trial.local_path", hasattr(Trial, "local_path")),
            ("Trial.path", hasattr(Trial, "path")),
            ("StorageContext.storage_filesystem", _assigns(StorageContext, "storage_filesystem")),
        )
        if not ok
    ]
    if missing:
        low, high = (".".join(map(str, v)) for v in TESTED_RAY)
        raise UserError(
            f"ray must be a version this project works with (tested: >={low},<{high}), got "
            f"ray {metadata.version('ray')}, which lacks {', '.join(missing)}; install "
            f"'ray[default,tune]>={low},<{high}'."
        )


def _assigns(cls: type, attribute: str) -> bool:
    """Whether ``cls.__init__`` sets ``self.<attribute>`` (an instance attribute)."""
    return attribute in cls.__init__.__code__.co_names


def set_launcher_environment(local: bool, checkpoint_period_s: float) -> None:
    """Environment switches for the Ray this process starts or joins (before importing it).

    ``local``: a single-machine Ray on loopback only, its workers at this process's nice
    level. Always: Tune's compact output, the experiment state saved every
    ``checkpoint_period_s``, no logger callbacks but the study's own. An explicit setting in
    the environment wins over each.
    """
    if local:
        os.environ.setdefault(LOCAL_ONLY_ENV, "0")
        os.environ.setdefault(WORKER_NICENESS_ENV, "0")
    os.environ.setdefault(OLD_OUTPUT_ENV, "0")
    os.environ.setdefault(CHECKPOINT_PERIOD_ENV, str(checkpoint_period_s))
    os.environ.setdefault(AUTO_LOGGERS_ENV, "1")


def push_trial_rows(trial: Any) -> None:
    """Copy a trial's ``result.json`` and ``progress.csv`` from the driver's staging folder to
    storage now.

    No public API syncs one trial's files on demand. Uses ``Trial.local_path`` (staging),
    ``Trial.path`` (storage) and ``trial.storage.storage_filesystem``; if they go, a retried
    trial loses the rows reported since the last periodic copy
    (tests/test_study.py::test_a_killed_trial_worker_is_retried_from_its_last_fold fails).
    """
    import pyarrow.fs
    from ray.tune.result import EXPR_PROGRESS_FILE, EXPR_RESULT_FILE

    for name in (EXPR_RESULT_FILE, EXPR_PROGRESS_FILE):
        local = Path(trial.local_path, name)
        if local.is_file():
            pyarrow.fs.copy_files(
                local.as_posix(),
                Path(trial.path, name).as_posix(),
                destination_filesystem=trial.storage.storage_filesystem,
            )


def saved_trial_progress(experiment: Path, key: str) -> dict[str, Any] | None:
    """``key`` of each trial's last result, as Tune's saved experiment state records it
    (what ``--resume`` restores), by trial folder name; None while no state is saved or one
    is being written.

    Reads ``experiment_state-*.json``, an undocumented format (a list of pairs of JSON
    strings under ``trial_data``); if it changes, the SIGKILL tests cannot find their
    moment and fail.
    """
    states = sorted(experiment.glob("experiment_state-*.json"))
    if not states:
        return None
    try:
        saved = json.loads(states[-1].read_text())
        progress = {}
        for trial_json, run_json in saved["trial_data"]:
            last = json.loads(run_json).get("last_result") or {}
            progress[json.loads(trial_json)["relative_logdir"]] = last.get(key, 0)
    except (OSError, ValueError, KeyError):
        return None
    return progress


def check_saved_search_state(experiment: Path) -> None:
    """Refuse to resume an experiment whose newest ``experiment_state-*.json`` is damaged:
    Ray would log the error and silently start a new search in the same folder, training
    the finished configurations again.

    Reads the same undocumented format as :func:`saved_trial_progress` (a JSON object with
    ``trial_data``, a list of pairs of JSON object strings, ``runner_data`` and ``stats``,
    as ``TuneController.save_to_dir`` writes it); if Ray changes it, every
    resume is refused here and tests/test_study.py's resume tests fail.
    """
    states = sorted(experiment.glob("experiment_state-*.json"))
    if not states:
        return
    try:
        saved = json.loads(read_text_file(states[-1], "Tune's saved search state"))
        missing = {"trial_data", "runner_data", "stats"} - set(saved)
        if missing:
            raise KeyError(f"no {sorted(missing)}")
        for trial_json, run_json in saved["trial_data"]:
            if not all(isinstance(json.loads(part), dict) for part in (trial_json, run_json)):
                raise TypeError("a trial's state is no JSON object")
    except (ValueError, KeyError, TypeError, RecursionError) as err:
        raise UserError(
            f"{states[-1]}: expected Tune's saved search state, got a damaged file "
            f"({type(err).__name__}: {err}); resuming would start the search over. The "
            f"finished trials are kept (python -m results {experiment}); to search on, "
            "start a new study with another --name."
        ) from None


def staged_trial_folders(ray_tmpdir: Path, experiment_name: str) -> list[Path]:
    """The driver's staging folders of an experiment's trials, in a local Ray whose
    ``RAY_TMPDIR`` is ``ray_tmpdir`` (rows land there before they are copied to storage).

    An undocumented layout (``ray/session_*/artifacts/*/<name>/driver_artifacts/<trial>``);
    if it changes, the worker-kill test cannot find its moment and fails.
    """
    pattern = f"ray/session_*/artifacts/*/{experiment_name}/driver_artifacts/*"
    return sorted(ray_tmpdir.glob(pattern))
