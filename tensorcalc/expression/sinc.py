"""numpy's normalized ``sinc(x) = sin(πx)/(πx)`` and its derivatives of every order, finite at
``x = 0`` (``sinc'(0) = 0``, ``sinc''(0) = −π²/3``), never ``0/0``.

The k-th derivative is ``π^k f⁽ᵏ⁾(πx)`` with ``f(u) = sin(u)/u``, computed two ways, each where it
keeps its precision:

* near 0 (``|u| < 1 + k/2``): the Maclaurin series ``f⁽ᵏ⁾(u) = Σ_{2n ≥ k} (−1)ⁿ (2n)! u^(2n−k) /
  ((2n − k)! (2n + 1)!)``, a polynomial in ``u²`` (times ``u`` for odd k) evaluated by Horner's rule;
* elsewhere: Leibniz's rule on ``sin(u) · u⁻¹``, ``f⁽ᵏ⁾(u) = Σ_j C(k, j) sin(u + jπ/2) (−1)^(k−j)
  (k−j)! / u^(k−j+1)``.

The coefficients are shared by the numpy evaluation here and the generated source
(:mod:`tensorcalc.evaluation.source_forms`), so both compute the same thing.

>>> import numpy as np
>>> float(derivative(np.float64(0.0), 2)), float(-np.pi ** 2 / 3)
(-3.2898681336964524, -3.289868133696453)
"""

from __future__ import annotations

from math import comb, factorial, pi

import numpy as np


def threshold(k: int) -> float:
    """Where the series hands over to Leibniz's rule (in ``u = πx``)."""
    return 1.0 + 0.5 * k


def series_coefficients(k: int) -> tuple:
    """``(odd, coefficients)``: ``f⁽ᵏ⁾(u) = u^odd Σ_m c_m (u²)^m`` near 0."""
    first = (k + 1) // 2
    terms = 14 + 2 * k  # |u| < 1 + k/2: the last term is below 1e-17 of the sum
    return k % 2, [(-1) ** n * factorial(2 * n) / (factorial(2 * n - k) * factorial(2 * n + 1))
                   for n in range(first, first + terms)]


def leibniz_terms(k: int) -> list:
    """``(coefficient, j mod 4, power)``: ``f⁽ᵏ⁾(u) = Σ coefficient · sin(u + jπ/2) / u^power``."""
    return [(comb(k, j) * (-1) ** (k - j) * factorial(k - j), j % 4, k - j + 1)
            for j in range(k + 1)]


def derivative(x, k: int):
    """The k-th derivative of numpy's ``sinc`` at ``x`` (``k = 0``: ``sinc`` itself)."""
    k = int(k)
    u = pi * np.asarray(x)
    near = np.abs(u) < threshold(k)
    odd, coefficients = series_coefficients(k)
    v = u * u
    series = np.zeros_like(u)
    for c in reversed(coefficients):
        series = series * v + c
    series = series * u ** odd
    w = np.where(near, 1.0, u)  # Leibniz's rule only away from 0
    sine, cosine = np.sin(w), np.cos(w)
    trig = (sine, cosine, -sine, -cosine)
    far = sum(c * trig[quarter] / w ** power for c, quarter, power in leibniz_terms(k))
    return pi ** k * np.where(near, series, far)
