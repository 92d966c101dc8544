"""One family of errors: every failure tensorcalc raises is a ``TensorCalcError``."""

import difflib


def closest(name, candidates, n: int = 1) -> list:
    """The candidates a misspelled ``name`` most likely meant, for a "did you mean" hint: those
    equal to it but for case first, then difflib's closest.

    >>> closest("w", ["W", "b"]), closest("tahn", ["tanh", "exp"])
    (['W'], ['tanh'])
    """
    candidates = list(candidates)
    same = [c for c in candidates if str(c).lower() == str(name).lower()]
    return same[:n] or difflib.get_close_matches(str(name), candidates, n=n)


class TensorCalcError(Exception):
    """Base class of every error tensorcalc raises on purpose."""


class ShapeError(TensorCalcError, ValueError):
    """Shapes or sizes disagree (at construction or at evaluation)."""


class BindingError(TensorCalcError, ValueError):
    """Evaluation arguments are missing, extra, or of the wrong shape."""


class DifferentiationError(TensorCalcError, TypeError):
    """A derivative was asked for something that cannot be differentiated that way."""


class MemoryLimitError(TensorCalcError, MemoryError):
    """The naive (materialized Jacobian) method would need more memory than allowed."""


class ParseError(TensorCalcError, ValueError):
    """Text given to ``tc.parse`` could not be read, or its shapes disagree.

    The message says what went wrong, then quotes the text with a caret under the
    offending part; ``reason``, ``text``, ``position`` and ``end`` (character offsets,
    ``None`` when no single place is at fault) stay on the exception.
    """

    def __init__(self, reason: str, text=None, position=None, end=None):
        self.reason, self.text, self.position = reason, text, position
        self.end = None if position is None else max(position + 1, end if end is not None else 0)
        super().__init__(_quote(reason, text, position, self.end))

    def __reduce__(self):
        return (type(self), (self.reason, self.text, self.position, self.end))


class BackendError(TensorCalcError):
    """A backend that is unknown, not installed, or cannot run what it was given."""

class BackendNotInstalled(BackendError, ImportError):
    """The backend's library is not importable: the message names the extra to install."""

class CodegenError(TensorCalcError, NotImplementedError):
    """The expression has a part generated code cannot express (or a name it cannot use)."""

class NoTextForm(TensorCalcError, NotImplementedError):
    """The expression has a part the text language cannot write (a constant array, an index form)."""

class FunctionTableError(TensorCalcError, ValueError):
    """An unknown row, or a row that does not fit the table's contract."""

class ExprTypeError(TensorCalcError, TypeError):
    """Something that is not an expression, a number or an array was mixed in."""

class SingularMatrixError(TensorCalcError, ValueError):
    """``inv``, ``solve`` or ``logdet`` met a singular matrix at evaluation."""

class NormNotImplemented(TensorCalcError, NotImplementedError):
    """A norm that would need an SVD (nuclear, spectral), which tensorcalc does not have yet."""


def _quote(reason, text, position, end, width=76):
    """``reason``, then the text on its own line and ``^^^`` under ``text[position:end]``."""
    if text is None:
        return reason
    line = text.translate({ord("\n"): " ", ord("\t"): " ", ord("\r"): " "})
    if position is None:
        return f"{reason}\n    {line if len(line) <= width else line[:width - 1] + '…'}"
    start = 0
    if len(line) > width:  # a window around the fault, so a 10⁵-character input stays readable
        start = max(0, min(position - width // 3, len(line) - width))
        shown = line[start:start + width]
        if start > 0:
            shown = "…" + shown[1:]
        if start + width < len(line):
            shown = shown[:-1] + "…"
        line = shown
    caret = " " * (position - start) + "^" * max(1, min(end, start + width) - position)
    return f"{reason}\n    {line}\n    {caret}"
