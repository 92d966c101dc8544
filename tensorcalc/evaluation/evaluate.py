"""Evaluation with numpy and opt_einsum: compile once, call many times.

>>> import numpy as np, tensorcalc as tc
>>> W, a = tc.var("W", (2, 2)), tc.var("a", (2,))
>>> f = tc.compile([W @ a, tc.sum(W)])
>>> f(W=np.eye(2), a=np.array([1.0, 2.0]))
(array([1., 2.]), np.float64(2.0))

:func:`compile` turns one or many expressions into a :class:`Program`: one
step per node of their shared DAG (so a subexpression used by several outputs
is computed once), each contraction planned with ``opt_einsum`` once per set
of dimension sizes and reused on later calls.  Kronecker deltas are never built
as dense matrices: a δ tying two indices merges them before the einsum, and a
δ whose indices are both free is written onto the diagonal of the result.
Arrays no later step needs are released as the program runs.
"""

from __future__ import annotations

import collections
import functools
import math
import threading
from typing import Optional, Sequence

import numpy as np

from ..expression.construct import as_expr
from ..errors import BindingError, MemoryLimitError, closest
from ..expression.functions import FUNCTIONS
from .kernels import kernel_for
from ..expression.nodes import Const, Contraction, Delta, Elementwise, Operation, Sum, Var, postorder
from ..expression.operations import OPERATIONS
from ..expression.structured import check_value
from .recipe import contraction_recipe, layout, size_of
from ..calculus.simplify import constant_value

# ---------------------------------------------------------------------------
# Programs


_UNKNOWN = object()  # _bind_again not asked yet
_FAST_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))  # working dtypes of the fast path


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
        leaves = (Var, Const)
        self._output_slots = [(self.slot[id(o)], isinstance(o, leaves)) for o in self.outputs]
        self._loads = [(n, node.name) for n, node in enumerate(self.nodes) if isinstance(node, Var)]
        self._constants = [(n, node.value) for n, node in enumerate(self.nodes)
                           if isinstance(node, Const)]
        self._plans: dict = {}
        self._fast = None  # (plan key, generated function), False when there is none
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
        if len(arrays) == len(values) == len(self.variables) and \
                all(arrays[name] is values[name] for name in self.variables) and \
                not any(v.structure for v in self.variables.values()):  # values checked each call
            self._last_binding = (tuple((name, a.shape, a.dtype) for name, a in arrays.items()),
                                  _plan_key(bindings, arrays))
        return arrays, bindings

    def _bind_again(self, values: dict):
        """The plan key of the last call when the arrays have its exact shapes and dtypes."""
        last = self._last_binding
        if last is None or len(values) != len(last[0]):
            return None
        get = values.get
        for name, shape, dtype in last[0]:
            array = get(name)
            if type(array) is not np.ndarray or array.shape != shape or array.dtype != dtype:
                return None
        return last[1]

    # -- running ----------------------------------------------------------------

    def __call__(self, values: Optional[dict] = None, /, **kwargs):
        if values:
            kwargs = {**values, **kwargs}
        last = self._bind_again(kwargs)
        fast = self._fast
        if fast and last is not None and (last is fast[0] or last == fast[0]):
            return fast[1](**kwargs)  # the shapes and dtypes it was made for: nothing else
        return self._run(kwargs, last=last)

    def _run(self, values: dict, lenient: bool = False, last=_UNKNOWN):
        fast = self._fast
        arrays, (steps, constants) = self._prepare(values, lenient, last)
        if fast is None and not lenient and self._last_binding is not None:
            self._make_fast_path()
        return self._evaluate(arrays, steps, constants)

    def _make_fast_path(self) -> None:
        """A small float64 or float32 program gets one straight-line function for its last
        plan (``codegen.generate``): repeat calls then cost about what hand-written numpy
        costs, instead of a few microseconds of dispatch per step.  It returns what the
        evaluator returns (scalars as numpy scalars of the result dtype).  Anything unusual
        keeps the step-by-step evaluator: complex numbers, operations (their errors are
        TensorCalcErrors), large programs (not worth generating)."""
        key = self._last_binding[1]
        self._fast = False  # decided once
        if key[-1] not in _FAST_DTYPES or len(self.nodes) > 300 or \
                any(isinstance(node, Operation) for node in self.nodes):
            return
        try:
            from .codegen import generate, load

            source, name = generate(self, "fast_path", dict(key[0]), checks=False)
            self._fast = (key, load(source, name))
        except Exception:  # pragma: no cover - a row with no source form: keep the evaluator
            self._fast = False

    def _evaluate(self, arrays: dict, steps: list, constants: list):
        slots = self._start(arrays, constants)
        for out, run, ins, free in steps:
            slots[out] = run(*[slots[i] for i in ins])
            for slot in free:
                slots[slot] = None
        if len(self._output_slots) == 1:
            slot, leaf = self._output_slots[0]
            result = _finish(slots[slot], arrays, leaf, [])
            return result if self.single else (result,)
        returned: list = []  # the buffers handed out so far: no two outputs share one
        return tuple(_finish(slots[slot], arrays, leaf, returned) for slot, leaf in self._output_slots)

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
        return [(self.nodes[out], statistics.median(times[out])) for out, *_ in steps]

    def _prepare(self, values: dict, lenient: bool = False, last=_UNKNOWN) -> tuple:
        """Bind the arguments and fetch (or build) the steps for their sizes and dtype.
        ``last``: what :meth:`_bind_again` gave for ``values``, when the caller has it."""
        if last is _UNKNOWN:
            last = self._bind_again(values)
        if last is not None and last in self._plans:  # the last call's shapes: its steps
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
        slots: list = [None] * len(self.nodes)
        for slot, name in self._loads:
            slots[slot] = arrays[name]
        for slot, value in constants:
            slots[slot] = value
        return slots

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
            if isinstance(node, Elementwise):
                run = functools.partial(_elementwise, FUNCTIONS[node.fn].numpy, node.param)
            elif isinstance(node, Sum):
                terms, constant = self.sum_terms[id(node)]
                run = _sum_function([c for _, c in terms], constant, shapes[id(node)], dtype,
                                    self._reusable_term(step, [t for t, _ in terms]))
            elif isinstance(node, Delta):
                run = functools.partial(np.eye, size_of(node.dim, bindings), dtype=dtype)
            elif isinstance(node, Operation):
                run = OPERATIONS[node.name].runner(node.param)
            else:
                run = self._contraction_function(node, bindings, [shapes[id(i)] for i in inputs],
                                                 dtype)
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

    def _contraction_function(self, node: Contraction, bindings: dict, shapes: list, dtype):
        recipe = self.recipes[id(node)]
        scale = float(math.prod(size_of(d, bindings) for d in recipe.scale_dims))
        coefficient = recipe.coefficient * scale
        shape = tuple(size_of(d, bindings) for d in node.shape)
        if not recipe.operands:
            value = np.full((), coefficient, dtype=np.result_type(coefficient, dtype))
            return lambda: layout(value, recipe, node, bindings)
        kernel = kernel_for(recipe.equation, shapes)
        needs_layout = len(recipe.unique_output) != len(recipe.output_roots) or \
            len(set(recipe.output_roots)) != len(recipe.output_roots)
        if coefficient == 1.0:
            if not needs_layout:
                return kernel.function
            return lambda *arrays: layout(kernel(*arrays), recipe, node, bindings)
        # scale the smallest of the operands and the result
        sizes = [math.prod(s) for s in shapes]
        smallest = min(range(len(shapes)), key=sizes.__getitem__)
        if sizes[smallest] < math.prod(shape):
            def run(*arrays):
                arrays = list(arrays)
                arrays[smallest] = arrays[smallest] * coefficient
                result = kernel(*arrays)
                return layout(result, recipe, node, bindings) if needs_layout else result
        else:
            def run(*arrays):
                result = kernel(*arrays) * coefficient
                return layout(result, recipe, node, bindings) if needs_layout else result
        return run

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
            live += sizes[step]
            peak = max(peak, live)
            for slot in self.release.get(step, ()):
                live -= sizes.get(slot, 0)
        return (peak, biggest[1]) if largest else peak

    def plan_for(self, sizes: Optional[dict] = None):
        """The :class:`~tensorcalc.evaluation.plan.Plan` for dimension ``sizes`` (names → ints)."""
        from .plan import make_plan

        return make_plan(self, dict(sizes or {}))

    @property
    def plan(self):
        """The plan of the last call (or of the fixed sizes when every dimension is a number)."""
        if self.last_bindings is None and self.named_dims:
            raise BindingError(f"plan: dimensions {self.named_dims} are not bound yet; call the "
                               "program once, or use plan_for({'n': 10, ...})")
        return self.plan_for(self.last_bindings or {})


def lineage_variables(items) -> list:
    """The variables of ``items`` and of everything derivatives among them came from (their
    ``of``, ``wrt`` and ``cotangent``, recursively), in one traversal."""
    roots, seen, pending = [], set(), list(items)
    while pending:
        item = pending.pop()
        if id(item) in seen or item is None:
            continue
        seen.add(id(item))
        roots.append(as_expr(item))
        pending.extend(getattr(item, name, None) for name in ("of", "wrt", "cotangent"))
    return [node for node in postorder(roots) if isinstance(node, Var)]


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


def _elementwise(function, param, x):
    return function(x, param)


def _scaling(term, recipe):
    """``(operand, c)`` when ``term`` is ``c`` times one operand read as is, else ``None``."""
    if recipe is None or not isinstance(term, Contraction) or len(term.operands) != 2:
        return None
    first, second = term.operands
    if not (isinstance(first, Const) and first.value.ndim == 0) or isinstance(second, (Const, Delta)):
        return None
    if term.indices[1] != term.output or len(term.sizes) != len(term.output):
        return None
    return second, first.value.item()


def _sum_function(coefficients: list, constant, shape: tuple, dtype, reuse=None):
    """A function adding its arguments times ``coefficients`` plus ``constant``.

    With ``reuse``, the argument at that position is a temporary no one else reads: when it
    is a whole array of the result's shape and dtype (not a view) and no other argument
    shares its memory, the sum is accumulated into it, saving the allocation (and the page
    faults) of a new result."""
    def run(*arrays):
        if reuse is not None and coefficients[reuse] == 1 and len(arrays) >= 2:
            total = arrays[reuse]
            if total.base is None and total.flags.writeable and total.shape == shape and \
                    total.dtype == np.result_type(*arrays, constant) and \
                    not any(np.may_share_memory(total, array)  # a view of it: Pᵀ in P + Pᵀ
                            for k, array in enumerate(arrays) if k != reuse):
                return _add_into(total, [(array, c) for k, (array, c) in
                                         enumerate(zip(arrays, coefficients)) if k != reuse],
                                 constant)
        if not arrays:
            return np.full(shape, constant, dtype=np.result_type(constant, dtype))
        first, c0 = arrays[0], coefficients[0]
        if len(arrays) == 1:
            if c0 == 1:
                result = first + constant
            elif c0 == -1:
                result = constant - first
            else:
                result = first * c0 + constant
            return result if result.shape == shape else np.broadcast_to(result, shape).copy()
        second, c1 = arrays[1], coefficients[1]
        if c0 == 1 and c1 == 1:
            total = first + second
        elif c0 == 1 and c1 == -1:
            total = first - second
        elif c0 == -1 and c1 == 1:
            total = second - first
        else:
            total = first * c0 + second * c1
        if total.shape != shape or not total.flags.writeable:
            total = np.broadcast_to(total, shape).copy()
        return _add_into(total, zip(arrays[2:], coefficients[2:]), constant)

    return run


def _add_into(total: np.ndarray, terms, constant) -> np.ndarray:
    """``total`` plus each ``(array, coefficient)`` of ``terms`` and ``constant``, in place."""
    for array, c in terms:
        if c == 1:
            total += array
        elif c == -1:
            total -= array
        else:
            total += array * c
    if constant:
        total += constant
    return total


def _finish(array, inputs: dict, leaf: bool, returned: list):
    """An output the caller may keep and modify: never an input, a constant, another output
    (``returned`` holds the buffers already handed out) or a view of any of them."""
    if isinstance(array, np.generic):
        return array  # a numpy scalar already (a step summed to one): immutable, the caller's
    if type(array) is not np.ndarray:
        array = np.asarray(array)
    if array.ndim == 0:
        return array[()]  # a numpy scalar of the result's dtype, on every path
    if leaf:
        return array.copy()  # the output is an input or a constant itself
    base = array  # an identity step can hand back an input itself: walk to the owner
    while base.base is not None and isinstance(base.base, np.ndarray):
        base = base.base
    if not array.flags.writeable or not base.flags.writeable or \
            any(base is value for value in inputs.values()) or \
            any(base is other for other in returned):
        array = np.array(array)
        base = array
    returned.append(base)
    return array


def _as_array(name: str, value) -> np.ndarray:
    try:
        array = np.asarray(value)
    except Exception as error:  # pragma: no cover - numpy's own message is clear enough
        raise BindingError(f"evaluate: variable {name!r}: {error}") from None
    if array.dtype.kind in "biu":
        array = array.astype(np.float64)
    if array.dtype.kind not in "fc":
        raise BindingError(f"evaluate: variable {name!r} got an array of dtype {array.dtype}, "
                           "not numbers")
    return array


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


def check_memory(program: Program, bindings: dict, limit: int) -> None:
    """Refuse, before anything is allocated, a program that would hold more than ``limit`` bytes."""
    predicted, largest = program.predicted_bytes(bindings, largest=True)
    if predicted <= limit:
        return
    if program.naive:
        raise MemoryLimitError(
            f"grad(method='naive'): materializing the Jacobians needs about {_human(predicted)} "
            f"(limit {_human(limit)}); use method='contracted' (the default), which never builds "
            "them, or raise memory_limit")
    shape = tuple(size_of(d, bindings) for d in largest.shape)
    raise MemoryLimitError(
        f"evaluate: this derivative needs about {_human(predicted)} (limit memory_limit="
        f"{_human(limit)}); its largest array has shape {shape} ({math.prod(shape):,} entries). "
        "A Jacobian of a non-scalar function is that large: use tc.vjp(f, wrt, cotangent) to "
        "contract an incoming gradient instead of forming it, or pass a larger memory_limit to "
        "tc.grad / tc.jacobian")


def check_naive_memory(derivative) -> None:
    """Refuse a naive derivative at construction when its sizes are already known."""
    if derivative.memory_limit is None:
        return
    program = Program([derivative])
    if program.named_dims:
        return  # checked again when the sizes are bound
    check_memory(program, {}, derivative.memory_limit)


def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024


# ---------------------------------------------------------------------------
# Public entry points


def compile(outputs, simplify: bool = True, backend: str = "numpy"):  # noqa: A001 - as in tc.compile
    """One callable for one expression or a list of them (returning a tuple).

    The outputs are simplified together (naive derivatives excepted: their
    point is to materialize), so that a loss and its gradients share every
    common subexpression, the forward pass included.  ``backend`` (``"numpy"``,
    ``"jax"``, ``"torch"`` or ``"dask"``) runs the same planned program with
    that library's arrays (see :mod:`tensorcalc.evaluation.backends`).
    """
    single = not isinstance(outputs, (list, tuple))
    items = [outputs] if single else list(outputs)
    given = [v for v in postorder([as_expr(item) for item in items]) if isinstance(v, Var)]
    if simplify:
        items = _simplify_together(items)
    from .backends import compile_for  # the one seam: numpy gets the Program itself

    return compile_for(backend, Program(items, single=single, also_accept=given))


def _simplify_together(items: list) -> list:
    from ..calculus.differentiate import Derivative
    from ..calculus.optimize import binarize
    from .distribute import distribute_where_cheaper
    from ..calculus.simplify import simplify as simplify_exprs

    positions = [n for n, item in enumerate(items) if getattr(item, "method", None) != "naive"]
    if not positions:
        return items
    simplified = distribute_where_cheaper(
        simplify_exprs(binarize([as_expr(items[n]) for n in positions])))
    items = list(items)
    for n, expr in zip(positions, simplified):
        item = items[n]
        items[n] = Derivative(expr, item.of, item.wrt, item.cotangent, item.method,
                              item.memory_limit) if isinstance(item, Derivative) else expr
    return items


class _ProgramCache:
    """The programs :func:`evaluate` compiled, least recently used first out.

    Bounded in count *and* in the bytes of the constants the programs keep alive
    (a program holds its expression, and the expression its constant arrays).
    """

    def __init__(self, max_entries: int = 256, max_bytes: int = 256 * 2**20):
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self.entries: "collections.OrderedDict" = collections.OrderedDict()  # key -> (program, bytes)
        self.bytes = 0
        self.lock = threading.Lock()

    def get(self, expr) -> Program:
        key = _cache_key(expr)
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
                return entry[0]
        program = compile(expr)
        size = sum(value.nbytes for _, value in program._constants)
        if size > self.max_bytes:
            return program  # too large to keep: compiled again next time
        with self.lock:
            if key not in self.entries:
                self.entries[key] = (program, size)
                self.bytes += size
            while len(self.entries) > self.max_entries or self.bytes > self.max_bytes:
                _, (_, freed) = self.entries.popitem(last=False)
                self.bytes -= freed
        return program

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.bytes = 0


def _cache_key(expr) -> tuple:
    if not hasattr(expr, "origin_variables"):
        return (as_expr(expr),)
    return (expr.expr, tuple(expr.origin_variables()), expr.method, expr.memory_limit,
            expr.cotangent is None)


_PROGRAMS = _ProgramCache()


def clear_cache() -> None:
    """Forget the programs :func:`evaluate` compiled (and the constants they keep alive).

    >>> import tensorcalc as tc
    >>> tc.clear_cache()
    """
    _PROGRAMS.clear()


def evaluate(expr, values: Optional[dict] = None, /, **kwargs):
    """The value of ``expr`` for the variables' ``values`` (a mapping name → array).

    ``values`` is an environment: names the expression does not use are
    ignored, so one dict of data serves a loss, its gradients and its Hessian
    blocks.  (A compiled :class:`Program` is strict about them.)

    >>> import numpy as np, tensorcalc as tc
    >>> x = tc.var("x", ("n",))
    >>> tc.evaluate(tc.sum(x * x), {"x": np.array([1.0, 2.0]), "unused": 3.0})
    np.float64(5.0)
    """
    merged = {**(values or {}), **kwargs}
    return _PROGRAMS.get(expr)._run(merged, lenient=True)
