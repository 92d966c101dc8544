"""Building expressions the numpy way: operators, broadcasting, einsum, matmul, sum.

Everything here lowers to the node types of :mod:`tensorcalc.expression.nodes`:
``*`` is a :class:`Contraction` that shares every index, ``+`` a :class:`Sum`,
``@``, ``.T``, ``sum`` and ``einsum`` are contractions.  Construction checks
shapes eagerly; a mismatch is a :class:`ShapeError` naming the operation and
both sizes.  Broadcasting follows numpy for size-1 axes and missing leading
axes only: two different named dimensions, or a name against a number, never
broadcast.
"""

from __future__ import annotations

import numbers
import numpy as np

from ..errors import DifferentiationError, ExprTypeError, ShapeError
from .functions import lookup
from .nodes import Const, Contraction, Delta, Elementwise, Expr, Operation, Sum, Var, check_dim, postorder


def as_expr(value) -> Expr:
    """An expression from an expression, a number or an array (which becomes a constant)."""
    if isinstance(value, Expr):
        return value
    inner = getattr(value, "__tensorcalc_expr__", None)
    if inner is not None:
        return inner()
    if isinstance(value, (bool, np.bool_)):
        raise ExprTypeError(f"cannot use the bool {value!r} as a tensor; use 0.0 or 1.0")
    if isinstance(value, (numbers.Number, np.ndarray, np.generic, list, tuple)):
        array = np.asarray(value)
        if array.dtype.kind not in "biufc" or array.dtype.kind == "b":
            raise ExprTypeError(f"cannot make a constant from an array of dtype {array.dtype}")
        return Const(array)
    raise ExprTypeError(f"cannot use {type(value).__name__} {value!r} in a tensorcalc expression")


def var(name: str, shape=(), symmetric: bool = False, diagonal: bool = False) -> Var:
    """A variable: ``var("W", (3, 3))`` or with named dimensions ``var("X", ("d", "B"))``;
    ``symmetric=True`` or ``diagonal=True`` declare a structured square matrix (see
    :mod:`tensorcalc.expression.structured`)."""
    if isinstance(shape, (int, str)):
        shape = (shape,)
    if symmetric and diagonal:
        raise ShapeError(f"var {name!r}: pass diagonal=True alone (a diagonal matrix is symmetric)")
    return Var(name, tuple(shape), "diagonal" if diagonal else "symmetric" if symmetric else None)


def const(value) -> Const:
    """A constant from a number or an array: ``const(np.eye(3))``."""
    return Const(value)


# ---------------------------------------------------------------------------
# Broadcasting


def broadcast_shapes(operation: str, *shapes) -> tuple:
    """numpy's broadcast rule, restricted: size-1 axes and missing leading axes only."""
    ndim = max((len(s) for s in shapes), default=0)
    result = []
    for axis in range(ndim):
        dims = [s[axis - ndim + len(s)] for s in shapes if axis - ndim + len(s) >= 0]
        chosen = 1
        for dim in dims:
            if dim == 1 or dim == chosen:
                continue
            if chosen != 1:
                raise ShapeError(f"{operation}: shapes {' and '.join(map(str, shapes))} do not "
                                 f"broadcast: axis {axis - ndim} has sizes {chosen} and {dim}")
            chosen = dim
        result.append(chosen)
    return tuple(result)


def _aligned_indices(shape: tuple, target: tuple, fresh: list) -> tuple:
    """Index labels placing ``shape`` right-aligned in ``target`` (labels 0..n-1).

    A size-1 axis that broadcasts gets a fresh label of size 1, summed away.
    ``fresh`` collects ``(label, 1)`` pairs for those.
    """
    offset = len(target) - len(shape)
    labels = []
    for axis, dim in enumerate(shape):
        if dim == target[axis + offset]:
            labels.append(axis + offset)
        else:  # dim == 1 broadcasting against a larger one
            label = ("b", len(target) + len(fresh))
            fresh.append((label, 1))
            labels.append(label)
    return tuple(labels)


def product(operation: str, *operands) -> Expr:
    """Elementwise product of several operands with broadcasting, as one contraction."""
    operands = [as_expr(op) for op in operands]
    shape = broadcast_shapes(operation, *(op.shape for op in operands))
    fresh: list = []
    indices = [_aligned_indices(op.shape, shape, fresh) for op in operands]
    sizes = dict(enumerate(shape))
    sizes.update(fresh)
    return Contraction(operands, indices, range(len(shape)), sizes)


def broadcast_to(x, shape: tuple, operation: str = "broadcast_to") -> Expr:
    """``x`` broadcast to ``shape`` (a contraction whose new output axes appear in no operand)."""
    x = as_expr(x)
    if x.shape == tuple(shape):
        return x
    broadcast_shapes(operation, x.shape, shape)
    if broadcast_shapes(operation, x.shape, shape) != tuple(shape):
        raise ShapeError(f"{operation}: cannot broadcast shape {x.shape} to {tuple(shape)}")
    fresh: list = []
    labels = _aligned_indices(x.shape, tuple(shape), fresh)
    sizes = dict(enumerate(shape))
    sizes.update(fresh)
    return Contraction((x,), (labels,), range(len(shape)), sizes)


def add(*terms) -> Expr:
    """The broadcast sum of terms.

    A term that is itself a sum contributes its terms, so adding terms one at
    a time (``a + b + c …`` or Python's ``sum``) builds one flat sum rather
    than a chain 10,000 sums deep that every later pass would have to unwind.
    """
    kept = [t for t in terms if not (isinstance(t, (int, float)) and not isinstance(t, bool) and t == 0)]
    terms = [as_expr(t) for t in (kept or terms[:1])]  # Python's sum() starts from the number 0
    shape = broadcast_shapes("add", *(t.shape for t in terms))
    if len(terms) == 1:
        return broadcast_to(terms[0], shape, "add")
    terms = [broadcast_to(term, shape, "add") for term in terms]
    # a sum keeps its terms sorted: the longest sum among the terms is extended, not sorted again
    sums = [k for k, term in enumerate(terms) if isinstance(term, Sum)]
    longest = max(sums, key=lambda k: len(terms[k].terms), default=None)
    new: tuple = ()
    for k, term in enumerate(terms):
        if k != longest:
            new += term.terms if isinstance(term, Sum) else (term,)
    return Sum._checked(new, shape, prefix=None if longest is None else terms[longest])


def scale(coefficient: float, x) -> Expr:
    return product("multiply", Const(coefficient), x)


def apply_function(name: str, x, param=None) -> Expr:
    """Apply a row of the function table: ``apply_function("tanh", x)``."""
    row = lookup(name)
    if row.has_param and param is None:
        raise ShapeError(f"{name}: needs a parameter")
    return Elementwise(name, as_expr(x), param if row.has_param else None)


def power(base, exponent) -> Expr:
    """``base ** exponent``: an elementwise power for a constant exponent; ``exp(exponent ·
    log c)`` for a constant base c > 0; else the operation ``power`` (x^y, real for x ≥ 0, NaN
    for x < 0; ``d(0^y)/dy = 0`` for y > 0).

    >>> import numpy as np, tensorcalc as tc
    >>> x, y = tc.var("x", (2,)), tc.var("y", (2,))
    >>> tc.evaluate(x ** y, x=np.array([2.0, 3.0]), y=np.array([1.0, 2.0]))
    array([2., 9.])
    >>> tc.evaluate(tc.grad(tc.sum(x ** y), y), x=np.array([2.0, 3.0]), y=np.array([1.0, 2.0]))
    array([1.38629436, 9.8875106 ])
    """
    base, exponent_expr = as_expr(base), as_expr(exponent)
    if isinstance(exponent_expr, Const) and exponent_expr.is_scalar:
        value = exponent_expr.value
        if np.iscomplexobj(value):
            raise ExprTypeError("power: complex exponents are not supported")
        return Elementwise("pow", base, float(value))
    if isinstance(base, Const) and base.is_scalar and not (
            not np.iscomplexobj(base.value) and float(base.value) == 0):
        if np.iscomplexobj(base.value) or float(base.value) < 0:
            raise DifferentiationError(
                f"power: {base.value[()]!r} ** x needs a base ≥ 0 when the exponent x is an "
                "expression (it is computed as exp(x log base))")
        return apply_function("exp", scale(float(np.log(base.value)), exponent_expr))
    # both variable (or the base 0): the operation row power, x^y for x ≥ 0, with d(0^y)/dy = 0
    # for y > 0 (exp(y log x) would give 0·∞ there)
    shape = broadcast_shapes("power", base.shape, exponent_expr.shape)
    return Operation("power", [broadcast_to(base, shape, "power"),
                               broadcast_to(exponent_expr, shape, "power")], 0)


# ---------------------------------------------------------------------------
# einsum, matmul, sum, transpose


def einsum(subscripts: str, *operands) -> Expr:
    """numpy's einsum, as an expression: ``einsum("ij,j->i", W, a)``.

    Supports implicit output (``"ij,jk"``), ``...`` with broadcasting of the
    ellipsis axes, traces (``"ii->"``), diagonals (``"ii->i"``) and, unlike numpy, an output
    index that repeats (``"i->ii"``, the diagonal embedding ``δ_ij v_j``).  Unlike
    numpy, a letter never broadcasts from size 1: the same letter must have
    the same size everywhere.

    >>> import numpy as np, tensorcalc as tc
    >>> v = tc.var("v", (2,))
    >>> tc.evaluate(tc.einsum("i->ii", v), v=np.array([1.0, 2.0]))
    array([[1., 0.],
           [0., 2.]])
    """
    if not isinstance(subscripts, str):
        subscripts, operands = _from_sublists(subscripts, operands)
    operands = [as_expr(op) for op in operands]
    where = f"einsum {subscripts!r}"
    text = subscripts.replace(" ", "")
    if text.count("->") > 1:
        raise ShapeError(f"{where}: '->' may appear once, separating the inputs from the output")
    if "->" in text:
        inputs_text, output_text = text.split("->")
        explicit = True
    else:
        inputs_text, output_text, explicit = text, None, False
    input_terms = inputs_text.split(",")
    if len(input_terms) != len(operands):
        raise ShapeError(f"{where}: {len(input_terms)} operand subscripts for {len(operands)} operands")
    for term in input_terms + ([output_text] if explicit else []):
        bad = [c for c in term.replace("...", "") if not c.isalpha()]
        if bad or term.replace("...", "").count(".") or term.count("...") > 1:
            raise ShapeError(f"{where}: bad subscript {term!r}")

    sizes: dict = {}
    owner: dict = {}
    ellipsis_shapes = []
    letters_per_operand = []
    for position, (term, op) in enumerate(zip(input_terms, operands)):
        letters = term.replace("...", "")
        if "..." in term:
            if len(letters) > op.ndim:
                raise ShapeError(f"{where}: operand {position} has shape {op.shape}, fewer axes "
                                 f"than the {len(letters)} letters of {term!r}")
            n_ellipsis = op.ndim - len(letters)
            before = term.index("...")
            ellipsis_shapes.append(op.shape[before:before + n_ellipsis])
            dims = op.shape[:before] + op.shape[before + n_ellipsis:]
        else:
            if len(letters) != op.ndim:
                raise ShapeError(f"{where}: operand {position} has shape {op.shape} "
                                 f"({op.ndim} axes) but subscript {term!r} names {len(letters)}")
            ellipsis_shapes.append(None)
            dims = op.shape
        letters_per_operand.append(letters)
        for letter, dim in zip(letters, dims):
            if letter in sizes and sizes[letter] != dim:
                raise ShapeError(f"{where}: index {letter!r} has size {sizes[letter]} in operand "
                                 f"{owner[letter]} and {dim} in operand {position}")
            sizes.setdefault(letter, dim)
            owner.setdefault(letter, position)

    has_ellipsis = any(s is not None for s in ellipsis_shapes)
    ellipsis_shape = broadcast_shapes(where, *(s for s in ellipsis_shapes if s is not None)) \
        if has_ellipsis else ()
    if explicit:
        if "..." not in output_text and ellipsis_shape:
            raise ShapeError(f"{where}: the inputs' '...' covers {len(ellipsis_shape)} axes but "
                             "the output has no '...' to hold them")
        out_letters = output_text.replace("...", "")
        for letter in out_letters:
            if letter not in sizes:
                raise ShapeError(f"{where}: output index {letter!r} appears in no operand")
    else:
        counts: dict = {}
        for letters in letters_per_operand:
            for letter in letters:
                counts[letter] = counts.get(letter, 0) + 1
        out_letters = "".join(sorted(l for l, c in counts.items() if c == 1))
        output_text = ("..." if has_ellipsis else "") + out_letters

    label_sizes = {("letter", l): d for l, d in sizes.items()}
    ell_labels = [("ellipsis", axis) for axis in range(len(ellipsis_shape))]
    label_sizes.update(zip(ell_labels, ellipsis_shape))
    indices = []
    for position, (term, op) in enumerate(zip(input_terms, operands)):
        if ellipsis_shapes[position] is None:
            indices.append(tuple(("letter", l) for l in term))
            continue
        before, after = term.split("...")
        own = ellipsis_shapes[position]
        offset = len(ellipsis_shape) - len(own)
        middle = []
        for axis, dim in enumerate(own):
            if dim == ellipsis_shape[axis + offset]:
                middle.append(ell_labels[axis + offset])
            else:
                label = ("size1", position, axis)
                label_sizes[label] = 1
                middle.append(label)
        indices.append(tuple(("letter", l) for l in before) + tuple(middle)
                       + tuple(("letter", l) for l in after))
    out_before, _, out_after = output_text.partition("...")
    if "..." in output_text:
        output = tuple(("letter", l) for l in out_before) + tuple(ell_labels) \
            + tuple(("letter", l) for l in out_after)
    else:
        output = tuple(("letter", l) for l in output_text)
    output = _tie_repeats(output, operands, indices, label_sizes)
    return Contraction(operands, indices, output, label_sizes)


def _tie_repeats(output, operands, indices, label_sizes) -> tuple:
    """An output letter that repeats (``"i->ii"``, a diagonal embedding) gets a fresh label at
    each place but its last, tied to it by a δ operand: ``out_ij = δ_ij v_j`` (as ``tc.diag``).
    Appends to the lists."""
    remaining = {label: output.count(label) for label in output}
    tied = []
    for label in output:
        remaining[label] -= 1
        if not remaining[label]:
            tied.append(label)
            continue
        fresh = ("repeat", label, remaining[label])
        label_sizes[fresh] = label_sizes[label]
        operands.append(Delta(label_sizes[label]))
        indices.append((fresh, label))
        tied.append(fresh)
    return tuple(tied)


def _from_sublists(first, rest) -> tuple:
    """numpy's sublist form ``einsum(A, [0, 1], B, [1, 2], [0, 2])`` as subscripts and operands."""
    items = [first, *rest]
    if not _is_sublist(items[1] if len(items) > 1 else None):
        raise ExprTypeError(
            f"einsum: the first argument must be the subscripts string (as 'ij,jk->ik'), got "
            f"{type(first).__name__} {first!r}; numpy's sublist form einsum(A, [0, 1], B, [1, 2]) "
            "is accepted too")
    operands, terms = [], []
    while len(items) >= 2 and _is_sublist(items[1]):
        operands.append(items[0])
        terms.append(items[1])
        items = items[2:]
    output = None
    if len(items) == 1 and _is_sublist(items[0]):
        output = items[0]
    elif items:
        raise ExprTypeError("einsum: sublist form takes operand, sublist pairs and an optional "
                            f"output sublist; {len(items)} arguments are left over")

    def letters(sublist):
        text = ""
        for label in sublist:
            if label is Ellipsis:
                text += "..."
            elif isinstance(label, (int, np.integer)) and 0 <= label < 52:
                text += "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"[int(label)]
            else:
                raise ShapeError(f"einsum: sublist label {label!r} must be an int in 0..51 or ...")
        return text

    subscripts = ",".join(letters(t) for t in terms)
    if output is not None:
        subscripts += "->" + letters(output)
    return subscripts, operands


def _is_sublist(item) -> bool:
    return isinstance(item, (list, tuple)) and all(
        label is Ellipsis or (isinstance(label, (int, np.integer)) and not isinstance(label, bool))
        for label in item)


def matmul(a, b) -> Expr:
    """``a @ b`` with numpy's rules: 1-D operands, batch axes broadcast."""
    a, b = as_expr(a), as_expr(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"matmul: operands must have at least one axis, got shapes {a.shape} and {b.shape}")
    inner_a = a.shape[-1]
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if inner_a != inner_b:
        raise ShapeError(f"matmul: contracted axes differ: {inner_a} (last axis of {a.shape}) and "
                         f"{inner_b} ({'only' if b.ndim == 1 else 'second-to-last'} axis of {b.shape})")
    if a.ndim <= 2 and b.ndim <= 2:  # no batch axes: the contraction einsum would build, directly
        sizes = {1: inner_a}
        if a.ndim == 2:
            sizes[0] = a.shape[0]
        if b.ndim == 2:
            sizes[2] = b.shape[1]
        return Contraction((a, b), ((0, 1) if a.ndim == 2 else (1,), (1, 2) if b.ndim == 2 else (1,)),
                           ((0,) if a.ndim == 2 else ()) + ((2,) if b.ndim == 2 else ()), sizes)
    left = "...ij" if a.ndim >= 2 else "j"
    right = "...jk" if b.ndim >= 2 else "j"
    out = ("...i" if a.ndim >= 2 else "...") + ("k" if b.ndim >= 2 else "")
    if a.ndim < 2 and b.ndim < 2:
        out = ""
    try:
        return einsum(f"{left},{right}->{out}", a, b)
    except ShapeError as error:
        raise ShapeError(f"matmul of shapes {a.shape} and {b.shape}: {error}") from None


def sum(x, axis=None, keepdims: bool = False) -> Expr:  # noqa: A001 - numpy's name
    """Sum over ``axis`` (an int, a tuple of ints, or ``None`` for all axes)."""
    x = as_expr(x)
    axes = _normalize_axes("sum", x, axis)
    output, sizes = [], dict(enumerate(x.shape))
    for a in range(x.ndim):
        if a not in axes:
            output.append(a)
        elif keepdims:
            label = ("kept", a)
            sizes[label] = 1
            output.append(label)
    return Contraction((x,), (tuple(range(x.ndim)),), output, sizes)


def dim_size(dim) -> Expr:
    """The size of a dimension as a scalar expression (a name is bound at evaluation)."""
    dim = check_dim(dim, "dim_size")
    return Contraction((), (), (), {0: dim})


def mean(x, axis=None, keepdims: bool = False) -> Expr:
    """The mean over ``axis``; named dimensions divide by their bound size."""
    x = as_expr(x)
    axes = _normalize_axes("mean", x, axis)
    dims = [x.shape[a] for a in sorted(axes)]
    fixed = float(np.prod([d for d in dims if isinstance(d, int)]))
    named = [dim_size(d) for d in dims if not isinstance(d, int)]
    if not named:
        return product("mean", sum(x, axis, keepdims), Const(1.0 / fixed))
    count = product("mean", Const(fixed), *named) if fixed != 1 else product("mean", *named)
    return product("mean", sum(x, axis, keepdims), power(count, -1.0))


def transpose(x, axes=None) -> Expr:
    """Permute axes (reverse them by default), as ``numpy.transpose``."""
    x = as_expr(x)
    if axes is None:
        axes = tuple(reversed(range(x.ndim)))
    axes = tuple(a + x.ndim if a < 0 else a for a in axes)
    if sorted(axes) != list(range(x.ndim)):
        raise ShapeError(f"transpose: axes {axes} are not a permutation of {x.ndim} axes")
    return Contraction((x,), (tuple(range(x.ndim)),), axes, dict(enumerate(x.shape)))


def trace(x) -> Expr:
    """The trace of a square matrix."""
    return einsum("ii->", x)


def diagonal(x) -> Expr:
    """The diagonal of a square matrix, as a vector."""
    return einsum("ii->i", x)


def _normalize_axes(operation: str, x: Expr, axis) -> set:
    if axis is None:
        return set(range(x.ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    result = set()
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
            raise ShapeError(f"{operation}: axis {a!r} must be an int")
        if not -x.ndim <= a < x.ndim:
            raise ShapeError(f"{operation}: axis {a} is out of range for shape {x.shape}")
        if int(a) % x.ndim in result:
            raise ShapeError(f"{operation}: axis {a} names axis {int(a) % x.ndim} of shape {x.shape} "
                             f"twice in axis={axis!r}")
        result.add(int(a) % x.ndim)
    return result


def variables(expr) -> dict:
    """The variables of an expression (or a list of them): ``{name: Var}``, in order of first
    appearance, each with its shape.  A derivative also lists the variables of the function it
    came from, which evaluating it accepts.

    >>> import tensorcalc as tc
    >>> x, A = tc.var("x", ("n",)), tc.var("A", ("n", "n"))
    >>> tc.variables(x @ A @ x)
    {'A': <Var A_ij shape=('n', 'n')>, 'x': <Var x_i shape=('n',)>}
    """
    items = list(expr) if isinstance(expr, (list, tuple)) else [expr]
    found: dict = {}
    for item in items:
        if hasattr(item, "origin_variables"):
            candidates = item.origin_variables()
        else:
            candidates = [n for n in postorder([as_expr(item)]) if isinstance(n, Var)]
        for node in candidates:
            other = found.setdefault(node.name, node)
            if other is not node:
                raise ShapeError(f"variables: two variables are named {node.name!r}, with shapes "
                                 f"{other.shape} and {node.shape}")
    return found
