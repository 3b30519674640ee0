"""A group: a run of elementwise primitives recorded as one small scalar program.

While recording, consecutive elementwise ops on arrays of one shape and float dtype join the
open group (`FusingTrace`, tape.py, calls `extend`). The group keeps its *external inputs* (the arrays
and constants that came from outside) and an SSA list of instructions, and no intermediate:
its backward pass recomputes them (see `backward.py`). Every instruction's result is an
ordinary tracer with its own node, so a value used outside the group (escaping) gets its
cotangent like any other; the group's single tape entry then hands all of them to the kernel.

On large NumPy arrays the forward values are not computed as ops join either (`forward.py`):
each result is a `LazyTracer` until something reads it, and then it alone is computed, chunk
by chunk, from the inputs. When the trace closes, `compact` may store computed values instead
of inputs that only their recomputation needed.
"""
import weakref

import numpy as np

from ..trace import Meta

IN, VALUE, CONST = 0, 1, 2  # operand kinds: external input j, group value k, constant c
_HOST = (np.ndarray, bool)  # input types a group can drop (Python bools: a where's constant)


class Group:
    __slots__ = ("instrs", "inputs", "input_index", "input_nodes", "nodes", "node_index",
                 "parents", "metas", "shape", "dtype", "lone_result", "computed", "kept",
                 "__weakref__")

    def __init__(self, shape, dtype):
        self.instrs = []          # (primitive, ((kind, index_or_value), ...))
        self.inputs = []          # external input arrays (raw), kept for the backward pass
        self.input_index = {}     # ("node", n) or ("array", id) -> input position
        self.input_nodes = []     # node of each input (None: a constant array)
        self.nodes = []           # output node of each instruction
        self.node_index = {}      # node -> instruction
        self.parents = []         # (input position, node, broadcast target) for traced inputs
        self.metas = []           # Meta of each result (shape and dtype, for the tape)
        self.shape = shape
        self.dtype = dtype
        # The first op's result, held only while the group has that one op: a group of one op
        # runs the op's own VJP rule (measured faster than a kernel: it reuses the saved result
        # where a kernel would recompute it), and that rule may need the result.
        self.lone_result = None
        # instruction -> weak reference to its computed value (NumPy), which later evaluations
        # read instead of recomputing, and `compact` may store (weak: never held alive here)
        self.computed = {}
        # instruction -> value the group stores instead of some of its inputs (`compact`)
        self.kept = {}

    def operand(self, tracer, value, trace_node):
        """The operand for one argument: a group value, an external input, or a constant."""
        if trace_node is not None:
            k = self.node_index.get(trace_node)
            if k is not None:
                return (VALUE, k)
            key = ("node", trace_node)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            return (CONST, value)
        elif isinstance(value, np.generic) and value.dtype.kind in "fiu":
            return (CONST, value)  # its own type: a forward evaluation promotes as NumPy does
        else:
            key = ("array", id(value))
        j = self.input_index.get(key)
        if j is None:
            j = self.input_index[key] = len(self.inputs)
            self.inputs.append(value)
            self.input_nodes.append(trace_node)
            if trace_node is not None:
                target = None if (np.shape(value) == self.shape
                                  and value.dtype == self.dtype) else Meta(value)
                self.parents.append((j, trace_node, target))
        return (IN, j)

    def add(self, prim, operands, meta, node, ans=None):
        """Append an instruction with result `meta` (its value `ans` where it was computed)."""
        self.instrs.append((prim, tuple(operands)))
        self.nodes.append(node)
        self.node_index[node] = len(self.instrs) - 1
        self.metas.append(meta)
        self.lone_result = ans if len(self.instrs) == 1 else None

    def keep_computed(self, k, value):
        """Value k was computed (read by the caller): later evaluations may read it."""
        self.computed[k] = weakref.ref(value)
        if len(self.instrs) == 1:
            self.lone_result = value

    def held(self):
        """The arrays the group keeps for its backward pass."""
        return (self.inputs + list(self.kept.values())
                + ([] if self.lone_result is None else [self.lone_result]))

    def needed(self, kept):
        """(values, inputs): the instructions and inputs whose values the backward pass reads
        when the values in `kept` are stored. Each op's VJP reads the residuals its `keep`
        and `keep_ans` say (the kernels' derivatives come from the same declarations), and a
        value read but not stored is recomputed from its own operands."""
        values, inputs, stack = set(), set(), []

        def need(kind, ref):
            if kind == VALUE and ref not in values:
                values.add(ref)
                stack.append(ref)
            elif kind == IN:
                inputs.add(ref)

        for k, (prim, ops) in enumerate(self.instrs):
            if prim.keep_ans:
                need(VALUE, k)
            for op, keep in zip(ops, prim.keep):
                if keep:
                    need(*op)
        while stack:
            k = stack.pop()
            if k not in kept:
                for op in self.instrs[k][1]:
                    need(*op)
        return values, inputs

    def compact(self):
        """Store computed values instead of inputs where that holds fewer bytes.

        Called when the trace closes (no value of the group is pending any more). A value
        computed and still referenced then (a scan step's new carry, say) may make inputs
        unnecessary: `tanh(h @ w + x @ u)` needs only its result for the backward pass, not
        the two products its group would otherwise keep (3x the memory of the per-op rules
        on a StoreAll scan of this RNN step). Dropped inputs become 0-d stand-ins that no
        instruction the backward pass runs reads."""
        if len(self.instrs) < 2 or any(type(x) not in _HOST for x in self.inputs):
            return  # (a CuPy group keeps its inputs: the stand-ins are NumPy's)
        alive = {k: v for k, v in ((k, ref()) for k, ref in self.computed.items())
                 if v is not None}
        if not alive:
            return
        values, _ = self.needed(alive)
        kept = {k: v for k, v in alive.items() if k in values}
        values, inputs = self.needed(kept)
        before = sum(getattr(x, "nbytes", 0) for x in self.inputs)
        after = (sum(getattr(self.inputs[j], "nbytes", 0) for j in inputs)
                 + sum(v.nbytes for v in kept.values()))
        if after >= before:
            return
        self.kept = kept
        for j, x in enumerate(self.inputs):
            if j not in inputs and hasattr(x, "dtype"):
                self.inputs[j] = np.zeros((), x.dtype)

    def forward_order(self, targets, known):
        """The instructions computing `targets` from the inputs and the `known` values, in
        order (each needed one once)."""
        need, stack = set(), list(targets)
        while stack:
            j = stack.pop()
            if j in need or j in known:
                continue
            need.add(j)
            stack.extend(ref for kind, ref in self.instrs[j][1] if kind == VALUE)
        return sorted(need)

    def run(self, order, targets, inputs, known):
        """The values of `targets` (a dict), computed by the instructions in `order` with each
        op's own forward function, from `inputs` (aligned with the group's) and the `known`
        values; the values in between are freed as soon as no later instruction reads them.
        The forward evaluation and the backward pass's recomputation both run this."""
        last_use = {}
        for k in order:
            for kind, ref in self.instrs[k][1]:
                if kind == VALUE:
                    last_use[ref] = k
        wanted = set(targets)
        values = {}

        def operand(kind, ref):
            if kind == IN:
                return inputs[ref]
            if kind == VALUE:
                return values[ref] if ref in values else known[ref]
            return ref

        for k in order:
            prim, ops = self.instrs[k]
            values[k] = prim.impl(*[operand(*op) for op in ops])
            for kind, ref in ops:
                if kind == VALUE and last_use.get(ref) == k and ref not in wanted:
                    values.pop(ref, None)
        return {k: values[k] for k in targets}

    def structure(self):
        """What a generated kernel depends on (constants are kernel arguments, not code)."""
        return tuple([(prim.name, tuple([(kind, ref if kind != CONST else None)
                                         for kind, ref in ops])) for prim, ops in self.instrs])

    def constants(self):
        return [ref for _, ops in self.instrs for kind, ref in ops if kind == CONST]

    def __repr__(self):
        ops = ", ".join(p.name for p, _ in self.instrs)
        return f"<fused group of {len(self.instrs)} ops [{ops}] on {self.shape} {self.dtype}>"
