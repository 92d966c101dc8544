"""tensorcalc in one screen: derivatives you can read, then evaluate.

Run from the repository root:  .venv/bin/python examples/quickstart.py
"""

import numpy as np

import tensorcalc as tc

rng = np.random.default_rng(0)

# 1. The generalized Jacobian of b = W a is a 3-tensor: ∂b_i/∂W_jk = δ_ij a_k.
W, a = tc.var("W", (3, 3)), tc.var("a", (3,))
J = tc.grad(W @ a, W)
print("Jacobian:  ", J)
print("shape:     ", J.shape)
a_value = np.array([1.0, 2.0, 3.0])
J_value = tc.evaluate(J, W=rng.standard_normal((3, 3)), a=a_value)
print("J[0] (the slice i = 0; rows j, columns k):")
print(J_value[0])
assert np.allclose(J_value, np.einsum("ij,k->ijk", np.eye(3), a_value))

# 2. Backprop never builds it: an incoming gradient g collapses the δ.
g = tc.var("g", (3,))
dW = tc.grad(tc.sum(g * (W @ a)), W)
print("gradient:  ", dW)
print("shape:     ", dW.shape, "(W's shape)")

# 3. Second derivatives are derivatives of expressions: the Hessian of xᵀAx is A + Aᵀ.
x, A = tc.var("x", (3,)), tc.var("A", (3, 3))
H = tc.grad(tc.grad(x @ A @ x, x), x)
print("Hessian:   ", H.expr)
A_value = rng.standard_normal((3, 3))
assert np.allclose(tc.evaluate(H, A=A_value), A_value + A_value.T)

# 4. A 2-layer MLP on a mini-batch (named dimensions: d features, h hidden, B examples).
X, Y = tc.var("X", ("d", "B")), tc.var("Y", (1, "B"))
W1, b1 = tc.var("W1", ("h", "d")), tc.var("b1", ("h", 1))
W2, b2 = tc.var("W2", (1, "h")), tc.var("b2", (1, 1))
A1 = tc.sigmoid(W1 @ X + b1)
A2 = tc.sigmoid(W2 @ A1 + b2)
loss = -tc.mean(Y * tc.log(A2) + (1 - Y) * tc.log(1 - A2))
grads = tc.grad(loss, (W1, b1, W2, b2))
step = tc.compile([loss, *grads])  # planned once, called many times

values = {"X": rng.standard_normal((4, 32)), "Y": (rng.random((1, 32)) > 0.5) * 1.0,
          "W1": rng.standard_normal((8, 4)), "b1": np.zeros((8, 1)),
          "W2": rng.standard_normal((1, 8)), "b2": np.zeros((1, 1))}
print("MLP loss before:", step(**values)[0])
for _ in range(200):
    _, *gradients = step(**values)
    for name, gradient in zip(("W1", "b1", "W2", "b2"), gradients):
        values[name] = values[name] - 0.5 * gradient
print("MLP loss after: ", step(**values)[0])
print("dL/dW1 shape:   ", step(**values)[1].shape, "(W1's shape, h × d)")
