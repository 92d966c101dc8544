"""Matrix notation, LaTeX and parseable text: one reader of matrix forms, three spellers.

>>> import tensorcalc as tc
>>> x, A = tc.var("x", (3,)), tc.var("A", (3, 3))
>>> print(tc.matrix_notation(tc.grad(x @ A @ x, x)))
(A + Aᵀ) x
>>> print(tc.latex(tc.grad(x @ A @ x, x)))
\\left(A + A^{\\top}\\right) x
>>> print(tc.to_text(tc.grad(x @ A @ x, x)))
(A + A')*x

:func:`~tensorcalc.notation.printers.matrix_form.matrix_form` reads an expression of
rank ≤ 2 into a small matrix-algebra tree (:mod:`~tensorcalc.notation.printers.records`);
:mod:`~tensorcalc.notation.printers.spell` writes that tree in each notation.  An
expression with no exact matrix form prints its index notation instead, and
says so.
"""

from __future__ import annotations

from ...errors import ParseError, TensorCalcError
from ...expression.algebra import register_view
from ...expression.construct import as_expr, variables
from ...expression.nodes import postorder
from ..parser import parse
from ..printing import _deep_enough as deep_enough
from ..printing import _Namer, index_notation
from ...expression.collection import without_collector_pauses
from .kronecker import kronecker_form
from .matrix_form import matrix_form, tree_size
from .records import IndexForm, Ones, walk
from .spell import LATEX, TEXT, UNICODE, NoTextForm, index_latex

TEXT_LIMIT = 100_000  # records: to_text refuses a DAG that would print as a longer tree

__all__ = ["matrix_notation", "latex", "to_text", "matrix_form", "NoTextForm", "repr_latex",
           "kronecker_form"]


def _value(expr):
    return as_expr(expr)


def _deep_enough(expr):
    """Reading and spelling recurse once per level of the tree (several frames a level)."""
    return deep_enough(_value(expr), frames_per_level=16, base=500)


@without_collector_pauses
def matrix_notation(expr) -> str:
    """The matrix form of ``expr`` in Unicode (``Aᵀx + Ax``), or ``[index form] …`` where none.

    >>> import tensorcalc as tc
    >>> W, a = tc.var("W", (3, 3)), tc.var("a", (3,))
    >>> print(tc.matrix_notation(tc.jacobian(W @ a, W)))
    aᵀ ⊗ I  (as ∂vec(f)/∂vec(W)ᵀ, vec column-major; index form δ_ij a_k)
    >>> print(tc.matrix_notation(tc.einsum("ij,k->ijk", W, a)))
    [index form] W_ij a_k

    A derivative of order 3 or 4 reads as its Kronecker form under the vec convention
    (:mod:`~tensorcalc.notation.printers.kronecker`), its index form beside.

    A subexpression used more than once is named once, after ``where``.
    """
    with _deep_enough(expr):
        record = matrix_form(_value(expr), share=True)
        kronecker = _kronecker(expr, record)
        if kronecker is None:
            return UNICODE(record)
        if kronecker:
            convention = kronecker.convention(getattr(expr.wrt, "name", "x"))
            return f"{kronecker}  ({convention}; index form {record.text})"
        return f"{UNICODE(record)}  (no Kronecker form: {kronecker.reason})"


def _kronecker(value, record):
    """The Kronecker form of a derivative of order 3 or 4 with no matrix form, else ``None``."""
    if not isinstance(record, IndexForm) or getattr(value, "of", None) is None \
            or _value(value).ndim not in (3, 4):
        return None
    return kronecker_form(value)


@without_collector_pauses
def latex(expr, notation: str = "matrix") -> str:
    """LaTeX for ``expr``, in ``"matrix"`` notation (``A^{\\top} x``) or ``"index"`` (``A_{ij} x_{j}``).

    >>> import tensorcalc as tc
    >>> A, x = tc.var("A", (3, 3)), tc.var("x", (3,))
    >>> print(tc.latex(A @ x, notation="index"))
    A_{ij} x_{j}
    """
    if notation == "matrix":
        with _deep_enough(expr):
            record = matrix_form(_value(expr), share=True)
            kronecker = _kronecker(expr, record)
            return kronecker.spell("latex") if kronecker else LATEX(record)
    if notation == "index":
        return index_latex(index_notation(_value(expr)))
    raise TensorCalcError(f"latex: notation must be 'matrix' or 'index', not {notation!r}")


@without_collector_pauses
def to_text(expr) -> str:
    """``expr`` in matrixcalculus.org's input language, which ``tc.parse`` reads back.

    >>> import tensorcalc as tc
    >>> a, b = tc.var("a", (3,)), tc.var("b", (3,))
    >>> tc.to_text(tc.einsum("i,j->ij", a, b) + 2 * tc.sigmoid(a @ b))
    "a*b' + 2*sigmoid(a'*b)*matrix(1)"

    Constant arrays and expressions with no matrix form have no text form:
    they raise :class:`NoTextForm` rather than print something that reads back
    as a different value.
    """
    with _deep_enough(expr):
        tree = matrix_form(_value(expr))
        kronecker = _kronecker(expr, tree)
        if kronecker:  # its text would read back as the (mn × pq) matrix, not the 4-index array
            raise NoTextForm(f"to_text: a derivative of order {_value(expr).ndim} has no text form "
                             "(the text language has scalars, vectors and matrices); its Kronecker "
                             f"form, {kronecker.spell('text')}, is ∂vec(f)/∂vec(x)ᵀ: "
                             "tc.kronecker_form(d).spell('text')")
        if tree_size(tree) > TEXT_LIMIT:
            raise NoTextForm(f"to_text: written out without shared names the expression would be "
                             f"{tree_size(tree)} terms long (the text language cannot name a "
                             f"subexpression); use tc.matrix_notation, which names them once")
        text = TEXT(tree)
        _check_sized(_value(expr), tree, text)
        return text


def _check_sized(expr, tree, text: str) -> None:
    """Refuse ``text`` where a size-1 ones vector ``𝟙₁`` in it (an axis ``keepdims`` leaves),
    written ``vector(1)``, or a ``matrix(1)``/``vector(1)`` beside variables (``a*matrix(1)``, a
    variable scalar broadcast to a matrix), would read back with a size the text cannot infer: the
    text is read back with the variables' shapes, and every dimension it then has must be one of
    ``expr``'s.  (A constant ``c*matrix(1)`` names no variable, so no size to bind: it stays.)"""
    size_one = any(isinstance(r, Ones) and r.dim == 1 for r in walk(tree))
    if not size_one and not (("matrix(1)" in text or "vector(1)" in text) and variables(expr)):
        return
    try:
        back = parse(text, **{name: v.shape for name, v in variables(expr).items()})
    except ParseError:
        back = None
    known = _dimensions(expr)
    if back is not None and back.shape == expr.shape and _dimensions(back) <= known:
        return
    if not size_one:
        read = f"as a {back.shape} array" if back is not None else "with no size"
        raise NoTextForm(f"to_text: {text!r} would read back {read}, not as the {expr.shape} "
                         "array it stands for: the text language cannot say the size of its ones "
                         "matrix there; print with tc.matrix_notation")
    ones = [str(n) for n, size in enumerate(expr.shape) if size == 1]
    where = (f"axis {' and '.join(ones)} of the {expr.shape} result" if ones
             else f"the 1 × 1 ones inside {UNICODE(tree)}")
    raise NoTextForm(f"to_text: a size-1 axis ({where}) has no form in the text language: its "
                     "vector(1) would read back with a size the text cannot infer; drop the axis "
                     "(keepdims=False, tc.squeeze) or print with tc.matrix_notation")


def _dimensions(expr) -> set:
    """Every dimension the nodes of ``expr`` range over."""
    dims = set()
    for node in postorder([expr]):
        dims.update(node.shape)
        sizes = getattr(node, "sizes", ())
        dims.update(sizes.values() if isinstance(sizes, dict) else sizes)
    return dims


def repr_latex(value) -> str:
    """What Jupyter shows: ``$\\frac{\\partial f}{\\partial x} = …$`` for a derivative, else the
    matrix form ``=`` its index form.

    >>> import tensorcalc as tc
    >>> x, A = tc.var("x", (3,)), tc.var("A", (3, 3))
    >>> print(repr_latex(A @ x))
    $\\left[A x\\right]_{i} = A_{ij} x_{j}$
    """
    with _deep_enough(value):
        return _repr_latex(value, as_expr(value))


def _repr_latex(value, expr) -> str:
    of = getattr(value, "of", None)
    matrix = matrix_form(expr, share=True)
    dims = " \\times ".join(map(str, expr.shape))
    space = "\\mathbb{R}" + (f"^{{{dims}}}" if dims else "")
    if of is not None and getattr(value, "cotangent", None) is None:
        if isinstance(matrix, IndexForm):  # ∂(W_il a_l)/∂W_jk = δ_ij a_k, with its indices
            lhs, _, rhs = str(value).partition(" = ")
            numerator, _, denominator = lhs[1:].rpartition("/∂")
            return (f"$\\frac{{\\partial {index_latex(numerator)}}}{{\\partial {index_latex(denominator)}}}"
                    f" = {index_latex(rhs)} \\quad \\in {space}$")
        numerator = matrix_form(of)
        numerator = "f" if isinstance(numerator, IndexForm) else LATEX(numerator)
        return (f"$\\frac{{\\partial {_wrapped(numerator)}}}{{\\partial {LATEX.name(value.wrt.name)}}}"
                f" = {LATEX(matrix)} \\quad \\in {space}$")
    index = index_latex(index_notation(expr))
    if isinstance(matrix, IndexForm):
        return f"${index}$"
    namer = _Namer()
    names = "".join(namer.fresh() for _ in range(expr.ndim))
    left = LATEX(matrix)
    if names:
        left = f"\\left[{left}\\right]_{{{names}}}"
    return f"${left} = {index}$"


def _wrapped(text: str) -> str:
    return f"\\left({text}\\right)" if any(c in text for c in " +-") else text


register_view("matrix", matrix_notation)  # expr.matrix and Jupyter: see expression/algebra.py
register_view("latex", repr_latex)
