"""numpy source for the operation table's rows, as :func:`tensorcalc.codegen` writes it:
:data:`OPERATION_SOURCES`, keyed by the operation's name; ``source(codes, param)`` returns one
numpy expression of the operands' code.

>>> from tensorcalc.evaluation.operation_sources import OPERATION_SOURCES
>>> OPERATION_SOURCES["det"](["X"], None)
'np.linalg.det(X)'

Every row has a source today.  A row without one still evaluates (``tc.evaluate`` and
``tc.compile`` run the row's numpy function), but ``tc.codegen`` refuses it with a
:class:`~tensorcalc.errors.CodegenError`, as it refuses ``solve`` with a batched ``A``.
"""

from __future__ import annotations

from typing import Callable

from ..expression import layout, linalg, pairwise, reductions  # noqa: F401 - the rows written here
from ..expression.layout import kept_prefix
from ..expression.operations import known_operation

OPERATION_SOURCES: dict = {}

# Rows whose source calls the very numpy function the evaluator calls and which, at a singular
# point, raise rather than return a different value (a program's fast path hands such a call
# to the evaluator, which raises its TensorCalcError).  The others differ from the evaluator
# somewhere: logdet returns -inf where the evaluator raises, logsumexp and softmax shift by an
# infinite maximum; the fast path calls the evaluator's own step for those.
SAME_AS_EVALUATOR = frozenset({"inv", "det", "solve", "max", "min", "reshape", "vec", "kron"})


# Rows whose numpy value may be a view of an operand (basic slicing, a reshape, a selector of a
# packed factorization): name → that operand's position.  What owns such a value's memory is
# what owns the operand's, so generated code copies it before handing it to the caller where it
# would share memory with an input or another output.
VIEWS = {"take": 0, "reshape": 0, "vec": 0, **{name: 1 for name in (
    "eigh_values", "eigh_vectors", "svd_u", "svd_s", "svd_vt", "qr_q", "qr_r", "lu_p", "lu_l",
    "lu_u")}}


def view_owner(owners: dict, node, name: str):
    """The owner of ``node``'s value, computed into the local ``name`` (see :data:`VIEWS`)."""
    viewed = VIEWS.get(getattr(node, "name", None))
    return name if viewed is None else owners.get(id(node.operands[viewed]))


def register_source(name: str, source: Callable) -> None:
    """Register ``source(codes, param)`` as the numpy source of the operation ``name``."""
    OPERATION_SOURCES[known_operation(name, "register_source")] = source


# ---------------------------------------------------------------------------
# inv, det, cofactor, logdet, solve


def _cofactor_source(codes, param):  # the SVD form: exact at every rank, on every backend
    return (f"(lambda u, s, vt: (np.linalg.det(u) * np.linalg.det(vt))[..., None, None] * "
            f"((u * np.prod(np.where(np.eye(s.shape[-1]) == 1, 1.0, s[..., None, :]), axis=-1)"
            f"[..., None, :]) @ vt))(*np.linalg.svd({codes[0]}))")


def _solve_source(codes, param):
    return f"np.linalg.solve({codes[0]}, {codes[1]})"  # 2-D A: numpy reads a 1-D b as a vector


register_source("inv", lambda codes, p: f"checked_inv({codes[0]})")  # HELPERS (numpy only)
register_source("det", lambda codes, p: f"np.linalg.det({codes[0]})")
register_source("cofactor", _cofactor_source)
register_source("logdet", lambda codes, p: f"np.linalg.slogdet({codes[0]})[1]")
register_source("solve", _solve_source)


# ---------------------------------------------------------------------------
# Reductions (param: the reduced axes; p for the norms)


def _logsumexp_source(codes, axes):
    return (f"(lambda m: np.squeeze(np.log(np.sum(np.exp({codes[0]} - m), axis={axes}, "
            f"keepdims=True)) + m, axis={axes}))(np.max({codes[0]}, axis={axes}, keepdims=True))")


def _softmax_source(codes, axes):
    return (f"(lambda e: e / np.sum(e, axis={axes}, keepdims=True))"
            f"(np.exp({codes[0]} - np.max({codes[0]}, axis={axes}, keepdims=True)))")


def _extreme_source(kind):
    return lambda codes, axes: f"np.{kind}({codes[0]}, axis={axes})"


def _weights_source(kind):
    return lambda codes, axes: (
        f"(lambda x: (lambda hit: hit / np.sum(hit, axis={axes}, keepdims=True))"
        f"(np.where(x == np.{kind}(x, axis={axes}, keepdims=True), np.ones_like(x), "
        f"np.zeros_like(x))))({codes[0]})")


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


register_source("logsumexp", _logsumexp_source)
register_source("softmax", _softmax_source)
for _kind in ("max", "min"):
    register_source(_kind, _extreme_source(_kind))
    register_source(f"{_kind}_weights", _weights_source(_kind))
register_source("norm", _norm_source)
register_source("norm_grad", _norm_grad_source)


# ---------------------------------------------------------------------------
# maximum, minimum, power


def _power_source(codes, k):
    value = "np.where(x < 0, np.nan, np.power(x, y)"
    if k:
        value = (f"np.where(x < 0, np.nan, np.where((x == 0) & (y > 0), 0.0, np.power(x, y) * "
                 f"np.log(x) ** {k}))")
    else:
        value += ")"
    return f"(lambda x, y: {value})({codes[0]}, {codes[1]})"


for _kind in ("maximum", "minimum"):
    register_source(_kind, (lambda kind: lambda codes, p: f"np.{kind}({codes[0]}, {codes[1]})")(_kind))
register_source("power", _power_source)
for _kind in ("arctan2", "hypot", "logaddexp", "logaddexp2", "mod", "fmod"):
    register_source(_kind, (lambda kind: lambda codes, p: f"np.{kind}({codes[0]}, {codes[1]})")(_kind))
_COMPARE_FUNCTIONS = {"<": "less", "<=": "less_equal", ">": "greater", ">=": "greater_equal"}
register_source("compare", lambda codes, op: f"(lambda a, b: np.where(np.{_COMPARE_FUNCTIONS[op]}(a, b), "
                "np.ones_like(a), np.zeros_like(a)))(" + f"{codes[0]}, {codes[1]})")
register_source("select", lambda codes, p: f"np.where({codes[0]} != 0, {codes[1]}, {codes[2]})")
register_source("hypot_unit", lambda codes, k: f"(lambda x, y: {'xy'[k]} / np.where(np.hypot(x, y) "
                f"== 0, 1.0, np.hypot(x, y)))({codes[0]}, {codes[1]})")


# ---------------------------------------------------------------------------
# Layout: reshape, vec, kron


def _reshape_source(codes, target):
    keep = kept_prefix(target)
    if keep:
        return f"np.reshape({codes[0]}, {codes[0]}.shape[:{keep}] + {tuple(target[keep:])})"
    return f"np.reshape({codes[0]}, {tuple(target)})"


register_source("reshape", _reshape_source)
register_source("vec", lambda codes, p: f"np.reshape(np.transpose({codes[0]}), (-1,))")
register_source("kron", lambda codes, p: f"np.kron({codes[0]}, {codes[1]})")
