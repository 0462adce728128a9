"""Training: negative sampling, the early-stopping loop and validation-only model selection."""
from .loop import DivergenceError, FitResult, TrainConfig, fit, make_optimizer, train_epoch
from .sampling import NegativeSampler
from .selection import GridResult, RunResult, TestBudget, grid_search, run

__all__ = ["DivergenceError", "FitResult", "GridResult", "NegativeSampler", "RunResult",
           "TestBudget", "TrainConfig", "make_optimizer", "train_epoch", "fit", "grid_search", "run"]
