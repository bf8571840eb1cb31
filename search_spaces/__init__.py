"""Optuna define-by-run search spaces for CenterIR (learning rate, bins, k sets, lambda)."""

from search_spaces.space import K_SETS, SPACES, SearchSpace, get_space, k_param_name

__all__ = ["K_SETS", "SPACES", "SearchSpace", "get_space", "k_param_name"]
