"""The benchmark workloads: one loss, written once per system, on shared random data.

>>> w = mlp(width=8, depth=2, batch=4)
>>> w.name, w.size, w.params
('MLP 2-layer', 'width 8', ('W1', 'W2'))
>>> loss, dW1, dW2 = w.numpy_grad(**w.data)
>>> dW1.shape == w.data["W1"].shape
True

Every workload carries

* ``tc_loss()`` – the loss as a tensorcalc expression and the variables to
  differentiate (named dimensions, so one expression serves every size);
* ``numpy_loss`` and ``numpy_grad`` – hand-written numpy forward and
  forward+backward (loss, then one gradient per parameter), the baseline;
* ``generic_loss(ops, **values)`` – the same loss written against a small
  namespace of array operations, so JAX, PyTorch and HIPS autograd run it
  unchanged (see ``peers.py``);
* ``data`` – float64 arrays for every variable, and ``dims`` – the sizes of
  the named dimensions (what ``Program.predicted_bytes`` takes).

Shapes follow the maths: an MLP keeps examples in columns (``X`` is
``d × B``), as in ``W2 tanh(W1 X)``.  MLP and linear outputs have 10 rows
(a 10-class regression head); the input dimension and every hidden width
equal the width.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

import tensorcalc as tc

OUTPUTS = 10  # rows of Y in the linear and MLP workloads
BATCH = 64


@dataclass(frozen=True)
class Workload:
    name: str
    size: str
    params: tuple
    data: dict
    dims: dict
    tc_loss: Callable = field(repr=False)
    numpy_loss: Callable = field(repr=False)
    numpy_grad: Callable = field(repr=False)
    generic_loss: Callable = field(repr=False)

    @property
    def label(self) -> str:
        return f"{self.name}, {self.size}"


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _normal(rng, *shape, scale=1.0):
    return rng.standard_normal(shape) * scale


# ---------------------------------------------------------------------------
# Linear layer and MLPs: sum((W_L tanh(... tanh(W_1 X)) - Y)²)


def linear(width: int, batch: int = BATCH, outputs: int = OUTPUTS, seed: int = 0) -> Workload:
    """``sum((W X − Y)²)`` with ``W`` of shape ``outputs × width``."""
    rng = _rng(seed)
    data = {"W": _normal(rng, outputs, width, scale=width ** -0.5),
            "X": _normal(rng, width, batch), "Y": _normal(rng, outputs, batch)}

    def tc_loss():
        W, X, Y = tc.var("W", ("o", "d")), tc.var("X", ("d", "B")), tc.var("Y", ("o", "B"))
        return tc.sum((W @ X - Y) ** 2), (W,)

    def numpy_loss(W, X, Y):
        R = W @ X - Y
        return np.sum(R * R)

    def numpy_grad(W, X, Y):
        R = W @ X - Y
        return np.sum(R * R), 2.0 * (R @ X.T)

    def generic_loss(ops, W, X, Y):
        return ops.sum((W @ X - Y) ** 2)

    return Workload("linear", f"width {width}", ("W",), data,
                    {"o": outputs, "d": width, "B": batch},
                    tc_loss, numpy_loss, numpy_grad, generic_loss)


def mlp(width: int, depth: int = 2, batch: int = BATCH, outputs: int = OUTPUTS,
        seed: int = 0) -> Workload:
    """``sum((W_depth tanh(… tanh(W1 X)) − Y)²)``: ``depth`` weight matrices, tanh between them."""
    if depth < 2:
        raise ValueError("an MLP has at least two layers; use linear() for one")
    rng = _rng(seed)
    names = tuple(f"W{n}" for n in range(1, depth + 1))
    data = {names[0]: _normal(rng, width, width, scale=width ** -0.5)}
    for name in names[1:-1]:
        data[name] = _normal(rng, width, width, scale=width ** -0.5)
    data[names[-1]] = _normal(rng, outputs, width, scale=width ** -0.5)
    data["X"] = _normal(rng, width, batch)
    data["Y"] = _normal(rng, outputs, batch)

    def tc_loss():
        shapes = [("h", "d")] + [("h", "h")] * (depth - 2) + [("o", "h")]
        weights = [tc.var(name, shape) for name, shape in zip(names, shapes)]
        X, Y = tc.var("X", ("d", "B")), tc.var("Y", ("o", "B"))
        hidden = X
        for W in weights[:-1]:
            hidden = tc.tanh(W @ hidden)
        return tc.sum((weights[-1] @ hidden - Y) ** 2), tuple(weights)

    def numpy_loss(X, Y, **weights):
        hidden = X
        for name in names[:-1]:
            hidden = np.tanh(weights[name] @ hidden)
        R = weights[names[-1]] @ hidden - Y
        return np.sum(R * R)

    def numpy_grad(X, Y, **weights):
        activations = [X]
        for name in names[:-1]:
            activations.append(np.tanh(weights[name] @ activations[-1]))
        R = weights[names[-1]] @ activations[-1] - Y
        loss = np.sum(R * R)
        delta = 2.0 * R  # ∂loss/∂(output pre-activation)
        grads = [None] * depth
        for layer in range(depth - 1, -1, -1):
            grads[layer] = delta @ activations[layer].T
            if layer:
                H = activations[layer]
                delta = (weights[names[layer]].T @ delta) * (1.0 - H * H)
        return (loss, *grads)

    def generic_loss(ops, X, Y, **weights):
        hidden = X
        for name in names[:-1]:
            hidden = ops.tanh(weights[name] @ hidden)
        return ops.sum((weights[names[-1]] @ hidden - Y) ** 2)

    return Workload(f"MLP {depth}-layer", f"width {width}", names, data,
                    {"h": width, "d": width, "o": outputs, "B": batch},
                    tc_loss, numpy_loss, numpy_grad, generic_loss)


# ---------------------------------------------------------------------------
# Least squares, logistic regression, matrix factorization


def least_squares(m: int, n: int, seed: int = 0) -> Workload:
    """``‖A x − b‖²`` with ``A`` of shape ``m × n``; the gradient is with respect to ``x``."""
    rng = _rng(seed)
    data = {"A": _normal(rng, m, n), "x": _normal(rng, n, scale=n ** -0.5), "b": _normal(rng, m)}

    def tc_loss():
        A, x, b = tc.var("A", ("m", "n")), tc.var("x", ("n",)), tc.var("b", ("m",))
        return tc.sum((A @ x - b) ** 2), (x,)

    def numpy_loss(A, x, b):
        r = A @ x - b
        return r @ r

    def numpy_grad(A, x, b):
        r = A @ x - b
        return r @ r, 2.0 * (r @ A)

    def generic_loss(ops, A, x, b):
        return ops.sum((A @ x - b) ** 2)

    return Workload("least squares", f"{m}×{n}", ("x",), data, {"m": m, "n": n},
                    tc_loss, numpy_loss, numpy_grad, generic_loss)


def logistic_regression(n: int, d: int, seed: int = 0) -> Workload:
    """``mean(softplus(−y ⊙ X w))`` with labels ``y ∈ {−1, +1}`` and ``X`` of shape ``n × d``."""
    rng = _rng(seed)
    X = _normal(rng, n, d)
    truth = _normal(rng, d)
    y = np.where(X @ truth + _normal(rng, n) > 0, 1.0, -1.0)
    data = {"X": X, "w": _normal(rng, d, scale=d ** -0.5), "y": y}

    def tc_loss():
        X, w, y = tc.var("X", ("n", "d")), tc.var("w", ("d",)), tc.var("y", ("n",))
        return tc.mean(tc.softplus(-y * (X @ w))), (w,)

    def numpy_loss(X, w, y):
        return np.mean(np.logaddexp(0.0, -y * (X @ w)))

    def numpy_grad(X, w, y):
        margin = -y * (X @ w)
        loss = np.mean(np.logaddexp(0.0, margin))
        sigma = 0.5 * (1.0 + np.tanh(0.5 * margin))  # σ(margin), overflow-free
        return loss, (-y * sigma / len(y)) @ X

    def generic_loss(ops, X, w, y):
        return ops.mean(ops.softplus(-y * (X @ w)))

    return Workload("logistic regression", f"{n}×{d}", ("w",), data, {"n": n, "d": d},
                    tc_loss, numpy_loss, numpy_grad, generic_loss)


def matrix_factorization(m: int, n: int, k: int, seed: int = 0) -> Workload:
    """``‖U Vᵀ − R‖²`` with ``U`` of shape ``m × k``, ``V`` of shape ``n × k``."""
    rng = _rng(seed)
    data = {"U": _normal(rng, m, k, scale=k ** -0.5), "V": _normal(rng, n, k, scale=k ** -0.5),
            "R": _normal(rng, m, n)}

    def tc_loss():
        U, V, R = tc.var("U", ("m", "k")), tc.var("V", ("n", "k")), tc.var("R", ("m", "n"))
        return tc.sum((U @ V.T - R) ** 2), (U, V)

    def numpy_loss(U, V, R):
        E = U @ V.T - R
        return np.sum(E * E)

    def numpy_grad(U, V, R):
        E = U @ V.T - R
        return np.sum(E * E), 2.0 * (E @ V), 2.0 * (E.T @ U)

    def generic_loss(ops, U, V, R):
        return ops.sum((U @ V.T - R) ** 2)

    return Workload("matrix factorization", f"{m}×{n}, k={k}", ("U", "V"), data,
                    {"m": m, "n": n, "k": k}, tc_loss, numpy_loss, numpy_grad, generic_loss)


# ---------------------------------------------------------------------------
# Sizes shared by vs_numpy.py and peers.py


def standard_workloads(quick: bool = False) -> list:
    """MLP (widths 32, 256, 1024), least squares, logistic regression, matrix factorization."""
    widths = (32, 256) if quick else (32, 256, 1024)
    sizes = {
        "lsq": [(100, 50), (1000, 500)] + ([] if quick else [(4000, 2000)]),
        "logreg": [(200, 20), (5000, 100)] + ([] if quick else [(50000, 200)]),
        "mf": [(60, 50, 5), (500, 400, 20)] + ([] if quick else [(2000, 1500, 50)]),
    }
    return ([mlp(w) for w in widths]
            + [least_squares(*s) for s in sizes["lsq"]]
            + [logistic_regression(*s) for s in sizes["logreg"]]
            + [matrix_factorization(*s) for s in sizes["mf"]])
