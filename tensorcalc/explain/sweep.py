"""The sweep: :func:`explain` cuts the forward expression into stages and walks them in
reverse, recording each step; :func:`grad_wrt_intermediate` differentiates with respect to
an intermediate node."""

from __future__ import annotations

from typing import Optional

import numpy as np

from ..calculus.differentiate import DEFAULT_MEMORY_LIMIT, _variable_named, grad, jacobian
from ..errors import DifferentiationError, ShapeError
from ..expression.construct import as_expr
from ..expression.nodes import Const, Contraction, Delta, Var, postorder
from ..notation.printing import index_notation
from ..calculus.differentiate import grad_wrt_intermediate
from ..calculus.differentiate import substitute as _substitute
from .products import LETTERS, _auto_stages, _matrix, _Namer, _names_for, _sub, _sum, _text, _zeros
from .records import Explanation, Step, _shape
from .steps import _chain_steps, _cost_steps, _Example, _incoming_step, _jacobian_step, _local_step


STAGE_NAMES = "bcehpqrsuvw"  # automatic stage names, then t1, t2, …
SMALL = 40  # nodes: every node's incoming gradient is computed (level 3) up to this many


# ---------------------------------------------------------------------------
# The public functions


def explain(f, wrt, names: Optional[dict] = None, sizes: Optional[dict] = None,
            values: Optional[dict] = None, level: int = 2, seed: int = 0,
            memory_limit: Optional[int] = DEFAULT_MEMORY_LIMIT) -> Explanation:
    """Every step of ``∂f/∂wrt``: the forward stages, each local Jacobian with its size, the
    chain rule's contractions, each δ eliminated, the result and its cost.

    >>> import tensorcalc as tc
    >>> x, W1, W2 = tc.var("x", (4,)), tc.var("W1", (5, 4)), tc.var("W2", (5,))
    >>> z1 = W1 @ x
    >>> h = tc.tanh(z1)
    >>> e = tc.explain(W2 @ h, W1, names={"z1": z1, "h": h})
    >>> [s.index for s in e.of_kind("forward")]
    ['z1_i = W1_ij x_j', 'h_i = tanh(z1_i)', 'L = h_i W2_i']
    >>> print(e.of_kind("result")[0].index, "=", e.of_kind("result")[0].matrix)
    ∂L/∂W1_jk = dz1_j x_k = dz1 xᵀ

    ``wrt`` is a variable or an intermediate of ``f`` (see :func:`grad_wrt_intermediate`), or a
    tuple of them: one reverse sweep, then a result, Jacobian and cost step for each (in
    ``wrt``'s order; none may lie inside another).  ``names`` maps names to intermediates
    (``{"z1": z1}``); ``sizes`` binds named dimensions, and so do the shapes of ``values`` (3
    where neither does); ``values`` are the example values at which each local Jacobian is
    evaluated (its ``evaluated`` array) and its non-zeros counted; without them, random values
    scaled to keep every entry of a product near 1 (a matrix's entries divided by the square
    root of its size), so that tanh or a sigmoid is not saturated.  Entries below 10⁻¹² of
    the largest count as zero.  Counting is skipped where the example values would need more
    than ``memory_limit`` bytes.  ``level`` is 1 (forward, result, cost), 2 (every step) or 3
    (every node's incoming gradient).
    """
    f = as_expr(f)
    if level not in (1, 2, 3) or isinstance(level, bool):
        raise DifferentiationError(f"explain: level must be 1 (forward, result, cost), 2 (every "
                                   f"step) or 3 (every node's incoming gradient), got {level!r}")
    several = isinstance(wrt, (tuple, list))
    targets = [_target(f, w) for w in (wrt if several else [wrt])]
    if not targets:
        raise DifferentiationError("explain: wrt is empty; name a variable of f")
    if len({id(t) for t in targets}) < len(targets):
        raise DifferentiationError(f"explain: wrt names a variable twice: {wrt}")
    is_target = {id(t) for t in targets}
    for t in targets:
        inside = [u for u in postorder([t]) if id(u) in is_target and u is not t]
        if inside:
            raise DifferentiationError(f"explain: {inside[0]} lies inside {t}; explain each on "
                                       "its own (the sweep stops at every wrt)")
    order = postorder([f])
    parents: dict = {}
    for node in order:
        for child in set(map(id, node.children)):
            parents.setdefault(child, []).append(node)
    depends_on = {}
    for target in targets:
        if not any(node is target for node in order):
            raise DifferentiationError(f"explain: {target} does not occur in {f}")
        reached = set()
        for node in order:
            if node is target or any(id(c) in reached for c in node.children):
                reached.add(id(node))
        depends_on[id(target)] = reached
    depends = set().union(*depends_on.values())
    named = {id(as_expr(node)): name for name, node in (names or {}).items()
             if not isinstance(as_expr(node), Var)}
    taken = {n.name for n in order if isinstance(n, Var)}
    for name in named.values():
        if name in taken:
            raise DifferentiationError(f"explain: the name {name!r} is already a variable of f")
    if names is None:
        named.update({i: None for i in _auto_stages(order, f, is_target, depends, parents)})
    named.setdefault(id(f), "L" if f.ndim == 0 else "f")
    inner = [t for t in targets if not isinstance(t, Var)]  # intermediates asked for
    for target in inner:
        named.setdefault(id(target), None)
    stages = [n for n in order if id(n) in named and id(n) not in is_target]
    used = set(taken) | {n for n in named.values() if n}
    auto = iter([c for c in STAGE_NAMES if c not in used] +
                [f"t{k}" for k in range(1, len(order) + 2) if f"t{k}" not in used])
    for node in inner + stages:
        if named[id(node)] is None:
            named[id(node)] = next(auto)
        used.add(named[id(node)])
    symbol = {id(n): Var(named[id(n)], n.shape) for n in stages}
    for target in targets:
        symbol[id(target)] = target if isinstance(target, Var) else Var(named[id(target)], target.shape)
    name_of = {**{id(t): symbol[id(t)].name for t in targets}, **{id(n): named[id(n)] for n in stages}}

    # each stage over the symbols of the stages (and wrt) below it
    cut: dict = {}
    for node in order:
        kids = [cut[id(c)] for c in node.children]
        if id(node) in symbol:
            cut[id(node)] = symbol[id(node)]
        else:
            cut[id(node)] = node if all(a is b for a, b in zip(kids, node.children)) else node.rebuild(kids)
    definition = {id(s): s.rebuild([cut[id(c)] for c in s.children]) for s in stages + inner}
    by_symbol = {id(symbol[i]): i for i in symbol}
    below = {id(s): [by_symbol[id(n)] for n in postorder([definition[id(s)]])
                     if id(n) in by_symbol and by_symbol[id(n)] in depends and n is not symbol[id(s)]]
             for s in stages}
    prettify = {id(definition[id(s)]): symbol[id(s)] for s in stages}
    expansions = {id(symbol[i]): node for i, node in ((id(n), n) for n in stages + targets)
                  if symbol[i] is not node}

    bound = _bind_sizes(order, sizes, values)
    dims = lambda shape: tuple(bound.get(d, d) for d in shape)  # noqa: E731
    example = _Example(order, values, bound, seed, memory_limit)
    F, extra = name_of[id(f)], f.shape
    steps = []
    for node in inner + stages:
        d = definition[id(node)]
        subscript = _sub(LETTERS[:node.ndim])
        steps.append(Step("forward", name_of[id(node)], d, f"{name_of[id(node)]}{subscript} = "
                          f"{index_notation(d)}", _matrix(d), node.shape, level=1, value=node))

    # the reverse sweep over the stages, down to every wrt
    n_extra = f.ndim
    seed_expr = Const(1.0) if not n_extra else Contraction(
        [Delta(d) for d in extra], [(a, n_extra + a) for a in range(n_extra)], range(2 * n_extra),
        {a: d for a, d in enumerate(extra + extra)})
    incoming = {id(f): seed_expr}
    contributions: dict = {}
    node_of = {id(n): n for n in stages + targets}
    edges, axis_names = [], {}  # a stage's index names: those of the first edge reaching it
    for m in reversed(stages):
        if id(m) not in depends:
            continue
        if id(m) != id(f):
            total = _sum(contributions.pop(id(m)))
            steps.append(_incoming_step(m, total, name_of, F, extra, f, symbol, incoming, used,
                                        axis_names[id(m)]))
            if incoming[id(m)] is not total:  # a symbol dm stands for it from here on
                expansions[id(incoming[id(m)])] = _substitute(total, expansions)
        for c_id in dict.fromkeys(below[id(m)]):
            c = node_of[c_id]
            edges.append((m, c))
            namer = _Namer()
            m_names = [namer.fresh() for _ in m.shape]
            c_names = [namer.fresh() for _ in c.shape]
            x_names = [namer.fresh() for _ in extra]
            axis_names.setdefault(c_id, (c_names, x_names, namer))
            local = jacobian(definition[id(m)], symbol[c_id]).expr
            local = _substitute(local, prettify)
            steps.append(_local_step(m, c, local, m_names, c_names, namer, name_of, dims, bound,
                                     example, expansions))
            shared = sum(c_id in below.get(id(e), ()) for e in stages) > 1
            contributions.setdefault(c_id, []).extend(
                _chain_steps(steps, m, c, local, incoming[id(m)], m_names, c_names, x_names, namer,
                             name_of, F, extra, shared))

    # each result, checked against the engine's own derivative
    results = []
    for target in targets:
        total = _sum(contributions.pop(id(target), [_zeros(extra + target.shape)]))
        result = grad(f, target) if isinstance(target, Var) else grad_wrt_intermediate(
            f, target, name=symbol[id(target)].name)
        assert result.shape == extra + target.shape, (result.shape, extra, target.shape)
        results.append(result)
        names_ = axis_names.get(id(target)) or _names_for(target, extra)
        W = name_of[id(target)]
        what = f"= {W}'s shape" if not extra else \
            f"= {F}'s shape {_shape(extra)} + {W}'s shape {_shape(target.shape)}"
        steps.append(Step("result", f"∂{F}/∂{W}", total,
                          f"∂{F}{_sub(names_[1])}/∂{W}{_sub(names_[0])} = "
                          f"{_text(total, names_[1] + names_[0], names_[2])}",
                          _matrix(total), result.shape, level=1, value=result.expr, note=what))
        reaching = depends_on[id(target)]
        steps.append(_jacobian_step([(m, c) for m, c in edges if id(c) in reaching], f, target,
                                    name_of, dims))
        steps += _cost_steps(f, target, result, symbol[id(target)], bound, used)
    inside = [n for n in reversed(order) if id(n) in depends and id(n) not in is_target
              and id(n) not in symbol]
    if level >= 3 or len(inside) <= SMALL:
        pretty = {id(n): symbol[id(n)] for n in stages}
        for node in inside:  # the adjoint reverse mode holds at each node inside a stage
            value = grad_wrt_intermediate(f, node).expr
            shown, at = _substitute(value, pretty), index_notation(cut[id(node)])
            steps.append(Step("incoming", f"∂{F}/∂({at})", shown, f"∂{F}/∂({at}) = "
                              f"{index_notation(shown)}", None, value.shape, level=3, value=value,
                              note="a node inside a stage"))
    user_sizes = {d: n for d, n in bound.items() if d in (sizes or {}) or d in example.from_values}
    return Explanation(steps, f, tuple(targets) if several else targets[0],
                       tuple(results) if several else results[0],
                       {v.name: v for v in symbol.values()}, expansions, level, user_sizes)


def _target(f, wrt):
    """``wrt`` as a node of ``f``: a name is looked up as ``tc.grad`` does."""
    if isinstance(wrt, str):
        return _variable_named("explain", wrt, f)
    if isinstance(wrt, (np.ndarray, list, tuple)):
        raise DifferentiationError(f"explain: wrt must be a variable, its name, or an "
                                   f"intermediate of f (or a tuple of them), got {wrt!r}")
    return as_expr(wrt)


def _bind_sizes(order, sizes, values) -> dict:
    """Every named dimension's size: from ``sizes``, else from the shape of a value, else 3."""
    bound = dict(sizes or {})
    from_values: dict = {}
    for v in order:
        if not isinstance(v, Var) or v.name not in (values or {}):
            continue
        shape = np.shape(values[v.name])
        if len(shape) != v.ndim:
            raise ShapeError(f"explain: values[{v.name!r}] has shape {shape}, but {v.name} has "
                             f"{v.ndim} {'axis' if v.ndim == 1 else 'axes'}: {_shape(v.shape)}")
        for d, n in zip(v.shape, shape):
            known = bound.get(d) if isinstance(d, str) else d
            if known is not None and known != n:
                source = "sizes" if isinstance(d, str) and d in (sizes or {}) and d not in \
                    from_values else "its shape" if isinstance(d, int) else from_values[d]
                raise ShapeError(f"explain: values[{v.name!r}] has shape {shape}, but dimension "
                                 f"{d} is {known} (from {source})")
            if isinstance(d, str) and d not in bound:
                bound[d], from_values[d] = n, f"values[{v.name!r}]"
    for n in order:
        for d in n.shape:
            if isinstance(d, str):
                bound.setdefault(d, 3)
    return bound
