"""tensorcalc: matrix and tensor calculus with index-labelled derivatives.

>>> import numpy as np, tensorcalc as tc
>>> W, a = tc.var("W", (3, 3)), tc.var("a", (3,))
>>> J = tc.grad(W @ a, W)
>>> print(J)
∂(W_il a_l)/∂W_jk = δ_ij a_k
>>> J.shape
(3, 3, 3)
>>> g = tc.var("g", (3,))
>>> print(tc.grad(tc.sum(g * (W @ a)), W).expr)
g_i a_j
"""

from .expression.construct import (apply_function, as_expr, broadcast_to, const, dim_size, einsum, matmul, mean,
                        power, transpose, var)
from .expression.construct import sum  # noqa: A004 - numpy's name, on purpose
from .evaluation.codegen import codegen
from .calculus.differentiate import Derivative, grad, jacobian, vjp
from .errors import (BindingError, DifferentiationError, MemoryLimitError, NoTextForm, ParseError,
                     ShapeError, TensorCalcError)
from .evaluation.evaluate import Program, clear_cache, compile, evaluate  # noqa: A004
from .explain import Explanation, explain
from .expression.functions import FUNCTIONS, Function, FunctionTableError, register_function
from .expression.construct import variables
from .expression.nodes import Const, Contraction, Delta, Elementwise, Expr, Operation, Sum, Var
from .errors import NormNotImplemented, SingularMatrixError
from .expression.layout import kron, reshape, vec
from .expression.indexing import (concatenate, diff, expand_dims, flip, hstack, roll, split, stack,
                                  take, vstack)
from .expression.arrangement import moveaxis, pad, repeat, squeeze, swapaxes, tile, tril, triu
from .expression.selection import clip, where
from .expression.numpy_names import (add, append, gradient, array_split, atleast_1d, atleast_2d, atleast_3d,
                                     column_stack, cross, dot, dsplit, fliplr, flipud, fmax, fmin,
                                     hsplit, inner, linspace, outer, ravel, rollaxis, rot90,
                                     row_stack, tensordot, true_divide, vsplit, diag, subtract,
                                     multiply, negative, divide, degrees, radians)
from .expression.scans import cumprod, cumsum, partition, prod, sort
from .calculus import scan_rules  # noqa: F401 - registers the products', scans' and sorts' VJPs
from .notation import scan_spellings  # noqa: F401 - and their spellings
from .evaluation import scan_sources  # noqa: F401 - and their numpy source
from .calculus import indexing_rules  # noqa: F401 - registers the indexing rows' VJPs
from .notation import indexing_spellings  # noqa: F401 - and their spellings
from .evaluation import indexing_sources  # noqa: F401 - and their numpy source
from .expression.decompositions import (cholesky, eigh, eigvalsh, expm, lu, pinv, qr, slogdet, svd,
                                        svdvals)
from .calculus import decomposition_rules  # noqa: F401 - the decompositions' VJPs
from .expression.linalg import det, eye, inv, logdet, matrix_power, solve
from .expression.operations import OPERATIONS
from .expression.pairwise import (arctan2, fmod, hypot, logaddexp, logaddexp2, maximum, minimum, mod,
                                  remainder)
from .expression.elementwise_names import deg2rad, rad2deg, reciprocal, square
from .expression.reductions import logsumexp, norm, norm1, norm2, softmax
from .expression.reductions import max, min  # noqa: A004 - numpy's names, on purpose
from .notation import operation_spellings  # noqa: F401 - registers how the operations print
from .notation import decomposition_spellings  # noqa: F401 - and the decompositions
from .evaluation import decomposition_sources  # noqa: F401 - the decompositions' numpy source
from .calculus.second_order import hessian, hvp, jvp
from .expression.statistics import std, variance
from .expression.diagonals import diagonal, trace  # numpy's: offset, axis1, axis2, stacked
from .calculus.hessian_queries import hessian_column, hessian_diagonal, hessian_entry, laplacian
from .notation.parser import parse
from .notation.printing import index_notation
from .notation.printers import kronecker_form, latex, matrix_notation, to_text
from .calculus.simplify import simplify

__version__ = "0.1.0"


def _make_function(name):
    def function(x):
        return apply_function(name, x)

    function.__name__ = name
    function.__qualname__ = name
    function.__doc__ = f"Elementwise ``{name}`` (a row of :data:`tensorcalc.FUNCTIONS`)."
    return function


exp = _make_function("exp")
log = _make_function("log")
sin = _make_function("sin")
cos = _make_function("cos")
tanh = _make_function("tanh")
sigmoid = _make_function("sigmoid")
softplus = _make_function("softplus")
sqrt = _make_function("sqrt")
relu = _make_function("relu")
abs = _make_function("abs")  # noqa: A001 - numpy's name
step = _make_function("step")
sign = _make_function("sign")
log1p = _make_function("log1p")
expm1 = _make_function("expm1")
tan = _make_function("tan")
arcsin = _make_function("arcsin")
arccos = _make_function("arccos")
arctan = _make_function("arctan")
sinh = _make_function("sinh")
cosh = _make_function("cosh")
erf = _make_function("erf")
log2 = _make_function("log2")
log10 = _make_function("log10")
exp2 = _make_function("exp2")
arcsinh = _make_function("arcsinh")
arccosh = _make_function("arccosh")
arctanh = _make_function("arctanh")
floor = _make_function("floor")
ceil = _make_function("ceil")
round = _make_function("round")  # noqa: A001 - numpy's name (halves to even)
trunc = _make_function("trunc")
sinc = _make_function("sinc")  # numpy's normalized sin(πx)/(πx)
nan_to_num = _make_function("nan_to_num")  # NaN → 0, ±∞ → ±largest; derivative: isfinite
isfinite = _make_function("isfinite")  # a 0/1 mask (derivative 0)
absolute = fabs = abs  # numpy's other names for abs (real arguments)

__all__ = [
    "cholesky", "eigh", "eigvalsh", "expm", "lu", "pinv", "qr", "slogdet", "svd", "svdvals",
    "var", "const", "as_expr", "einsum", "matmul", "sum", "mean", "transpose", "trace", "diagonal",
    "broadcast_to", "power", "apply_function", "dim_size", "grad", "jacobian", "vjp", "Derivative", "simplify",
    "codegen",
    "evaluate", "compile", "Program", "index_notation", "matrix_notation", "latex", "to_text",
    "exp", "log", "sin", "cos", "tanh",
    "sigmoid", "softplus", "sqrt", "relu", "abs", "step", "sign", "FUNCTIONS", "Function",
    "register_function", "Expr", "Var", "Const", "Delta", "Contraction", "Elementwise", "Sum",
    "variables", "clear_cache", "FunctionTableError",
    "TensorCalcError", "ShapeError", "BindingError", "DifferentiationError", "MemoryLimitError",
    "parse", "ParseError", "NoTextForm", "explain", "Explanation",
    "inv", "det", "logdet", "solve", "matrix_power", "diag", "eye", "logsumexp", "softmax", "max",
    "min", "maximum", "minimum", "Operation", "OPERATIONS", "SingularMatrixError",
    "variance", "std", "hessian_diagonal", "laplacian", "hessian_column", "hessian_entry",
    "hessian", "hvp", "jvp", "log1p", "expm1", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh",
    "erf", "log2", "log10", "exp2", "arcsinh", "arccosh", "arctanh", "floor", "ceil", "round",
    "nan_to_num", "isfinite",
    "trunc", "sinc", "absolute", "fabs", "square", "reciprocal", "deg2rad", "rad2deg",
    "arctan2", "hypot", "logaddexp", "logaddexp2", "mod", "remainder", "fmod",
    "norm", "norm1", "norm2", "NormNotImplemented", "reshape", "vec", "kron", "kronecker_form",
    "take", "concatenate", "stack", "hstack", "vstack", "split", "flip", "roll", "expand_dims",
    "diff", "swapaxes", "moveaxis", "squeeze", "repeat", "tile", "pad", "triu", "tril",
    "where", "clip", "prod", "cumsum", "cumprod", "sort", "partition",
]
