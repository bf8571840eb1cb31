"""Analysis of a centerir-tune study: load, rank, export, report. Needs no torch."""

from results.experiment import ExperimentError, load, trials_only
from results.ranking import best_configs, candidates, rank
from results.summary import Study, open_study, summary_lines

__all__ = [
    "ExperimentError",
    "Study",
    "best_configs",
    "candidates",
    "load",
    "open_study",
    "rank",
    "summary_lines",
    "trials_only",
]
