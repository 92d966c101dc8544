"""The table of matrix operations: one row per operation, as :mod:`tensorcalc.expression.functions` is
for elementwise functions.

>>> import numpy as np, tensorcalc as tc
>>> X = tc.var("X", ("n", "n"))
>>> print(tc.grad(tc.logdet(X), X))
∂log|X|/∂X_ij = X⁻¹_ji
>>> print(tc.matrix_notation(tc.grad(tc.det(X), X)))
det(X) X⁻ᵀ
>>> float(tc.evaluate(tc.logdet(X), X=2 * np.eye(3)))  # log 8
2.0794415416798357

A row (:class:`OperationRow`) holds everything tensorcalc knows about an
operation: its shape rule (a :class:`~tensorcalc.errors.ShapeError` naming the
operation and the sizes), how numpy computes it (``solve`` and ``slogdet``
rather than ``inv`` and ``det`` where possible; leading axes are a batch), its
vector-Jacobian product *as an expression* (so derivatives print, simplify,
nest and compile like any other), and its spellings in index notation, matrix
notation, LaTeX and parseable text.  The node type is
:class:`~tensorcalc.expression.nodes.Operation`; evaluation, differentiation (both
methods: the naive method's local Jacobian is the VJP rule seeded with δ),
simplification and printing each call the row.

Rules, from the Matrix Cookbook (Petersen & Pedersen, 2012), eq. numbers there:

* ``d(X⁻¹) = −X⁻¹ dX X⁻¹`` (59), so the adjoint of ``X`` is ``−X⁻ᵀ G X⁻ᵀ``;
* ``∂det X/∂X = det(X) X⁻ᵀ`` (49); ``∂log|det X|/∂X = X⁻ᵀ`` (57);
* ``x = A⁻¹b``: ``b̄ = A⁻ᵀ x̄`` (a solve with ``Aᵀ``), ``Ā = −b̄ xᵀ``;
* ``∂logsumexp(x)/∂x = softmax(x)``; softmax's VJP is ``s ⊙ (g − Σ g s)``;
* ``max``/``min`` over axes and ``maximum``/``minimum``: the subgradient at ties is
  **split equally** among the tied entries (``∂max(a, a)/∂a = 1/2``), which keeps
  ``max(x) = −min(−x)`` and the symmetry ``maximum(a, b) = maximum(b, a)`` in the
  derivatives too.  (PyTorch's ``amax`` splits equally as well; ``jnp.max`` too.)

A singular matrix at evaluation raises :class:`SingularMatrixError`, naming the operation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from ..errors import NormNotImplemented, ShapeError, SingularMatrixError, TensorCalcError


@dataclass(frozen=True)
class OperationRow:
    """One row of the operation table.

    * ``shape(shapes, param)`` → the result's shape (a ``ShapeError`` otherwise);
    * ``numpy(arrays, param)`` → the value;
    * ``vjp(node, k, adjoint, n_extra)`` → the adjoint of operand ``k`` (shape
      ``adjoint.shape[:n_extra] + operand.shape``), or ``None`` where it is zero;
    * ``index(node, names, namer, fmt)`` → ``(text, kind)`` in index notation;
    * ``spell(notation, wrap, record)`` → ``(text, precedence)`` for ``"unicode"``,
      ``"latex"`` or ``"text"`` (``wrap(child, least)`` spells a child);
    * ``source(codes, param)`` → numpy source for :func:`tensorcalc.evaluation.codegen`, or ``None``.
    """

    name: str
    shape: Callable
    numpy: Callable
    vjp: Callable
    index: Callable
    spell: Callable
    source: Optional[Callable] = None

    def runner(self, param):
        """The evaluation step: a function of the operands' arrays."""
        function = self.numpy
        return lambda *arrays: function(arrays, param)


OPERATIONS: dict = {}


def operation_shape(name: str, operands, param) -> tuple:
    return OPERATIONS[name].shape(tuple(op.shape for op in operands), param)


def _row(*args, **kwargs) -> OperationRow:
    row = OperationRow(*args, **kwargs)
    OPERATIONS[row.name] = row
    return row


# ---------------------------------------------------------------------------
# Building the rules: einsums over labelled axes ("*" the adjoint's extra axes, "~" a batch)


def _ein(spec: str, operands, n_extra: int = 0, n_batch: int = 0, coefficient: float = 1.0):
    """``einsum(spec)`` as a contraction; ``*`` expands to the ``n_extra`` leading axes of an
    adjoint and ``~`` to ``n_batch`` batch axes, so one rule serves every case."""
    from .nodes import Const, Contraction

    def expand(term):
        labels = []
        for ch in term:
            if ch == "*":
                labels += [("extra", a) for a in range(n_extra)]
            elif ch == "~":
                labels += [("batch", a) for a in range(n_batch)]
            else:
                labels.append(ch)
        return tuple(labels)

    inputs, output = spec.split("->")
    indices = [expand(term) for term in inputs.split(",")]
    operands = list(operands)
    sizes: dict = {}
    for op, ix in zip(operands, indices):
        sizes.update(zip(ix, op.shape))
    if coefficient != 1.0:
        operands.append(Const(coefficient))
        indices.append(())
    return Contraction(operands, indices, expand(output), sizes)


def _transpose_last(x):
    """``x`` with its last two axes swapped (a batch of transposes)."""
    from .construct import transpose

    n = x.ndim
    return transpose(x, tuple(range(n - 2)) + (n - 1, n - 2))


def _square(name: str, shape: tuple) -> tuple:
    if len(shape) < 2:
        raise ShapeError(f"{name}: needs a square matrix (or a stack of them in the last two "
                         f"axes), got shape {shape}")
    if shape[-1] != shape[-2]:
        raise ShapeError(f"{name}: needs a square matrix, got shape {shape}: axis -2 has size "
                         f"{shape[-2]} and axis -1 has size {shape[-1]}")
    return shape[:-2]


def _singular(name: str, shape) -> SingularMatrixError:
    return SingularMatrixError(f"{name}: the matrix of shape {shape} is singular (its determinant "
                               "is 0), so it has no inverse")


# ---------------------------------------------------------------------------
# Printing helpers


def _subscript(names):
    from ..notation.printing import _subscript as subscript

    return subscript(list(names))


def _matrix_text(op, namer, fmt, bare: bool = False) -> str:
    """How an operand of ``inv``/``det`` reads inside index notation: ``X``, ``(A + B)``
    (``bare``: no parentheses, inside ``det(…)``)."""
    from .nodes import Var

    symbol = namer.bound.get(id(op))
    if symbol is not None:
        return symbol
    if isinstance(op, Var):
        return op.name
    from ..notation.printers.matrix_form import matrix_form
    from ..notation.printers.records import IndexForm
    from ..notation.printers.spell import UNICODE

    record = matrix_form(op)
    if not isinstance(record, IndexForm):
        text = UNICODE(record)
        return text if bare or text.isidentifier() else f"({text})"
    names = [namer.fresh() for _ in range(op.ndim)]
    return "[" + fmt(op, names, namer)[0] + "]"


def _spell_call(notation, latex_name, name, texts):
    if notation == "latex":
        return f"{latex_name}\\left({', '.join(texts)}\\right)"
    return f"{name}({', '.join(texts)})"


def _no_text(what):
    from ..notation.printers.spell import NoTextForm

    raise NoTextForm(f"to_text: {what} has no form in the text language; use tc.matrix_notation "
                     "or tc.latex to print it")


def _precedences():
    from ..notation.printers import spell

    return spell


# ---------------------------------------------------------------------------
# inv, det, logdet, solve


def _inv_numpy(arrays, param):
    (x,) = arrays
    try:
        return np.linalg.inv(x)
    except np.linalg.LinAlgError:
        raise _singular("inv", x.shape) from None


def _inv_vjp(node, k, adjoint, n_extra):  # X̄ = −Yᵀ G Yᵀ with Y = X⁻¹
    return _ein("*~ab,~ac,~db->*~cd", [adjoint, node, node], n_extra, node.ndim - 2, -1.0)


def _inv_index(node, names, namer, fmt):
    return _matrix_text(node.operands[0], namer, fmt) + "⁻¹" + _subscript(names), "atom"


def _inv_spell(notation, wrap, record, transposed=False):
    p = _precedences()
    (arg,) = record.args
    if notation == "text":
        return f"inv({wrap(arg, p.ADD)})" + ("'" if transposed else ""), p.POSTFIX
    if notation == "latex":
        mark = "^{-\\top}" if transposed else "^{-1}"
    else:
        mark = "⁻ᵀ" if transposed else "⁻¹"
    return wrap(arg, p.ATOM) + mark, p.POSTFIX


_row("inv", lambda shapes, p: (_square("inv", shapes[0]), shapes[0])[1], _inv_numpy, _inv_vjp,
     _inv_index, _inv_spell, lambda codes, p: f"np.linalg.inv({codes[0]})")


def _det_vjp(node, k, adjoint, n_extra):  # X̄ = g cof(X), which is g det(X) X⁻ᵀ where X⁻¹ exists
    from .nodes import Operation

    (x,) = node.operands
    return _ein("*~,~cd->*~cd", [adjoint, Operation("cofactor", [x])], n_extra, node.ndim)


def _det_index(node, names, namer, fmt):
    return f"det({_matrix_text(node.operands[0], namer, fmt, bare=True)})" + _subscript(names), "atom"


def _det_spell(notation, wrap, record, transposed=False):
    if transposed:
        return None
    p = _precedences()
    text = wrap(record.args[0], p.ADD)
    return (f"\\det({text})" if notation == "latex" else f"det({text})"), p.ATOM


_row("det", lambda shapes, p: _square("det", shapes[0]), lambda arrays, p: np.linalg.det(arrays[0]),
     _det_vjp, _det_index, _det_spell, lambda codes, p: f"np.linalg.det({codes[0]})")


# The cofactor matrix cof(X) = adj(X)ᵀ, ∂det X/∂X, which exists at every X: at rank n − 1 it is
# the rank-one matrix of (n−1)-minors, at rank ≤ n − 2 it is 0.  With X = U Σ Vᵀ (an SVD),
# adj(X) = adj(Vᵀ) adj(Σ) adj(U) = det(V) V · diag(π) · det(U) Uᵀ, where π_i = Π_{j≠i} σ_j
# (adj(Q) = det(Q) Qᵀ for an orthogonal Q), so cof(X) = det(U) det(V) U diag(π) Vᵀ: exact at
# any rank.  Where X is well conditioned, det(X) X⁻ᵀ is the same matrix and cheaper.
# It prints as det(X) X⁻ᵀ, its identity form: that text, read back, is the same value where X
# is invertible and a SingularMatrixError (never a wrong value) where it is not.

_COFACTOR_WELL_CONDITIONED = 1e5  # κ₁(X) below this: det(X) X⁻ᵀ (relative error ≲ κ·ε ≈ 2e-11)


def _cofactor_numpy(arrays, param):
    (x,) = arrays
    with np.errstate(all="ignore"):
        try:
            inverse = np.linalg.inv(x)
        except np.linalg.LinAlgError:
            inverse = None
        if inverse is not None:
            kappa = np.abs(x).sum(axis=-2).max(axis=-1) * np.abs(inverse).sum(axis=-2).max(axis=-1)
            if np.all(kappa < _COFACTOR_WELL_CONDITIONED):
                return np.linalg.det(x)[..., None, None] * np.swapaxes(inverse, -1, -2)
        u, s, vt = np.linalg.svd(x)
        others = np.prod(np.where(np.eye(s.shape[-1], dtype=bool), 1.0, s[..., None, :]), axis=-1)
        signs = np.linalg.det(u) * np.linalg.det(vt)
        return signs[..., None, None] * ((u * others[..., None, :]) @ vt)


def _cofactor_vjp(node, k, adjoint, n_extra):
    # d cof(X) = cof(X) tr(X⁻¹ dX) − X⁻ᵀ dXᵀ cof(X), so X̄ = ⟨G, C⟩ X⁻ᵀ − C Gᵀ X⁻ᵀ: through X⁻¹,
    # so a second derivative of det at a singular X is a SingularMatrixError (from inv)
    from .construct import add
    from .nodes import Operation

    (x,) = node.operands
    inverse, n_batch = Operation("inv", [x]), node.ndim - 2
    return add(_ein("*~ab,~ab,~dc->*~cd", [adjoint, node, inverse], n_extra, n_batch),
               _ein("*~ba,~ca,~db->*~cd", [adjoint, node, inverse], n_extra, n_batch, -1.0))


def _cofactor_index(node, names, namer, fmt):
    text = _matrix_text(node.operands[0], namer, fmt, bare=True)
    inverse = _matrix_text(node.operands[0], namer, fmt)
    return f"det({text}) {inverse}⁻¹" + _subscript(list(names[:-2]) + [names[-1], names[-2]]), \
        "product"


def _cofactor_spell(notation, wrap, record, transposed=False):
    p = _precedences()
    (arg,) = record.args
    inner = wrap(arg, p.ADD)
    if notation == "text":
        return f"det({inner})*inv({inner})" + ("" if transposed else "'"), p.PRODUCT
    if notation == "latex":
        mark = "^{-1}" if transposed else "^{-\\top}"
        return f"\\det({inner}) {wrap(arg, p.ATOM)}{mark}", p.PRODUCT
    return f"det({inner}) {wrap(arg, p.ATOM)}{'⁻¹' if transposed else '⁻ᵀ'}", p.PRODUCT


def _cofactor_source(codes, param):  # the SVD form: exact at every rank, on every backend
    return (f"(lambda u, s, vt: (np.linalg.det(u) * np.linalg.det(vt))[..., None, None] * "
            f"((u * np.prod(np.where(np.eye(s.shape[-1]) == 1, 1.0, s[..., None, :]), axis=-1)"
            f"[..., None, :]) @ vt))(*np.linalg.svd({codes[0]}))")


_row("cofactor", lambda shapes, p: (_square("cofactor", shapes[0]), shapes[0])[1], _cofactor_numpy,
     _cofactor_vjp, _cofactor_index, _cofactor_spell, _cofactor_source)


def _logdet_numpy(arrays, param):
    (x,) = arrays
    sign, value = np.linalg.slogdet(x)
    if np.any(sign == 0):
        raise SingularMatrixError(f"logdet: the matrix of shape {x.shape} is singular "
                                  "(its determinant is 0), so log|det X| is -inf")
    return value


def _logdet_vjp(node, k, adjoint, n_extra):  # X̄ = g X⁻ᵀ
    from .nodes import Operation

    (x,) = node.operands
    return _ein("*~,~dc->*~cd", [adjoint, Operation("inv", [x])], n_extra, node.ndim)


def _logdet_index(node, names, namer, fmt):
    return f"log|{_matrix_text(node.operands[0], namer, fmt, bare=True)}|" + _subscript(names), "atom"


def _logdet_spell(notation, wrap, record, transposed=False):
    if transposed:
        return None
    p = _precedences()
    text = wrap(record.args[0], p.ADD)
    if notation == "latex":
        return f"\\log\\lvert {text}\\rvert", p.ATOM
    return (f"logdet({text})" if notation == "text" else f"log|{text}|"), p.ATOM


_row("logdet", lambda shapes, p: _square("logdet", shapes[0]), _logdet_numpy, _logdet_vjp,
     _logdet_index, _logdet_spell, lambda codes, p: f"np.linalg.slogdet({codes[0]})[1]")


def _solve_shape(shapes, param):
    a, b = shapes
    batch = _square("solve", a)
    vector = len(b) == len(a) - 1
    if not (vector or len(b) == len(a)) or tuple(b[:len(batch)]) != batch or b[len(batch)] != a[-1]:
        raise ShapeError(f"solve: A of shape {a} and b of shape {b} do not fit: b must have shape "
                         f"{batch + (a[-1],)} (a vector) or {batch + (a[-1], 'm')} (a matrix)")
    return tuple(b)


def _solve_numpy(arrays, param):
    a, b = arrays
    vector = b.ndim == a.ndim - 1
    try:
        result = np.linalg.solve(a, b[..., None] if vector else b)
    except np.linalg.LinAlgError:
        raise SingularMatrixError(f"solve: the matrix A of shape {a.shape} is singular, so "
                                  f"A x = b (b of shape {b.shape}) has no unique solution") from None
    return result[..., 0] if vector else result


def _solve_vjp(node, k, adjoint, n_extra):
    from .nodes import Operation

    a, b = node.operands
    n_batch = a.ndim - 2
    vector = b.ndim == a.ndim - 1
    if n_extra == 0:  # b̄ = A⁻ᵀ x̄, itself a solve: no inverse is formed
        b_bar = Operation("solve", [_transpose_last(a), adjoint])
    else:  # a Jacobian's extra axes do not fit a solve's batch: contract with A⁻¹
        b_bar = _ein("*~a" + ("" if vector else "m") + ",~ac->*~c" + ("" if vector else "m"),
                     [adjoint, Operation("inv", [a])], n_extra, n_batch)
    if k == 1:
        return b_bar
    spec = "*~c,~d->*~cd" if vector else "*~cm,~dm->*~cd"  # Ā = −b̄ xᵀ
    return _ein(spec, [b_bar, node], n_extra, n_batch, -1.0)


def _solve_index(node, names, namer, fmt):
    a, b = node.operands
    return f"({_matrix_text(a, namer, fmt)}⁻¹{_matrix_text(b, namer, fmt)})" + _subscript(names), \
        "atom"


def _solve_spell(notation, wrap, record, transposed=False):
    if transposed:
        return None
    p = _precedences()
    a, b = record.args
    if notation == "text":
        return f"inv({wrap(a, p.ADD)})*{wrap(b, p.PRODUCT + 1)}", p.PRODUCT
    from ..notation.printers.records import Transpose

    if isinstance(a, Transpose):  # solve(Aᵀ, b) reads A⁻ᵀb
        mark = "^{-\\top} " if notation == "latex" else "⁻ᵀ"
        return wrap(a.arg, p.ATOM) + mark + wrap(b, p.PRODUCT + 1), p.PRODUCT
    mark = "^{-1} " if notation == "latex" else "⁻¹"
    return wrap(a, p.ATOM) + mark + wrap(b, p.PRODUCT + 1), p.PRODUCT


def _solve_source(codes, param):
    return f"np.linalg.solve({codes[0]}, {codes[1]})"  # 2-D A: numpy reads a 1-D b as a vector


_row("solve", _solve_shape, _solve_numpy, _solve_vjp, _solve_index, _solve_spell, _solve_source)


# ---------------------------------------------------------------------------
# Reductions: logsumexp, softmax, max, min (param: the sorted tuple of reduced axes)


def _kept(shape, axes):
    return tuple(d for a, d in enumerate(shape) if a not in axes)


def _labels(x, axes, n_extra):
    """Labels for ``x``'s axes, the kept ones, and the adjoint's extra axes."""
    full = tuple(("x", a) for a in range(x.ndim))
    kept = tuple(("x", a) for a in range(x.ndim) if a not in axes)
    extra = tuple(("extra", a) for a in range(n_extra))
    return full, kept, extra


def _spread(adjoint, weights, x, axes, n_extra):
    """``adjoint`` (over the kept axes) broadcast back over ``x``'s axes, times ``weights``."""
    from .nodes import Contraction

    full, kept, extra = _labels(x, axes, n_extra)
    sizes = {**dict(zip(extra + kept, adjoint.shape)), **dict(zip(full, x.shape))}
    return Contraction([adjoint, weights], [extra + kept, full], extra + full, sizes)


def _max_shift(x, axes):
    m = np.max(x, axis=axes, keepdims=True)
    return np.where(np.isfinite(m), m, 0.0)


def _logsumexp_numpy(arrays, axes):
    (x,) = arrays
    m = _max_shift(x, axes)
    with np.errstate(divide="ignore"):
        total = np.log(np.sum(np.exp(x - m), axis=axes, keepdims=True)) + m
    return np.squeeze(total, axis=axes)


def _softmax_numpy(arrays, axes):
    (x,) = arrays
    e = np.exp(x - _max_shift(x, axes))
    return e / np.sum(e, axis=axes, keepdims=True)


def _logsumexp_vjp(node, k, adjoint, n_extra):
    from .nodes import Operation

    (x,) = node.operands
    return _spread(adjoint, Operation("softmax", [x], node.param), x, node.param, n_extra)


def _softmax_vjp(node, k, adjoint, n_extra):  # s ⊙ (g − Σ_axes g s)
    from .construct import add, scale
    from .nodes import Contraction

    (x,) = node.operands
    full, kept, extra = _labels(x, node.param, n_extra)
    sizes = {**dict(zip(extra + full, adjoint.shape)), **dict(zip(full, x.shape))}
    inner = Contraction([adjoint, node], [extra + full, full], extra + kept, sizes)
    back = Contraction([inner], [extra + kept], extra + full, sizes)
    centred = add(adjoint, scale(-1.0, back))
    return Contraction([node, centred], [full, extra + full], extra + full, sizes)


def _reduction_index(label):
    def index(node, names, namer, fmt):
        (x,) = node.operands
        axes = node.param
        if label == "softmax":
            full = list(names)
            reduced = [names[a] for a in axes]
        else:
            given = iter(names)
            full = [namer.fresh() if a in axes else next(given) for a in range(x.ndim)]
            reduced = [full[a] for a in axes]
        inner = fmt(x, full, namer)[0]
        return f"{label}{_subscript(reduced)}({inner})", "atom"
    return index


def _reduction_spell(name, latex_name, text_name=None):
    def spell(notation, wrap, record, transposed=False):
        if transposed:
            return None
        p = _precedences()
        (arg,) = record.args
        if notation == "text" and text_name is None:
            _no_text(f"{name}(…)")
        texts = [wrap(arg, p.ADD)]
        if len(record.param) != len(arg.shape):  # not every axis: say which
            axes = record.param
            texts.append(f"axis={axes[0] if len(axes) == 1 else axes}")
        return _spell_call(notation, latex_name, text_name or name, texts), p.ATOM
    return spell


def _reduced_shape(name):
    return lambda shapes, axes: _kept(shapes[0], axes)


def _logsumexp_source(codes, axes):
    return (f"(lambda m: np.squeeze(np.log(np.sum(np.exp({codes[0]} - m), axis={axes}, "
            f"keepdims=True)) + m, axis={axes}))(np.max({codes[0]}, axis={axes}, keepdims=True))")


def _softmax_source(codes, axes):
    return (f"(lambda e: e / np.sum(e, axis={axes}, keepdims=True))"
            f"(np.exp({codes[0]} - np.max({codes[0]}, axis={axes}, keepdims=True)))")


_row("logsumexp", _reduced_shape("logsumexp"), _logsumexp_numpy, _logsumexp_vjp,
     _reduction_index("logsumexp"), _reduction_spell("logsumexp", "\\operatorname{logsumexp}"),
     _logsumexp_source)
_row("softmax", lambda shapes, axes: shapes[0], _softmax_numpy, _softmax_vjp,
     _reduction_index("softmax"), _reduction_spell("softmax", "\\operatorname{softmax}"),
     _softmax_source)


def _extreme_numpy(kind):
    reduce = np.max if kind == "max" else np.min
    return lambda arrays, axes: reduce(arrays[0], axis=axes)


def _extreme_vjp(kind):
    def vjp(node, k, adjoint, n_extra):
        from .nodes import Operation

        (x,) = node.operands
        weights = Operation(f"{kind}_weights", [x], node.param)
        return _spread(adjoint, weights, x, node.param, n_extra)
    return vjp


def _weights_numpy(kind):
    reduce = np.max if kind == "max" else np.min

    def weights(arrays, axes):  # the tied extremes share the subgradient equally
        (x,) = arrays
        hit = (x == reduce(x, axis=axes, keepdims=True)).astype(x.dtype)
        return hit / np.sum(hit, axis=axes, keepdims=True)
    return weights


def _axes_source(axes):
    return f"axis={axes}" if axes else "axis=None"


for _kind in ("max", "min"):
    _row(_kind, _reduced_shape(_kind), _extreme_numpy(_kind), _extreme_vjp(_kind),
         _reduction_index(_kind), _reduction_spell(_kind, f"\\{_kind}"),
         (lambda kind: lambda codes, axes: f"np.{kind}({codes[0]}, axis={axes})")(_kind))
    # the weights of the subgradient: 1/(number of ties) where x attains its extreme, else 0;
    # piecewise constant, so its own derivative is zero
    _row(f"{_kind}_weights", lambda shapes, axes: shapes[0], _weights_numpy(_kind),
         lambda node, k, adjoint, n_extra: None, _reduction_index(f"arg{_kind}"),
         _reduction_spell(f"arg{_kind}", f"\\operatorname{{arg{_kind}}}"),
         (lambda kind: lambda codes, axes: (
             f"(lambda x: (lambda hit: hit / np.sum(hit, axis={axes}, keepdims=True))"
             f"(np.where(x == np.{kind}(x, axis={axes}, keepdims=True), np.ones_like(x), "
             f"np.zeros_like(x))))({codes[0]})"))(_kind))


# ---------------------------------------------------------------------------
# maximum, minimum (elementwise, two operands of one shape)


def _pairwise_vjp(kind):
    def vjp(node, k, adjoint, n_extra):
        from .construct import apply_function
        from .nodes import Contraction

        a, b = node.operands
        sign = apply_function("sign", a - b)  # sign(0) = 0: a tie splits the adjoint equally
        first = (kind == "maximum") == (k == 0)
        weight = 0.5 + 0.5 * sign if first else 0.5 - 0.5 * sign
        axes = tuple(range(n_extra, n_extra + node.ndim))
        extra = tuple(range(n_extra))
        return Contraction([adjoint, weight], [extra + axes, axes], extra + axes,
                           dict(zip(extra + axes, adjoint.shape)))
    return vjp


def _pairwise_index(kind):
    def index(node, names, namer, fmt):
        a, b = (fmt(op, list(names), namer)[0] for op in node.operands)
        return f"{kind}({a}, {b})", "atom"
    return index


def _pairwise_spell(kind):
    def spell(notation, wrap, record, transposed=False):
        if transposed:
            return None
        p = _precedences()
        texts = [wrap(arg, p.ADD) for arg in record.args]
        if notation == "text":
            _no_text(f"{kind}(a, b)")
        return _spell_call(notation, f"\\{kind}", kind, texts), p.ATOM
    return spell


def _same_shapes(name):
    def shape(shapes, param):
        if shapes[0] != shapes[1]:
            raise ShapeError(f"{name}: operand shapes {shapes[0]} and {shapes[1]} differ")
        return shapes[0]
    return shape


for _kind, _short in (("maximum", "max"), ("minimum", "min")):
    _row(_kind, _same_shapes(_kind), (lambda f: lambda arrays, p: f(*arrays))(getattr(np, _kind)),
         _pairwise_vjp(_kind), _pairwise_index(_short), _pairwise_spell(_short),
         (lambda kind: lambda codes, p: f"np.{kind}({codes[0]}, {codes[1]})")(_kind))


# ---------------------------------------------------------------------------
# x ** y with both variable: the row power, P_k(x, y) = x^y (log x)^k (k = 0 is x^y itself; the
# derivatives need k ≥ 1): ∂P_k/∂y = P_{k+1}, ∂P_k/∂x = y P_k(x, y − 1) + k P_{k−1}(x, y − 1).
# Real for x ≥ 0 (NaN for x < 0, as exp(y log x)); at x = 0 and y > 0, P_k = 0 (the limit of
# x^y |log x|^k), so d(0^y)/dy = 0 where exp(y log x) gives 0·∞.


def _power_numpy(arrays, k):
    x, y = arrays
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        value = np.power(x, y)
        if k:
            value = value * np.log(x) ** k
    value = np.where((x == 0) & (y > 0), 0.0, value) if k else value
    return np.where(x < 0, np.nan, value)


def _power_vjp(node, k, adjoint, n_extra):
    from .nodes import Contraction, Operation

    x, y = node.operands
    order = node.param
    if k == 1:
        weight = Operation("power", [x, y], order + 1)
    else:
        weight = y * Operation("power", [x, y - 1.0], order)
        if order:
            weight = weight + order * Operation("power", [x, y - 1.0], order - 1)
    axes = tuple(range(n_extra, n_extra + node.ndim))
    extra = tuple(range(n_extra))
    return Contraction([adjoint, weight], [extra + axes, axes], extra + axes,
                       dict(zip(extra + axes, adjoint.shape)))


_LOG_POWER = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _power_index(node, names, namer, fmt):
    x, y = (text if kind == "atom" else f"({text})"
            for text, kind in (fmt(op, list(names), namer) for op in node.operands))
    text = f"{x}^{y}"
    if node.param:
        text += f" log({x})" + ("" if node.param == 1 else str(node.param).translate(_LOG_POWER))
    return text, "product" if node.param else "atom"


def _power_spell(notation, wrap, record, transposed=False):
    if transposed:
        return None
    p = _precedences()
    x, y = record.args
    scalar, k = not record.shape, record.param
    if notation == "text":
        base = f"{wrap(x, p.ATOM)}{'^' if scalar else '.^'}{wrap(y, p.ATOM)}"
        if k:
            log = f"log({wrap(x, p.ADD)})"
            base += ("*" if scalar else ".*") + (log if k == 1 else f"{log}{'^' if scalar else '.^'}{k}")
        return base, p.PRODUCT if k else p.POSTFIX
    if notation == "latex":
        circle = "" if scalar else "\\circ "
        base = f"{wrap(x, p.ATOM)}^{{{circle}{wrap(y, p.ADD)}}}"
        log = f"\\log({wrap(x, p.ADD)})" + ("" if k == 1 else f"^{{{k}}}")
        return (base + (" " if scalar else " \\circ ") + log, p.PRODUCT) if k else (base, p.POSTFIX)
    base = f"{wrap(x, p.ATOM)}^{'' if scalar else '∘'}{wrap(y, p.ATOM)}"
    log = f"log({wrap(x, p.ADD)})" + ("" if k == 1 else str(k).translate(_LOG_POWER))
    return (base + (" " if scalar else " ⊙ ") + log, p.PRODUCT) if k else (base, p.POSTFIX)


def _power_source(codes, k):
    value = f"np.where(x < 0, np.nan, np.power(x, y)"
    if k:
        value = (f"np.where(x < 0, np.nan, np.where((x == 0) & (y > 0), 0.0, np.power(x, y) * "
                 f"np.log(x) ** {k}))")
    else:
        value += ")"
    return f"(lambda x, y: {value})({codes[0]}, {codes[1]})"


_row("power", _same_shapes("power"), _power_numpy, _power_vjp, _power_index, _power_spell,
     _power_source)


# ---------------------------------------------------------------------------
# Layout: reshape (param: the target shape), vec (column-major), kron (A ⊗ B)


def _fixed(name, shape, what="operand"):
    named = [d for d in shape if not isinstance(d, int)]
    if named:
        raise ShapeError(f"{name}: needs fixed sizes, but the {what} has shape {shape} with the "
                         f"named dimension {named[0]!r}; bind it to a number in tc.var")
    return int(np.prod(shape, dtype=np.int64)) if shape else 1


def _kept_prefix(target) -> int:
    """How many leading axes a reshape keeps as they are: up to the last named one."""
    named = [n + 1 for n, d in enumerate(target) if not isinstance(d, int)]
    return named[-1] if named else 0  # (this module's max is tc.max)


def _reshape_shape(shapes, target):
    (shape,) = shapes
    keep = _kept_prefix(target)
    if tuple(shape[:keep]) != tuple(target[:keep]):
        raise ShapeError(f"reshape: cannot reshape {shape} to {target}: a named dimension may only "
                         "stay where it is, as a leading axis of both shapes")
    size = _fixed("reshape", shape[keep:])
    if size != _fixed("reshape", target[keep:], "target"):
        raise ShapeError(f"reshape: cannot reshape shape {shape} ({size} entries) to {target} "
                         f"({_fixed('reshape', target[keep:], 'target')} entries)")
    return tuple(target)


def _reshape_numpy(arrays, target):
    (x,) = arrays
    keep = _kept_prefix(target)
    return np.reshape(x, x.shape[:keep] + tuple(target[keep:]))


def _reshape_vjp(node, k, adjoint, n_extra):  # the adjoint, reshaped back
    from .nodes import Operation

    (x,) = node.operands
    target = adjoint.shape[:n_extra] + x.shape
    return adjoint if adjoint.shape == target else Operation("reshape", [adjoint], target)


def _reshape_index(node, names, namer, fmt):
    inner = _matrix_text(node.operands[0], namer, fmt, bare=True)
    return f"reshape({inner}, {tuple(node.param)})" + _subscript(names), "atom"


def _reshape_spell(notation, wrap, record, transposed=False):
    if transposed:
        return None
    p = _precedences()
    if notation == "text":
        _no_text("reshape(…)")
    texts = [wrap(record.args[0], p.ADD), str(tuple(record.param))]
    return _spell_call(notation, "\\operatorname{reshape}", "reshape", texts), p.ATOM


def _reshape_source(codes, target):
    keep = _kept_prefix(target)
    if keep:
        return f"np.reshape({codes[0]}, {codes[0]}.shape[:{keep}] + {tuple(target[keep:])})"
    return f"np.reshape({codes[0]}, {tuple(target)})"


_row("reshape", _reshape_shape, _reshape_numpy, _reshape_vjp, _reshape_index, _reshape_spell,
     _reshape_source)


def _vec_vjp(node, k, adjoint, n_extra):  # unstack column-major: reshape to reversed axes, flip
    from .construct import transpose
    from .nodes import Operation

    (x,) = node.operands
    extra = adjoint.shape[:n_extra]
    flipped = Operation("reshape", [adjoint], extra + tuple(reversed(x.shape)))
    order = tuple(range(n_extra)) + tuple(reversed(range(n_extra, n_extra + x.ndim)))
    return transpose(flipped, order)


def _vec_index(node, names, namer, fmt):
    return f"vec({_matrix_text(node.operands[0], namer, fmt, bare=True)})" + _subscript(names), \
        "atom"


def _vec_spell(notation, wrap, record, transposed=False):
    if transposed:
        return None
    p = _precedences()
    if notation == "text":
        _no_text("vec(…)")
    return _spell_call(notation, "\\operatorname{vec}", "vec", [wrap(record.args[0], p.ADD)]), \
        p.ATOM


_row("vec", lambda shapes, p: (_fixed("vec", shapes[0]),),
     lambda arrays, p: np.reshape(np.transpose(arrays[0]), (-1,)), _vec_vjp, _vec_index,
     _vec_spell, lambda codes, p: f"np.reshape(np.transpose({codes[0]}), (-1,))")


def _kron_shape(shapes, param):
    a, b = shapes
    if len(a) != len(b) or len(a) not in (1, 2):
        raise ShapeError(f"kron: needs two matrices or two vectors, got shapes {a} and {b}")
    _fixed("kron", a, "first operand")
    _fixed("kron", b, "second operand")
    return tuple(m * p for m, p in zip(a, b))


def _kron_vjp(node, k, adjoint, n_extra):
    # A ⊗ B is the contraction A_ij B_kl → (i, k, j, l) reshaped to (m·p, n·q); its adjoint is the
    # adjoint G reshaped back to (m, p, n, q) and contracted with the other operand
    from .nodes import Operation

    a, b = node.operands
    extra = adjoint.shape[:n_extra]
    split = extra + tuple(d for pair in zip(a.shape, b.shape) for d in pair)
    g = Operation("reshape", [adjoint], split)
    if a.ndim == 1:
        spec = "*ik,k->*i" if k == 0 else "*ik,i->*k"
    else:
        spec = "*ikjl,kl->*ij" if k == 0 else "*ikjl,ij->*kl"
    return _ein(spec, [g, node.operands[1 - k]], n_extra)


def _kron_index(node, names, namer, fmt):
    a, b = (_matrix_text(op, namer, fmt) for op in node.operands)
    return f"({a} ⊗ {b})" + _subscript(names), "atom"


def _kron_spell(notation, wrap, record, transposed=False):
    if transposed:
        return None
    p = _precedences()
    if notation == "text":
        _no_text("kron(A, B)")
    mark = " \\otimes " if notation == "latex" else " ⊗ "
    return mark.join(wrap(arg, p.POSTFIX) for arg in record.args), p.HADAMARD


_row("kron", _kron_shape, lambda arrays, p: np.kron(*arrays), _kron_vjp, _kron_index, _kron_spell,
     lambda codes, p: f"np.kron({codes[0]}, {codes[1]})")


def reshape(x, shape):
    """``x`` with its entries in row-major (numpy, C) order laid out in ``shape``; one entry may
    be ``-1``.  Named dimensions may only stay where they are, as leading axes.

    >>> import numpy as np, tensorcalc as tc
    >>> X = tc.var("X", (2, 3))
    >>> tc.evaluate(tc.reshape(X, (3, -1)), X=np.arange(6.0).reshape(2, 3))
    array([[0., 1.],
           [2., 3.],
           [4., 5.]])
    >>> print(tc.matrix_notation(tc.reshape(X, (3, 2))))
    reshape(X, (3, 2))
    """
    from .construct import as_expr
    from .nodes import Operation, check_dim

    x = as_expr(x)
    shape = (shape,) if isinstance(shape, (int, np.integer, str)) else tuple(shape)
    if sum(1 for d in shape if isinstance(d, (int, np.integer)) and d == -1) > 1:
        raise ShapeError(f"reshape: at most one dimension may be -1, got {shape}")
    if any(isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d == -1 for d in shape):
        keep = _kept_prefix(shape)
        known = _fixed("reshape", tuple(int(d) for d in shape[keep:] if d != -1), "target")
        total = _fixed("reshape", x.shape[keep:])
        if known == 0 or total % known:
            raise ShapeError(f"reshape: cannot reshape shape {x.shape} ({total} entries) to "
                             f"{shape}")
        shape = tuple(total // known if (isinstance(d, (int, np.integer)) and d == -1) else d
                      for d in shape)
    shape = tuple(check_dim(d, "reshape") for d in shape)
    return x if shape == x.shape else Operation("reshape", [x], shape)


def _operation(name: str, *operands):
    """The row ``name`` of the table applied to ``operands`` (numbers and arrays become constants)."""
    from .construct import as_expr
    from .nodes import Operation

    return Operation(name, [as_expr(op) for op in operands])


def vec(x):
    """Magnus–Neudecker's ``vec``: the columns of ``X`` stacked into one vector (column-major;
    ``X.T.reshape(-1)`` in numpy, ``X.reshape(-1, order="F")``).

    >>> import numpy as np, tensorcalc as tc
    >>> X = tc.var("X", (2, 2))
    >>> tc.evaluate(tc.vec(X), X=np.array([[1.0, 2.0], [3.0, 4.0]]))
    array([1., 3., 2., 4.])
    >>> print(tc.matrix_notation(tc.vec(X)), tc.latex(tc.vec(X)))
    vec(X) \\operatorname{vec}\\left(X\\right)
    """
    return _operation("vec", x)


def kron(a, b):
    """The Kronecker product ``A ⊗ B`` of two matrices (or two vectors), as ``numpy.kron``:
    ``(A ⊗ B)[i·p + k, j·q + l] = A_ij B_kl``; its adjoint is that contraction's, reshaped.

    >>> import numpy as np, tensorcalc as tc
    >>> A, B = tc.var("A", (2, 2)), tc.var("B", (2, 2))
    >>> print(tc.matrix_notation(tc.kron(A.T, B)))
    Aᵀ ⊗ B
    >>> tc.evaluate(tc.kron(A, B), A=np.eye(2), B=np.ones((2, 2)))[0]
    array([1., 1., 0., 0.])
    """
    return _operation("kron", a, b)


# ---------------------------------------------------------------------------
# Differentiation hooks (called from tensorcalc.calculus.differentiate)


def operation_vjps(node, adjoint, n_extra: int, depends: set) -> list:
    """``(operand, adjoint of operand)`` pairs for one operation node."""
    row = OPERATIONS[node.name]
    pairs = []
    for k, op in enumerate(node.operands):
        if id(op) in depends:
            contribution = row.vjp(node, k, adjoint, n_extra)
            if contribution is not None:
                pairs.append((op, contribution))
    return pairs


def operation_local_jacobians(node, depends: set) -> list:
    """``(operand, ∂node/∂operand)`` for the naive method: the VJP rule seeded with δ."""
    from ..calculus.differentiate import _identity_seed

    return operation_vjps(node, _identity_seed(node), node.ndim, depends)


# ---------------------------------------------------------------------------
# Public constructors


def inv(x):
    """The matrix inverse ``X⁻¹`` (of the last two axes; leading axes are a batch).

    >>> import numpy as np, tensorcalc as tc
    >>> X = tc.var("X", (2, 2))
    >>> print(tc.matrix_notation(tc.grad(tc.sum(tc.inv(X)), X)))
    −X⁻ᵀ𝟙𝟙ᵀX⁻ᵀ
    >>> tc.evaluate(tc.inv(X), X=np.diag([2.0, 4.0]))
    array([[0.5 , 0.  ],
           [0.  , 0.25]])
    """
    return _operation("inv", x)


def det(x):
    """The determinant (of the last two axes).

    >>> import numpy as np, tensorcalc as tc
    >>> X = tc.var("X", (2, 2))
    >>> tc.evaluate(tc.grad(tc.det(X), X), X=np.diag([2.0, 4.0]))  # det(X) X⁻ᵀ
    array([[4., 0.],
           [0., 2.]])
    """
    return _operation("det", x)


def logdet(x):
    """``log|det X|`` computed by ``slogdet`` (no overflow); its gradient is ``X⁻ᵀ``.

    >>> import numpy as np, tensorcalc as tc
    >>> X = tc.var("X", (2, 2))
    >>> float(tc.evaluate(tc.logdet(X), X=np.diag([-1e200, 1e200])))  # det overflows; this does not
    921.0340371976183
    """
    return _operation("logdet", x)


def solve(a, b):
    """``A⁻¹b`` without forming ``A⁻¹``; ``b`` is a vector or a matrix (or batches of them).

    >>> import numpy as np, tensorcalc as tc
    >>> A, b = tc.var("A", (2, 2)), tc.var("b", (2,))
    >>> print(tc.matrix_notation(tc.solve(A, b)))
    A⁻¹b
    >>> tc.evaluate(tc.solve(A, b), A=np.diag([2.0, 4.0]), b=np.array([1.0, 1.0]))
    array([0.5 , 0.25])
    """
    return _operation("solve", a, b)


def matrix_power(x, k: int):
    """``X^k`` for an integer ``k`` as products (``k < 0`` through ``inv``; ``k = 0`` is ``I``).

    >>> import numpy as np, tensorcalc as tc
    >>> X = tc.var("X", (2, 2))
    >>> print(tc.matrix_notation(tc.matrix_power(X, 3)))
    XXX
    """
    from .construct import as_expr, matmul
    from .nodes import Delta

    x = as_expr(x)
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
        raise ShapeError(f"matrix_power: the exponent must be an int, got {k!r}")
    if x.ndim != 2:
        raise ShapeError(f"matrix_power: needs a square matrix, got shape {x.shape}")
    _square("matrix_power", x.shape)
    if k == 0:
        return Delta(x.shape[0])
    base = inv(x) if k < 0 else x
    result = base
    for _ in range(abs(int(k)) - 1):
        result = matmul(result, base)
    return result


def eye(n):
    """The identity matrix over dimension ``n`` (a δ: never built as a dense matrix).

    >>> import tensorcalc as tc
    >>> x = tc.var("x", ("n",))
    >>> print(tc.simplify(tc.eye("n") @ x))
    x_i
    """
    from .nodes import Delta

    return Delta(n)


def diag(v):
    """The diagonal matrix with the vector ``v`` on its diagonal (``δ_ij v_j``); see
    :func:`tensorcalc.diagonal` for the diagonal of a matrix.

    >>> import numpy as np, tensorcalc as tc
    >>> v = tc.var("v", (2,))
    >>> print(tc.matrix_notation(tc.diag(v)))
    diag(v)
    >>> tc.evaluate(tc.diag(v), v=np.array([1.0, 2.0]))
    array([[1., 0.],
           [0., 2.]])
    """
    from .construct import as_expr
    from .nodes import Contraction, Delta

    v = as_expr(v)
    if v.ndim != 1:
        raise ShapeError(f"diag: needs a vector, got shape {v.shape} (for the diagonal of a "
                         "matrix use tc.diagonal)")
    n = v.shape[0]
    return Contraction([Delta(n), v], [(0, 1), (1,)], (0, 1), {0: n, 1: n})


def _axes(name, x, axis, default):
    from .construct import _normalize_axes

    if axis is default is None:
        return tuple(range(x.ndim))
    return tuple(sorted(_normalize_axes(name, x, axis))) if x.ndim else ()


def logsumexp(x, axis=None):
    """``log Σ exp(x)`` over ``axis`` (all axes by default), max-shifted: finite for any finite x.

    >>> import numpy as np, tensorcalc as tc
    >>> x = tc.var("x", (3,))
    >>> float(tc.evaluate(tc.logsumexp(x), x=np.array([1000.0, 1000.0, -1000.0])))
    1000.6931471805599
    >>> print(tc.grad(tc.logsumexp(x), x).expr)
    softmax_i(x_i)
    """
    from .construct import as_expr
    from .nodes import Operation

    x = as_expr(x)
    return Operation("logsumexp", [x], _axes("logsumexp", x, axis, None))


def softmax(x, axis=-1):
    """``exp(x) / Σ exp(x)`` over ``axis`` (the last by default; a tuple or ``None`` for all).

    >>> import numpy as np, tensorcalc as tc
    >>> x = tc.var("x", (2,))
    >>> tc.evaluate(tc.softmax(x), x=np.array([1000.0, -1000.0]))
    array([1., 0.])
    """
    from .construct import as_expr
    from .nodes import Operation

    x = as_expr(x)
    axes = tuple(range(x.ndim)) if axis is None else _axes("softmax", x, axis, -1)
    return Operation("softmax", [x], axes)


def max(x, axis=None):  # noqa: A001 - numpy's name
    """The largest entry over ``axis`` (all by default); at ties the gradient is split equally.

    >>> import numpy as np, tensorcalc as tc
    >>> x = tc.var("x", (3,))
    >>> tc.evaluate(tc.grad(tc.max(x), x), x=np.array([2.0, 2.0, 1.0]))
    array([0.5, 0.5, 0. ])
    """
    from .construct import as_expr
    from .nodes import Operation

    x = as_expr(x)
    return Operation("max", [x], _axes("max", x, axis, None))


def min(x, axis=None):  # noqa: A001 - numpy's name
    """The smallest entry over ``axis`` (all by default); at ties the gradient is split equally.

    >>> import numpy as np, tensorcalc as tc
    >>> x = tc.var("x", (3,))
    >>> float(tc.evaluate(tc.min(x), x=np.array([2.0, -1.0, 1.0])))
    -1.0
    """
    from .construct import as_expr
    from .nodes import Operation

    x = as_expr(x)
    return Operation("min", [x], _axes("min", x, axis, None))


def _pairwise(kind, a, b):
    from .construct import as_expr, broadcast_shapes, broadcast_to
    from .nodes import Operation

    a, b = as_expr(a), as_expr(b)
    shape = broadcast_shapes(kind, a.shape, b.shape)
    return Operation(kind, [broadcast_to(a, shape, kind), broadcast_to(b, shape, kind)])


def maximum(a, b):
    """The entrywise maximum (numpy broadcasting); at a tie each operand gets half the gradient.

    >>> import numpy as np, tensorcalc as tc
    >>> a, b = tc.var("a", (2,)), tc.var("b", (2,))
    >>> tc.evaluate(tc.grad(tc.sum(tc.maximum(a, b)), a), a=np.array([1.0, 3.0]), b=np.array([1.0, 2.0]))
    array([0.5, 1. ])
    """
    return _pairwise("maximum", a, b)


def minimum(a, b):
    """The entrywise minimum (numpy broadcasting); at a tie each operand gets half the gradient.

    >>> import numpy as np, tensorcalc as tc
    >>> a = tc.var("a", (2,))
    >>> tc.evaluate(tc.minimum(a, 0.0), a=np.array([-1.0, 3.0]))
    array([-1.,  0.])
    """
    return _pairwise("minimum", a, b)


# ---------------------------------------------------------------------------
# Simplification rules (called once per simplified node from tensorcalc.calculus.simplify); each is an
# exact identity.  log(det X) is *not* rewritten to logdet X: logdet is log|det X|, which
# differs wherever det X < 0, and nothing here knows the sign.


def rewrite(node):
    """``node`` after the operation table's exact rewrites (``X X⁻¹ = I``, ``det(Xᵀ) = det X``,
    ``(Xᵀ)⁻¹ = (X⁻¹)ᵀ``, ``(X⁻¹)⁻¹ = X``) and the ordering of symmetric operands' indices."""
    from .nodes import Contraction, Operation

    if isinstance(node, Operation):
        return _rewrite_operation(node)
    if isinstance(node, Contraction) and node.operands:
        if not any(isinstance(op, Operation) or getattr(op, "structure", None) is not None
                   for op in node.operands):
            return node  # nothing for these rules to see (most contractions)
        from .structured import canonical

        node = _cancel_inverses(node)
        if isinstance(node, Contraction):
            node = _inverse_times_vector_as_solve(node)
        if isinstance(node, Contraction):
            node = canonical(node)
    return node


def _inverse_times_vector_as_solve(node):
    """``Σ_j (X⁻¹)_ij b_j`` is ``solve(X, b)_i`` (and ``Σ_j (X⁻¹)_ji b_j`` is ``solve(Xᵀ, b)_i``):
    one LU solve, n³/3 FLOPs and better conditioned, instead of forming the n³ inverse.
    Only for a vector ``b`` and a matrix ``X`` (no batch), with ``j`` summed between the two."""
    from .nodes import Operation
    from ..calculus.simplify import simplify_contraction

    counts: dict = {}
    for ix in node.indices:
        for label in ix:
            counts[label] = counts.get(label, 0) + 1
    output = set(node.output)
    for k, (op, ix) in enumerate(zip(node.operands, node.indices)):
        if not (isinstance(op, Operation) and op.name == "inv" and op.ndim == 2 and len(set(ix)) == 2):
            continue
        for j, (other, jx) in enumerate(zip(node.operands, node.indices)):
            if j == k or other.ndim != 1 or isinstance(other, Operation) and other.name == "inv":
                continue
            label = jx[0]
            if label in output or counts[label] != 2 or label not in ix:
                continue
            free = ix[0] if ix[1] == label else ix[1]
            matrix = op.operands[0] if ix[1] == label else _transpose(op.operands[0])
            operands = [o for n, o in enumerate(node.operands) if n not in (j, k)]
            indices = [i for n, i in enumerate(node.indices) if n not in (j, k)]
            sizes = {l: d for l, d in enumerate(node.sizes) if l != label}
            return rewrite(simplify_contraction(operands + [solve(matrix, other)], indices + [(free,)],
                                                node.output, sizes))
    return node


def _transpose(x):
    from .construct import transpose

    return transpose(x)


def _transposed_matrix(x):
    """``X`` when ``x`` is ``Xᵀ`` (a one-operand contraction swapping two axes), else ``None``."""
    from .nodes import Contraction

    if isinstance(x, Contraction) and len(x.operands) == 1 and x.indices == ((1, 0),) \
            and x.output == (0, 1) and len(x.sizes) == 2:
        return x.operands[0]
    return None


def _rewrite_operation(node):
    from .construct import transpose
    from .nodes import Operation

    if node.name in ("inv", "det", "logdet") and node.ndim <= 2 and node.operands[0].ndim == 2:
        (x,) = node.operands
        inner = _transposed_matrix(x)
        if inner is not None:
            if node.name == "inv":  # (Xᵀ)⁻¹ = (X⁻¹)ᵀ
                return transpose(Operation("inv", [inner]))
            return Operation(node.name, [inner])  # det(Xᵀ) = det X
        if node.name == "inv" and isinstance(x, Operation) and x.name == "inv":
            return x.operands[0]  # (X⁻¹)⁻¹ = X
    return node


def _cancel_inverses(node):
    """``Σ_b X_ab (X⁻¹)_bc = δ_ac`` and ``Σ_b (X⁻¹)_ab X_bc = δ_ac`` inside a contraction."""
    from .nodes import Delta, Operation
    from ..calculus.simplify import simplify_contraction

    counts: dict = {}
    for ix in node.indices:
        for label in ix:
            counts[label] = counts.get(label, 0) + 1
    output = set(node.output)
    for k, (op, ix) in enumerate(zip(node.operands, node.indices)):
        if not (isinstance(op, Operation) and op.name == "inv" and op.ndim == 2):
            continue
        x = op.operands[0]
        for j, (other, jx) in enumerate(zip(node.operands, node.indices)):
            if j == k or other is not x or len(set(jx)) != 2 or len(set(ix)) != 2:
                continue
            for shared, tied in (((jx[1], ix[0]), (jx[0], ix[1])), ((ix[1], jx[0]), (ix[0], jx[1]))):
                label = shared[0]
                if shared[0] == shared[1] and label not in output and counts[label] == 2:
                    operands = [o for n, o in enumerate(node.operands) if n not in (j, k)]
                    indices = [i for n, i in enumerate(node.indices) if n not in (j, k)]
                    sizes = {l: d for l, d in enumerate(node.sizes) if l != label}
                    result = simplify_contraction(operands + [Delta(x.shape[0])],
                                                  indices + [tied], node.output, sizes)
                    return rewrite(result)
    return node


# ---------------------------------------------------------------------------
# Norms: built from the rows above and the elementwise table (so their derivatives are too)


# ‖x‖_p = (Σ |x|^p)^(1/p) over every axis (the Frobenius norm for p = 2 and a matrix) is a row,
# not sqrt(Σ x²): its gradient u = sign(x) |x|^(p−1) / ‖x‖^(p−1) is then the row norm_grad, which
# takes the subgradient 0 at x = 0 (and at a zero entry), where the chain rule through √ gives 0·∞.


def _norm_numpy(arrays, p):
    (x,) = arrays
    if p == 2.0:
        return np.sqrt(np.sum(x * x))
    return np.sum(np.abs(x) ** p) ** (1.0 / p)


def _norm_grad_numpy(arrays, p):
    (x,) = arrays
    n = _norm_numpy(arrays, p)
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.sign(x) * np.abs(x) ** (p - 1.0) / np.where(n == 0, 1.0, n) ** (p - 1.0)
    return np.where(x == 0, 0.0, u) if p < 1.0 else u  # |0|^(p−1) is ∞ for p < 1


def _norm_vjp(node, k, adjoint, n_extra):
    from .nodes import Operation

    (x,) = node.operands
    return _spread(adjoint, Operation("norm_grad", [x], node.param), x, tuple(range(x.ndim)), n_extra)


def _norm_grad_vjp(node, k, adjoint, n_extra):
    # ∂u_i/∂x_j = (p−1) (‖x‖^(1−p) |x_i|^(p−2) δ_ij − u_i u_j / ‖x‖), not finite at x = 0 (and,
    # for p < 2, at a zero entry): the norm has no second derivative there
    from .construct import add, scale
    from .functions import _f
    from .nodes import Contraction, Operation

    (x,) = node.operands
    p = node.param
    n = Operation("norm", [x], p)
    full, _, extra = _labels(x, (), n_extra)
    sizes = {**dict(zip(extra + full, adjoint.shape)), **dict(zip(full, x.shape))}
    if p == 2.0:
        diagonal = Contraction([adjoint, _f("pow")(n, -1.0)], [extra + full, ()], extra + full, sizes)
    else:
        weight = _f("pow")(n, 1.0 - p) * _f("pow")(_f("abs")(x), p - 2.0)
        diagonal = Contraction([adjoint, weight], [extra + full, full], extra + full, sizes)
    along = Contraction([adjoint, node], [extra + full, full], extra, sizes)  # ⟨G, u⟩
    outer = Contraction([along, node, _f("pow")(n, -1.0)], [extra, full, ()], extra + full, sizes)
    return scale(p - 1.0, add(diagonal, scale(-1.0, outer)))


def _norm_marks(p, ndim, notation):
    if p == 2.0:
        return "" if ndim == 1 else "_F"
    return f"_{{{p:g}}}" if notation == "latex" else f"_{p:g}"


def _norm_index(node, names, namer, fmt):
    (x,) = node.operands
    return f"‖{_matrix_text(x, namer, fmt, bare=True)}‖{_norm_marks(node.param, x.ndim, '')}", "atom"


def _norm_spell(notation, wrap, record, transposed=False):
    if transposed:
        return None
    p = _precedences()
    (arg,) = record.args
    inner, order = wrap(arg, p.ADD), record.param
    if notation == "text":  # the parser reads norm2 of a vector only
        if order == 2.0:
            return (f"norm2({inner})" if len(arg.shape) == 1 else f"sqrt(sum({inner}.*{inner}))"), \
                p.ATOM
        return f"sum(abs({inner}).^{order!r})^{1.0 / order!r}", p.POSTFIX
    mark = _norm_marks(order, len(arg.shape), notation)
    if notation == "latex":
        return f"\\lVert {inner}\\rVert{mark}", p.ATOM
    return f"‖{inner}‖{mark}", p.ATOM


def _norm_grad_index(node, names, namer, fmt):
    (x,) = node.operands
    entry = fmt(x, list(names), namer)[0]
    norm = f"‖{_matrix_text(x, namer, fmt, bare=True)}‖{_norm_marks(node.param, x.ndim, '')}"
    if node.param == 2.0:
        return f"{entry}/{norm}", "product"
    q = node.param - 1.0
    return f"sign({entry}) |{entry}|^{q:g}/{norm}^{q:g}", "product"


def _norm_grad_spell(notation, wrap, record, transposed=False):
    if transposed:
        return None
    p = _precedences()
    (arg,) = record.args
    order, q = record.param, record.param - 1.0
    norm = _norm_spell(notation, wrap, record)[0]
    x = wrap(arg, p.POSTFIX)
    if notation == "text":
        if order == 2.0:
            return f"{x}/{norm}", p.PRODUCT
        return f"sign({x}).*abs({x}).^{q!r}/({norm})^{q!r}", p.PRODUCT
    if notation == "latex":
        if order == 2.0:
            return f"{x} / {norm}", p.PRODUCT
        return f"\\operatorname{{sign}}({x}) \\circ \\lvert {x}\\rvert^{{\\circ {q:g}}} / {norm}^{{{q:g}}}", p.PRODUCT
    if order == 2.0:
        return f"{x}/{norm}", p.PRODUCT
    return f"sign({x}) ⊙ |{x}|^{q:g}/{norm}^{q:g}", p.PRODUCT


def _norm_source(codes, p):
    if p == 2.0:
        return f"np.sqrt(np.sum({codes[0]} * {codes[0]}))"
    return f"np.sum(np.abs({codes[0]}) ** {p!r}) ** {1.0 / p!r}"


def _norm_grad_source(codes, p):
    n = _norm_source(["x"], p)
    u = f"np.sign(x) * np.abs(x) ** {p - 1.0!r} / np.where(n == 0, 1.0, n) ** {p - 1.0!r}"
    if p < 1.0:
        u = f"np.where(x == 0, 0.0, {u})"
    return f"(lambda x: (lambda n: {u})({n}))({codes[0]})"


_row("norm", lambda shapes, p: (), _norm_numpy, _norm_vjp, _norm_index, _norm_spell, _norm_source)
_row("norm_grad", lambda shapes, p: shapes[0], _norm_grad_numpy, _norm_grad_vjp, _norm_grad_index,
     _norm_grad_spell, _norm_grad_source)


def norm(x, ord=None):  # noqa: A002 - numpy's name
    """A vector or matrix norm, as ``numpy.linalg.norm``.

    Vectors: ``ord`` 2 (``None``), 1, ``inf``, ``-inf`` or any ``p > 0``; ``inf`` is
    ``max |x_i|`` (a tie splits the subgradient equally, see :func:`max`).  Matrices:
    ``"fro"`` (``None``), 1 (largest column sum), ``inf`` (largest row sum); ``"nuc"``, 2 and
    −2 need an SVD and raise :class:`NormNotImplemented`.  At ``x = 0`` the gradient of a p-norm
    is the subgradient 0 (as PyTorch gives; ``jax.grad`` of ``jnp.linalg.norm`` gives NaN).

    >>> import numpy as np, tensorcalc as tc
    >>> x = tc.var("x", (2,))
    >>> [float(tc.evaluate(tc.norm(x, p), x=np.array([3.0, -4.0]))) for p in (None, 1, np.inf)]
    [5.0, 7.0, 4.0]
    >>> tc.evaluate(tc.grad(tc.norm(x), x), x=np.array([3.0, -4.0]))  # x / |x|
    array([ 0.6, -0.8])
    """
    from .construct import as_expr, sum as total
    from .functions import _f
    from .nodes import Operation

    x = as_expr(x)
    magnitude = _f("abs")(x)
    if x.ndim == 1:
        if ord is None or ord == 2:
            return Operation("norm", [x], 2.0)
        if ord == 1:
            return total(magnitude)
        if ord == np.inf:
            return max(magnitude)
        if ord == -np.inf:
            return min(magnitude)
        if isinstance(ord, (int, float)) and not isinstance(ord, bool) and ord > 0:
            return Operation("norm", [x], float(ord))
        raise ShapeError(f"norm: ord={ord!r} is not a vector norm (use 1, 2, inf, -inf or p > 0)")
    if x.ndim == 2:
        if ord is None or ord == "fro":
            return Operation("norm", [x], 2.0)
        if ord == 1:
            return max(total(magnitude, axis=0))
        if ord == np.inf:
            return max(total(magnitude, axis=1))
        if ord in ("nuc", 2, -2):
            raise NormNotImplemented(f"norm: ord={ord!r} of a matrix needs its singular values "
                                     "(an SVD), which tensorcalc does not have yet; use 'fro', 1 "
                                     "or inf")
        raise ShapeError(f"norm: ord={ord!r} is not a matrix norm (use 'fro', 1 or inf)")
    raise ShapeError(f"norm: needs a vector or a matrix, got shape {x.shape}")


def norm1(x):
    """``Σ |x_i|`` over every entry (matrixcalculus.org's ``norm1``).

    >>> import numpy as np, tensorcalc as tc
    >>> float(tc.evaluate(tc.norm1(tc.var("x", (2,))), x=np.array([3.0, -4.0])))
    7.0
    """
    from .construct import as_expr, sum as total
    from .functions import _f

    return total(_f("abs")(as_expr(x)))


def norm2(x):
    """The Euclidean norm of a vector (matrixcalculus.org's ``norm2``); for a matrix use
    ``tc.norm(X, "fro")``.

    >>> import numpy as np, tensorcalc as tc
    >>> float(tc.evaluate(tc.norm2(tc.var("x", (2,))), x=np.array([3.0, -4.0])))
    5.0
    """
    from .construct import as_expr

    x = as_expr(x)
    if x.ndim != 1:
        raise ShapeError(f"norm2: needs a vector, got shape {x.shape}; for a matrix use "
                         "tc.norm(X, 'fro') (Frobenius) — the spectral norm needs an SVD")
    return norm(x)
