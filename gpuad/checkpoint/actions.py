"""Placeholder of the action contract (replaced by the schedules branch)."""
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Advance:
    start: int
    stop: int


@dataclass(frozen=True, slots=True)
class Record:
    start: int
    stop: int


@dataclass(frozen=True, slots=True)
class Snapshot:
    index: int
    tier: str = "fast"


@dataclass(frozen=True, slots=True)
class Restore:
    index: int


@dataclass(frozen=True, slots=True)
class Free:
    index: int


@dataclass(frozen=True, slots=True)
class Reverse:
    index: int
