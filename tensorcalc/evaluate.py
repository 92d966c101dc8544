"""Evaluation with numpy and opt_einsum: compile once, call many times.

>>> import numpy as np, tensorcalc as tc
>>> W, a = tc.var("W", (2, 2)), tc.var("a", (2,))
>>> f = tc.compile([W @ a, tc.sum(W)])
>>> f(W=np.eye(2), a=np.array([1.0, 2.0]))
(array([1., 2.]), 2.0)

:func:`compile` turns one or many expressions into a :class:`Program`: one
step per node of their shared DAG (so a subexpression used by several outputs
is computed once), each contraction planned with ``opt_einsum`` once per set
of dimension sizes and reused on later calls.  Kronecker deltas are never built
as dense matrices: a δ tying two indices merges them before the einsum, and a
δ whose indices are both free is written onto the diagonal of the result.
Arrays no later step needs are released as the program runs.
"""

from __future__ import annotations

import functools
import math
from typing import Optional, Sequence

import numpy as np

from .construct import as_expr
from .errors import BindingError, MemoryLimitError
from .functions import FUNCTIONS
from .kernels import Kernel
from .nodes import Const, Contraction, Delta, Elementwise, Sum, Var, postorder
from .recipe import contraction_recipe, layout, size_of
from .simplify import constant_value

# ---------------------------------------------------------------------------
# Programs


class Program:
    """A compiled set of expressions; call it with the variables' values.

    ``program(W=..., a=...)`` returns one array per output (a tuple when it
    was compiled from a list), scalars as Python floats.  The first call with
    new dimension sizes plans every contraction (see :attr:`plan`); later calls
    with the same sizes reuse the plan.
    """

    def __init__(self, outputs: Sequence, *, single: bool = False, also_accept: Sequence = ()):
        wrapped = list(outputs)
        self.outputs = [as_expr(o) for o in wrapped]
        self.single = single
        self.nodes = postorder(self.outputs)
        self.slot = {id(node): n for n, node in enumerate(self.nodes)}
        self.variables = _unique_variables(self.nodes)
        optional, limits = [], []
        for item in wrapped:
            for extra in (getattr(item, "of", None), getattr(item, "wrt", None),
                          getattr(item, "cotangent", None)):
                if extra is not None:
                    optional.extend(v for v in postorder([as_expr(extra)]) if isinstance(v, Var))
            if getattr(item, "method", None) == "naive" and item.memory_limit is not None:
                limits.append(item.memory_limit)
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
        self._last_binding = None  # (shapes, dtypes, plan key) of the last plain call
        self.last_bindings: Optional[dict] = None

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
                    constant = constant + value[()]
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
        output_slots = {self.slot[id(o)] for o in self.outputs}
        last_use = {}
        for node in self.nodes:
            for child in self.inputs.get(id(node), ()):
                last_use[self.slot[id(child)]] = self.slot[id(node)]
        self.release = {}  # step -> slots no later step reads
        for slot, step in last_use.items():
            if slot not in output_slots:
                self.release.setdefault(step, []).append(slot)

    def _raw_inputs(self, node):
        if isinstance(node, Contraction):
            return [node.operands[p] for p in self.recipes[id(node)].operands]
        return list(node.children)

    # -- binding --------------------------------------------------------------

    def bind(self, values: dict) -> tuple:
        """Check the arguments and bind dimension names: ``(arrays, bindings)``."""
        missing = [name for name in self.variables if name not in values]
        if missing or len(values) > len(self.variables):
            expected = set(self.variables) | {v.name for v in self.optional}
            extra = sorted(set(values) - expected)
            if extra:
                raise BindingError(f"evaluate: unexpected variable {extra[0]!r}; this expression's "
                                   f"variables are {sorted(self.variables) or 'none'}")
            if missing:
                raise BindingError(f"evaluate: missing a value for variable {missing[0]!r} of "
                                   f"shape {self.variables[missing[0]].shape}")
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
            arrays[variable.name] = array
        unbound = [d for d in self.named_dims if d not in bindings]
        if unbound:
            raise BindingError(f"evaluate: dimension {unbound[0]!r} is not bound by any variable "
                               "passed in; pass a variable that has it")
        if len(arrays) == len(values) == len(self.variables) and \
                all(arrays[name] is values[name] for name in self.variables):
            self._last_binding = (tuple(a.shape for a in arrays.values()),
                                  tuple(a.dtype for a in arrays.values()),
                                  tuple(sorted(bindings.items())) if bindings else ())
        return arrays, bindings

    def _bind_again(self, values: dict):
        """The plan key of the last call when the arrays have its exact shapes and dtypes."""
        last = self._last_binding
        if last is None or len(values) != len(self.variables):
            return None
        try:
            arrays = [values[name] for name in self.variables]
            if any(type(a) is not np.ndarray for a in arrays):
                return None
            if tuple(a.shape for a in arrays) != last[0] or tuple(a.dtype for a in arrays) != last[1]:
                return None
        except KeyError:
            return None
        return last[2]

    # -- running ----------------------------------------------------------------

    def __call__(self, values: Optional[dict] = None, /, **kwargs):
        if values:
            kwargs = {**values, **kwargs}
        arrays, steps = self._prepare(kwargs)
        slots = self._start(arrays)
        for out, run, ins, free in steps:
            slots[out] = run(*[slots[i] for i in ins])
            for slot in free:
                slots[slot] = None
        results = tuple(_finish(slots[slot], arrays, leaf) for slot, leaf in self._output_slots)
        return results[0] if self.single else results

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
        arrays, steps = self._prepare(kwargs)
        times: dict = {}
        for _ in range(repeats):
            slots = self._start(arrays)
            for out, run, ins, free in steps:
                start = time.perf_counter()
                slots[out] = run(*[slots[i] for i in ins])
                times.setdefault(out, []).append(time.perf_counter() - start)
                for slot in free:
                    slots[slot] = None
        return [(self.nodes[out], statistics.median(times[out])) for out, *_ in steps]

    def _prepare(self, values: dict) -> tuple:
        """Bind the arguments and fetch (or build) the steps for their sizes."""
        last = self._bind_again(values)
        if last is not None and last in self._plans:  # the last call's shapes: its steps
            return values, self._plans[last]
        arrays, bindings = self.bind(values)
        key = tuple(sorted(bindings.items())) if bindings else ()
        steps = self._plans.get(key)
        if steps is None:
            if self.memory_limit is not None:
                check_memory(self, bindings, self.memory_limit)
            steps = self._plans[key] = self._build_steps(bindings)
        self.last_bindings = bindings
        return arrays, steps

    def _start(self, arrays: dict) -> list:
        slots: list = [None] * len(self.nodes)
        for slot, name in self._loads:
            slots[slot] = arrays[name]
        for slot, value in self._constants:
            slots[slot] = value
        return slots

    def _build_steps(self, bindings: dict) -> list:
        """``(slot, function, input slots, slots to free)`` for every computed node."""
        steps = []
        shapes = {id(n): tuple(size_of(d, bindings) for d in n.shape) for n in self.nodes}
        for step, node in enumerate(self.nodes):
            if isinstance(node, (Var, Const)) or id(node) in self.folded:
                continue
            inputs = self.inputs[id(node)]
            if isinstance(node, Elementwise):
                run = functools.partial(_elementwise, FUNCTIONS[node.fn].numpy, node.param)
            elif isinstance(node, Sum):
                terms, constant = self.sum_terms[id(node)]
                run = _sum_function([c for _, c in terms], constant, shapes[id(node)])
            elif isinstance(node, Delta):
                run = functools.partial(np.eye, size_of(node.dim, bindings))
            else:
                run = self._contraction_function(node, bindings, [shapes[id(i)] for i in inputs])
            steps.append((step, run, [self.slot[id(i)] for i in inputs],
                          self.release.get(step, ())))
        return steps

    def _contraction_function(self, node: Contraction, bindings: dict, shapes: list):
        recipe = self.recipes[id(node)]
        scale = float(math.prod(size_of(d, bindings) for d in recipe.scale_dims))
        coefficient = recipe.coefficient * scale
        shape = tuple(size_of(d, bindings) for d in node.shape)
        if not recipe.operands:
            value = np.full((), coefficient)
            return lambda: layout(value, recipe, node, bindings)
        kernel = Kernel(recipe.equation, shapes)
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

    def predicted_bytes(self, bindings: dict) -> int:
        """Peak bytes of the arrays the program holds at once (einsum temporaries aside)."""
        live = peak = 0
        sizes = {}
        for step, node in enumerate(self.nodes):
            if isinstance(node, (Var, Const)) or id(node) in self.folded:
                continue
            sizes[step] = 8 * math.prod(size_of(d, bindings) for d in node.shape)
            live += sizes[step]
            peak = max(peak, live)
            for slot in self.release.get(step, ()):
                live -= sizes.get(slot, 0)
        return peak

    def plan_for(self, sizes: Optional[dict] = None):
        """The :class:`~tensorcalc.plan.Plan` for dimension ``sizes`` (names → ints)."""
        from .plan import make_plan

        return make_plan(self, dict(sizes or {}))

    @property
    def plan(self):
        """The plan of the last call (or of the fixed sizes when every dimension is a number)."""
        if self.last_bindings is None and self.named_dims:
            raise BindingError(f"plan: dimensions {self.named_dims} are not bound yet; call the "
                               "program once, or use plan_for({'n': 10, ...})")
        return self.plan_for(self.last_bindings or {})


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
    return second, first.value[()]


def _sum_function(coefficients: list, constant, shape: tuple):
    """A function adding its arguments times ``coefficients`` plus ``constant``."""
    def run(*arrays):
        if not arrays:
            return np.full(shape, constant)
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
        for array, c in zip(arrays[2:], coefficients[2:]):
            if c == 1:
                total += array
            elif c == -1:
                total -= array
            else:
                total += array * c
        if constant:
            total += constant
        return total

    return run


def _finish(array, inputs: dict, leaf: bool):
    """An output the caller may keep and modify: never a view of an input or a constant."""
    if type(array) is not np.ndarray:
        array = np.asarray(array)
    if array.ndim == 0:
        return array.item()  # a Python float (complex for complex results)
    if leaf:
        return array.copy()  # the output is an input or a constant itself
    base = array  # an identity step can hand back an input itself: walk to the owner
    while base.base is not None and isinstance(base.base, np.ndarray):
        base = base.base
    if not array.flags.writeable or not base.flags.writeable or \
            any(base is value for value in inputs.values()):
        return np.array(array)
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
    predicted = program.predicted_bytes(bindings)
    if predicted > limit:
        raise MemoryLimitError(
            f"grad(method='naive'): materializing the Jacobians needs about {_human(predicted)} "
            f"(limit {_human(limit)}); use method='contracted' (the default), which never builds "
            "them, or raise memory_limit")


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


def compile(outputs, simplify: bool = True) -> Program:  # noqa: A001 - as in tc.compile
    """One callable for one expression or a list of them (returning a tuple).

    The outputs are simplified together (naive derivatives excepted: their
    point is to materialize), so that a loss and its gradients share every
    common subexpression, the forward pass included.
    """
    single = not isinstance(outputs, (list, tuple))
    items = [outputs] if single else list(outputs)
    given = [v for v in postorder([as_expr(item) for item in items]) if isinstance(v, Var)]
    if simplify:
        items = _simplify_together(items)
    return Program(items, single=single, also_accept=given)


def _simplify_together(items: list) -> list:
    from .differentiate import Derivative
    from .optimize import binarize
    from .simplify import simplify as simplify_exprs

    positions = [n for n, item in enumerate(items) if getattr(item, "method", None) != "naive"]
    if not positions:
        return items
    simplified = simplify_exprs(binarize([as_expr(items[n]) for n in positions]))
    items = list(items)
    for n, expr in zip(positions, simplified):
        item = items[n]
        items[n] = Derivative(expr, item.of, item.wrt, item.cotangent, item.method,
                              item.memory_limit) if isinstance(item, Derivative) else expr
    return items


@functools.lru_cache(maxsize=256)
def _cached_program(expr, of, wrt, cotangent, method, memory_limit) -> Program:
    if of is None:
        return compile(expr)
    from .differentiate import Derivative

    return compile(Derivative(expr, of, wrt, cotangent, method, memory_limit))


def evaluate(expr, values: Optional[dict] = None, /, **kwargs):
    """The value of ``expr`` for the variables' ``values`` (a mapping name → array).

    >>> import numpy as np, tensorcalc as tc
    >>> x = tc.var("x", ("n",))
    >>> tc.evaluate(tc.sum(x * x), {"x": np.array([1.0, 2.0])})
    5.0
    """
    merged = {**(values or {}), **kwargs}
    key = (as_expr(expr),) + tuple(getattr(expr, name, None) for name in
                                   ("of", "wrt", "cotangent", "method", "memory_limit"))
    return _cached_program(*key)(merged)
