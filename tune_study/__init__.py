"""Ray Tune + Optuna study of CenterIR hyperparameters: ``python -m tune_study.launch``."""
