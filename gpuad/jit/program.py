"""The flat program a recording becomes, and its replay loop.

A program is a list of steps `(impl, input slots, output slot(s), params)` over a list of slots
(the arguments' leaves, constants, every step's results). Replaying is one loop: read the
inputs, call the implementation the recording called, store the result. No tracer, tape entry,
rule lookup or dispatch is made, and since the calls and their order are the recording's, a
replay computes what the eager call would, bit for bit.

Each step also says which slots hold values no later step reads: they are cleared after it, so a
replay holds no more than the eager call did (saved forward values are freed as the backward
steps that read them have run).

A part of a program run often is straight-line Python, generated once (`_source`): a generic
loop pays about 450 ns per step for unpacking the step, building the argument list and calling
with `*args`, as much as a small NumPy call itself (benchmarks/README.md, scan(jit=True) round
5). The source holds only slot numbers and names; implementations, parameters and expected
shapes come in the tuple `F`, so one code object serves every recording of the same structure
(a scan records its step again at every call, and compiles it once per process). Compiling
costs some 20-30 runs' savings, so a part whose source is new runs in the generic loop until its
`COMPILE_AFTER`-th run. A sample, an LSTM step's first lines:

    def run(s, F):
        f0, k0_0, f1, f2, f3, k3_0, k3_1, f4, ... = F
        s[3] = f0(s[2], s[0], axis=k0_0)
        s[2] = s[0] = None
        s[5] = f1(s[3], s[4])
        s[7] = f2(s[5], s[6])
        s[5] = s[6] = None
        [s[8], s[9], s[10], s[11]] = f3(s[7], indices=k3_0, axis=k3_1)
"""
import builtins
import keyword

from ..readonly import release as release_held
from ..trace import ConcretizationError


class Program:
    """A recording, ready to replay. `run(leaves)` -> the output leaves."""

    __slots__ = ("steps", "template", "inputs", "outputs", "held", "out_tree", "input_mask",
                 "runners", "__weakref__")

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
        self.runners = {}  # (lo, hi) -> its _Part, made on first use

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
        part = self.runners.get((lo, hi))
        if part is None:
            part = self.runners[lo, hi] = _Part(self.steps[lo:hi])
        if part.compiled is not None:
            for fn, F in part.compiled:
                fn(s, F)
        else:
            part.interpret(s)

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


# Steps per generated function: a long function's F is unpacked into as many locals, and CPython
# compiles 500-step functions 1.6x faster per step than 2000-step ones (no faster below 500)
CHUNK = 500
# Runs of a part before it is compiled, if no recording of its structure was: compiling costs
# about 11 us a step (28 ms for the 2501-step value_and_grad of benchmarks/overhead.py's
# 1000-op chain, some ten eager calls), which the 0.5-0.8 us a step it saves a run repays after
# some 20-30 runs
COMPILE_AFTER = 32
_CODE = {}  # source -> function: the same structure recorded again compiles once
_CODE_MAX = 512


class _Part:
    """Steps lo..hi-1 of a program: interpreted by a generic loop until `COMPILE_AFTER`
    runs, then (or at once, if the same source was compiled before) generated code."""

    __slots__ = ("steps", "sources", "compiled", "runs")

    def __init__(self, steps):
        self.steps = steps
        self.sources = [_source(steps[k:k + CHUNK]) for k in range(0, len(steps), CHUNK)]
        self.runs = 0
        self.compiled = None
        if all(source in _CODE for source, _ in self.sources):
            self.compile()

    def compile(self):
        self.compiled = [(_function(source), F) for source, F in self.sources]
        self.sources = None

    def interpret(self, s):
        self.runs += 1
        if self.runs >= COMPILE_AFTER:
            self.compile()
            for fn, F in self.compiled:
                fn(s, F)
            return
        for impl, ins, out, params, multiple, free, check in self.steps:
            if params:
                r = impl(*[s[i] for i in ins], **params)
            else:
                r = impl(*[s[i] for i in ins])
            if check is not None:  # (before the results are stored, as the generated code)
                _check_shapes(impl, check, r if multiple else (r,))
            if multiple:
                for o, v in zip(out, r):
                    s[o] = v
            else:
                s[out] = r
            for i in free:
                s[i] = None


def _source(steps):
    """(source of run(s, F) doing `steps` on the slots `s`, F): the loop's body, unrolled."""
    names, values, body = [], [], []

    def bind(name, value):
        names.append(name)
        values.append(value)
        return name

    for k, (impl, ins, out, params, multiple, free, check) in enumerate(steps):
        args = [f"s[{i}]" for i in ins]
        f = bind(f"f{k}", impl)
        if params:
            if all(key.isidentifier() and not keyword.iskeyword(key) for key in params):
                args += [f"{key}={bind(f'k{k}_{j}', v)}" for j, (key, v)
                         in enumerate(params.items())]
            else:
                args.append(f"**{bind(f'p{k}', params)}")
        call = f"{f}({', '.join(args)})"
        # (a list target unpacks one result, or none, as it does four)
        target = f"[{', '.join(f's[{o}]' for o in out)}]" if multiple else f"s[{out}]"
        if check is None:
            body.append(f"{target} = {call}")
        else:  # (before the results are stored: a different count is a different shape)
            body.append(f"r = {call}")
            body.append(f"_check_shapes({f}, {bind(f'c{k}', check)}, "
                        f"{'r' if multiple else '(r,)'})")
            body.append(f"{target} = r")
        if free:
            body.append(" = ".join(f"s[{i}]" for i in free) + " = None")
    lines = ["def run(s, F):"]
    if names:
        lines.append(f"    {', '.join(names)}, = F")
    lines += [f"    {line}" for line in body] or ["    pass"]
    return "\n".join(lines) + "\n", tuple(values)


def _function(source):
    fn = _CODE.get(source)
    if fn is None:
        if len(_CODE) >= _CODE_MAX:
            _CODE.clear()
        namespace = {"__builtins__": builtins, "_check_shapes": _check_shapes}
        exec(compile(source, "<gpuad.jit replay>", "exec"), namespace)
        fn = _CODE[source] = namespace["run"]
    return fn


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
