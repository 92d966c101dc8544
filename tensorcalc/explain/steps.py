"""The steps of the reverse sweep as records: local Jacobians, their chaining with the
incoming gradient, the δ's eliminated, the generalized Jacobian and the costs."""

from __future__ import annotations

import math
from typing import Optional

import numpy as np

from ..calculus.differentiate import grad, vjp
from ..calculus.simplify import constant_value, simplify
from ..evaluation.evaluate import compile as compile_program
from ..evaluation.evaluate import evaluate
from ..expression.nodes import Const, Contraction, Delta, Sum, Var, transform
from ..notation.printing import index_notation
from ..calculus.differentiate import grad_wrt_intermediate
from ..calculus.differentiate import rebuilt
from ..calculus.differentiate import substitute as _substitute
from .products import _matrix, _Product, _sub, _text
from .records import Step, _count, _shape

COUNT_LIMIT = 1 << 20  # entries: local Jacobians up to this size are evaluated to count non-zeros


class _Example:
    """The values local Jacobians are evaluated at: ``values`` where given, else random, drawn
    once when first needed; ``None`` when they would need more than ``memory_limit`` bytes.

    Random entries are uniform in [0.5, 1.5] divided by the square root of the array's size:
    every array has a norm near 1, so a contraction of them is at most about 1 and tanh or a
    sigmoid of it is not saturated (entries of 1 make a width-200 layer's tanh′ exactly 0).
    """

    def __init__(self, order, values, bound, seed, memory_limit):
        self.given = dict(values or {})
        self.variables = {v.name: v for v in order if isinstance(v, Var)}
        self.from_values = {d for name, v in self.variables.items() if name in self.given
                            for d in v.shape if isinstance(d, str)}
        self.bound, self.seed, self.limit = bound, seed, memory_limit
        self.how = "at the given values" if self.given else "at random values"
        self._values = None

    def values(self) -> Optional[dict]:
        if self._values is None:
            shapes = {name: tuple(self.bound.get(d, d) for d in v.shape)
                      for name, v in self.variables.items() if name not in self.given}
            needed = 8 * sum(math.prod(shape) for shape in shapes.values())
            if self.limit is not None and needed > self.limit:
                self.how = f"not counted: random values need {needed} B, above memory_limit"
                return None
            rng = np.random.default_rng(self.seed)
            self._values = dict(self.given)
            for name, shape in shapes.items():
                self._values[name] = rng.uniform(0.5, 1.5, shape) / math.sqrt(math.prod(shape))
        return self._values


# ---------------------------------------------------------------------------
# The records


def _local_step(m, c, local, m_names, c_names, namer, name_of, dims, bound, example, expansions):
    shape = m.shape + c.shape
    entries = math.prod(dims(shape))
    nonzeros, how, evaluated = None, "", None
    values = example.values() if entries <= COUNT_LIMIT else None
    if values is not None:
        value = np.asarray(_evaluate(_substitute(local, expansions), values, bound), dtype=float)
        scale = float(np.max(np.abs(value), initial=0.0))
        nonzeros, how = int(np.count_nonzero(np.abs(value) > 1e-12 * scale)), example.how
        evaluated = value if example.given else None
    elif entries <= COUNT_LIMIT:
        how = example.how
    note = ""
    squeezed = tuple(d for d in dims(shape) if d != 1)
    if len(squeezed) < len(shape) and len(squeezed) >= 2:  # a column vector's extra axis
        one = [n for n, d in zip(m_names + c_names, dims(shape)) if d == 1]
        note = (f"{', '.join(one)} {'ranges' if len(one) == 1 else 'range'} over a size-1 axis and "
                f"{'takes' if len(one) == 1 else 'take'} one value: the entries of the {_shape(squeezed)} array, with size-1 axes inserted "
                f"(a δ over a size-1 index is the factor 1)")
    M, C = name_of[id(m)], name_of[id(c)]
    return Step("local", f"∂{M}/∂{C}", local, f"∂{M}{_sub(m_names)}/∂{C}{_sub(c_names)} = "
                f"{_text(local, m_names + c_names, namer)}", _matrix(local) if local.ndim <= 2 else None,
                shape, entries=entries, nonzeros=nonzeros, counted=how, evaluated=evaluated, note=note)


def _chain_steps(steps, m, c, local, adjoint, m_names, c_names, x_names, namer, name_of, F, extra,
                 several) -> list:
    """The incoming gradient at ``m`` contracted into the local Jacobian ``∂m/∂c``; each δ."""
    if isinstance(adjoint, Const) and adjoint.value.ndim == 0 and float(adjoint.value) == 1.0:
        # a scalar f's seed 1: the local Jacobian is the gradient (any other constant, such as
        # the 2 of L = 2b, is contracted in below like any incoming gradient)
        return [local]
    k, n, e = len(m_names), len(c_names), len(x_names)
    m_l, c_l, x_l = list(range(k)), list(range(k, k + n)), list(range(k + n, k + n + e))
    names = dict(enumerate(m_names + c_names + x_names))
    sizes = dict(zip(m_l + c_l + x_l, m.shape + c.shape + extra))
    chain = Contraction([adjoint, local], [x_l + m_l, m_l + c_l], x_l + c_l, sizes)
    terms = local.terms if isinstance(local, Sum) else [local]
    products = [_Product([], x_l + c_l, sizes, dict(names)).flatten(adjoint, x_l + m_l, namer)
                .flatten(term, m_l + c_l, namer) for term in terms]
    M, C = name_of[id(m)], name_of[id(c)]
    lhs = f"∂{F}{_sub(x_names)}/∂{C}{_sub(c_names)} {'+=' if several else '='} "
    before = [p.text(namer) for p in products]
    summed = _sub(m_names).lstrip("_") or "nothing (a scalar stage)"
    what = f"the seed ∂{F}/∂{F} = δ" if m.ndim and m.shape == extra and isinstance(adjoint, Contraction) \
        and not any(not isinstance(op, Delta) for op in adjoint.operands) else \
        f"the incoming gradient ∂{F}/∂{M}"
    steps.append(Step("chain", f"∂{F}/∂{C}", chain, lhs + " + ".join(before), None,
                      extra + c.shape, note=f"contract {what} over {summed}"))
    results = []
    for product, text in zip(products, before):
        renamed = product.eliminate_deltas()
        result = simplify(product.expr())
        if renamed:
            how = ", ".join(f"{old} → {new}" for old, new in renamed.items())
            note = f"the δ renames {how}"
            if local.ndim > result.ndim:
                note += f"; the {_shape(local.shape)} Jacobian ∂{M}/∂{C} is never built"
            steps.append(Step("delta", f"∂{F}/∂{C}", result, f"{text} → {product.text(namer)}", None,
                              result.shape, renamed=renamed, note=note))
        results.append(result)
    return results


def _simple(expr) -> bool:
    return isinstance(expr, (Var, Const)) or constant_value(expr) is not None or (
        isinstance(expr, Contraction) and all(isinstance(op, Delta) for op in expr.operands))


def _incoming_step(m, total, name_of, F, extra, f, symbol, incoming, used, axis_names):
    M = name_of[id(m)]
    if _simple(total):
        incoming[id(m)] = total
        label, level = f"∂{F}/∂{M}", 3
    else:
        name = next(c for c in (f"d{M}", f"d_{M}", f"grad_{M}", f"d{M}_") if c not in used)
        used.add(name)
        incoming[id(m)] = Var(name, extra + m.shape)
        label, level = f"{name} = ∂{F}/∂{M}", 2
    m_names, x_names, namer = axis_names
    value = grad_wrt_intermediate(f, m, name=symbol[id(m)].name).expr
    return Step("incoming", f"∂{F}/∂{M}", total,
                f"{label}{_sub(x_names + m_names)} = {_text(total, x_names + m_names, namer)}",
                _matrix(total), total.shape, level=level, value=value)


def _jacobian_step(edges, f, target, name_of, dims) -> Step:
    """The chain rule as a product of matrices: each local Jacobian flattened to (|m| × |c|)."""
    size = lambda node: math.prod(dims(node.shape))  # noqa: E731
    F, W = name_of[id(f)], name_of[id(target)]
    chain = [(size(m), size(c)) for m, c in edges]
    linear = all(edges[k][1] is edges[k + 1][0] for k in range(len(edges) - 1))
    product = f"({size(f)}×{size(target)})"
    if linear and edges:
        text = "·".join(f"∂{name_of[id(m)]}/∂{name_of[id(c)]}" for m, c in edges)
        text = f"∂{F}/∂{W} = {text}: " + "·".join(f"({r}×{c})" for r, c in chain) + f" = {product}"
    else:
        text = f"∂{F}/∂{W}: a sum over paths of products of " + ", ".join(
            f"({r}×{c})" for r, c in chain) + f" = {product}"
    if f.ndim == 0:
        note = f"a 1×{size(target)} row, which the gradient holds in {W}'s shape {_shape(target.shape)}"
    else:
        note = f"the generalized Jacobian: shape {_shape(f.shape)} + {_shape(target.shape)}"
    return Step("jacobian", f"∂{F}/∂{W}", None, text, None, f.shape + target.shape,
                factors=tuple(chain), note=note)


def _evaluate(expr, values, bound):
    """The value of ``expr`` with named dimensions set to their sizes in ``bound`` (a δ over a
    name that no variable carries could not be bound otherwise)."""
    def concrete(node, children):
        if isinstance(node, Var):
            return Var(node.name, tuple(bound.get(d, d) for d in node.shape))
        if isinstance(node, Delta):
            return Delta(bound.get(node.dim, node.dim))
        if isinstance(node, Contraction):
            return Contraction(children, node.indices, node.output,
                               {l: bound.get(d, d) for l, d in enumerate(node.sizes)})
        return rebuilt(node, children)

    return evaluate(transform([expr], concrete)[0] if bound else expr, values)


def _cost_steps(f, target, result, stand_in, bound, used) -> list:
    """Contracted vs naive (materialized Jacobians) from the programs' plans at ``bound``."""
    replaced = f if stand_in is target else _substitute(f, {id(target): stand_in})
    naive = grad(replaced, stand_in, method="naive", memory_limit=None)
    naive_expr = naive.expr if stand_in is target else _substitute(naive.expr, {id(stand_in): target})
    fast = compile_program(result.expr).plan_for(bound)
    slow = compile_program(naive_expr, simplify=False).plan_for(bound)  # keep what it materializes
    steps = []
    if f.ndim:
        u = Var(next(c for c in ("u", "v", "u_") if c not in used), f.shape)
        product = vjp(replaced, stand_in, u).expr
        product = product if stand_in is target else _substitute(product, {id(stand_in): target})
        plan = compile_program(product).plan_for(bound)
        steps.append(Step("vjp", f"Σ u ∂f/∂{stand_in.name}", product,
                          f"Σ_i {u.name}_i ∂f_i/∂{stand_in.name} = {index_notation(product)}",
                          _matrix(product), product.shape, flops=plan.flops, peak_bytes=plan.peak_bytes,
                          largest=plan.largest_intermediate,
                          note=f"a cotangent {u.name} contracted in first: {plan.flops} FLOPs"))
    note = (f"largest intermediate: naive {_count(slow.largest_intermediate, 'entry', 'entries')}, contracted "
            f"{fast.largest_intermediate}; peak memory {slow.peak_bytes} B vs {fast.peak_bytes} B")
    sized = ", ".join(f"{k}={v}" for k, v in sorted(bound.items()))
    main = f"naive {slow.flops} FLOPs · contracted {fast.flops} FLOPs" + (f" (at {sized})" if sized else "")
    steps.append(Step("cost", "cost", None, main, None, (),
                      level=1, flops=fast.flops, naive_flops=slow.flops, peak_bytes=fast.peak_bytes,
                      naive_bytes=slow.peak_bytes, largest=fast.largest_intermediate,
                      naive_largest=slow.largest_intermediate, note=note))
    return steps
