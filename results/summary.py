"""One study as its readers see it: settings, trials, ranking, verdicts and hold-out."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from centerir.contract import BEST_REFIT
from results.compare import verdicts
from results.experiment import load, study_settings, trials_only
from results.heldout import holdout_lines, load_holdout
from results.importance import Importances, importance_lines, param_importances
from results.ranking import rank
from results.table import format_front, format_ranking


@dataclass
class Study:
    """An experiment folder, read."""

    path: Path
    settings: dict[str, Any]
    frame: pd.DataFrame  # results.experiment.load
    ranked: pd.DataFrame  # results.ranking.rank by the study's objectives
    objectives: tuple[str, ...]  # the first picks the best (of the Pareto front, if several)
    holdout: dict[str, Any] | None  # results.heldout.load_holdout

    @property
    def objective(self) -> str:
        return self.objectives[0]

    @property
    def multi_objective(self) -> bool:
        return len(self.objectives) > 1

    @cached_property
    def importances(self) -> Importances:
        """The hyperparameters' importance per objective (fANOVA, computed once: the summary
        and the report both show it)."""
        return param_importances(self.ranked, self.objectives)

    @property
    def has_trials(self) -> bool:
        return not trials_only(self.frame).empty


def open_study(path: str | Path) -> Study:
    """Read the experiment at ``path`` (an ``ExperimentError`` if it is none)."""
    path = Path(path)
    settings = study_settings(path)
    objectives = settings["objectives"]
    frame = load(path)
    return Study(path, settings, frame, rank(frame, *objectives), objectives, load_holdout(path))


def summary_lines(study: Study, top: int = 5) -> list[str]:
    """The study's summary: warnings first (a best that is no better than the mean leads),
    the Pareto front (several objectives), the ranking with its baselines, the held-out
    scores, then the other verdicts and the hyperparameters' importance."""
    cv_verdicts = verdicts(study.ranked, study.objectives)
    held = holdout_lines(study.holdout, study.ranked, study.objective)
    pareto = format_front(study.ranked, study.objectives) if study.multi_objective else []
    lines = [*pareto, *held, *cv_verdicts]
    warnings = [line for line in lines if line.startswith("WARNING")]
    return [
        *warnings,
        *[line for line in pareto if not line.startswith("WARNING")],
        format_ranking(study.ranked, study.frame, study.objectives, top=top),
        *[line for line in held if not line.startswith("WARNING")],
        *[line for line in cv_verdicts if not line.startswith("WARNING")],
        *importance_lines(study.importances, study.objectives),
    ]


def export_note(study: Study) -> dict[str, Any]:
    """What an exported config says of its origin (``STUDY_NOTE_KEY``): the study, the
    objective, which subjects were held out from the search, and the held-out score."""
    holdout = study.holdout or {}
    note: dict[str, Any] = {
        "experiment": str(study.path.resolve()),
        "objective": study.objective,
        "objectives": list(study.objectives),
        "cv_values_are": "selection-biased (chosen on the same folds)",
        "held_out_subjects": list(holdout.get("subjects", [])),
    }
    best = holdout.get("scores", {}).get(BEST_REFIT)
    if best is not None:
        note["held_out_metrics_of_best"] = best.metrics
    return note
