"""The jax backend: the whole program traced once into ``jax.jit``, so XLA fuses it.

>>> import numpy as np, tensorcalc as tc
>>> jax = __import__("pytest").importorskip("jax")
>>> jax.config.update("jax_enable_x64", True)
>>> x = tc.var("x", ("n",))
>>> f = tc.compile([tc.sum(tc.tanh(x)), tc.grad(tc.sum(tc.tanh(x)), x)], backend="jax")
>>> value, dx = f(x=np.zeros(3))
>>> type(dx).__name__, float(value), dx.tolist()
('ArrayImpl', 0.0, [1.0, 1.0, 1.0])

Inputs are jax arrays (or numpy arrays, sent to the device as they are);
outputs are jax arrays on jax's default device (a GPU when jax has one).  jax
arrays are immutable, so every output is the caller's own.  With jax's x64
mode off (jax's default) jax has no float64: a float64 input is then an error
saying how to enable it, never a silent downcast; float32 stays float32.
Array constants of the expression are float64 as in numpy when x64 is on and
float32 when it is off (a constant is part of the expression, not an input).
"""

from __future__ import annotations

import math

import numpy as np

from ...errors import BindingError
from .base import Backend, Namespace

_WIDE = {np.dtype(np.float64): np.float32, np.dtype(np.complex128): np.complex64}


class JaxBackend(Backend):
    name = "jax"
    extra = "jax"

    def __init__(self):
        import jax  # here, not at import: the module is importable without jax
        import jax.numpy as jnp
        import jax.scipy.special  # erf, which jax.numpy lacks

        self.jax, self.jnp = jax, jnp
        self.array_type = (jax.Array,)
        super().__init__()

    def x64(self) -> bool:
        return bool(self.jax.config.jax_enable_x64)

    def make_namespace(self):
        jnp = self.jnp
        return Namespace(jnp, transpose_for_entrywise=self.transpose_for_entrywise,
                         erf=self.jax.scipy.special.erf,
                         argsort=lambda x, axis=-1, kind=None: jnp.argsort(x, axis=axis, stable=True))

    def transpose_for_entrywise(self, x):
        """``x.T`` for a sum or an elementwise function: as tiles when its sizes allow.

        XLA on the CPU fuses ``A + A.T`` into one loop that reads one operand across the
        rows, 10–15× slower than a tiled transpose (n = 1000: 12–29 ms; numpy takes 2.3 ms).
        Written as a transpose of (rows/t, t, columns/t, t) tiles, the fused loop reads t × t
        blocks (0.8 ms).  Only for entrywise readers: a dot reads ``x.T`` for free, and a tiled
        copy would make it slower.
        """
        rows, columns = x.shape
        common = math.gcd(rows, columns)
        # a tile of 16 … 256 that divides both sizes, near 32 (measured n = 1000: tiles of 25
        # and 40 0.9 ms, 100 1.5 ms, 8 29 ms); none (a prime size, say): the plain transpose
        tiles = [t for t in range(16, 257) if common % t == 0 and 2 * t <= min(rows, columns)]
        if not tiles:
            return x.T
        tile = min(tiles, key=lambda t: (abs(t - 32), t))
        return x.reshape(rows // tile, tile, columns // tile, tile) \
            .transpose(2, 3, 0, 1).reshape(columns, rows)

    def to_array(self, name, value):
        array = super().to_array(name, value)
        if not self.x64() and np.dtype(array.dtype) in _WIDE:
            raise BindingError(
                f"evaluate: variable {name!r} is {np.dtype(array.dtype)}, but jax's x64 mode is "
                "off, and jax would silently compute in float32; enable it with "
                'jax.config.update("jax_enable_x64", True) (before creating arrays), or pass '
                f"float32 arrays (np.asarray({name}, dtype=np.float32))")
        return array

    def from_numpy(self, array):
        return array  # jit sends numpy arguments to the device itself

    def astype(self, array, dtype):  # an integer jax array: jax's float (float32 without x64)
        return array.astype(dtype if self.x64() else self.jnp.float32)

    def constant(self, value):
        if not self.x64() and value.dtype in _WIDE:
            value = value.astype(_WIDE[value.dtype])
        return self.jnp.asarray(value)

    def wrap(self, function):
        return self.jax.jit(function)


BACKEND = JaxBackend
