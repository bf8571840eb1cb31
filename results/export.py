"""Write the best configs and the whole trial table to files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from centerir.contract import METRICS, STUDY_NOTE_KEY, folds_key
from results.ranking import best_configs

TABLE_DROP = ("config",)  # nested; its keys are already columns


def config_text(config: dict[str, Any], path: Path) -> str:
    """A config as JSON, or YAML for .yaml/.yml (floats written so YAML reads them back)."""
    if path.suffix.lower() in (".yaml", ".yml"):
        return yaml.safe_dump(config, sort_keys=False)
    return json.dumps(config, indent=2) + "\n"


def export_configs(
    ranked: pd.DataFrame, path: Path, n: int = 1, note: dict[str, Any] | None = None
) -> list[Path]:
    """The best config to ``path``; with ``n`` > 1 also rank 2.. to ``<stem>_rank<i><suffix>``.

    Each file holds exactly the keys ``python -m centerir train --config`` accepts, plus,
    when ``note`` is given, ``STUDY_NOTE_KEY``: where the config came from (the study, its
    objective, the held-out subjects), which training ignores.
    """
    written = []
    for rank, config in enumerate(best_configs(ranked, n), start=1):
        target = path if rank == 1 else path.with_name(f"{path.stem}_rank{rank}{path.suffix}")
        target.parent.mkdir(parents=True, exist_ok=True)
        values = config if note is None else {**config, STUDY_NOTE_KEY: {**note, "rank": rank}}
        target.write_text(config_text(values, target))
        written.append(target)
    return written


def export_table(frame: pd.DataFrame, path: Path) -> None:
    """Every trial and baseline to CSV, or Parquet for .parquet (needs pyarrow); per-fold
    values as ``;``-separated text."""
    table = frame.drop(columns=list(TABLE_DROP))
    for name in METRICS:
        column = folds_key(name)
        table[column] = table[column].map(lambda values: ";".join(f"{v:.6g}" for v in values))
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".parquet":
        table.to_parquet(path, index=False)
    else:
        table.to_csv(path, index=False)
