"""Training: negative sampling, the early-stopping loop and validation-only model selection."""
from .loop import DivergenceError, FitResult, TrainConfig, fit
from .sampling import NegativeSampler
from .selection import GridResult, RunResult, TestBudget, grid_search, run

__all__ = ["DivergenceError", "FitResult", "GridResult", "NegativeSampler", "RunResult",
           "TestBudget", "TrainConfig", "fit", "grid_search", "run"]
