"""Analysis of a centerir-tune study: load, rank, export, report."""

from results.experiment import ExperimentError, load
from results.ranking import best_configs, rank

__all__ = ["ExperimentError", "best_configs", "load", "rank"]
