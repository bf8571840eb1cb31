"""Fold-level percentile pruning that Optuna hears about as PRUNED.

Ray's ``OptunaSearch`` disables Optuna's pruners, and a trial stopped by a Tune scheduler
reaches Optuna as COMPLETE with its partial value, so TPE would learn from partial values.
Here the trial asks a shared :class:`FoldPercentilePruner` after each fold (from the
second on) whether its running fold mean of the objective is worse than the 25th
percentile (from the best) of the completed trials' running means at the same fold count
(the threshold Optuna's ``PercentilePruner(25.0)`` computes at a step; the trial's side is
its running mean, since folds differ in difficulty and a best-so-far fold says nothing); if
so it reports status pruned and stops, and :class:`tune_study.searcher.StatusAwareOptunaSearch`
tells Optuna PRUNED. Every trial sees the same splits, so the comparison is paired.
"""

from __future__ import annotations

import numpy as np
import ray

from centerir.contract import objective_mode

PRUNE_PERCENTILE = 25.0  # a trial goes on only while its running MAE is this good
PRUNE_MIN_FOLDS = 2  # never prune before this many folds are done: one fold ranks poorly
PRUNE_MIN_COMPLETED = 1  # completed trials needed first (usually the enqueued paper config)


class FoldPercentilePruner:
    """Running fold mean against a percentile of completed trials at the same fold count.

    ``percentile`` counts from the best: 25 keeps a trial only while its running value is
    within the best quarter of the completed trials' running values after as many folds
    (linear interpolation between them, as ``numpy.percentile``). ``objective`` names the
    metric in messages; ``mode`` "min" (errors) or "max" (R²) says which end is best.
    """

    def __init__(
        self,
        objective: str = "mae",
        mode: str = "min",
        percentile: float = PRUNE_PERCENTILE,
        min_folds: int = PRUNE_MIN_FOLDS,
        min_completed: int = PRUNE_MIN_COMPLETED,
    ):
        self.objective = objective
        self.mode = mode
        self.percentile = percentile
        self.min_folds = min_folds
        self.min_completed = min_completed
        self.completed: dict[str, list[float]] = {}  # trial id -> per-fold MAEs

    def record_complete(self, trial_id: str, fold_values: list[float]) -> None:
        """Remember a completed trial's per-fold objective values (in fold order)."""
        self.completed[trial_id] = list(fold_values)

    def should_prune(self, trial_id: str, folds_done: int, running: float) -> str:
        """A reason to stop the trial, or "" to let it go on."""
        if folds_done < self.min_folds:
            return ""
        peers = [
            float(np.nanmean(values[:folds_done]))
            for tid, values in self.completed.items()
            if tid != trial_id and len(values) >= folds_done
        ]
        if len(peers) < self.min_completed:
            return ""
        if self.mode == "max":
            threshold = float(np.percentile(peers, 100 - self.percentile))
            keep = running >= threshold
        else:
            threshold = float(np.percentile(peers, self.percentile))
            keep = running <= threshold
        if keep:
            return ""
        return (
            f"pruned after {folds_done} folds: running {self.objective} {running:.4f} is "
            f"worse than {threshold:.4f}, the {self.percentile:g}th percentile (from the best) "
            f"of {len(peers)} completed trials at that fold count"
        )


class PrunerClient:
    """What a trial holds: calls the driver's pruner actor and waits for the answer."""

    def __init__(self, actor):
        self.actor = actor

    def should_prune(self, trial_id: str, folds_done: int, running: float) -> str:
        return ray.get(self.actor.should_prune.remote(trial_id, folds_done, running))

    def record_complete(self, trial_id: str, fold_values: list[float]) -> None:
        ray.get(self.actor.record_complete.remote(trial_id, fold_values))


def start_pruner(objective: str, completed: dict[str, list[float]] | None = None) -> PrunerClient:
    """Start the pruner actor (in the driver's Ray session) for ``objective``, seeded with
    completed trials' per-fold values."""
    actor = ray.remote(num_cpus=0)(FoldPercentilePruner).remote(
        objective, objective_mode(objective)
    )
    client = PrunerClient(actor)
    for trial_id, values in (completed or {}).items():
        client.record_complete(trial_id, values)
    return client
