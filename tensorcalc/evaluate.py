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
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import opt_einsum

from .construct import as_expr
from .errors import BindingError, MemoryLimitError
from .functions import FUNCTIONS
from .nodes import Const, Contraction, Delta, Elementwise, Expr, Sum, Var, postorder

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _letter(n: int) -> str:
    return _LETTERS[n] if n < len(_LETTERS) else opt_einsum.get_symbol(n)


# ---------------------------------------------------------------------------
# Contraction recipes: the einsum a contraction node runs, with its deltas merged.


@dataclass(frozen=True)
class Recipe:
    """How one contraction node is computed.

    ``equation`` runs over ``operands`` (positions in the node's operand list,
    deltas left out); ``scale_dims`` are the sizes of summed indices no operand
    carries; the einsum's output is then laid out by ``layout`` (an einsum that
    writes it onto the diagonal of ``zeros(shape)``), or broadcast by
    ``broadcast_shape`` positions, to the node's shape.
    """

    operands: tuple
    equation: str
    scale_dims: tuple
    unique_output: tuple  # roots in the einsum output order
    output_roots: tuple  # root per output axis (may repeat)
    carried: frozenset  # roots some operand carries


def contraction_recipe(node: Contraction) -> Recipe:
    parent = list(range(len(node.sizes)))

    def root(label):
        while parent[label] != label:
            parent[label] = parent[parent[label]]
            label = parent[label]
        return label

    operands = []
    for position, (op, ix) in enumerate(zip(node.operands, node.indices)):
        if isinstance(op, Delta):
            a, b = root(ix[0]), root(ix[1])
            if a != b:
                parent[max(a, b)] = min(a, b)
        else:
            operands.append(position)
    carried = frozenset(root(l) for p in operands for l in node.indices[p])
    output_roots = tuple(root(l) for l in node.output)
    unique_output = tuple(dict.fromkeys(r for r in output_roots if r in carried))
    all_roots = {root(l) for l in range(len(node.sizes))}
    scale_dims = tuple(node.sizes[r] for r in sorted(all_roots - carried - set(output_roots)))
    equation = ",".join("".join(_letter(root(l)) for l in node.indices[p]) for p in operands) \
        + "->" + "".join(_letter(r) for r in unique_output)
    return Recipe(tuple(operands), equation, scale_dims, unique_output, output_roots, carried)


# ---------------------------------------------------------------------------
# Programs


def _size(dim, bindings) -> int:
    return dim if isinstance(dim, int) else bindings[dim]


class Program:
    """A compiled set of expressions; call it with the variables' values.

    ``program(W=..., a=...)`` returns one array per output (a tuple when it
    was compiled from a list), scalars as numpy floats.
    """

    def __init__(self, outputs: Sequence, *, single: bool = False):
        wrapped = list(outputs)
        self.outputs = [as_expr(o) for o in wrapped]
        self.single = single
        self.nodes = postorder(self.outputs)
        self.slot = {id(node): n for n, node in enumerate(self.nodes)}
        self.variables = _unique_variables(self.nodes)
        optional = []
        limits = []
        for item in wrapped:
            for extra in (getattr(item, "of", None), getattr(item, "wrt", None),
                          getattr(item, "cotangent", None)):
                if extra is not None:
                    optional.extend(v for v in postorder([as_expr(extra)]) if isinstance(v, Var))
            if getattr(item, "method", None) == "naive" and item.memory_limit is not None:
                limits.append(item.memory_limit)
        self.optional = [v for v in _unique_variables(optional).values() if v.name not in self.variables]
        self.memory_limit = min(limits) if limits else None
        self.recipes = {id(n): contraction_recipe(n) for n in self.nodes if isinstance(n, Contraction)}
        output_slots = {self.slot[id(o)] for o in self.outputs}
        last_use = {}
        for node in self.nodes:
            for child in self._inputs(node):
                last_use[self.slot[id(child)]] = self.slot[id(node)]
        self.release = {}  # step -> slots no later step reads
        for slot, step in last_use.items():
            if slot not in output_slots:
                self.release.setdefault(step, []).append(slot)
        self._plans: dict = {}
        self.last_bindings: Optional[dict] = None

    def _inputs(self, node):
        if isinstance(node, Contraction):
            return [node.operands[p] for p in self.recipes[id(node)].operands]
        return node.children

    # -- binding --------------------------------------------------------------

    def bind(self, values: dict) -> tuple:
        """Check the arguments and bind dimension names: ``(arrays, bindings)``."""
        values = dict(values)
        expected = set(self.variables) | {v.name for v in self.optional}
        extra = sorted(set(values) - expected)
        if extra:
            raise BindingError(f"evaluate: unexpected variable {extra[0]!r}; this expression's "
                               f"variables are {sorted(self.variables) or 'none'}")
        missing = [name for name in self.variables if name not in values]
        if missing:
            raise BindingError(f"evaluate: missing a value for variable {missing[0]!r} of shape "
                               f"{self.variables[missing[0]].shape}")
        bindings: dict = {}
        owners: dict = {}
        arrays: dict = {}
        for variable in list(self.variables.values()) + self.optional:
            if variable.name not in values:
                continue
            array = _as_array(variable.name, values[variable.name])
            if array.ndim != variable.ndim:
                raise BindingError(f"evaluate: variable {variable.name!r} expects shape "
                                   f"{variable.shape} ({variable.ndim} axes) but got an array of "
                                   f"shape {array.shape}")
            for axis, (dim, size) in enumerate(zip(variable.shape, array.shape)):
                if isinstance(dim, int):
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
        for node in self.nodes:
            for dim in _dims_of(node):
                if isinstance(dim, str) and dim not in bindings:
                    raise BindingError(f"evaluate: dimension {dim!r} is not bound by any variable "
                                       "passed in; pass a variable that has it")
        return arrays, bindings

    # -- running ----------------------------------------------------------------

    def __call__(self, values: Optional[dict] = None, /, **kwargs):
        arrays, bindings = self.bind({**(values or {}), **kwargs})
        key = tuple(sorted(bindings.items()))
        plans = self._plans.get(key)
        if plans is None:
            if self.memory_limit is not None:
                check_memory(self, bindings, self.memory_limit)
            plans = self._plans[key] = {}
        self.last_bindings = bindings
        slots: list = [None] * len(self.nodes)
        for step, node in enumerate(self.nodes):
            slots[step] = self._run(node, slots, arrays, bindings, plans)
            for slot in self.release.get(step, ()):
                slots[slot] = None
        results = tuple(_finish(slots[self.slot[id(o)]]) for o in self.outputs)
        return results[0] if self.single else results

    def _run(self, node, slots, arrays, bindings, plans):
        if isinstance(node, Var):
            return arrays[node.name]
        if isinstance(node, Const):
            return node.value
        if isinstance(node, Elementwise):
            return FUNCTIONS[node.fn].numpy(slots[self.slot[id(node.arg)]], node.param)
        if isinstance(node, Sum):
            terms = [slots[self.slot[id(t)]] for t in node.terms]
            return functools.reduce(np.add, terms)
        if isinstance(node, Delta):
            return np.eye(_size(node.dim, bindings))
        return self._contract(node, slots, bindings, plans)

    def _contract(self, node: Contraction, slots, bindings, plans):
        recipe = self.recipes[id(node)]
        operands = [slots[self.slot[id(node.operands[p])]] for p in recipe.operands]
        if operands:
            expression = plans.get(id(node))
            if expression is None:
                shapes = [op.shape for op in operands]
                expression = plans[id(node)] = opt_einsum.contract_expression(recipe.equation, *shapes)
            result = expression(*operands)
        else:
            result = np.ones(())
        if recipe.scale_dims:
            result = result * float(math.prod(_size(d, bindings) for d in recipe.scale_dims))
        return _layout(result, recipe, node, bindings)

    # -- inspection -------------------------------------------------------------

    def predicted_bytes(self, bindings: dict) -> int:
        """Peak bytes of the arrays the program holds at once (intermediates of einsums aside)."""
        live = peak = 0
        sizes = {}
        for step, node in enumerate(self.nodes):
            if isinstance(node, (Var, Const)):
                continue
            sizes[step] = 8 * math.prod(_size(d, bindings) for d in node.shape)
            live += sizes[step]
            peak = max(peak, live)
            for slot in self.release.get(step, ()):
                live -= sizes.get(slot, 0)
        return peak


def _layout(result: np.ndarray, recipe: Recipe, node: Contraction, bindings) -> np.ndarray:
    """Place the einsum's output: broadcast over uncarried indices, diagonals for repeats."""
    shape = tuple(_size(d, bindings) for d in node.shape)
    roots = recipe.output_roots
    if len(set(roots)) == len(roots):
        if len(recipe.unique_output) == len(roots):
            return result
        expanded = result.reshape([_size(node.sizes[r], bindings) if r in recipe.carried else 1
                                   for r in roots])
        return np.broadcast_to(expanded, shape)
    full = np.zeros(shape, dtype=result.dtype)
    unique = tuple(dict.fromkeys(roots))
    diagonal = np.einsum("".join(_letter(r) for r in roots) + "->" + "".join(_letter(r) for r in unique),
                         full)
    carried_positions = [unique.index(r) for r in recipe.unique_output]
    expanded_shape = [1] * len(unique)
    for position, r in zip(carried_positions, recipe.unique_output):
        expanded_shape[position] = result.shape[recipe.unique_output.index(r)]
    order = sorted(range(len(recipe.unique_output)), key=lambda n: carried_positions[n])
    diagonal[...] = np.transpose(result, order).reshape(expanded_shape)
    return full


def _finish(array):
    array = np.asarray(array)
    if array.ndim == 0:
        return array[()]
    if not array.flags.writeable or not array.flags.owndata:
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


def check_naive_memory(derivative, sizes: Optional[dict]) -> None:
    """Refuse a naive derivative at construction when its sizes are already known."""
    if derivative.memory_limit is None:
        return
    program = Program([derivative])
    dims = {d for node in program.nodes for d in _dims_of(node)}
    if any(isinstance(d, str) for d in dims) and sizes is None:
        return  # checked again when the sizes are bound
    check_memory(program, sizes or {}, derivative.memory_limit)


def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024


# ---------------------------------------------------------------------------
# Public entry points


def compile(outputs) -> Program:  # noqa: A001 - the natural name, as in tc.compile
    """One callable for one expression or a list of them (returning a tuple)."""
    single = not isinstance(outputs, (list, tuple))
    return Program([outputs] if single else list(outputs), single=single)


@functools.lru_cache(maxsize=256)
def _cached_program(expr, of, wrt, cotangent, method, memory_limit) -> Program:
    if of is None:
        return Program([expr], single=True)
    from .differentiate import Derivative

    return Program([Derivative(expr, of, wrt, cotangent, method, memory_limit)], single=True)


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
