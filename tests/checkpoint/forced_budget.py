"""A Budget that always makes `scan` recompute: set, for the sizes scan measures, halfway
between the least budget Budget accepts and the least at which StoreAll fits. Tests of what
recomputation does need that window, which moves with the fusion thresholds, the headroom and
the margins Budget keeps; finding it by bisection over `Budget.choose` follows every change."""
from gpuad.checkpoint import Budget, StoreAll


def _least(accepts, high=2**40):
    low = 1
    while low < high:  # the least budget b with accepts(b), which is monotone in b
        mid = (low + high) // 2
        if accepts(mid):
            high = mid
        else:
            low = mid + 1
    return low


class ForcedBudget(Budget):
    def __init__(self):
        super().__init__(1)

    def plan(self, length, carry_bytes=None, step_bytes=None, other_bytes=0, **profile):
        if carry_bytes is not None and step_bytes is not None:
            sizes = dict(carry_bytes=carry_bytes, step_bytes=step_bytes,
                         other_bytes=other_bytes, **profile)

            def chosen(b):
                try:
                    return Budget(b).choose(length, **sizes)
                except ValueError:  # too small
                    return None

            least = _least(lambda b: chosen(b) is not None)
            store_all = _least(lambda b: isinstance(chosen(b), StoreAll))
            # no window at all (a single step, say): StoreAll is the only plan; the tests
            # that need recomputation assert that it happened
            self.budget = (least + store_all) // 2 if least < store_all else store_all
            self._last = None
        return super().plan(length, carry_bytes, step_bytes, other_bytes, **profile)
