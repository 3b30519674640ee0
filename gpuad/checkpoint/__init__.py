"""Checkpointing: recompute instead of store, on long recurrent graphs.

`scan` and `while_loop` run recurrences whose reverse mode follows a schedule; `checkpoint`
recomputes one function's insides; `forecast` predicts a schedule's memory and time from one
step. Schedules: `StoreAll`, `EveryK`, `Revolve`, `Segments`, `Budget`, `Online`, `Tiered`.
Every step recomputed in the backward pass is checked against the first forward pass
(`config.recompute_check`); a difference raises `RecomputationMismatchError`.
"""
from .executor import scan, while_loop
from .forecast import Forecast, forecast
from .plan import Plan, validate
from .remat import checkpoint
from .schedules import (Budget, EveryK, Online, Revolve, Segments, StoreAll, Tiered,
                        binomial_cost, online_lower_bounds)
from ..units import format_bytes, parse_bytes
from .verify import RecomputationMismatchError

__all__ = ["Budget", "EveryK", "Forecast", "Online", "Plan", "RecomputationMismatchError",
           "Revolve", "Segments", "StoreAll", "Tiered", "binomial_cost", "checkpoint", "forecast",
           "format_bytes", "online_lower_bounds", "parse_bytes", "scan", "validate", "while_loop"]
