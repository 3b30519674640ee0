"""Checkpointing: recompute instead of store, on long recurrent graphs."""
from .executor import scan, while_loop
from .remat import checkpoint

__all__ = ["checkpoint", "scan", "while_loop"]
