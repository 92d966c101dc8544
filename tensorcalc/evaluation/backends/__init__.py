"""Backends: the same simplified, planned program run by numpy, JAX, PyTorch or dask.

>>> import numpy as np, tensorcalc as tc
>>> x, A = tc.var("x", ("n",)), tc.var("A", ("n", "n"))
>>> f = x @ A @ x
>>> program = tc.compile([f, tc.grad(f, x)], backend="numpy")  # the default: a tc.Program
>>> program(x=np.ones(2), A=np.eye(2))
(np.float64(2.0), array([2., 2.]))
>>> sorted(BACKENDS)
['dask', 'jax', 'numpy', 'numpy-functional', 'torch']

``tc.compile(outputs, backend=name)`` builds the backend-neutral
:class:`~tensorcalc.Program` (simplified, every contraction planned) and hands
it to :func:`compile_for`.  ``"numpy"`` runs it with the evaluator as it is;
every other backend lowers the plan once per set of dimension sizes to one
straight-line function (:func:`tensorcalc.evaluation.statements.generate` with
``functional=True``) and runs it with its own array namespace
(:mod:`tensorcalc.evaluation.backends.base` says what a backend supplies):

* ``"jax"``: the whole function under one ``jax.jit``, so XLA fuses it; jax
  arrays in and out, on a GPU when jax has one;
* ``"torch"``: torch tensors in and out;
* ``"dask"``: dask arrays in and out, lazy until ``.compute()``, each
  contraction chunked by ``dask.array``.

A backend is a row of :data:`BACKENDS` (name → ``(module, extra)``), added
with :func:`register_backend`.
"""

from __future__ import annotations

import importlib
import threading

import numpy as np

from ...errors import BackendError, BackendNotInstalled, BindingError, closest
from ..common import check_memory
from ..statements import generate, load
from .base import Backend, Namespace, place_diagonal

# name -> (module defining BACKEND (a Backend subclass), the library it imports, pip extra)
BACKENDS: dict = {
    "numpy": (None, "numpy", None),
    "jax": ("tensorcalc.evaluation.backends.jax", "jax", "jax"),
    "torch": ("tensorcalc.evaluation.backends.torch", "torch", "torch"),
    "dask": ("tensorcalc.evaluation.backends.dask", "dask", "dask"),
}
_LOADED: dict = {}
_LOCK = threading.Lock()


def register_backend(name: str, module: str, library: str, extra=None) -> None:
    """Add a backend: ``module`` defines ``BACKEND``, a :class:`Backend` subclass whose
    library ``library`` is imported when it is first used (``extra`` names the pip extra
    that installs it, for the error when it is missing).

    >>> register_backend("mine", "my_package.tensorcalc_backend", "my_package")
    >>> _ = BACKENDS.pop("mine")
    """
    BACKENDS[name] = (module, library, extra)


def get_backend(name: str) -> Backend:
    """The backend ``name``, its library imported on first use.

    >>> get_backend("jx")
    Traceback (most recent call last):
      ...
    tensorcalc.errors.BackendError: compile: unknown backend 'jx' (did you mean 'jax'?); the backends are 'dask', 'jax', 'numpy', 'numpy-functional', 'torch'
    """
    row = BACKENDS.get(name) if isinstance(name, str) else None
    if row is None:
        close = closest(name, BACKENDS)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise BackendError(f"compile: unknown backend {name!r}{hint}; the backends are "
                           f"{', '.join(map(repr, sorted(BACKENDS)))}")
    with _LOCK:
        backend = _LOADED.get(name)
        if backend is None:
            module, library, extra = row
            try:
                importlib.import_module(library)
            except ImportError as error:
                install = f'pip install "tensorcalc[{extra}]"' if extra else f"pip install {library}"
                raise BackendNotInstalled(
                    f"compile(backend={name!r}) needs {library}, which is not installed "
                    f"({error}); install it with: {install}") from None
            backend = _LOADED[name] = importlib.import_module(module).BACKEND()
    return backend


def compile_for(backend: str, program):
    """``program`` (a :class:`~tensorcalc.Program`) made runnable by ``backend``: the
    program itself for ``"numpy"``, else a :class:`BackendProgram`."""
    if backend == "numpy":
        return program
    return BackendProgram(program, get_backend(backend))


class BackendProgram:
    """A :class:`~tensorcalc.Program` run by another array library; called the same way.

    ``f(x=..., A=...)`` (or ``f({"x": ...})``) checks the arguments as the
    program does (the same :class:`~tensorcalc.BindingError` messages), then
    runs the function generated for these dimension sizes (generated and, for
    jax, traced once per set of sizes) and returns the backend's arrays: one,
    or a tuple when compiled from a list; a scalar output is a 0-d array of the
    backend, in the result dtype (``numpy-functional``: a numpy scalar, as the
    numpy program returns).  Inputs may be the backend's arrays or anything
    numpy accepts (integers become float64).  :attr:`program` is the numpy
    program (its :attr:`~tensorcalc.Program.plan` is the plan every backend
    runs); :meth:`source` is the generated code.

    It pickles (to go to a ``multiprocessing`` worker) as the numpy program and
    the backend's *name*: the backend's library is imported again in the new
    process, and the function is generated (and, for jax, traced) again on its
    first call there.  jax's x64 mode is that process's own setting: a worker
    given float64 arrays enables it first (a pool ``initializer``).
    """

    def __init__(self, program, backend: Backend):
        self.program = program
        self.backend = backend
        self._functions: dict = {}  # sorted sizes -> (source, function as the backend runs it)
        self._constants = None
        self._lock = threading.Lock()
        # (signature of the last arguments taken as they were, their bindings, their function)
        self._last = (None, None, None)

    def __repr__(self):
        return f"<tensorcalc program on {self.backend.name}: {len(self.program.outputs)} outputs>"

    def __reduce__(self):  # the backend holds its library's modules, the functions closures
        return (_rebuild_backend_program, (self.program, self.backend.name))

    @property
    def plan(self):
        """The plan of the last call (see :attr:`tensorcalc.Program.plan`)."""
        return self.program.plan

    def __call__(self, values=None, /, **kwargs):
        if values:
            kwargs = {**values, **kwargs}
        signature = _signature(kwargs)
        last = self._last
        if signature == last[0] and last[2] is not None:  # checked already: its function
            return self.backend.finish(last[2](**kwargs), kwargs)
        arrays, bindings = self.bind(kwargs, signature)
        function = self._function(bindings)[1]
        if self._last[0] == signature:
            self._last = (signature, bindings, function)
        return self.backend.finish(function(**arrays), arrays)

    def bind(self, values: dict, signature=None) -> tuple:
        """``(backend arrays, dimension bindings)``, after the program's own argument checks
        (``signature``: :func:`_signature` of ``values``, when the caller has it)."""
        signature = _signature(values) if signature is None else signature
        if signature == self._last[0]:  # the last call's kinds of arrays: checked already
            return values, self._last[1]
        program = self.program
        known = set(program.variables) | {v.name for v in program.optional}
        arrays, shapes = {}, {}
        for name, value in values.items():
            if name not in known:
                shapes[name] = value  # the program's check names it as unexpected
                continue
            array = self.backend.to_array(name, value)
            try:
                dtype = self.backend.dtype_of(array)
            except TypeError as error:
                raise BindingError(f"evaluate: variable {name!r}: {error}") from None
            arrays[name] = array
            # a stand-in of the same shape and dtype, no data: the program checks it
            shapes[name] = np.broadcast_to(np.zeros((), dtype), tuple(array.shape))
        _, bindings = program.bind(shapes)
        if program.memory_limit is not None:
            check_memory(program, bindings, program.memory_limit)
        program.last_bindings = bindings
        if all(arrays[name] is value for name, value in values.items()):
            self._last = (signature, bindings, None)  # __call__ adds the function
        return arrays, bindings

    def source(self, sizes=None) -> str:
        """The straight-line code run for dimension ``sizes`` (names → ints).

        >>> import tensorcalc as tc
        >>> x = tc.var("x", (3,))
        >>> f = BackendProgram(tc.compile(tc.sum(tc.tanh(x))), get_backend("numpy-functional"))
        >>> print(f.source())
        def f(*, x):
            \"\"\"value from x (3,).\"\"\"
            # t1_i = tanh(x_i)
            t1 = np.tanh(x)
            # value = Σ_i tanh(x_i)
            value = np.sum(t1)
            return value
        <BLANKLINE>
        """
        return self._function(dict(sizes or {}))[0]

    def _function(self, bindings: dict):
        key = tuple(sorted(bindings.items()))
        entry = self._functions.get(key)
        if entry is None:
            with self._lock:
                if self._constants is None:
                    self._constants = {slot: self.backend.constant(value)
                                       for slot, value in self.program._constants
                                       if value.ndim > 0}
                source, name = generate(self.program, "f", bindings, checks=False,
                                        functional=True,
                                        free_transposes=self.backend.free_transposes)
                function = load(source, name, self.backend.namespace, self._constants)
                entry = self._functions[key] = (source, self.backend.wrap(function))
        return entry


def _rebuild_backend_program(program, backend: str) -> BackendProgram:
    return BackendProgram(program, get_backend(backend))


def _signature(values: dict) -> tuple:
    """What the checks of a call depend on: each argument's name, type, shape and dtype."""
    return tuple((name, type(value), getattr(value, "shape", None), getattr(value, "dtype", None))
                 for name, value in values.items())


class _NumpyFunctional(Backend):
    """numpy through the functional lowering: the seam's reference, used in tests."""

    name = "numpy-functional"
    array_type = (np.ndarray,)

    def make_namespace(self):
        return Namespace(np)

    def finish(self, outputs, inputs):
        # numpy arrays are mutable: copy each output, so that none is an input or shares
        # memory with another; a scalar is a numpy scalar, as the numpy program returns it
        if isinstance(outputs, tuple):
            return tuple(_owned(o) for o in outputs)
        return _owned(outputs)


def _owned(output) -> np.ndarray:
    array = np.array(output)
    return array[()] if array.ndim == 0 else array


BACKENDS["numpy-functional"] = ("tensorcalc.evaluation.backends", "numpy", None)
BACKEND = _NumpyFunctional  # the module row above points here

__all__ = ["BACKENDS", "Backend", "BackendError", "BackendNotInstalled", "BackendProgram",
           "Namespace", "compile_for", "get_backend", "place_diagonal", "register_backend"]
