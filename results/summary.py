"""One study as its readers see it: settings, trials, ranking, verdicts and hold-out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from centerir.contract import BEST_REFIT
from results.compare import verdicts
from results.experiment import load, study_settings, trials_only
from results.heldout import holdout_lines, load_holdout
from results.importance import importance_line
from results.ranking import rank
from results.table import format_ranking


@dataclass
class Study:
    """An experiment folder, read."""

    path: Path
    settings: dict[str, Any]
    frame: pd.DataFrame  # results.experiment.load
    ranked: pd.DataFrame  # results.ranking.rank by the study's objective
    objective: str
    holdout: dict[str, Any] | None  # results.heldout.load_holdout

    @property
    def has_trials(self) -> bool:
        return not trials_only(self.frame).empty


def open_study(path: str | Path) -> Study:
    """Read the experiment at ``path`` (an ``ExperimentError`` if it is none)."""
    path = Path(path)
    settings = study_settings(path)
    objective = settings["objective"]
    frame = load(path)
    return Study(path, settings, frame, rank(frame, objective), objective, load_holdout(path))


def summary_lines(study: Study, top: int = 5) -> list[str]:
    """The study's summary: warnings first (a best that is no better than the mean leads),
    the ranking with its baselines, the held-out scores, then the other verdicts."""
    cv_verdicts = verdicts(study.ranked, study.objective)
    held = holdout_lines(study.holdout, study.ranked, study.objective)
    warnings = [line for line in held + cv_verdicts if line.startswith("WARNING")]
    return [
        *warnings,
        format_ranking(study.ranked, study.frame, study.objective, top=top),
        *[line for line in held if not line.startswith("WARNING")],
        *[line for line in cv_verdicts if not line.startswith("WARNING")],
        importance_line(study.ranked, study.objective),
    ]


def export_note(study: Study) -> dict[str, Any]:
    """What an exported config says of its origin (``STUDY_NOTE_KEY``): the study, the
    objective, which subjects were held out from the search, and the held-out score."""
    holdout = study.holdout or {}
    note: dict[str, Any] = {
        "experiment": str(study.path.resolve()),
        "objective": study.objective,
        "cv_values_are": "selection-biased (chosen on the same folds)",
        "held_out_subjects": list(holdout.get("subjects", [])),
    }
    best = holdout.get("scores", {}).get(BEST_REFIT)
    if best is not None:
        note["held_out_metrics_of_best"] = best.metrics
    return note
