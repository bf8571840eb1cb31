"""Write the best configs and the whole trial table to files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from results.ranking import best_configs

TABLE_DROP = ("config",)  # nested; its keys are already columns


def config_text(config: dict[str, Any], path: Path) -> str:
    """A config as JSON, or YAML for .yaml/.yml (floats written so YAML reads them back)."""
    if path.suffix.lower() in (".yaml", ".yml"):
        return yaml.safe_dump(config, sort_keys=False)
    return json.dumps(config, indent=2) + "\n"


def export_configs(ranked: pd.DataFrame, path: Path, n: int = 1) -> list[Path]:
    """The best config to ``path``; with ``n`` > 1 also rank 2.. to ``<stem>_rank<i><suffix>``.

    Each file holds exactly the keys ``python -m centerir train --config`` accepts.
    """
    written = []
    for rank, config in enumerate(best_configs(ranked, n), start=1):
        target = path if rank == 1 else path.with_name(f"{path.stem}_rank{rank}{path.suffix}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(config_text(config, target))
        written.append(target)
    return written


def export_table(frame: pd.DataFrame, path: Path) -> None:
    """Every trial to CSV, or Parquet for .parquet (needs pyarrow)."""
    table = frame.drop(columns=list(TABLE_DROP))
    table["fold_maes"] = table["fold_maes"].map(lambda maes: ";".join(f"{m:.6g}" for m in maes))
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".parquet":
        table.to_parquet(path, index=False)
    else:
        table.to_csv(path, index=False)
