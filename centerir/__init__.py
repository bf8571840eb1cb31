"""CenterIR for EEG depression-severity regression: loss, model, data, k-fold protocol.

Pure PyTorch / NumPy / scikit-learn; never imports Ray. The names below load on first use,
so ``centerir.contract`` (what the study writes and its readers read) imports without torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "CNNBiLSTM": "centerir.model",
    "CVResult": "centerir.cv",
    "Callback": "centerir.cv",
    "CenterIRLoss": "centerir.loss",
    "Config": "centerir.config",
    "ConfigError": "centerir.config",
    "DataError": "centerir.data",
    "EEGDataset": "centerir.data",
    "FoldResult": "centerir.cv",
    "UserError": "centerir.contract",
    "check_for_cv": "centerir.data",
    "cross_validate": "centerir.cv",
    "load_config": "centerir.config",
    "load_dataset": "centerir.data",
    "make_demo_dataset": "centerir.demo",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'centerir' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
