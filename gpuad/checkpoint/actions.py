"""The actions a checkpointing plan is made of: the contract between schedules and the executor.

The executor holds one *current* carry, the state before step `position`. State 0 is the
initial carry; step i turns state i into state i+1.

- `Advance(start, stop)`: evaluate steps start..stop-1 without keeping their tapes (counted in
  a plan's `forward_steps`).
- `Record(start, stop)`: evaluate them keeping each step's tape for a later `Reverse` (counted
  in `recorded_steps`).
- `Snapshot(index, tier)`: store the current carry (state `index`) in a storage tier ("fast":
  where the arrays live; "slow": pinned host memory on a GPU, a memory-mapped file on a CPU).
- `Restore(index)`: make the stored state `index` current.
- `Free(index)`: drop the stored state `index`.
- `Reverse(index)`: backpropagate through the kept tape of step `index` (cotangent of state
  index+1 to state index) and drop it. Steps are reversed from the last to the first.

The *forward phase* is the prefix of actions up to the one after which the executor first holds
the final state: it runs when the loop is called; the rest runs in the backward pass.
"""
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
