"""Write the best configs and the whole trial table to files."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from centerir.contract import METRICS, STUDY_NOTE_KEY, folds_key, nan_to_none
from results.ranking import best_configs, candidates, front

TABLE_DROP = ("config",)  # nested; its keys are already columns
CONFIG_SUFFIXES = (".json", ".yaml", ".yml")


def config_text(config: dict[str, Any], path: Path) -> str:
    """A config as JSON, or YAML for .yaml/.yml (floats written so YAML reads them back);
    NaN as null, which strict JSON (and ``centerir train --config``) accepts."""
    values = nan_to_none(config)
    if path.suffix.lower() in (".yaml", ".yml"):
        return yaml.safe_dump(values, sort_keys=False)
    return json.dumps(values, indent=2) + "\n"


def export_paths(path: Path, n: int) -> list[Path]:
    """Where :func:`export_configs` writes ranks 1..``n``: ``path``, then
    ``<stem>_rank<i><suffix>``."""
    return [path, *(path.with_name(f"{path.stem}_rank{i}{path.suffix}") for i in range(2, n + 1))]


def export_configs(
    ranked: pd.DataFrame, path: Path, n: int = 1, note: dict[str, Any] | None = None
) -> list[Path]:
    """The best config to ``path``; with ``n`` > 1 also rank 2.. to ``<stem>_rank<i><suffix>``.

    Each file holds exactly the keys ``python -m centerir train --config`` accepts, plus,
    when ``note`` is given, ``STUDY_NOTE_KEY``: where the config came from (the study, its
    objective, the held-out subjects), which training ignores.
    """
    written = []
    configs = best_configs(ranked, n)
    for rank, (target, config) in enumerate(
        zip(export_paths(path, len(configs)), configs, strict=True), 1
    ):
        target.parent.mkdir(parents=True, exist_ok=True)
        values = config if note is None else {**config, STUDY_NOTE_KEY: {**note, "rank": rank}}
        target.write_text(config_text(values, target))
        written.append(target)
    return written


def choice_set(ranked: pd.DataFrame, n: int) -> pd.DataFrame:
    """The configurations a user chooses from: the Pareto front of a multi-objective
    ranking, else the ``n`` best candidates."""
    if "front" in ranked:
        return front(ranked)
    return candidates(ranked).head(n)


def folder_export_paths(ranked: pd.DataFrame, folder: Path, n: int) -> list[Path]:
    """Where :func:`export_folder` writes: ``<folder>/rank<r>_<trial id>.json`` for each
    configuration of :func:`choice_set`."""
    rows = choice_set(ranked, n)
    return [
        folder / f"rank{rank}_{file_name_part(trial_id)}.json"
        for rank, trial_id in zip(rows["rank"], rows["trial_id"], strict=True)
    ]


def file_name_part(text: str) -> str:
    """``text`` as part of a file name: letters, digits, '-' and '_' only (a trial id read
    from a file may hold anything, '/' and '..' included), at most 64 characters."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", text)[:64]


def export_folder(
    ranked: pd.DataFrame, folder: Path, n: int = 1, note: dict[str, Any] | None = None
) -> list[Path]:
    """Each configuration of :func:`choice_set` (every Pareto-front configuration, or the
    ``n`` best) as its own ``centerir train --config`` file in ``folder``; ``note`` as in
    :func:`export_configs`, with the configuration's rank, front and objective values."""
    rows = choice_set(ranked, n)
    objectives = (note or {}).get("objectives", [])
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for path, (_, row) in zip(folder_export_paths(ranked, folder, n), rows.iterrows(), strict=True):
        values = dict(row["config"])
        if note is not None:
            where = {"rank": int(row["rank"])}
            if "front" in row:
                where["front"] = int(row["front"])
            where["cv_values"] = {name: float(row[name]) for name in objectives}
            values[STUDY_NOTE_KEY] = {**note, **where}
        path.write_text(config_text(values, path))
        written.append(path)
    return written


def export_table(frame: pd.DataFrame, path: Path, parquet: bool = False) -> None:
    """Every trial and baseline to CSV, or with ``parquet`` to Parquet (needs pyarrow);
    per-fold values as ``;``-separated text."""
    table = frame.drop(columns=list(TABLE_DROP))
    for name in METRICS:
        column = folds_key(name)
        table[column] = table[column].map(lambda values: ";".join(f"{v:.6g}" for v in values))
    path.parent.mkdir(parents=True, exist_ok=True)
    if parquet:
        table.to_parquet(path, index=False)
    else:
        table.to_csv(path, index=False)
