"""One family of errors: every failure tensorcalc raises is a ``TensorCalcError``."""


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
