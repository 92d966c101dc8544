"""The torch backend: torch tensors in and out, the plan run with torch's functions.

>>> import numpy as np, tensorcalc as tc
>>> torch = __import__("pytest").importorskip("torch")
>>> W, a = tc.var("W", (2, 2)), tc.var("a", (2,))
>>> tc.compile(W @ a, backend="torch")(W=torch.eye(2, dtype=torch.float64),
...                                    a=torch.tensor([1.0, 2.0], dtype=torch.float64))
tensor([1., 2.], dtype=torch.float64)

torch spells a few of numpy's names differently (``permute`` for a
transpose, ``dim=`` for ``axis=``, ``dims=`` in ``tensordot``, a tensor for
``heaviside``'s second argument, ``remainder`` for ``mod``): the namespace maps them.  torch tensors are
mutable, so an output that shares memory with an input or another output (or
is a broadcast view) is cloned.  Numpy inputs become tensors on the CPU; tensors on
another device (CUDA) are refused with a clear error, since constants and filled arrays are
made on the CPU.
"""

from __future__ import annotations

import functools
import math
import numbers

import numpy as np

from ...errors import BindingError
from .base import Backend, Namespace


def _namespace(torch) -> Namespace:
    """torch, with numpy's spellings of the names generated code calls."""

    def sum_(x, axis=None, keepdims=False):
        return torch.sum(x) if axis is None else torch.sum(x, dim=axis, keepdim=keepdims)

    def reduction(function):  # amax, amin: numpy's max and min (torch.max gives indices too)
        return lambda x, axis=None, keepdims=False: \
            function(x, dim=() if axis is None else axis, keepdim=keepdims)

    def tensordot(x, y, axes=2):
        return torch.tensordot(x, y, dims=axes)

    def extreme(tensor_function, bound):
        def function(x, y):
            if isinstance(y, numbers.Number):
                return torch.clamp(x, **{bound: y})
            if isinstance(x, numbers.Number):
                return torch.clamp(y, **{bound: x})
            return tensor_function(x, y)
        return function

    def heaviside(x, value):
        return torch.heaviside(x, torch.tensor(value, dtype=x.dtype, device=x.device))

    def result_type(*arrays):
        return functools.reduce(torch.promote_types, [a.dtype for a in arrays])

    def full(shape, value, dtype=None):
        return torch.full(shape, value, dtype=dtype)

    def prod(x, axis=None):  # torch reduces one dim at a time
        if axis is None:
            return torch.prod(x)
        for a in sorted((a % x.ndim for a in ((axis,) if isinstance(axis, int) else axis)),
                        reverse=True):
            x = torch.prod(x, dim=a)
        return x

    def argsort(x, axis=-1, kind=None):  # numpy's stable order, as the numpy rows use
        return torch.argsort(x, dim=axis, stable=True)

    return Namespace(torch, sum=sum_, tensordot=tensordot, prod=prod, argsort=argsort,
                     take_along_axis=lambda x, i, axis: torch.take_along_dim(x, i, dim=axis),
                     transpose=lambda x, axes=None: x.permute(
                         tuple(reversed(range(x.ndim))) if axes is None else axes),
                     minimum=extreme(torch.minimum, "max"), maximum=extreme(torch.maximum, "min"),
                     heaviside=heaviside, result_type=result_type, full=full,
                     mod=torch.remainder,  # numpy's mod (the divisor's sign); torch.fmod is fmod
                     max=reduction(torch.amax), min=reduction(torch.amin),
                     squeeze=lambda x, axis=None: torch.squeeze(x) if axis is None else
                     torch.squeeze(x, dim=axis),
                     nan=math.nan, inf=math.inf)


class TorchBackend(Backend):
    name = "torch"
    extra = "torch"
    free_transposes = True  # permute is a view; torch.einsum costs 20–40 µs a call to parse

    def __init__(self):
        import torch  # here, not at import: the module is importable without torch

        self.torch = torch
        self.array_type = (torch.Tensor,)
        super().__init__()

    def make_namespace(self):
        return _namespace(self.torch)

    def to_array(self, name, value):
        if isinstance(value, self.torch.Tensor) and value.device.type != "cpu":
            raise BindingError(
                f"evaluate: variable {name!r} is a torch tensor on {value.device}, but the torch "
                "backend runs on the CPU (its constants and filled arrays are made there); "
                f"pass {name}.cpu(), or use backend=\"jax\" for a GPU")
        return super().to_array(name, value)

    def from_numpy(self, array):
        return self.torch.from_numpy(np.array(array))  # a copy: the caller's array stays theirs

    def astype(self, array, dtype):
        return array.to(getattr(self.torch, np.dtype(dtype).name))

    def dtype_of(self, array):
        name = str(array.dtype).removeprefix("torch.")
        try:
            return np.dtype(name)
        except TypeError:
            raise TypeError(f"torch dtype {array.dtype} has no numpy equivalent; pass float32 "
                            "or float64 tensors") from None

    def constant(self, value):
        return self.torch.from_numpy(np.array(value))

    def finish(self, outputs, inputs):
        torch = self.torch
        single = not isinstance(outputs, tuple)
        seen = [_storage(t) for t in inputs.values() if isinstance(t, torch.Tensor)]
        owned = []
        for output in ((outputs,) if single else outputs):
            if not isinstance(output, torch.Tensor):
                output = torch.as_tensor(output)
            storage = _storage(output)
            if storage in seen or 0 in output.stride():
                output = output.clone()
                storage = _storage(output)
            seen.append(storage)
            owned.append(output)
        return owned[0] if single else tuple(owned)


def _storage(tensor):
    return tensor.untyped_storage().data_ptr()


BACKEND = TorchBackend
