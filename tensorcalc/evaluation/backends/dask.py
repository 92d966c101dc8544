"""The dask backend: dask arrays in and out, lazy until ``.compute()``.

>>> import numpy as np, tensorcalc as tc
>>> da = __import__("pytest").importorskip("dask.array")
>>> A, x = tc.var("A", ("n", "n")), tc.var("x", ("n",))
>>> f = tc.compile(x @ A @ x, backend="dask")
>>> value = f(A=da.ones((4, 4), chunks=2), x=da.ones(4, chunks=2))
>>> type(value).__name__, float(value.compute())
('Array', 16.0)

The generated function builds a dask graph: each contraction goes through
``dask.array``'s ``einsum``, ``tensordot`` or ``@``, chunk by chunk, so the
operands may be larger than memory, and ``.compute()`` runs the graph with
whatever scheduler is current: a ``dask.distributed.Client`` created in the
session (``Client("tcp://scheduler:8786")``) is picked up by ``.compute()``
with no change here.  Numpy inputs are wrapped as one-chunk dask arrays;
pass ``da.from_array(x, chunks=...)`` (or ``da.from_zarr``, ...) to chunk them.
"""

from __future__ import annotations

import numpy as np

from .base import Backend, Namespace, _numpy_erf


class DaskBackend(Backend):
    name = "dask"
    extra = "dask"

    def __init__(self):
        import dask.array as da  # here, not at import: the module is importable without dask

        self.da = da
        self.array_type = (da.Array,)
        super().__init__()

    def make_namespace(self):
        return Namespace(self.da, heaviside=np.heaviside,  # a ufunc: dask dispatches it itself
                         erf=lambda x: x.map_blocks(_numpy_erf, dtype=x.dtype),
                         einsum=self.einsum, linalg=self._linalg(), kron=self.kron,
                         argsort=self.argsort, take_along_axis=self.take_along_axis)

    def argsort(self, x, axis=-1, kind=None):
        """dask has no ``argsort``: numpy's stable one on chunks that hold the whole axis."""
        x = x.rechunk({axis % x.ndim: -1})
        return x.map_blocks(np.argsort, axis=axis, kind="stable", dtype=np.intp)

    def take_along_axis(self, x, indices, axis):
        """numpy's ``take_along_axis`` on chunks that hold the whole axis (indices chunked alike)."""
        x = x.rechunk({axis % x.ndim: -1})
        return self.da.map_blocks(np.take_along_axis, x, indices.rechunk(x.chunks), axis=axis,
                                  dtype=x.dtype)

    def kron(self, a, b):
        """dask has no ``kron``: ``A_ij B_kl`` broadcast to axes ``(i, k, j, l)``, reshaped."""
        if a.ndim == 1:
            return (a[:, None] * b[None, :]).reshape((-1,))
        return (a[:, None, :, None] * b[None, :, None, :]).reshape(
            (a.shape[0] * b.shape[0], a.shape[1] * b.shape[1]))

    def _linalg(self) -> Namespace:
        """dask's linalg wants square chunks (solve, inv) and has no det: the matrices (the
        last two axes) are rechunked square, or whole for det, slogdet, svd, eigh, qr and cholesky."""
        da = self.da

        def square(a):  # equal square blocks (whole when the size does not divide)
            size = max(a.chunksize[-2:])
            size = size if a.shape[-1] % size == 0 else a.shape[-1]
            return a.rechunk(a.chunksize[:-2] + (size, size))

        def solve(a, b):
            a = square(a)
            return da.linalg.solve(a, b.rechunk((a.chunks[0],) + b.chunks[1:]))

        def whole(a, function):
            a = a.rechunk(a.chunksize[:-2] + a.shape[-2:])
            return a.map_blocks(function, drop_axis=[a.ndim - 2, a.ndim - 1], dtype=a.dtype)

        def svd(a, full_matrices=True):  # of whole matrices (dask's own wants tall-and-skinny
            a = a.rechunk(a.chunksize[:-2] + a.shape[-2:])  # chunks), as numpy's
            part = lambda n: lambda b: np.linalg.svd(b, full_matrices=full_matrices)[n]  # noqa: E731
            m, n = a.shape[-2:]
            k = min(m, n)
            batch = a.chunks[:-2]
            return (a.map_blocks(part(0), chunks=batch + ((m,), ((m if full_matrices else k),)),
                                 dtype=a.dtype),
                    a.map_blocks(part(1), drop_axis=[a.ndim - 1], chunks=batch + ((k,),),
                                 dtype=a.dtype),
                    a.map_blocks(part(2), chunks=batch + (((n if full_matrices else k),), (n,)),
                                 dtype=a.dtype))

        def eigh(a):  # of whole matrices, as numpy's
            a = a.rechunk(a.chunksize[:-2] + a.shape[-2:])
            return (a.map_blocks(lambda b: np.linalg.eigh(b)[0], drop_axis=[a.ndim - 1],
                                 dtype=a.dtype),
                    a.map_blocks(lambda b: np.linalg.eigh(b)[1], dtype=a.dtype))

        def qr(a):  # of whole matrices (dask's own wants tall-and-skinny chunks), as numpy's
            a = a.rechunk(a.chunksize[:-2] + a.shape[-2:])
            m, n = a.shape[-2:]
            k, batch = min(m, n), a.chunks[:-2]
            return (a.map_blocks(lambda b: np.linalg.qr(b)[0], chunks=batch + ((m,), (k,)),
                                 dtype=a.dtype),
                    a.map_blocks(lambda b: np.linalg.qr(b)[1], chunks=batch + ((k,), (n,)),
                                 dtype=a.dtype))

        def inv(a):  # dask's own is of one matrix: a stack is inverted whole matrix by matrix
            if a.ndim == 2:
                return da.linalg.inv(square(a))
            return a.rechunk(a.chunksize[:-2] + a.shape[-2:]).map_blocks(np.linalg.inv,
                                                                          dtype=a.dtype)

        def cholesky(a):  # of whole matrices (dask's own is upper-triangular-first on 2-D)
            a = a.rechunk(a.chunksize[:-2] + a.shape[-2:])
            return a.map_blocks(np.linalg.cholesky, dtype=a.dtype)

        return Namespace(da.linalg, solve=solve, inv=inv, svd=svd,
                         eigh=eigh, cholesky=cholesky, qr=qr,
                         det=lambda a: whole(a, np.linalg.det),
                         slogdet=lambda a: (whole(a, lambda b: np.linalg.slogdet(b)[0]),
                                            whole(a, lambda b: np.linalg.slogdet(b)[1])))

    def einsum(self, subscripts: str, *operands):
        """``dask.array.einsum``, with the axes of a repeated index (a diagonal, ``ii->i``)
        chunked alike first: dask aligns chunks across operands, not within one."""
        terms = subscripts.split("->")[0].split(",")
        aligned = []
        for term, operand in zip(terms, operands):
            if len(set(term)) != len(term):
                first = {}
                for axis, letter in enumerate(term):
                    first.setdefault(letter, operand.chunks[axis])
                operand = operand.rechunk(tuple(first[letter] for letter in term))
            aligned.append(operand)
        return self.da.einsum(subscripts, *aligned)

    def from_numpy(self, array):
        return self.da.from_array(array, chunks=array.shape or ())

    def constant(self, value):
        return self.da.from_array(value, chunks=value.shape)


BACKEND = DaskBackend
