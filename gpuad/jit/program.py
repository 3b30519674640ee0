"""The flat program a recording becomes, and its replay loop.

A program is a list of steps `(impl, input slots, output slot(s), params)` over a list of slots
(the arguments' leaves, constants, every step's results). Replaying is one loop: read the
inputs, call the implementation the recording called, store the result. No tracer, tape entry,
rule lookup or dispatch is made, and since the calls and their order are the recording's, a
replay computes what the eager call would, bit for bit.

Each step also says which slots hold values no later step reads: they are cleared after it, so a
replay holds no more than the eager call did (saved forward values are freed as the backward
steps that read them have run).
"""
from ..readonly import release as release_held
from ..trace import ConcretizationError


class Program:
    """A recording, ready to replay. `run(leaves)` -> the output leaves."""

    __slots__ = ("steps", "template", "inputs", "outputs", "held", "out_tree", "input_mask",
                 "__weakref__")

    def __init__(self, trace, inputs, outputs):
        """`trace`: the closed JitTrace; `inputs`: the argument leaves' slots; `outputs`: per
        output leaf, its slot, or (None, constant)."""
        self.inputs = tuple(inputs)
        self.outputs = tuple(outputs)
        self.held = trace.held
        template = [None] * trace.count
        for slot, value in trace.consts.items():
            template[slot] = value
        self.template = template
        keep = set(trace.consts) | {o for o in outputs if type(o) is int}
        last = {}
        for k, (_, ins, _, _) in enumerate(trace.steps):
            for i in ins:
                last[i] = k
        frees = [[] for _ in trace.steps]
        for slot, k in last.items():
            if slot not in keep:
                frees[k].append(slot)
        checks = trace.checks
        self.steps = [(impl, ins, out, params, type(out) is tuple, tuple(free), checks.get(k))
                      for k, ((impl, ins, out, params), free)
                      in enumerate(zip(trace.steps, frees))]

    def __len__(self):
        return len(self.steps)

    def run(self, leaves):
        s = self.template.copy()
        for slot, leaf in zip(self.inputs, leaves):
            s[slot] = leaf
        self.run_steps(s, 0, None)
        return [s[o] if type(o) is int else o[1] for o in self.outputs]

    def start(self, leaves, count):
        """The slots of a run in two parts (a step's forward now, its backward later:
        scan(jit=True), gpuad/jit/steps.py): the first `count` inputs set from `leaves`."""
        s = self.template.copy()
        for slot, leaf in zip(self.inputs[:count], leaves):
            s[slot] = leaf
        return s

    def feed(self, s, leaves, first):
        """Set the inputs from the `first`-th on (the part run next reads them)."""
        for slot, leaf in zip(self.inputs[first:], leaves):
            s[slot] = leaf

    def run_steps(self, s, lo, hi):
        """Steps lo..hi-1 (hi None: to the end) on the slots `s` (see `start`)."""
        steps = self.steps if lo == 0 and hi is None else self.steps[lo:hi]
        for impl, ins, out, params, multiple, free, check in steps:
            if params:
                r = impl(*[s[i] for i in ins], **params)
            else:
                r = impl(*[s[i] for i in ins])
            if multiple:
                for o, v in zip(out, r):
                    s[o] = v
            else:
                s[out] = r
            for i in free:
                s[i] = None
            if check is not None:
                _check_shapes(impl, check, r if multiple else (r,))

    def read(self, s, lo, hi):
        """Output leaves lo..hi-1 from the slots `s`."""
        return [s[o] if type(o) is int else o[1] for o in self.outputs[lo:hi]]

    def release(self):
        """The program will not run again: the constants it kept read-only are writeable."""
        if self.held:
            release_held(self.held)

    def __del__(self, release_held=release_held):  # (module globals may be gone at exit)
        if self.held:
            release_held(self.held)


def _check_shapes(impl, expected, values):
    got = tuple(getattr(v, "shape", None) for v in values)
    if got != expected:
        name = getattr(impl, "name", None) or getattr(impl, "__name__", "an op")
        raise ConcretizationError(
            f"ga.jit replay: {name} gave results of shape {got}, but {expected} when the "
            f"function was recorded: its result's shape depends on the argument values "
            f"(nonzero, unique, a mask...), and the recorded program after it assumed the old "
            f"shape. Keep shapes fixed (gnp.where instead of selecting elements), or call the "
            f"function without ga.jit.")
