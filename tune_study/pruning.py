"""Fold-level percentile pruning that Optuna hears about as PRUNED.

Ray's ``OptunaSearch`` disables Optuna's pruners, and a trial stopped by a Tune scheduler
reaches Optuna as COMPLETE with its partial value, so TPE would learn from partial MAEs.
Here the trial asks a shared :class:`FoldPercentilePruner` after each fold (from the
second on) whether its running fold-mean MAE is worse than the 25th percentile of the
completed trials' running means at the same fold count (the threshold Optuna's
``PercentilePruner(25.0)`` computes at a step; the trial's side is its running mean, since
folds differ in difficulty and a best-so-far fold says nothing); if so it reports
``status="pruned"`` and stops, and :class:`tune_study.searcher.StatusAwareOptunaSearch`
tells Optuna PRUNED. Every trial sees the same splits, so the comparison is paired.
"""

from __future__ import annotations

import numpy as np
import ray

PRUNE_PERCENTILE = 25.0  # a trial goes on only while its running MAE is this good
PRUNE_MIN_FOLDS = 2  # never prune before this many folds are done: one fold ranks poorly
PRUNE_MIN_COMPLETED = 1  # completed trials needed first (usually the enqueued paper config)


class FoldPercentilePruner:
    """Running fold-mean MAE against a percentile of completed trials at the same fold count.

    ``percentile`` counts from the best: 25 keeps a trial only while its running MAE is
    within the best quarter of the completed trials' running MAEs after as many folds
    (linear interpolation between them, as ``numpy.percentile``).
    """

    def __init__(
        self,
        percentile: float = PRUNE_PERCENTILE,
        min_folds: int = PRUNE_MIN_FOLDS,
        min_completed: int = PRUNE_MIN_COMPLETED,
    ):
        self.percentile = percentile
        self.min_folds = min_folds
        self.min_completed = min_completed
        self.completed: dict[str, list[float]] = {}  # trial id -> per-fold MAEs

    def record_complete(self, trial_id: str, fold_maes: list[float]) -> None:
        """Remember a completed trial's per-fold MAEs (in fold order)."""
        self.completed[trial_id] = list(fold_maes)

    def should_prune(self, trial_id: str, folds_done: int, running_mae: float) -> str:
        """A reason to stop the trial, or "" to let it go on."""
        if folds_done < self.min_folds:
            return ""
        peers = [
            float(np.mean(maes[:folds_done]))
            for tid, maes in self.completed.items()
            if tid != trial_id and len(maes) >= folds_done
        ]
        if len(peers) < self.min_completed:
            return ""
        threshold = float(np.percentile(peers, self.percentile))
        if running_mae <= threshold:
            return ""
        return (
            f"pruned after {folds_done} folds: running MAE {running_mae:.4f} is worse than "
            f"{threshold:.4f}, the {self.percentile:g}th percentile of {len(peers)} completed "
            "trials at that fold count"
        )


class PrunerClient:
    """What a trial holds: calls the driver's pruner actor and waits for the answer."""

    def __init__(self, actor):
        self.actor = actor

    def should_prune(self, trial_id: str, folds_done: int, running_mae: float) -> str:
        return ray.get(self.actor.should_prune.remote(trial_id, folds_done, running_mae))

    def record_complete(self, trial_id: str, fold_maes: list[float]) -> None:
        ray.get(self.actor.record_complete.remote(trial_id, fold_maes))


def start_pruner(completed: dict[str, list[float]] | None = None) -> PrunerClient:
    """Start the pruner actor (in the driver's Ray session), seeded with completed trials."""
    actor = ray.remote(num_cpus=0)(FoldPercentilePruner).remote()
    client = PrunerClient(actor)
    for trial_id, maes in (completed or {}).items():
        client.record_complete(trial_id, maes)
    return client
