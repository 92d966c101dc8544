"""How the operation table's rows read: in index notation (registered into
:data:`tensorcalc.notation.printing.INDEX_SPELLINGS`) and in matrix notation, LaTeX and parseable
text (registered into :data:`tensorcalc.notation.printers.spell.MATRIX_SPELLINGS`), keyed by the
operation's name.

>>> import tensorcalc as tc
>>> X = tc.var("X", (2, 2))
>>> print(tc.inv(X), "|", tc.matrix_notation(tc.inv(X).T), "|", tc.latex(tc.det(X)))
X⁻¹_ij | X⁻ᵀ | \\det(X)

An index spelling ``index(node, names, namer, fmt)`` returns ``(text, kind)`` (``fmt(child,
names, namer)`` spells a child); a matrix spelling ``spell(notation, wrap, record,
transposed=False)`` returns ``(text, precedence)`` for ``"unicode"``, ``"latex"`` or ``"text"``
(``wrap(child, least)`` spells a child), or ``None`` where the operation's transpose has no form
of its own.  This module sits above both printers: an operand of ``inv`` reads in matrix form
inside index notation (``(A + B)⁻¹_ij``).
"""

from __future__ import annotations

from typing import Callable

from ..errors import NoTextForm
from ..expression import layout, linalg, pairwise, reductions, selection  # noqa: F401 - the rows spelled here
from ..expression.nodes import Var
from ..expression.operations import known_operation
from .printers.matrix_form import matrix_form
from .printers.records import IndexForm, Transpose, is_symmetric
from .printers.spell import ADD, ATOM, HADAMARD, MATRIX_SPELLINGS, POSTFIX, PRODUCT, UNICODE
from .printing import INDEX_SPELLINGS, _subscript


def register_spellings(name: str, index: Callable, spell: Callable) -> None:
    """Register how the operation ``name`` reads in index notation and in matrix form."""
    known_operation(name, "register_spellings")
    INDEX_SPELLINGS[name] = index
    MATRIX_SPELLINGS[name] = spell


def _matrix_text(op, namer, fmt, bare: bool = False) -> str:
    """How an operand of ``inv``/``det`` reads inside index notation: ``X``, ``(A + B)``
    (``bare``: no parentheses, inside ``det(…)``)."""
    symbol = namer.bound.get(id(op))
    if symbol is not None:
        return symbol
    if isinstance(op, Var):
        return op.name
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
    raise NoTextForm(f"to_text: {what} has no form in the text language; use tc.matrix_notation "
                     "or tc.latex to print it")


def _call_index(label):
    """``label(X)_ij``: the operand in matrix form inside a call."""
    def index(node, names, namer, fmt):
        return f"{label}({_matrix_text(node.operands[0], namer, fmt, bare=True)})" + \
            _subscript(names), "atom"
    return index


# ---------------------------------------------------------------------------
# inv, det, cofactor, logdet, solve


def _inv_index(node, names, namer, fmt):
    return _matrix_text(node.operands[0], namer, fmt) + "⁻¹" + _subscript(names), "atom"


def _inv_spell(notation, wrap, record, transposed=False):
    (arg,) = record.args
    transposed = transposed and not is_symmetric(arg)  # (S⁻¹)ᵀ = S⁻¹
    if notation == "text":
        return f"inv({wrap(arg, ADD)})" + ("'" if transposed else ""), POSTFIX
    if notation == "latex":
        mark = "^{-\\top}" if transposed else "^{-1}"
    else:
        mark = "⁻ᵀ" if transposed else "⁻¹"
    return wrap(arg, ATOM) + mark, POSTFIX


def _det_spell(notation, wrap, record, transposed=False):
    if transposed:
        return None
    text = wrap(record.args[0], ADD)
    return (f"\\det({text})" if notation == "latex" else f"det({text})"), ATOM


def _cofactor_index(node, names, namer, fmt):
    text = _matrix_text(node.operands[0], namer, fmt, bare=True)
    inverse = _matrix_text(node.operands[0], namer, fmt)
    return f"det({text}) {inverse}⁻¹" + _subscript(list(names[:-2]) + [names[-1], names[-2]]), \
        "product"


def _cofactor_spell(notation, wrap, record, transposed=False):
    (arg,) = record.args
    transposed = transposed or is_symmetric(arg)  # det(S) S⁻¹, never S⁻ᵀ
    inner = wrap(arg, ADD)
    if notation == "text":
        return f"det({inner})*inv({inner})" + ("" if transposed else "'"), PRODUCT
    if notation == "latex":
        mark = "^{-1}" if transposed else "^{-\\top}"
        return f"\\det({inner}) {wrap(arg, ATOM)}{mark}", PRODUCT
    return f"det({inner}) {wrap(arg, ATOM)}{'⁻¹' if transposed else '⁻ᵀ'}", PRODUCT


def _logdet_index(node, names, namer, fmt):
    return f"log|{_matrix_text(node.operands[0], namer, fmt, bare=True)}|" + _subscript(names), "atom"


def _logdet_spell(notation, wrap, record, transposed=False):
    if transposed:
        return None
    text = wrap(record.args[0], ADD)
    if notation == "latex":
        return f"\\log\\lvert {text}\\rvert", ATOM
    return (f"logdet({text})" if notation == "text" else f"log|{text}|"), ATOM


def _solve_index(node, names, namer, fmt):
    a, b = node.operands
    return f"({_matrix_text(a, namer, fmt)}⁻¹{_matrix_text(b, namer, fmt)})" + _subscript(names), \
        "atom"


def _solve_spell(notation, wrap, record, transposed=False):
    if transposed:
        return None
    a, b = record.args
    if notation == "text":
        return f"inv({wrap(a, ADD)})*{wrap(b, PRODUCT + 1)}", PRODUCT
    if isinstance(a, Transpose):  # solve(Aᵀ, b) reads A⁻ᵀb
        mark = "^{-\\top} " if notation == "latex" else "⁻ᵀ"
        return wrap(a.arg, ATOM) + mark + wrap(b, PRODUCT + 1), PRODUCT
    mark = "^{-1} " if notation == "latex" else "⁻¹"
    return wrap(a, ATOM) + mark + wrap(b, PRODUCT + 1), PRODUCT


register_spellings("inv", _inv_index, _inv_spell)
register_spellings("det", _call_index("det"), _det_spell)
register_spellings("cofactor", _cofactor_index, _cofactor_spell)
register_spellings("logdet", _logdet_index, _logdet_spell)
register_spellings("solve", _solve_index, _solve_spell)


# ---------------------------------------------------------------------------
# Reductions: logsumexp, softmax, max, min and their weights (param: the reduced axes), norms


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
        (arg,) = record.args
        partial = len(record.param) != len(arg.shape)
        if notation == "text" and (text_name is None or partial):  # the text reduces every axis
            _no_text(f"{name}(…)" + (" over some of its operand's axes" if partial else ""))
        texts = [wrap(arg, ADD)]
        if partial:  # not every axis: say which
            axes = record.param
            texts.append(f"axis={axes[0] if len(axes) == 1 else axes}")
        return _spell_call(notation, latex_name, text_name or name, texts), ATOM
    return spell


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
    (arg,) = record.args
    inner, order = wrap(arg, ADD), record.param
    if notation == "text":  # the parser reads norm2 of a vector only
        if order == 2.0:
            return (f"norm2({inner})" if len(arg.shape) == 1 else f"norm({inner})"), ATOM
        if len(arg.shape) == 1 and order > 0 and order != float("inf"):
            return f"norm({inner}, {order!r})", ATOM
        return f"sum(abs({inner}).^{order!r})^{1.0 / order!r}", POSTFIX
    mark = _norm_marks(order, len(arg.shape), notation)
    if notation == "latex":
        return f"\\lVert {inner}\\rVert{mark}", ATOM
    return f"‖{inner}‖{mark}", ATOM


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
    (arg,) = record.args
    order, q = record.param, record.param - 1.0
    norm = _norm_spell(notation, wrap, record)[0]
    x = wrap(arg, POSTFIX)
    if notation == "text":
        if order == 2.0:
            return f"{x}/{norm}", PRODUCT
        return f"sign({x}).*abs({x}).^{q!r}/({norm})^{q!r}", PRODUCT
    if notation == "latex":
        if order == 2.0:
            return f"{x} / {norm}", PRODUCT
        return f"\\operatorname{{sign}}({x}) \\circ \\lvert {x}\\rvert^{{\\circ {q:g}}} / {norm}^{{{q:g}}}", PRODUCT
    if order == 2.0:
        return f"{x}/{norm}", PRODUCT
    return f"sign({x}) ⊙ |{x}|^{q:g}/{norm}^{q:g}", PRODUCT


for _name in ("logsumexp", "softmax"):
    register_spellings(_name, _reduction_index(_name),
                       _reduction_spell(_name, f"\\operatorname{{{_name}}}", _name))
for _kind in ("max", "min"):
    register_spellings(_kind, _reduction_index(_kind), _reduction_spell(_kind, f"\\{_kind}", _kind))
    register_spellings(f"{_kind}_weights", _reduction_index(f"arg{_kind}"),
                       _reduction_spell(f"arg{_kind}", f"\\operatorname{{arg{_kind}}}"))
register_spellings("norm", _norm_index, _norm_spell)
register_spellings("norm_grad", _norm_grad_index, _norm_grad_spell)


# ---------------------------------------------------------------------------
# maximum, minimum, power, numpy's binary functions (entrywise)


def _pairwise_index(kind):
    def index(node, names, namer, fmt):
        a, b = (fmt(op, list(names), namer)[0] for op in node.operands)
        return f"{kind}({a}, {b})", "atom"
    return index


def _pairwise_spell(kind, latex=None):
    def spell(notation, wrap, record, transposed=False):
        if transposed:
            return None
        texts = [wrap(arg, ADD) for arg in record.args]
        return _spell_call(notation, latex or f"\\{kind}", kind, texts), ATOM
    return spell


def _hypot_unit_index(node, names, namer, fmt):  # x/hypot(x, y), 0 at the origin
    x, y = (fmt(op, list(names), namer)[0] for op in node.operands)
    top = (x, y)[node.param]
    return f"{top if _is_atom(top) else f'({top})'}/hypot({x}, {y})", "product"


def _is_atom(text):
    return text.replace("_", "").isalnum()


def _hypot_unit_spell(notation, wrap, record, transposed=False):
    if transposed:
        return None
    top = wrap(record.args[record.param], POSTFIX)
    hypot = _spell_call(notation, "\\operatorname{hypot}", "hypot",
                        [wrap(arg, ADD) for arg in record.args])
    mark = {"text": "./" if record.shape else "/", "latex": " / "}.get(notation, "/")
    return f"{top}{mark}{hypot}", PRODUCT


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
    x, y = record.args
    scalar, k = not record.shape, record.param
    if notation == "text":
        base = f"{wrap(x, ATOM)}{'^' if scalar else '.^'}{wrap(y, ATOM)}"
        if k:
            log = f"log({wrap(x, ADD)})"
            base += ("*" if scalar else ".*") + (log if k == 1 else f"{log}{'^' if scalar else '.^'}{k}")
        return base, PRODUCT if k else POSTFIX
    if notation == "latex":
        circle = "" if scalar else "\\circ "
        base = f"{wrap(x, ATOM)}^{{{circle}{wrap(y, ADD)}}}"
        log = f"\\log({wrap(x, ADD)})" + ("" if k == 1 else f"^{{{k}}}")
        return (base + (" " if scalar else " \\circ ") + log, PRODUCT) if k else (base, POSTFIX)
    base = f"{wrap(x, ATOM)}^{'' if scalar else '∘'}{wrap(y, ATOM)}"
    log = f"log({wrap(x, ADD)})" + ("" if k == 1 else str(k).translate(_LOG_POWER))
    return (base + (" " if scalar else " ⊙ ") + log, PRODUCT) if k else (base, POSTFIX)


for _kind, _short in (("maximum", "max"), ("minimum", "min")):
    register_spellings(_kind, _pairwise_index(_short), _pairwise_spell(_short))
register_spellings("power", _power_index, _power_spell)
for _kind in ("arctan2", "hypot", "logaddexp", "logaddexp2", "mod", "fmod"):
    register_spellings(_kind, _pairwise_index(_kind),
                       _pairwise_spell(_kind, f"\\operatorname{{{_kind}}}"))
register_spellings("hypot_unit", _hypot_unit_index, _hypot_unit_spell)


def _compare_index(node, names, namer, fmt):
    a, b = (fmt(op, list(names), namer)[0] for op in node.operands)
    return f"[{a} {node.param} {b}]", "atom"  # Iverson's bracket: 1 where it holds, else 0


_LATEX_COMPARISONS = {"<": "<", "<=": "\\le", ">": ">", ">=": "\\ge"}


def _compare_spell(notation, wrap, record, transposed=False):
    if transposed:
        return None
    if notation == "text":
        _no_text("a comparison (x > 0)")
    a, b = (wrap(arg, ADD) for arg in record.args)
    op = _LATEX_COMPARISONS[record.param] if notation == "latex" else \
        {"<=": "≤", ">=": "≥"}.get(record.param, record.param)
    return f"[{a} {op} {b}]", ATOM


def _select_index(node, names, namer, fmt):
    mask, a, b = (fmt(op, list(names), namer)[0] for op in node.operands)
    return f"where({mask}, {a}, {b})", "atom"


def _select_spell(notation, wrap, record, transposed=False):
    if transposed:
        return None
    if notation == "text":
        _no_text("where(condition, a, b)")
    texts = [wrap(arg, ADD) for arg in record.args]
    return _spell_call(notation, "\\operatorname{where}", "where", texts), ATOM


register_spellings("compare", _compare_index, _compare_spell)
register_spellings("select", _select_index, _select_spell)


# ---------------------------------------------------------------------------
# Layout: reshape, vec, kron


def _reshape_index(node, names, namer, fmt):
    inner = _matrix_text(node.operands[0], namer, fmt, bare=True)
    return f"reshape({inner}, {tuple(node.param)})" + _subscript(names), "atom"


def _reshape_spell(notation, wrap, record, transposed=False):
    if transposed:
        return None
    if notation == "text":
        _no_text("reshape(…)")
    texts = [wrap(record.args[0], ADD), str(tuple(record.param))]
    return _spell_call(notation, "\\operatorname{reshape}", "reshape", texts), ATOM


def _vec_spell(notation, wrap, record, transposed=False):
    if transposed:
        return None
    return _spell_call(notation, "\\operatorname{vec}", "vec", [wrap(record.args[0], ADD)]), ATOM


def _kron_index(node, names, namer, fmt):
    a, b = (_matrix_text(op, namer, fmt) for op in node.operands)
    return f"({a} ⊗ {b})" + _subscript(names), "atom"


def _kron_spell(notation, wrap, record, transposed=False):
    if transposed:
        return None
    if notation == "text":
        return f"kron({', '.join(wrap(arg, ADD) for arg in record.args)})", ATOM
    mark = " \\otimes " if notation == "latex" else " ⊗ "
    return mark.join(wrap(arg, POSTFIX) for arg in record.args), HADAMARD


register_spellings("reshape", _reshape_index, _reshape_spell)
register_spellings("vec", _call_index("vec"), _vec_spell)
register_spellings("kron", _kron_index, _kron_spell)
