"""CenterIR for EEG depression-severity regression: loss, model, data, k-fold protocol.

Pure PyTorch / NumPy / scikit-learn; never imports Ray.
"""

from centerir.config import Config, ConfigError, load_config
from centerir.cv import Callback, CVResult, FoldResult, cross_validate
from centerir.data import DataError, EEGDataset, check_for_cv, load_dataset
from centerir.demo import make_demo_dataset
from centerir.loss import CenterIRLoss
from centerir.model import CNNBiLSTM

__all__ = [
    "CNNBiLSTM",
    "CVResult",
    "Callback",
    "CenterIRLoss",
    "Config",
    "ConfigError",
    "DataError",
    "EEGDataset",
    "FoldResult",
    "check_for_cv",
    "cross_validate",
    "load_config",
    "load_dataset",
    "make_demo_dataset",
]
