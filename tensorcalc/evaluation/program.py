"""The :class:`Program`: a compiled set of expressions, planned once per set of sizes and
called many times (see :mod:`tensorcalc.evaluation.evaluate` for ``compile``).

One step per node of the outputs' shared DAG (so a subexpression used by several outputs
is computed once), each contraction planned with ``opt_einsum`` once per set of dimension
sizes and reused on later calls.  Kronecker deltas are never built as dense matrices: a δ
tying two indices merges them before the einsum, and a δ whose indices are both free is
written onto the diagonal of the result.  Arrays no later step needs are released as the
program runs.
"""

from __future__ import annotations

import functools
import math
from typing import Optional, Sequence

import numpy as np

from ..calculus.differentiate import lineage_variables
from ..calculus.simplify import constant_value
from ..errors import BindingError, closest
from ..expression.collection import without_collector_pauses
from ..expression.construct import as_expr
from ..expression.functions import FUNCTIONS
from ..expression.nodes import Const, Contraction, Delta, Elementwise, Operation, Sum, Var, postorder
from ..expression.operations import OPERATIONS
from ..expression.structured import check_value
from .common import _as_array, check_memory
from .plan import make_plan
from .recipe import contraction_recipe, size_of
from .fast_path import consider_fast_path
from .shared_exp import pair_steps, shared_exps
from .steps import (_elementwise, _finish, _scaling, _sum_function, contraction_function,
                    onto_diagonal, onto_diagonal_function)


_UNKNOWN = object()  # _bind_again not asked yet


class Program:
    """A compiled set of expressions; call it with the variables' values.

    ``program(W=..., a=...)`` returns one array per output (a tuple when it
    was compiled from a list), a scalar output as a numpy scalar of the result
    dtype (``np.float64``, ``np.float32``, ...).  Every array returned is the
    caller's own: never an input, a constant, another output or a view of one.
    The result dtype follows the inputs (numpy's rules, with Python numbers in
    the expression weak, as in NEP 50: float32 in, float32 out).  The first
    call with new dimension sizes plans every contraction (see :attr:`plan`);
    later calls with the same sizes reuse the plan.  A program pickles (to go
    to worker processes); it plans again on its first call there.
    """

    def __init__(self, outputs: Sequence, *, single: bool = False, also_accept: Sequence = ()):
        wrapped = list(outputs)
        self._wrapped, self._also_accept = wrapped, list(also_accept)
        self.outputs = [as_expr(o) for o in wrapped]
        self.single = single
        self.nodes = postorder(self.outputs)
        self.slot = {id(node): n for n, node in enumerate(self.nodes)}
        self.variables = _unique_variables(self.nodes)
        self._structured = [v for v in self.variables.values() if v.structure is not None]
        optional, limits = [], []
        self.naive = False
        # a derivative accepts the variables of the function it came from; one traversal for all
        # outputs (the gradients of L parameters share one loss: L traversals would be quadratic)
        optional.extend(lineage_variables(wrapped))
        for item in wrapped:
            if getattr(item, "memory_limit", None) is not None:
                limits.append(item.memory_limit)
                self.naive = self.naive or item.method == "naive"
        optional.extend(also_accept)  # variables simplification removed (say from 0 * s)
        self.derivatives = [item for item in wrapped if getattr(item, "of", None) is not None]
        self.optional = [v for v in _unique_variables(optional).values()
                         if v.name not in self.variables]
        self.memory_limit = min(limits) if limits else None
        self.recipes = {id(n): contraction_recipe(n) for n in self.nodes
                        if isinstance(n, Contraction)}
        self.named_dims = sorted({d for n in self.nodes for d in _dims_of(n) if isinstance(d, str)})
        self._fuse()
        self.onto_diagonal = onto_diagonal(self)  # δ terms its sum adds onto a diagonal in place
        self.shared, self._shared_slot = shared_exps(self)
        leaves = (Var, Const)
        self._output_slots = [(self.slot[id(o)], isinstance(o, leaves)) for o in self.outputs]
        self._loads = [(n, node.name) for n, node in enumerate(self.nodes) if isinstance(node, Var)]
        self._constants = [(n, node.value) for n, node in enumerate(self.nodes)
                           if isinstance(node, Const)]
        self._plans: dict = {}
        self._fast: dict = {}  # binding -> its generated function, None where there is none
        self._fast_hit = (None, None)  # (binding, function) of the last lookup
        self._calls: dict = {}  # binding -> evaluator calls before its function was written
        self.fast_path = True  # False: every call runs the step-by-step evaluator
        self.fast_calls = 0  # calls the generated functions answered
        self._last_binding = None  # (shapes, dtypes, plan key) of the last plain call
        self.last_bindings: Optional[dict] = None

    def __reduce__(self):  # the plans hold closures: send the outputs, plan again on arrival
        return (_rebuild_program, (self._wrapped, self.single, self._also_accept))

    def _fuse(self) -> None:
        """Decide each step's inputs; a scaling read only by one sum is folded into it."""
        consumers: dict = {}
        for node in self.nodes:
            for child in self._raw_inputs(node):
                consumers[id(child)] = consumers.get(id(child), 0) + 1
        outputs = {id(o) for o in self.outputs}
        self.folded: set = set()  # nodes computed inside their consumer
        self.sum_terms: dict = {}  # id(sum) -> [(input node, coefficient)], scalar constant
        for node in self.nodes:
            if not isinstance(node, Sum):
                continue
            terms, constant = [], 0.0
            for term in node.terms:
                alone = consumers.get(id(term)) == 1 and id(term) not in outputs
                value = constant_value(term)
                if value is not None and value.ndim == 0:
                    constant = constant + value.item()  # a Python number: weak, as in NEP 50
                    if alone:
                        self.folded.add(id(term))
                    continue
                scaled = _scaling(term, self.recipes.get(id(term)))
                if scaled is not None and alone:
                    self.folded.add(id(term))
                    terms.append(scaled)
                else:
                    terms.append((term, 1.0))
            self.sum_terms[id(node)] = (terms, constant)
        self.inputs = {}
        for node in self.nodes:
            if id(node) in self.folded:
                continue
            if isinstance(node, Sum):
                self.inputs[id(node)] = [t for t, _ in self.sum_terms[id(node)][0]]
            else:
                self.inputs[id(node)] = self._raw_inputs(node)
        # a node no step reads (a δ merged into every contraction using it) is not computed
        self.needed = {id(o) for o in self.outputs}
        for inputs in self.inputs.values():
            self.needed.update(id(i) for i in inputs)
        output_slots = {self.slot[id(o)] for o in self.outputs}
        last_use = {}
        self.readers: dict = {}  # id(node) -> how many steps read it
        for node in self.nodes:
            for child in self.inputs.get(id(node), ()):
                last_use[self.slot[id(child)]] = self.slot[id(node)]
                self.readers[id(child)] = self.readers.get(id(child), 0) + 1
        self.release = {}  # step -> slots no later step reads
        for slot, step in last_use.items():
            if slot not in output_slots:
                self.release.setdefault(step, []).append(slot)

    def _raw_inputs(self, node):
        if isinstance(node, Contraction):
            return [node.operands[p] for p in self.recipes[id(node)].operands]
        return list(node.children)

    # -- binding --------------------------------------------------------------

    def bind(self, values: dict, lenient: bool = False) -> tuple:
        """Check the arguments and bind dimension names: ``(arrays, bindings)``.

        ``lenient`` (as :func:`evaluate` calls it) ignores names that belong to no
        variable; otherwise they are an error.
        """
        missing = [name for name in self.variables if name not in values]
        if missing or len(values) > len(self.variables):
            expected = set(self.variables) | {v.name for v in self.optional}
            extra = sorted(set(values) - expected)
            if extra and not lenient:
                raise BindingError(f"evaluate: unexpected variable {extra[0]!r}"
                                   f"{_did_you_mean(extra[0], sorted(expected - set(values)))}; "
                                   f"this expression's variables are "
                                   f"{sorted(self.variables) or 'none'}")
            if missing:
                raise BindingError(f"evaluate: missing a value for variable {missing[0]!r} of "
                                   f"shape {self.variables[missing[0]].shape}"
                                   f"{_did_you_mean(missing[0], extra, 'passed')}")
            if extra:
                values = {name: value for name, value in values.items() if name in expected}
        bindings: dict = {}
        owners: dict = {}
        arrays: dict = {}
        for variable in list(self.variables.values()) + self.optional:
            if variable.name not in values:
                continue
            array = values[variable.name]
            if type(array) is not np.ndarray or array.dtype.kind not in "fc":
                array = _as_array(variable.name, array)
            if self.derivatives and array.dtype.kind == "c":
                raise BindingError(f"evaluate: variable {variable.name!r} is complex, but "
                                   "derivatives are real: pass real arrays")
            if array.ndim != len(variable.shape):
                raise BindingError(f"evaluate: variable {variable.name!r} expects shape "
                                   f"{variable.shape} ({variable.ndim} axes) but got an array of "
                                   f"shape {array.shape}")
            for axis, (dim, size) in enumerate(zip(variable.shape, array.shape)):
                if dim.__class__ is int:
                    if dim != size:
                        raise BindingError(f"evaluate: variable {variable.name!r} expects shape "
                                           f"{variable.shape}, got {array.shape}: axis {axis} "
                                           f"has size {size}, not {dim}")
                elif bindings.setdefault(dim, size) != size:
                    raise BindingError(f"evaluate: dimension {dim!r} is {bindings[dim]} in variable "
                                       f"{owners[dim]!r} but {size} in variable {variable.name!r}")
                else:
                    owners.setdefault(dim, variable.name)
            if variable.structure is not None:  # symmetric/diagonal: the value must be so
                check_value(variable, array)
            arrays[variable.name] = array
        unbound = [d for d in self.named_dims if d not in bindings]
        if unbound:
            raise BindingError(f"evaluate: dimension {unbound[0]!r} is not bound by any variable "
                               "passed in; pass a variable that has it")
        if len(arrays) == len(values) and all(arrays[name] is values[name] for name in arrays):
            self._last_binding = (tuple((name, a.shape, a.dtype) for name, a in arrays.items()),
                                  _plan_key(bindings, arrays))
        else:  # no repeat call is recognised by these shapes: nor is this one's fast path taken
            self._last_binding = None
        return arrays, bindings

    def _bind_again(self, values: dict):
        """The plan key of the last call when the arrays have its exact shapes and dtypes."""
        last = self._last_binding
        if last is None or len(values) != len(last[0]):
            return None
        get = values.get
        for name, shape, dtype in last[0]:
            array = get(name)
            if type(array) is not np.ndarray or array.shape != shape or \
                    (array.dtype is not dtype and array.dtype != dtype):
                return None
        return last[1]

    # -- running ----------------------------------------------------------------

    def __call__(self, values: Optional[dict] = None, /, **kwargs):
        if values:
            kwargs = {**values, **kwargs}
        function = self._fast_hit[1]  # the hot path: the last call's generated function, which
        if function is not None and self.fast_path and not self._structured:  # checks shapes
            try:  # and dtypes itself (fast_path.guard): other ones raise, as a singular matrix
                result = function(**kwargs)
                self.fast_calls += 1
                return result
            except Exception:  # the general path: another function, or the evaluator's error
                pass
        last = self._bind_again(kwargs)
        if last is not None and self.fast_path:  # the last call's names, shapes and dtypes
            if self._fast_hit[0] is not self._last_binding:
                self._fast_hit = (self._last_binding, self._fast.get(self._last_binding))
            if self._fast_hit[1] is not None:
                for variable in self._structured:  # symmetric/diagonal: values checked each call
                    check_value(variable, kwargs[variable.name])
                try:
                    result = self._fast_hit[1](**kwargs)
                    self.fast_calls += 1
                    return result
                except Exception:  # a singular matrix, say: the evaluator raises its clear error
                    pass
        return self._run(kwargs, last=last)

    @without_collector_pauses  # a first call of a deep program makes a step per node
    def _run(self, values: dict, lenient: bool = False, last=_UNKNOWN):
        arrays, (steps, constants) = self._prepare(values, lenient, last)
        if self.fast_path and not lenient and self._last_binding is not None:
            function = self._fast.get(self._last_binding, _UNKNOWN)  # these arguments'
            written = function is _UNKNOWN and consider_fast_path(self, self._last_binding)
            if written:
                function = self._fast[self._last_binding]
            if function is not None and function is not _UNKNOWN and (written or last is None):
                try:
                    result = function(**values)
                except Exception:  # the evaluator raises its clear error
                    pass
                else:
                    self.fast_calls += 1
                    return result
        return self._evaluate(arrays, steps, constants)

    def _evaluate(self, arrays: dict, steps: list, constants: list):
        slots = self._start(arrays, constants)
        for out, run, ins, free in steps:
            slots[out] = run(*[slots[i] for i in ins])
            for slot in free:
                slots[slot] = None
        inputs = {id(value) for value in arrays.values()}
        if len(self._output_slots) == 1:
            slot, leaf = self._output_slots[0]
            result = _finish(slots[slot], inputs, leaf, {})
            return result if self.single else (result,)
        returned: dict = {}  # the buffers handed out so far: no two outputs share one
        return tuple(_finish(slots[slot], inputs, leaf, returned) for slot, leaf in self._output_slots)

    def profile(self, values: Optional[dict] = None, /, repeats: int = 10, **kwargs) -> list:
        """``[(node, seconds)]`` for every computed step: the median over ``repeats`` runs.

        >>> import numpy as np, tensorcalc as tc
        >>> x = tc.var("x", (100,))
        >>> steps = tc.compile(tc.sum(tc.exp(x))).profile(x=np.ones(100))
        >>> [type(node).__name__ for node, seconds in steps]
        ['Elementwise', 'Contraction']
        """
        import statistics
        import time

        if values:
            kwargs = {**values, **kwargs}
        arrays, (steps, constants) = self._prepare(kwargs)
        times: dict = {}
        for _ in range(repeats):
            slots = self._start(arrays, constants)
            for out, run, ins, free in steps:
                start = time.perf_counter()
                slots[out] = run(*[slots[i] for i in ins])
                times.setdefault(out, []).append(time.perf_counter() - start)
                for slot in free:
                    slots[slot] = None
        return [(self._step_node(out), statistics.median(times[out])) for out, *_ in steps]

    def _step_node(self, slot: int):
        """The node of a step's slot; a shared exp's is its pair's logsumexp."""
        if slot < len(self.nodes):
            return self.nodes[slot]
        return next(r.logsumexp for r in self.shared.values() if self._shared_slot[id(r)] == slot)

    def _prepare(self, values: dict, lenient: bool = False, last=_UNKNOWN) -> tuple:
        """Bind the arguments and fetch (or build) the steps for their sizes and dtype.
        ``last``: what :meth:`_bind_again` gave for ``values``, when the caller has it."""
        if last is _UNKNOWN:
            last = self._bind_again(values)
        if last is not None and last in self._plans:  # the last call's shapes: its steps
            for variable in self._structured:  # symmetric/diagonal: values checked each call
                check_value(variable, values[variable.name])
            return values, self._plans[last]
        arrays, bindings = self.bind(values, lenient)
        key = _plan_key(bindings, arrays)
        plan = self._plans.get(key)
        if plan is None:
            if self.memory_limit is not None:
                check_memory(self, bindings, self.memory_limit)
            plan = self._plans[key] = self._build_steps(bindings, key[-1])
        self.last_bindings = bindings
        return arrays, plan

    def _start(self, arrays: dict, constants: list) -> list:
        slots: list = [None] * (len(self.nodes) + len(self._shared_slot))
        for slot, name in self._loads:
            slots[slot] = arrays[name]
        for slot, value in constants:
            slots[slot] = value
        return slots

    @without_collector_pauses
    def _build_steps(self, bindings: dict, dtype) -> tuple:
        """``(steps, constants)``: ``(slot, function, input slots, slots to free)`` for every
        computed node, and the constants' values (0-d ones in ``dtype``: they are weak)."""
        steps = []
        shapes = {id(n): tuple(size_of(d, bindings) for d in n.shape) for n in self.nodes}
        for step, node in enumerate(self.nodes):
            if isinstance(node, (Var, Const)) or id(node) in self.folded or \
                    id(node) not in self.needed:
                continue
            inputs = self.inputs[id(node)]
            if id(node) in self.shared:  # one max-shifted exp for logsumexp and softmax
                steps.extend(pair_steps(self, step, node))
                continue
            if isinstance(node, Elementwise):
                run = functools.partial(_elementwise, FUNCTIONS[node.fn].numpy, node.param)
            elif isinstance(node, Sum):
                terms, constant = self.sum_terms[id(node)]
                reuse = self._reusable_term(step, [t for t, _ in terms])
                laid = [k for k, (t, _) in enumerate(terms) if id(t) in self.onto_diagonal]
                run = onto_diagonal_function(terms, laid[0], self.recipes[id(terms[laid[0]][0])],
                                             reuse, bindings) if laid else \
                    _sum_function([c for _, c in terms], constant, shapes[id(node)], dtype, reuse)
            elif isinstance(node, Delta):
                run = functools.partial(np.eye, size_of(node.dim, bindings), dtype=dtype)
            elif isinstance(node, Operation):
                run = OPERATIONS[node.name].runner(node.param)
            else:
                run = contraction_function(self.recipes[id(node)], node, bindings,
                                           [shapes[id(i)] for i in inputs], dtype,
                                           compact=id(node) in self.onto_diagonal)
            steps.append((step, run, [self.slot[id(i)] for i in inputs],
                          self.release.get(step, ())))
        constants = [(slot, value.astype(np.result_type(value.item(), dtype)) if value.ndim == 0 else value)
                     for slot, value in self._constants]
        return steps, constants

    def _reusable_term(self, step: int, terms: list) -> Optional[int]:
        """The position of a sum's first term that it may add into in place: computed here
        (a product of two or more arrays, or another sum, so never an input or a constant
        itself), read by this sum alone and only once (no other step holds it, or a view of
        it: an output Tᵀ beside T + S would change with T), and not an output."""
        released = set(self.release.get(step, ()))
        for position, term in enumerate(terms):
            fresh = isinstance(term, Sum) or (isinstance(term, Contraction) and
                                               len(self.recipes[id(term)].operands) >= 2)
            if fresh and id(term) not in self.folded and self.slot[id(term)] in released and \
                    self.readers.get(id(term)) == 1:
                return position
        return None

    # -- inspection -------------------------------------------------------------

    def predicted_bytes(self, bindings: dict, largest: bool = False):
        """Peak bytes of the arrays the program holds at once (einsum temporaries aside), at
        8 bytes an entry; with ``largest``, ``(peak, node of the largest array)``."""
        live = peak = 0
        sizes = {}
        biggest = (0, None)
        for step, node in enumerate(self.nodes):
            if isinstance(node, (Var, Const)) or id(node) in self.folded or \
                    id(node) not in self.needed:
                continue
            sizes[step] = 8 * math.prod(size_of(d, bindings) for d in node.shape)
            if sizes[step] > biggest[0]:
                biggest = (sizes[step], node)
            live += sizes[step] + self._pair_bytes(node, step, bindings)
            peak = max(peak, live)
            for slot in self.release.get(step, ()):
                live -= sizes.get(slot, 0)
        return (peak, biggest[1]) if largest else peak

    def _pair_bytes(self, node, step: int, bindings: dict) -> int:
        """A logsumexp and softmax pair's shared exp, held from the first member to the second."""
        record = self.shared.get(id(node))
        if record is None:
            return 0
        size = 8 * math.prod(size_of(d, bindings) for d in record.operand.shape)
        return size if step == min(self.slot[id(m)] for m in record.members) else -size

    def plan_for(self, sizes: Optional[dict] = None):
        """The :class:`~tensorcalc.evaluation.plan.Plan` for dimension ``sizes`` (names → ints)."""
        return make_plan(self, dict(sizes or {}))

    @property
    def plan(self):
        """The plan of the last call (or of the fixed sizes when every dimension is a number)."""
        if self.last_bindings is None and self.named_dims:
            raise BindingError(f"plan: dimensions {self.named_dims} are not bound yet; call the "
                               "program once, or use plan_for({'n': 10, ...})")
        return self.plan_for(self.last_bindings or {})


def _rebuild_program(wrapped, single, also_accept):
    return Program(wrapped, single=single, also_accept=also_accept)


def _plan_key(bindings: dict, arrays: dict) -> tuple:
    """Plans depend on the sizes and on the working dtype (that of weak scalar constants)."""
    dtype = np.result_type(*[a.dtype for a in arrays.values()]) if arrays else np.dtype(np.float64)
    return (tuple(sorted(bindings.items())) if bindings else (), dtype)


def _did_you_mean(name: str, candidates, what: str = "") -> str:
    close = closest(name, candidates)
    if not close:
        return ""
    return f" (did you mean {close[0]!r}{', which was ' + what if what else ''}?)"


def _dims_of(node):
    if isinstance(node, Contraction):
        return node.sizes
    return node.shape


def _unique_variables(nodes) -> dict:
    found: dict = {}
    for node in nodes:
        if isinstance(node, Var):
            other = found.setdefault(node.name, node)
            if other is not node:
                raise BindingError(f"compile: two variables are named {node.name!r}, with shapes "
                                   f"{other.shape} and {node.shape}")
    return found
