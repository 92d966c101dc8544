"""Differentiation: ``grad``, ``jacobian`` and ``vjp`` by reverse accumulation over the DAG.

>>> import tensorcalc as tc
>>> W, a = tc.var("W", (3, 3)), tc.var("a", (3,))
>>> print(tc.grad(W @ a, W))
∂(W_il a_l)/∂W_jk = δ_ij a_k
>>> g = tc.var("g", (3,))
>>> print(tc.vjp(W @ a, W, g))
g_i a_j

One adjoint per node, accumulated from the output back to the variables, so
the gradients of every requested variable share one sweep.  The local rules:

* a **contraction** is linear in each operand: the adjoint of operand ``k`` is
  the contraction of the incoming adjoint with the *other* operands, output on
  operand ``k``'s indices (JAX's einsum rule).  An index repeated inside the
  operand (a trace or diagonal) gets a fresh copy tied by a ``δ``; an index
  only operand ``k`` carries (a naked sum) broadcasts back;
* an **elementwise** ``f(a)`` multiplies the adjoint by ``f'(a)`` from the
  function table;
* a **sum** hands its adjoint to every term.

A Jacobian of a non-scalar ``f`` is the same sweep seeded with ``δ`` over
``f``'s indices: adjoints then carry ``f.ndim`` leading axes, and the result has
shape ``f.shape + wrt.shape``.  ``method="naive"`` builds every node's local
generalized Jacobian as its own tensor and chains them, as the textbook does.
"""

from __future__ import annotations

import collections
import threading
import weakref
from typing import Optional

import numpy as np

from ..expression.algebra import Algebra, view
from ..expression.construct import as_expr
from ..errors import DifferentiationError, ShapeError, closest
from ..expression.functions import FUNCTIONS
from ..expression.nodes import Const, Contraction, Delta, Elementwise, Expr, Operation, Sum, Var, postorder, transform
from ..expression.collection import without_collector_pauses
from .operation_rules import identity_seed, operation_local_jacobians, operation_vjps
from .optimize import binarize
from .simplify import simplify, zeros
from .terms import constant_value
from .structured import project_all

DEFAULT_MEMORY_LIMIT = 4 * 2**30  # bytes the naive method may materialize by default

# How much memory a naive derivative needs is known only by planning its program, which is the
# evaluation layer's: it registers its check here (tensorcalc.evaluation), and grad calls it.
NAIVE_MEMORY_CHECKS: list = []


class Derivative(Algebra):
    """The result of :func:`grad`, :func:`jacobian` or :func:`vjp`: an expression that
    remembers what it is the derivative of, so that it prints as ``∂f/∂x = …``.

    It behaves as its expression ``.expr`` everywhere (operators, ``evaluate``,
    nested ``grad``); ``of``, ``wrt`` and ``cotangent`` say where it came from.
    """

    __slots__ = ("expr", "of", "wrt", "cotangent", "method", "memory_limit", "_origin")

    def __init__(self, expr: Expr, of: Expr, wrt: Var, cotangent: Optional[Expr] = None,
                 method: str = "contracted", memory_limit: Optional[int] = None):
        self.expr, self.of, self.wrt, self.cotangent = expr, of, wrt, cotangent
        self.method, self.memory_limit = method, memory_limit
        self._origin = None

    def __tensorcalc_expr__(self) -> Expr:
        return self.expr

    def origin_variables(self) -> list:
        """Every variable this derivative came from: those of its value, of the function it is
        the derivative of (itself perhaps a derivative, and so on), of ``wrt`` and of the
        cotangent, in order of first appearance.  A program evaluating the derivative accepts
        all of them, so one dict of data serves a loss, its gradients and its Hessian blocks."""
        if self._origin is None:
            found: dict = {}
            for node in lineage_variables([self]):
                found.setdefault(node.name, node)
            self._origin = tuple(found.values())
        return list(self._origin)

    @property
    def shape(self):
        return self.expr.shape

    @property
    def ndim(self):
        return self.expr.ndim

    def __eq__(self, other):
        return self.expr is as_expr(other) if _is_expression(other) else NotImplemented

    def __hash__(self):
        return hash(self.expr)

    def __str__(self):
        return view("derivative")(self)  # registered by the notation layer

    def __repr__(self):
        return f"<Derivative {self} shape={self.shape}>"


def _is_expression(value) -> bool:
    return isinstance(value, Expr) or hasattr(value, "__tensorcalc_expr__")


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


def substitute(expr, replace: dict) -> Expr:
    """``expr`` with each node whose ``id`` is a key of ``replace`` replaced by its value."""
    return transform([expr], lambda n, k: replace.get(id(n)) or rebuilt(n, k))[0]


def rebuilt(node, children):
    """``node`` over ``children``: itself when they are its own (a rewriting pass's default rule)."""
    return node if all(a is b for a, b in zip(children, node.children)) else node.rebuild(children)


# ---------------------------------------------------------------------------
# Public entry points


@without_collector_pauses
def grad(f, wrt, method: str = "contracted", memory_limit: int = DEFAULT_MEMORY_LIMIT,
         convention: str = "symmetric"):
    """The derivative of ``f`` with respect to ``wrt`` (a variable, or a tuple/list of them).

    A scalar ``f`` gives a result of ``wrt``'s own shape; a non-scalar ``f``
    gives the generalized Jacobian of shape ``f.shape + wrt.shape``.

    >>> import tensorcalc as tc
    >>> x, A = tc.var("x", (3,)), tc.var("A", (3, 3))
    >>> print(tc.grad(tc.grad(x @ A @ x, x), x).expr)
    A_ij + A_ji

    ``method="naive"`` chains materialized local Jacobians (same values, far
    more memory; refused past ``memory_limit`` bytes).  ``convention`` says what the
    derivative with respect to a symmetric matrix is (see :mod:`tensorcalc.expression.structured`).
    """
    of = f if isinstance(f, Derivative) else as_expr(f)  # a Derivative keeps its lineage
    wrts = wrt if isinstance(wrt, (list, tuple)) else [wrt]
    if any(_is_expression(w) and not isinstance(as_expr(w), (Var, Const)) for w in wrts):
        return grad_wrt_intermediate(  # ∂L/∂z for a subexpression z of L
of, wrt, method=method, memory_limit=memory_limit)
    f = as_expr(f)
    variables, single = _as_variables("grad", wrt, f)
    _require_real("grad", f)
    if method not in ("contracted", "naive"):
        raise DifferentiationError(f"grad: method must be 'contracted' or 'naive', not {method!r}")
    memory_limit = check_memory_limit("grad", memory_limit)
    n_extra = f.ndim
    seed = identity_seed(f) if n_extra else Const(1.0)
    if method == "naive":
        results = reverse_sweep(f, seed, n_extra, variables, materialize=True)
        results = project_all(results, variables, n_extra, convention, simplified=False)
        derivatives = [Derivative(r, of, v, method="naive", memory_limit=memory_limit)
                       for r, v in zip(results, variables)]
        for d in derivatives:
            for check in NAIVE_MEMORY_CHECKS:  # the evaluation layer plans the program
                check(d)
    else:
        results = project_all(_sweep_and_simplify(f, seed, n_extra, variables), variables,
                              n_extra, convention)  # symmetric/diagonal variables (structured.py)
        derivatives = [Derivative(r, of, v, memory_limit=memory_limit)
                       for r, v in zip(results, variables)]
    return derivatives[0] if single else tuple(derivatives)


def check_memory_limit(operation: str, memory_limit):
    """``memory_limit`` as an int number of bytes, or ``None`` for no limit."""
    if memory_limit is None:
        return None
    if isinstance(memory_limit, (bool, np.bool_)) or not isinstance(memory_limit, (int, np.integer)) \
            or memory_limit <= 0:
        raise DifferentiationError(
            f"{operation}: memory_limit must be a positive number of bytes (an int such as "
            f"2**30 for 1 GiB) or None for no limit, got {memory_limit!r}")
    return int(memory_limit)


def jacobian(f, wrt, method: str = "contracted", memory_limit: int = DEFAULT_MEMORY_LIMIT,
             convention: str = "symmetric"):
    """The generalized Jacobian ``∂f/∂wrt`` of shape ``f.shape + wrt.shape`` (same as :func:`grad`)."""
    return grad(f, wrt, method=method, memory_limit=memory_limit, convention=convention)


def vjp(f, wrt, cotangent):
    """The vector-Jacobian product ``Σ_o cotangent_o ∂f_o/∂wrt``, of ``wrt``'s shape.

    ``cotangent`` is an expression (say a variable ``G``) or an array with
    ``f``'s shape.  The incoming gradient is contracted into each local
    derivative first, so no Jacobian is ever formed and no δ is left.

    >>> import tensorcalc as tc
    >>> W, x, G = tc.var("W", ("h", "d")), tc.var("x", ("d", "B")), tc.var("G", ("h", "B"))
    >>> print(tc.vjp(tc.tanh(W @ x), W, G))
    G_ik (1 - tanh(W_il x_lk)²) x_jk
    """
    of = f if isinstance(f, Derivative) else as_expr(f)
    f = as_expr(f)
    cotangent = as_expr(cotangent)
    if cotangent.shape != f.shape:
        raise ShapeError(f"vjp: the cotangent has shape {cotangent.shape} but f has shape {f.shape}; "
                         "they must be equal")
    variables, single = _as_variables("vjp", wrt, f)
    _require_real("vjp", f, cotangent)
    results = project_all(_sweep_and_simplify(f, cotangent, 0, variables), variables, 0, "symmetric")
    derivatives = [Derivative(r, of, v, cotangent=cotangent) for r, v in zip(results, variables)]
    return derivatives[0] if single else tuple(derivatives)


def _require_real(operation: str, *exprs) -> None:
    """Every rule here is the real derivative; complex values would be silently wrong."""
    for node in postorder(list(exprs)):
        if isinstance(node, Const) and np.iscomplexobj(node.value):
            raise DifferentiationError(
                f"{operation}: complex constants are not supported (derivatives are real; "
                f"found the constant {node.value!r})")


def _sweep_and_simplify(f: Expr, seed: Expr, n_extra: int, variables) -> list:
    """Binarize ``f``, sweep, and simplify the adjoints in the context of ``f`` itself, so that
    forward intermediates the adjoints read stay shared nodes instead of being recomputed."""
    forward = binarize(f)
    adjoints = reverse_sweep(forward, seed, n_extra, variables)
    simplified = simplify([forward] + adjoints)
    key = id(f)
    with _forwards_lock:
        _forwards[key] = (weakref.ref(f), simplified[0])
        _forwards.move_to_end(key)
        while len(_forwards) > 64:
            _forwards.popitem(last=False)
    return simplified[1:]


# f -> f simplified together with its adjoints, for the last gradients taken: tc.compile of a
# loss with those gradients is then what grad's simplify returned, with nothing to simplify again
_forwards: "collections.OrderedDict[int, tuple]" = collections.OrderedDict()
_forwards_lock = threading.Lock()


def simplified_forward(f: Expr):
    """``f`` as the last :func:`grad` of it simplified it together with its adjoints, or None."""
    with _forwards_lock:
        entry = _forwards.get(id(f))
    return entry[1] if entry is not None and entry[0]() is f else None


def _as_variables(operation: str, wrt, f: Expr):
    single = not isinstance(wrt, (list, tuple))
    items = [wrt] if single else list(wrt)
    if not items:
        raise DifferentiationError(f"{operation}: wrt is empty; pass a variable or a tuple of them")
    items = [_variable_named(operation, item, f) if isinstance(item, str) else item
             for item in items]
    for item in items:
        inner = as_expr(item) if hasattr(item, "__tensorcalc_expr__") else item
        if not isinstance(inner, Var):
            raise DifferentiationError(
                f"{operation}: can only differentiate with respect to a variable made by tc.var, "
                f"got {type(inner).__name__} {inner!s}; to differentiate with respect to an "
                "intermediate result, build the expression from a tc.var standing for it")
    return [as_expr(item) for item in items], single


def _variable_named(operation: str, name: str, f: Expr) -> Var:
    """The variable of ``f`` called ``name`` (a name is accepted where it is unambiguous)."""
    named = [node for node in postorder([f]) if isinstance(node, Var)]
    found = {node.name: node for node in named}
    if sum(node.name == name for node in named) > 1:
        raise DifferentiationError(f"{operation}: the expression has several variables named "
                                   f"{name!r}; pass the variable itself")
    if name in found:
        return found[name]
    close = closest(name, found)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise DifferentiationError(f"{operation}: the expression has no variable named {name!r}{hint} "
                               f"(its variables: {', '.join(sorted(found)) or 'none'})")


# ---------------------------------------------------------------------------
# The sweep


def reverse_sweep(f: Expr, seed: Expr, n_extra: int, variables, materialize: bool = False) -> list:
    """Adjoints of ``variables`` for output ``f`` seeded with ``seed``.

    ``seed`` has shape ``extra + f.shape`` with ``n_extra`` leading axes; so does
    every adjoint (``extra + node.shape``).  Results are not simplified.
    With ``materialize`` each node's local Jacobian is built as a separate
    tensor and the adjoint is contracted with it (the naive, textbook method).
    """
    extra = seed.shape[:n_extra]
    order = postorder([f])
    targets = {id(v) for v in variables}
    depends: set = set()
    for node in order:
        if id(node) in targets or any(id(c) in depends for c in node.children):
            depends.add(id(node))
    contributions: dict = {id(f): [seed]}
    found: dict = {}
    rule = _local_jacobian_rule if materialize else _local_vjp_rule
    for node in reversed(order):
        pending = contributions.pop(id(node), None)
        if not pending:
            continue
        adjoint = pending[0] if len(pending) == 1 else Sum(pending)
        if id(node) in targets:
            found[id(node)] = adjoint
            continue
        for child, child_adjoint in rule(node, adjoint, n_extra, depends):
            contributions.setdefault(id(child), []).append(child_adjoint)
    return [found[id(v)] if id(v) in found else zeros(extra + v.shape) for v in variables]


def _labels(count: int, start: int) -> tuple:
    return tuple(range(start, start + count))


def _local_vjp_rule(node: Expr, adjoint: Expr, n_extra: int, depends: set):
    """``(child, adjoint of child)`` pairs for one node."""
    if isinstance(node, Sum):
        return [(term, adjoint) for term in node.terms if id(term) in depends]
    if isinstance(node, Elementwise):
        derivative = FUNCTIONS[node.fn].derivative(node.arg, node.param)
        if derivative is None or id(node.arg) not in depends:
            return []
        if n_extra == 0 and derivative.shape == node.shape and _is_one(adjoint):
            return [(node.arg, derivative)]  # 1 f'(x) (the seed of a sum): nothing to multiply
        axes = _labels(node.ndim, n_extra)
        extra = _labels(n_extra, 0)
        sizes = dict(zip(extra + axes, adjoint.shape))
        return [(node.arg, Contraction([adjoint, derivative], [extra + axes, axes], extra + axes, sizes))]
    if isinstance(node, Contraction):
        return [(op, _contraction_vjp(node, k, adjoint, n_extra))
                for k, op in enumerate(node.operands) if id(op) in depends]
    if isinstance(node, Operation):  # a row of the operation table: its own VJP rule
        return operation_vjps(node, adjoint, n_extra, depends)
    return []


def _is_one(expr: Expr) -> bool:
    """``expr`` is the constant 1 (or 1 broadcast to a shape)."""
    value = constant_value(expr)
    return value is not None and value.ndim == 0 and value == 1.0


def _contraction_vjp(node: Contraction, k: int, adjoint: Expr, n_extra: int) -> Expr:
    """Adjoint of operand ``k`` of a contraction: the adjoint times the other operands."""
    base = len(node.sizes)
    extra = _labels(n_extra, base)
    sizes = dict(enumerate(node.sizes))
    sizes.update(zip(extra, adjoint.shape[:n_extra]))
    operands = [adjoint]
    indices = [extra + node.output]
    for j, (op, ix) in enumerate(zip(node.operands, node.indices)):
        if j != k:
            operands.append(op)
            indices.append(ix)
    output, seen, next_label = [], set(), base + n_extra
    for label in node.indices[k]:
        if label in seen:  # a repeated index: a fresh copy tied to it by δ
            operands.append(Delta(node.sizes[label]))
            indices.append((label, next_label))
            sizes[next_label] = node.sizes[label]
            label, next_label = next_label, next_label + 1
        seen.add(label)
        output.append(label)
    return Contraction(operands, indices, extra + tuple(output), sizes)


def _local_jacobian_rule(node: Expr, adjoint: Expr, n_extra: int, depends: set):
    """Naive rule: materialize ``∂node/∂child`` as its own tensor, then contract."""
    if isinstance(node, Sum):
        return [(term, adjoint) for term in node.terms if id(term) in depends]
    pairs = []
    if isinstance(node, Elementwise):
        derivative = FUNCTIONS[node.fn].derivative(node.arg, node.param)
        if derivative is not None and id(node.arg) in depends:
            n = node.ndim
            out, inp = _labels(n, 0), _labels(n, n)
            local = Contraction([derivative] + [Delta(d) for d in node.shape],
                                [out] + [(a, n + a) for a in range(n)], out + inp,
                                {**dict(zip(out, node.shape)), **dict(zip(inp, node.shape))})
            pairs.append((node.arg, local))
    elif isinstance(node, Contraction):
        for k, op in enumerate(node.operands):
            if id(op) in depends:
                pairs.append((op, _contraction_local_jacobian(node, k)))
    elif isinstance(node, Operation):
        pairs.extend(operation_local_jacobians(node, depends))
    result = []
    for child, local in pairs:
        extra = _labels(n_extra, 0)
        out = _labels(node.ndim, n_extra)
        inp = _labels(child.ndim, n_extra + node.ndim)
        sizes = {**dict(zip(extra + out, adjoint.shape)), **dict(zip(inp, child.shape))}
        result.append((child, Contraction([adjoint, local], [extra + out, out + inp], extra + inp, sizes)))
    return result


def _contraction_local_jacobian(node: Contraction, k: int) -> Expr:
    """``∂node/∂operand_k``: the other operands and a δ per axis of operand ``k``."""
    base = len(node.sizes)
    sizes = dict(enumerate(node.sizes))
    operands, indices = [], []
    for j, (op, ix) in enumerate(zip(node.operands, node.indices)):
        if j != k:
            operands.append(op)
            indices.append(ix)
    wrt_labels = []
    for axis, label in enumerate(node.indices[k]):
        fresh = base + axis
        sizes[fresh] = node.sizes[label]
        operands.append(Delta(node.sizes[label]))
        indices.append((label, fresh))
        wrt_labels.append(fresh)
    return Contraction(operands, indices, node.output + tuple(wrt_labels), sizes)


def grad_wrt_intermediate(f, node, method: str = "contracted",
                          memory_limit: Optional[int] = DEFAULT_MEMORY_LIMIT, name: Optional[str] = None):
    """``∂f/∂node`` for an intermediate ``node`` of ``f``: the adjoint reverse mode holds there.

    Every occurrence of ``node`` in ``f`` (hash-consing makes every equal subexpression the same
    node) is an input: a fresh variable stands for it, ``grad`` differentiates, and the node is put
    back into the result.

    >>> import numpy as np, tensorcalc as tc
    >>> x, y, W = tc.var("x", (3,)), tc.var("y", (2,)), tc.var("W", (2, 3))
    >>> z = W @ x
    >>> L = tc.sum((tc.sigmoid(z) - y) ** 2)
    >>> dz = grad_wrt_intermediate(L, z)
    >>> dz.shape
    (2,)
    >>> values = {"x": np.ones(3), "y": np.zeros(2), "W": np.eye(2, 3)}
    >>> s = 1 / (1 + np.exp(-1.0))            # σ(z) at z = W x = (1, 1)
    >>> np.allclose(tc.evaluate(dz, values), 2 * s * s * (1 - s))
    True

    A tuple of nodes gives a tuple of derivatives (one sweep each, so that a node inside
    another still counts every path through it).
    """
    if isinstance(node, (list, tuple)):
        return tuple(grad_wrt_intermediate(f, n, method, memory_limit, name) for n in node)
    of, f, node = f, as_expr(f), as_expr(node)
    if isinstance(node, Var):
        return grad(of, node, method=method, memory_limit=memory_limit)
    order = postorder([f])
    if isinstance(node, Const) or not any(n is node for n in order):
        raise DifferentiationError(
            f"grad: {node} is not an intermediate of {f}; differentiate with respect to a "
            "variable, or to a subexpression that occurs in f (built from the same nodes)")
    taken = {n.name for n in order if isinstance(n, Var)}
    base = name or "z"
    fresh = next(c for c in [base] + [f"{base}_{k}" for k in range(1, len(taken) + 2)] if c not in taken)
    stand_in = Var(fresh, node.shape)
    replaced = substitute(f, {id(node): stand_in})
    derivative = grad(replaced, stand_in, method=method, memory_limit=memory_limit)
    back = substitute(derivative.expr, {id(stand_in): node})
    return Derivative(back, replaced, stand_in, method=method, memory_limit=derivative.memory_limit)
