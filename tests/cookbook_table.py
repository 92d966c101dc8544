"""The Matrix Cookbook table of README.md's printing section: each identity (Petersen & Pedersen,
*The Matrix Cookbook*, 15 Nov 2012 edition, by equation number), the textbook's form and ours,
and whether ours is as short.  tests/test_cookbook_table.py checks every value against central
differences and that README.md holds exactly this table; after a change to the printers,
regenerate it with

    PYTHONPATH=$PWD python tests/cookbook_table.py --write

"As short": the token count of our printed form is at most the textbook's.  A token is a
one-letter name (with its digits), a function's name, a number, an operator, an index subscript
or a run of superscripts (``X⁻ᵀ`` is two tokens, ``AᵀBᵀ`` four, ``abᵀ`` three); parentheses,
spaces and implicit products are not tokens.  A derivative of order 3 or 4 is
compared by its Kronecker form (∂vec(f)/∂vec(X)ᵀ, column-major vec).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import tensorcalc as tc

README = Path(__file__).resolve().parent.parent / "README.md"
BEGIN, END = "<!-- cookbook table: begin -->", "<!-- cookbook table: end -->"
V, S, Q = "vector", "symmetric matrix", ("n", "n")

# (equation, f in the text language, the variable, types, the textbook's form)
IDENTITIES = [
    ("49", "det(X)", "X", {}, "det(X) X⁻ᵀ"),
    ("53", "det(A*X*B)", "X", {}, "det(AXB) X⁻ᵀ"),
    ("53", "det(A*X*B)", "X", {"A": Q, "X": Q, "B": Q}, "det(AXB) X⁻ᵀ"),
    ("55", "log(det(X'*X))", "X", {}, "2X(XᵀX)⁻¹"),
    ("57", "logdet(X)", "X", {}, "X⁻ᵀ"),
    ("58", "det(X^3)", "X", {}, "3 det(X³) X⁻ᵀ"),
    ("60", "inv(X)", "X", {}, "−X⁻ᵀ ⊗ X⁻¹"),
    ("61", "a'*inv(X)*b", "X", {"a": V, "b": V}, "−X⁻ᵀabᵀX⁻ᵀ"),
    ("62", "det(inv(X))", "X", {}, "−det(X⁻¹) X⁻ᵀ"),
    ("63", "tr(A*inv(X)*B)", "X", {}, "−X⁻ᵀAᵀBᵀX⁻ᵀ"),
    ("64", "tr(inv(X+A))", "X", {}, "−((X + A)⁻¹(X + A)⁻¹)ᵀ"),
    ("69", "a'*x", "x", {"a": V}, "a"),
    ("70", "a'*X*b", "X", {"a": V, "b": V}, "abᵀ"),
    ("71", "a'*X'*b", "X", {"a": V, "b": V}, "baᵀ"),
    ("72", "a'*X*a", "X", {"a": V}, "aaᵀ"),
    ("72", "a'*X'*a", "X", {"a": V}, "aaᵀ"),
    ("74", "X*A", "X", {}, "δ_im A_nj"),
    ("75", "X'*A", "X", {}, "δ_in A_mj"),
    ("78", "b'*X'*X*c", "X", {"b": V, "c": V}, "X(bcᵀ + cbᵀ)"),
    ("79", "(B*x+b)'*C*(D*x+d)", "x", {"b": V, "d": V}, "BᵀC(Dx + d) + DᵀCᵀ(Bx + b)"),
    ("80", "X'*B*X", "X", {}, "δ_lj (XᵀB)_ki + δ_kj (BX)_il"),
    ("81", "x'*B*x", "x", {}, "(B + Bᵀ)x"),
    ("82", "b'*X'*D*X*c", "X", {"b": V, "c": V}, "DᵀXbcᵀ + DXcbᵀ"),
    ("83", "(X*b+c)'*D*(X*b+c)", "X", {"b": V, "c": V}, "(D + Dᵀ)(Xb + c)bᵀ"),
    ("84", "(x-A*s)'*W*(x-A*s)", "s", {"W": S}, "−2AᵀW(x − As)"),
    ("85", "(x-s)'*W*(x-s)", "x", {"W": S}, "2W(x − s)"),
    ("86", "(x-s)'*W*(x-s)", "s", {"W": S}, "−2W(x − s)"),
    ("87", "(x-A*s)'*W*(x-A*s)", "x", {"W": S}, "2W(x − As)"),
    ("88", "(x-A*s)'*W*(x-A*s)", "A", {"W": S}, "−2W(x − As)sᵀ"),
    ("89", "a'*X^3*b", "X", {"a": V, "b": V}, "abᵀ(X²)ᵀ + XᵀabᵀXᵀ + (X²)ᵀabᵀ"),
    ("91", "x'*A*x + b'*x", "x", {"b": V}, "(A + Aᵀ)x + b"),
    ("99", "tr(X)", "X", {}, "I"),
    ("100", "tr(X*A)", "X", {}, "Aᵀ"),
    ("101", "tr(A*X*B)", "X", {}, "AᵀBᵀ"),
    ("102", "tr(A*X'*B)", "X", {}, "BA"),
    ("103", "tr(X'*A)", "X", {}, "A"),
    ("104", "tr(A*X')", "X", {}, "A"),
    ("105", "tr(kron(A,X))", "X", {"A": (2, 2), "X": (3, 3)}, "tr(A) I"),
    ("106", "tr(X^2)", "X", {}, "2Xᵀ"),
    ("107", "tr(X^2*B)", "X", {}, "(XB + BX)ᵀ"),
    ("108", "tr(X'*B*X)", "X", {}, "BX + BᵀX"),
    ("109", "tr(B*X*X')", "X", {}, "BX + BᵀX"),
    ("110", "tr(X*X'*B)", "X", {}, "BX + BᵀX"),
    ("111", "tr(X*B*X')", "X", {}, "XBᵀ + XB"),
    ("112", "tr(B*X'*X)", "X", {}, "XBᵀ + XB"),
    ("113", "tr(X'*X*B)", "X", {}, "XBᵀ + XB"),
    ("114", "tr(A*X*B*X)", "X", {}, "AᵀXᵀBᵀ + BᵀXᵀAᵀ"),
    ("115", "tr(X'*X)", "X", {}, "2X"),
    ("115", "tr(X*X')", "X", {}, "2X"),
    ("116", "tr(B'*X'*C*X*B)", "X", {}, "CᵀXBBᵀ + CXBBᵀ"),
    ("117", "tr(X'*B*X*C)", "X", {}, "BXC + BᵀXCᵀ"),
    ("118", "tr(A*X*B*X'*C)", "X", {}, "AᵀCᵀXBᵀ + CAXB"),
    ("119", "tr((A*X*B+C)*(A*X*B+C)')", "X", {}, "2Aᵀ(AXB + C)Bᵀ"),
    ("120", "tr(kron(X,X))", "X", {"X": (3, 3)}, "2 tr(X) I"),
    ("121", "tr(X^3)", "X", {}, "3(X²)ᵀ"),
    ("122", "tr(A*X^2)", "X", {}, "(AX + XA)ᵀ"),
    ("124", "tr(A*inv(X)*B)", "X", {}, "−(X⁻¹BAX⁻¹)ᵀ"),
    ("125", "tr(inv(X'*C*X)*A)", "X", {}, "−CX(XᵀCX)⁻¹(A + Aᵀ)(XᵀCX)⁻¹"),
    ("125", "tr(inv(X'*C*X)*A)", "X", {"C": S}, "−CX(XᵀCX)⁻¹(A + Aᵀ)(XᵀCX)⁻¹"),
    ("129", "norm2(x-a)", "x", {"a": V}, "(x − a)/‖x − a‖₂"),
    ("130", "(x-a)/norm2(x-a)", "x", {"a": V}, "I/‖x − a‖₂ − (x − a)(x − a)ᵀ/‖x − a‖₂³"),
    ("131", "norm2(x)^2", "x", {}, "2x"),
    ("132", "norm(X)^2", "X", {}, "2X"),
    ("520", "A*X*B", "X", {}, "Bᵀ ⊗ A"),
]

_WORDS = "logdet|logsumexp|softmax|sigmoid|where|diag|sign|sqrt|log|det|exp|sum|vec|tr"
_TOKEN = re.compile(rf"(?:{_WORDS})(?![A-Za-z])|[^\W\d][0-9]*|\d+(?:\.\d+)?|[⁻ᵀ⁰¹²³⁴⁵⁶⁷⁸⁹₀-₉]+|[^\s()]")


def tokens(text: str) -> int:
    """How many tokens ``text`` has (see the module docstring)."""
    return len(_TOKEN.findall(text))


def problem(text: str, wrt: str, types: dict):
    """``(f, the variable, the derivative)``: a gradient, or the Jacobian of a non-scalar."""
    f = tc.parse(text, **types)
    x = tc.variables(f)[wrt]
    return f, x, (tc.grad(f, x) if f.ndim == 0 else tc.jacobian(f, x))


def ours(derivative) -> str:
    """Our printed form: the matrix form, or a derivative of order 3/4's Kronecker form."""
    if tc.as_expr(derivative).ndim in (3, 4):
        form = tc.kronecker_form(derivative)
        return str(form) if form else f"[index form] {tc.index_notation(tc.as_expr(derivative))}"
    return tc.matrix_notation(derivative)


def declared(types: dict) -> str:
    """What the f column says besides the text: the symmetric matrices and the given shapes
    (``C symmetric``, ``A, X, B n × n``); vectors go without saying."""
    symmetric = [name for name, t in types.items() if t == S]
    shapes: dict = {}
    for name, t in types.items():
        if isinstance(t, tuple):
            shapes.setdefault(" × ".join(map(str, t)), []).append(name)
    parts = [f"{', '.join(symmetric)} symmetric"] if symmetric else []
    parts += [f"{', '.join(names)} {shape}" for shape, names in shapes.items()]
    return "; ".join(parts)


def rows() -> list:
    found = []
    for equation, text, wrt, types, textbook in IDENTITIES:
        printed = ours(problem(text, wrt, types)[2])
        shown = f"`{text}`" + (f" ({declared(types)})" if declared(types) else "")
        found.append((equation, shown, wrt, textbook, printed, tokens(printed) <= tokens(textbook)))
    return found


def markdown_table() -> str:
    table = rows()
    short = [r for r in table if r[5]]
    longer = ", ".join(f"({r[0]})" for r in table if not r[5])
    lines = [BEGIN, "",
             f"{len(short)} of {len(table)} identities print as short as the textbook (or shorter)"
             + (f"; not yet: {longer}." if longer else "."), "",
             "| eq. | f | by | textbook | tensorcalc | as short |", "|---|---|---|---|---|---|"]
    for equation, text, wrt, textbook, printed, is_short in table:
        cell = printed.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| ({equation}) | {text} | {wrt} | {textbook} | {cell} | "
                     f"{'yes' if is_short else 'no'} |")
    lines += ["", END]
    return "\n".join(lines)


def write_readme() -> None:
    text = README.read_text()
    start, stop = text.index(BEGIN), text.index(END) + len(END)
    README.write_text(text[:start] + markdown_table() + text[stop:])


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write_readme()
    else:
        print(markdown_table())
