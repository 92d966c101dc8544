"""The writers: one speller per notation over the matrix-algebra tree.

>>> import tensorcalc as tc
>>> from tensorcalc.notation.printers import matrix_form
>>> from tensorcalc.notation.printers.spell import UNICODE, LATEX, TEXT
>>> x, A = tc.var("x", (3,)), tc.var("A", (3, 3))
>>> tree = matrix_form(tc.grad(x @ A @ x, x))
>>> UNICODE(tree), LATEX(tree), TEXT(tree)
('(A + Aᵀ) x', '\\\\left(A + A^{\\\\top}\\\\right) x', "(A + A')*x")

A speller turns each record into ``(text, precedence)`` and parenthesizes a
child whose precedence is below what its parent needs.  The notations differ
only in the hooks a subclass overrides (names, marks, separators, calls).
"""

from __future__ import annotations

import re

import numpy as np

from ...errors import NoTextForm
from ...expression.functions import FUNCTIONS, format_call
from . import records as r

ADD, HADAMARD, NEG, PRODUCT, POSTFIX, ATOM = range(6)

# How each operation reads in matrix form: name → spell(notation, wrap, record, transposed=False)
# → (text, precedence), for notation "unicode", "latex" or "text" (wrap(child, least) spells a
# child); ``transposed`` asks for the operation's transpose (X⁻ᵀ), None where it has no such
# form.  Filled by tensorcalc.notation.operation_spellings.
MATRIX_SPELLINGS: dict = {}


def number_text(value) -> str:
    """The shortest text that reads back as exactly ``value`` (``2``, ``0.5``, ``0.1``)."""
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


class Speller:
    """Unicode matrix notation: ``Aᵀx + Ax``, ``Xᵀ diag(s) X``, ``σ(−y ⊙ Xw)``."""

    minus = "−"
    transpose_mark = "ᵀ"
    hadamard_sep = " ⊙ "
    hadamard_least = HADAMARD + 1  # what a ⊙ operand needs (juxtaposition binds tighter here)
    scalar_sep = " "  # between the scalar factors of a product: ``s tr(A) x``
    ones, identity = "𝟙", "I"

    def __call__(self, record: r.Record) -> str:
        return self.spell(record)[0]

    def spell(self, record: r.Record) -> tuple:
        return getattr(self, "_" + type(record).__name__)(record)

    def wrap(self, record: r.Record, least: int) -> str:
        text, precedence = self.spell(record)
        return self.paren(text) if precedence < least else text

    # -- hooks a notation overrides -------------------------------------------------
    def paren(self, text: str) -> str:
        return f"({text})"

    def name(self, name: str) -> str:
        return name

    def number(self, value) -> str:
        if isinstance(value, complex):
            return f"({value})"
        base = _log_base(value)
        return number_text(value) if base is None else self.log_of(base)

    def log_of(self, base: int) -> str:
        """``ln 2`` for the number log(2) (a constant as it was written)."""
        return f"ln {base}"

    def exponential(self, base: int, exponent: str) -> str:
        return f"{base}^{exponent}"

    def call(self, fn: str, argument: str) -> str:
        row = FUNCTIONS.get(fn)
        return row.template.format(argument) if row else f"{fn}({argument})"

    def derivative_call(self, fn: str, order: int, argument: str) -> str:
        """A row whose param is a derivative's order (``sinc_derivative``): ``sinc⁽²⁾(x)``."""
        return format_call(fn, argument, order, True)

    def power(self, base: str, exponent: float, rank: int) -> str:
        if rank == 2:  # a plain superscript on a matrix would read as a matrix power
            return f"{base}^⊙{self.exponent(exponent)}"
        if float(exponent).is_integer():
            return base + str(int(exponent)).translate(_SUPERSCRIPT)
        return f"{base}^{self.exponent(exponent)}"

    def exponent(self, value) -> str:
        text = number_text(value)
        return f"({self.minus}{text[1:]})" if value < 0 else text

    def juxtapose(self, pieces: list, records: list) -> str:
        """Factors side by side: ``Aᵀx``, ``g aᵀ``, ``Aᵀ diag(c) B``."""
        out = pieces[0]
        for before, piece, record in zip(pieces, pieces[1:], records[1:]):
            tight = _TIGHT.fullmatch(before) and (_TIGHT.fullmatch(piece) or piece.startswith("("))
            ones = before == self.ones and piece.startswith(self.ones)  # 𝟙𝟙ᵀ
            out += ("" if ones or (tight and not record.row) else " ") + piece
        return out

    def coefficient(self, number: str, body: str) -> str:
        if number.startswith("ln "):  # ln 2 · 2^x
            return f"{number} · {body}"
        return number + ("" if _STARTS_TIGHT.match(body) else " ") + body

    def where(self, body: str, definitions: list) -> str:
        return body + "\n  where " + "\n        ".join(f"{n} = {d}" for n, d in definitions)

    # -- the records -----------------------------------------------------------------
    def _Symbol(self, record):
        return self.name(record.name), ATOM

    _Ref = _Symbol

    def _Number(self, record):
        value = record.value
        if not isinstance(value, complex) and value < 0:
            return self.minus + self.number(-value), NEG
        return self.number(value), ATOM

    def _DimSize(self, record):
        return self.name(record.dim), ATOM

    def _ConstArray(self, record):
        return "C⟨" + "×".join(map(str, record.shape)) + "⟩", ATOM

    def _Ones(self, record):
        return self.ones, ATOM

    def _Identity(self, record):
        if self.notation == "text" and isinstance(record.dim, int):
            return f"eye({record.dim})", ATOM  # sized: it reads back alone (A^0 is 0·A + I)
        return self.identity, ATOM

    def _IndexForm(self, record):
        return "[index form] " + record.text, ADD

    def _Transpose(self, record):
        if isinstance(record.arg, r.MatrixOp):  # X⁻ᵀ: an operation may spell its transpose
            spelled = MATRIX_SPELLINGS[record.arg.name](self.notation, self.wrap, record.arg,
                                                        transposed=True)
            if spelled is not None:
                return spelled
        return self.wrap(record.arg, ATOM) + self.transpose_mark, POSTFIX

    def _MatMul(self, record):
        if r._is_ones(record):  # 𝟙𝟙ᵀ, the matrix of ones, reads as one symbol
            return self.ones + self.ones + self.transpose_mark, ATOM
        factors, pieces = [], []
        for factor, count in _runs(record.factors):  # AAA is A³, XᵀXᵀ is (X²)ᵀ
            factors.append(factor)
            pieces.append(self.wrap(factor, PRODUCT + 1) if count == 1 else self.matrix_power(factor, count))
        return self.juxtapose(pieces, factors), PRODUCT

    def matrix_power(self, factor, count: int) -> str:
        """``Aᵏ`` for a run of k equal square factors; ``(Xᵏ)ᵀ`` for a run of ``Xᵀ``."""
        if isinstance(factor, r.Transpose):
            return self.paren(self.matrix_power(factor.arg, count)) + self.transpose_mark
        if isinstance(factor, r.MatrixOp) and factor.name == "inv" and self.notation != "text":
            return self.wrap(factor.args[0], ATOM) + self.superscript(-count)  # (XᵀX)⁻²
        return self.wrap(factor, ATOM) + self.superscript(count)

    def superscript(self, count: int) -> str:
        return str(count).translate(_SUPERSCRIPT)

    def _Power(self, record):
        return self.matrix_power(record.arg, record.count), PRODUCT

    def _Hadamard(self, record):  # Ax ⊙ Ax is (Ax)^⊙2 (a vector's: (Ax)²)
        parts = [self.wrap(f, self.hadamard_least) if count == 1 else
                 self.power(self.wrap(f, ATOM), count, len(f.shape)) for f, count in _counted(record.factors)]
        if len(parts) == 1:
            return parts[0], POSTFIX
        return self.hadamard_sep.join(parts), HADAMARD

    def _Times(self, record):
        scalars = self.scalar_sep.join(  # det(X) det(X) is det(X)²
            self.wrap(s, POSTFIX) if count == 1 else self.power(self.wrap(s, ATOM), count, 0)
            for s, count in _counted(record.scalars))
        body = self.wrap(record.body, PRODUCT)
        return self.juxtapose([scalars, body], [record.scalars[-1], record.body]), PRODUCT

    def _Scale(self, record):
        if record.coefficient == 0:  # a zero block: 0, not 0𝟙𝟙ᵀ
            return self.number(0), ATOM
        c, negative = record.coefficient, False
        if not isinstance(c, complex) and c < 0:
            c, negative = -c, True
        if c == 1:
            body = self.negated(record.arg) if negative else self.wrap(record.arg, PRODUCT)
        else:
            body = self.coefficient(self.number(c), self.wrap(record.arg, PRODUCT))
        return (self.minus + body, NEG) if negative else (body, PRODUCT)

    def negated(self, arg) -> str:
        """The text after a leading minus (``−y ⊙ Xw``: scaling commutes, so no parentheses)."""
        return self.wrap(arg, HADAMARD)

    def _Add(self, record):
        out = []
        for n, term in enumerate(record.terms):
            negative = (isinstance(term, r.Scale) and not isinstance(term.coefficient, complex)
                        and term.coefficient < 0) or \
                (isinstance(term, r.Number) and not isinstance(term.value, complex) and term.value < 0)
            if n and negative:
                flipped = r.Number(-term.value) if isinstance(term, r.Number) \
                    else r.scale(-term.coefficient, term.arg)
                out.append(f" {self.minus} " + self.wrap(flipped, HADAMARD))
            else:
                out.append((" + " if n else "") + self.wrap(term, ADD + 1 if n else ADD))
        return "".join(out), ADD

    def _Func(self, record):
        base = _log_base(record.arg.coefficient) if record.fn == "exp" and \
            isinstance(record.arg, r.Scale) else None
        if base is not None:  # exp(ln 2 · x) is 2^x, as it was written
            return self.exponential(base, self.wrap(record.arg.arg, ATOM)), POSTFIX
        if record.fn == "pow":
            base = self.wrap(record.arg, ATOM)
            return self.power(base, record.param, len(record.arg.shape)), POSTFIX
        if record.param is not None:  # a derivative's order: sinc⁽²⁾(x)
            return self.derivative_call(record.fn, int(record.param), self.spell(record.arg)[0]), ATOM
        return self.call(record.fn, self.spell(record.arg)[0]), ATOM

    def _Trace(self, record):
        return self.call("tr", self.spell(record.arg)[0]), ATOM

    notation = "unicode"  # which of an operation's spellings this speller uses

    def _MatrixOp(self, record):
        (arg, *_) = record.args or (None,)
        runs = _runs(arg.factors if isinstance(arg, r.MatMul) else (arg,)) \
            if isinstance(arg, (r.MatMul, r.Power)) else ()
        if record.name == "det" and len(runs) == 1:
            det = r.MatrixOp("det", (runs[0][0],), None, ())  # det(Xᵏ) = det(X)ᵏ
            return self.power(self.wrap(det, ATOM), runs[0][1], 0), POSTFIX
        return MATRIX_SPELLINGS[record.name](self.notation, self.wrap, record)

    def _Diag(self, record):
        return self.call("diag", self.spell(record.arg)[0]), ATOM

    _DiagPart = _Diag

    def _SumAll(self, record):
        return self.call("sum", self.spell(record.arg)[0]), ATOM

    def _Where(self, record):
        return self.where(self(record.body), [(n, self(d)) for n, d in record.definitions]), ADD


_LOGS = {float(np.log(k)): k for k in range(2, 11)}


def _log_base(value):
    """``k`` when ``value`` is exactly the float ``log(k)`` for a small integer k ≥ 2, else None."""
    return None if isinstance(value, complex) else _LOGS.get(value)


def _runs(factors) -> list:
    """``[(factor, count)]`` for the runs of equal consecutive square factors of a chain (a
    :class:`~.records.Power` is a run already)."""
    out: list = []
    for factor in factors:
        factor, count = (factor.arg, factor.count) if isinstance(factor, r.Power) else (factor, 1)
        if out and out[-1][0] is factor and len(factor.shape) == 2:
            out[-1][1] += count
        else:
            out.append([factor, count])
    return out


def _counted(scalars) -> list:
    """``[(scalar, count)]``: equal scalar factors gathered (they commute), first-seen order."""
    counts: dict = {}
    for s in scalars:
        counts[s] = counts.get(s, 0) + 1
    return list(counts.items())


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_TIGHT = re.compile(r"[A-Za-zα-ωΑ-Ω𝟙][ᵀ⁰¹²³⁴⁵⁶⁷⁸⁹⁻]*")
_STARTS_TIGHT = re.compile(r"\(|[A-Za-zα-ωΑ-Ω𝟙](?![A-Za-z0-9_])")


class LatexSpeller(Speller):
    """LaTeX: ``A^{\\top} x + A x``, ``\\odot``, ``\\operatorname{tr}``, ``\\mathbf{1}``."""

    minus = "-"
    notation = "latex"
    transpose_mark = "^{\\top}"
    hadamard_sep = " \\odot "
    ones, identity = "\\mathbf{1}", "\\mathbf{I}"
    _CALLS = {"exp": "\\exp", "log": "\\log", "sin": "\\sin", "cos": "\\cos", "tanh": "\\tanh",
              "sigmoid": "\\sigma", "log2": "\\log_2", "log10": "\\log_{10}",
              "arcsinh": "\\operatorname{arsinh}", "arccosh": "\\operatorname{arcosh}",
              "arctanh": "\\operatorname{artanh}"}
    _GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "eta", "theta", "kappa", "lambda",
              "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "phi", "chi", "psi", "omega"}

    def paren(self, text):
        return f"\\left({text}\\right)"

    def name(self, name):
        match = re.fullmatch(r"([A-Za-z]+?)_?(\d+)", name)
        if match:
            return f"{self.name(match.group(1))}_{{{match.group(2)}}}"
        if name in self._GREEK:
            return "\\" + name
        return name if len(name) == 1 else "\\mathrm{" + name.replace("_", "\\_") + "}"

    def number(self, value):
        return f"({value})" if isinstance(value, complex) else \
            number_text(value) if _log_base(value) is None else f"\\ln {_log_base(value)}"

    def exponential(self, base, exponent):
        return f"{base}^{{{exponent}}}"

    def call(self, fn, argument):
        if fn == "sqrt":
            return f"\\sqrt{{{argument}}}"
        if fn == "abs":
            return f"\\left|{argument}\\right|"
        if fn in ("floor", "ceil"):
            return f"\\left\\l{fn} {argument} \\right\\r{fn}"
        if fn == "exp2":
            return f"2^{{{argument}}}"
        command = self._CALLS.get(fn, f"\\operatorname{{{fn}}}")
        return f"{command}{self.paren(argument)}"

    def derivative_call(self, fn, order, argument):
        name = fn.removesuffix("_derivative")
        return f"\\operatorname{{{name}}}^{{({order})}}{self.paren(argument)}"

    def power(self, base, exponent, rank):
        if rank == 2:
            return f"{base}^{{\\odot {number_text(exponent)}}}"
        if rank == 0 and exponent == -1:
            return f"\\frac{{1}}{{{base}}}"
        return f"{base}^{{{number_text(exponent)}}}"

    def juxtapose(self, pieces, records):
        return " ".join(pieces)

    def superscript(self, count):
        return f"^{{{count}}}"

    def coefficient(self, number, body):
        return f"{number} \\cdot {body}" if number.startswith("\\ln") else f"{number} {body}"

    def _ConstArray(self, record):
        return "C^{\\langle " + " \\times ".join(map(str, record.shape)) + " \\rangle}", ATOM

    def _IndexForm(self, record):
        return index_latex(record.text), ADD

    def where(self, body, definitions):
        return body + " \\quad \\text{where } " + ",\\ ".join(f"{n} = {d}" for n, d in definitions)


class TextSpeller(Speller):
    """matrixcalculus.org's input language: ``A'*x + A*x``, ``.*``, ``.^``, ``sum``, ``eye``."""

    minus = "-"
    notation = "text"
    transpose_mark = "'"
    hadamard_sep = " .* "
    hadamard_least = PRODUCT + 1  # `*` and `.*` bind equally there: parenthesize products
    ones, identity = "vector(1)", "eye"
    scalar_sep = "*"

    def call(self, fn, argument):
        return f"{fn}({argument})"

    def derivative_call(self, fn, order, argument):
        raise NoTextForm(f"to_text: the derivative {fn}({argument}, {order}) has no form in the "
                         "text language")

    def power(self, base, exponent, rank):
        return f"{base}{'^' if rank == 0 else '.^'}{self.exponent(exponent)}"

    def juxtapose(self, pieces, records):
        return "*".join(pieces)

    def superscript(self, count):
        return f"^{count}"

    def _Scale(self, record):  # the text language has no zero matrix: keep 0*matrix(1)
        if record.coefficient == 0 and record.shape:
            return self.coefficient(self.number(0), self.wrap(record.arg, PRODUCT)), PRODUCT
        return super()._Scale(record)

    def coefficient(self, number, body):
        return f"{number}*{body}"

    def negated(self, arg):
        text, precedence = self.spell(arg)  # `-x.^2` could be read as (-x).^2: keep powers apart
        return self.paren(text) if precedence < HADAMARD or ("^" in text and precedence < ATOM) \
            else text

    def number(self, value):
        if isinstance(value, complex):
            raise NoTextForm(f"to_text: the complex constant {value} has no text form")
        return number_text(value) if _log_base(value) is None else f"log({_log_base(value)})"

    def exponential(self, base, exponent):
        return f"{base}.^{exponent}"

    def _MatMul(self, record):
        if r._is_ones(record):
            return "matrix(1)", ATOM
        return super()._MatMul(record)

    def _missing(self, what):
        raise NoTextForm(f"to_text: {what} has no form in the text language; "
                         "use tc.matrix_notation or tc.index_notation to print it")

    def _ConstArray(self, record):
        self._missing(f"the constant array of shape {record.shape}")

    def _DimSize(self, record):
        self._missing(f"the size of the named dimension {record.dim!r}")

    def _IndexForm(self, record):
        self._missing(f"{record.text!r} (a tensor of rank ≥ 3 or an index pattern with no matrix form)")

    def _Where(self, record):
        self._missing("a named subexpression")


UNICODE, LATEX, TEXT = Speller(), LatexSpeller(), TextSpeller()


# ---------------------------------------------------------------------------
# Index notation in LaTeX: the index printer's Unicode, respelled

_INDEX_TOKENS = [
    (re.compile(r"Σ_(\{[^}]*\}|[a-z]+\d*) ?"), lambda m: "\\sum_{" + m.group(1).strip("{}") + "} "),
    (re.compile(r"_([a-z]+)(?![\w{])"), lambda m: "_{" + m.group(1) + "}"),
    (re.compile(r"([⁰¹²³⁴⁵⁶⁷⁸⁹⁻·]+)"),
     lambda m: "^{" + m.group(1).translate(str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻·", "0123456789-.")) + "}"),
    (re.compile(r"\^(-?[\d.]+)"), lambda m: "^{" + m.group(1) + "}"),
    (re.compile(r"C⟨([^⟩]*)⟩"), lambda m: "C^{\\langle " + m.group(1).replace("×", " \\times ") + " \\rangle}"),
    (re.compile(r"(?<![A-Za-z\\])(exp|log|sin|cos|tanh)\("), lambda m: "\\" + m.group(1) + "("),
    (re.compile(r"δ"), lambda m: "\\delta"),
    (re.compile(r"σ\("), lambda m: "\\sigma("),
    (re.compile(r"𝟙"), lambda m: "\\mathbf{1}"),
    (re.compile(r"\n\s*where "), lambda m: " \\quad \\text{where } "),
    (re.compile(r"\n\s*"), lambda m: ",\\ "),
]


def index_latex(text: str) -> str:
    """The index printer's text in LaTeX: ``A_ij + A_ji`` → ``A_{ij} + A_{ji}``.

    >>> index_latex("Σ_j (1 - tanh(A_ij)²) √(x_j)")
    '\\\\sum_{j} (1 - \\\\tanh(A_{ij})^{2}) \\\\sqrt{x_{j}}'
    """
    for pattern, replacement in _INDEX_TOKENS:
        text = pattern.sub(replacement, text)
    text = _matched(text, "√(", ")", "\\sqrt{", "}")
    return re.sub(r"\|([^|]*)\|", r"\\left|\1\\right|", text)


def _matched(text: str, opening: str, closing: str, new_open: str, new_close: str) -> str:
    """Replace ``opening … closing`` (parentheses balanced inside) by ``new_open … new_close``."""
    while opening in text:
        start = text.index(opening)
        depth, position = 1, start + len(opening)
        while depth and position < len(text):
            depth += {"(": 1, ")": -1}.get(text[position], 0)
            position += 1
        inner = text[start + len(opening):position - 1]
        text = text[:start] + new_open + inner + new_close + text[position:]
    return text
