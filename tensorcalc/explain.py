"""``tc.explain(f, wrt)``: a derivative, step by step, from the engine's own objects.

>>> import tensorcalc as tc
>>> W, a, g = tc.var("W", (3, 3)), tc.var("a", (3,)), tc.var("g", (3,))
>>> e = tc.explain(tc.sum(g * (W @ a)), W)
>>> [step.kind for step in e.steps if step.level <= 2]
['forward', 'forward', 'local', 'local', 'chain', 'delta', 'result', 'jacobian', 'cost']
>>> local = e.of_kind("local")[1]
>>> local.index, local.shape, local.entries, local.nonzeros
('∂b_i/∂W_jk = δ_ij a_k', (3, 3, 3), 27, 9)
>>> e.of_kind("delta")[0].renamed
{'i': 'j'}
>>> result = e.of_kind("result")[0]
>>> result.index, result.matrix, result.shape
('∂L/∂W_jk = g_j a_k', 'g aᵀ', (3, 3))
>>> len(e.text(level=1).splitlines())  # forward, forward, result, cost
4

The forward expression is cut into *stages* (named by ``names=``, else chosen:
function arguments and values, matrix products, shared nodes), each written
over the symbols of the stages below it.  Then one reverse sweep over the
stages: each stage's local generalized Jacobian (``tc.jacobian`` of its
definition with respect to a variable standing for the stage below), its
contraction with the incoming gradient, the δ's that contraction eliminates
(re-run here on the flattened product, recording what each renames), and the
result, checked against ``wrt``'s shape.  Costs come from the programs'
plans.  Every record is a plain :class:`Step`; the text and markdown views
print them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from .expression.construct import as_expr
from .calculus.differentiate import (DEFAULT_MEMORY_LIMIT, grad, grad_wrt_intermediate, jacobian,
                                     substitute as _substitute, vjp)
from .errors import DifferentiationError, ShapeError
from .expression.nodes import Const, Contraction, Delta, Elementwise, Expr, Sum, Var, postorder, transform
from .notation.printers import matrix_notation
from .notation.printers.matrix_form import matrix_form
from .notation.printers.records import IndexForm
from .notation.printing import index_notation
from .calculus.simplify import constant_value, simplify

LETTERS = "ijklmnpqrstuvwxyzabcdefgh"
STAGE_NAMES = "bcehpqrsuvw"  # automatic stage names, then t1, t2, …
SMALL = 40  # nodes: every node's incoming gradient is computed (level 3) up to this many
COUNT_LIMIT = 1 << 20  # entries: local Jacobians up to this size are evaluated to count non-zeros


@dataclass(frozen=True, eq=False)
class Step:
    """One record of an explanation; ``kind`` is "forward", "local", "chain", "delta",
    "incoming", "result", "jacobian", "vjp" or "cost"; the text views show ``level`` ≤ theirs."""

    kind: str
    name: str  # the quantity: "b", "∂b/∂W", "∂L/∂W"
    expr: Optional[Expr]  # over the explanation's symbols (stages, incoming gradients dz…)
    index: str
    matrix: Optional[str]
    shape: tuple
    level: int = 2
    value: Optional[Expr] = None  # the same in the original variables, where computed
    entries: Optional[int] = None
    nonzeros: Optional[int] = None
    counted: str = ""  # how nonzeros was counted
    evaluated: Optional[np.ndarray] = None  # local: its value at the given values= (else None)
    renamed: dict = field(default_factory=dict)  # index name → the name it became
    factors: tuple = ()  # jacobian: (rows, columns) of each local Jacobian, f down to wrt
    flops: Optional[int] = None
    naive_flops: Optional[int] = None
    peak_bytes: Optional[int] = None
    naive_bytes: Optional[int] = None
    largest: Optional[int] = None
    naive_largest: Optional[int] = None
    note: str = ""


class Explanation:
    """The steps of :func:`explain`; ``str()`` is the text view at ``level``, ``text(level)``
    any other, ``_repr_markdown_`` a table for notebooks."""

    def __init__(self, steps, f, wrt, result, symbols, expansions, level, sizes=None):
        self.steps, self.f, self.wrt, self.result = steps, f, wrt, result
        self.symbols, self._expansions, self.level = symbols, expansions, level
        self.sizes = dict(sizes or {})  # the named dimensions sizes= or values= bound

    def of_kind(self, kind: str) -> list:
        """The steps of one kind, in order."""
        return [s for s in self.steps if s.kind == kind]

    def expand(self, expr) -> Expr:
        """``expr`` with every symbol (stage ``b``, incoming gradient ``db``) replaced by its value."""
        return _substitute(as_expr(expr), self._expansions)

    def text(self, level: Optional[int] = None) -> str:
        shown = [s for s in self.steps if s.level <= (level or self.level)]
        mains = [s.index + (f"  =  {s.matrix}" if s.matrix else "") for s in shown]
        width = min(max((len(m) for m in mains), default=0), 52)
        lines = []
        for n, (s, main) in enumerate(zip(shown, mains), 1):
            head = f"{n:>2}. {_KIND_NAMES.get(s.kind, s.kind):<9} "
            if len(main) > width:
                lines += [head + main, " " * (len(head) + width + 2) + _detail(s, self.sizes)]
            else:
                lines.append(head + main.ljust(width) + "  " + _detail(s, self.sizes))
        return "\n".join(line.rstrip() for line in lines)

    def __str__(self):
        return self.text()

    def __repr__(self):
        return f"<Explanation of {self.result_name}: {len(self.steps)} steps>"

    @property
    def result_name(self) -> str:
        return ", ".join(s.name for s in self.steps if s.kind == "result") or "?"

    def _repr_markdown_(self, level: Optional[int] = None) -> str:
        rows = ["| # | step | index form | matrix form | detail |", "|---|---|---|---|---|"]
        shown = [s for s in self.steps if s.level <= (level or self.level)]
        for n, s in enumerate(shown, 1):
            cells = [str(n), _KIND_NAMES.get(s.kind, s.kind), f"`{s.index}`",
                     f"`{s.matrix}`" if s.matrix else "", _detail(s, self.sizes)]
            rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        return "\n".join(rows)


_KIND_NAMES = {"delta": "δ"}


def _detail(s: Step, sizes=None) -> str:
    shape = _shape(s.shape, sizes)
    if s.kind in ("forward", "result", "incoming", "vjp") or s.kind == "local" and s.entries is None:
        return f"shape {shape}" + (f" {s.note}" if s.note.startswith("=") else
                                   f"; {s.note}" if s.note else "")
    if s.kind == "local":
        count = f", {s.nonzeros} non-zero" if s.nonzeros is not None else ""
        return f"shape {shape}: {_count(s.entries, 'entry', 'entries')}{count}" + \
            (f"; {s.note}" if s.note else "")
    return s.note


def _shape(shape, sizes=None) -> str:
    """``(n, m)``, ``(n,)``, ``()`` as the command line prints shapes; with ``sizes``, the
    named dimensions they bind as numbers.

    >>> _shape(("n", 3)), _shape(("n",)), _shape(()), _shape(("n", "m"), {"n": 200})
    ('(n, 3)', '(n,)', '()', '(200, m)')
    """
    parts = [str((sizes or {}).get(d, d)) for d in shape]
    return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


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
            local = transform([local], lambda n, k: prettify.get(id(n)) or _rebuilt(n, k))[0]
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
        from .calculus.differentiate import _variable_named

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


# ---------------------------------------------------------------------------
# Stages, symbols and names


def _auto_stages(order, f, is_target, depends, parents) -> list:
    """The nodes worth a line of their own: function arguments and values, matrix products
    (not one only a bias is added to), and nodes used twice."""
    chosen = []
    for node in order:
        if id(node) not in depends or id(node) in is_target or node is f:
            continue
        users = parents.get(id(node), [])
        if len(users) > 1 or isinstance(node, Elementwise) or \
                any(isinstance(u, Elementwise) for u in users) or \
                (_is_matrix_product(node) and not all(isinstance(u, Sum) for u in users)):
            chosen.append(id(node))
    return chosen


def _is_matrix_product(node) -> bool:
    if not isinstance(node, Contraction):
        return False
    real = [ix for op, ix in zip(node.operands, node.indices)
            if not isinstance(op, Delta) and not (isinstance(op, Const) and op.value.ndim == 0)]
    carried = {label for ix in real for label in ix}
    return len(real) >= 2 and bool(carried - set(node.output))


class _Namer:
    """Index names i, j, k, … handed out once each (printing's namer interface: ``fresh``,
    ``bound``), so factors printed one by one never reuse an outer index's name."""

    def __init__(self):
        self.count, self.bound = 0, {}

    def fresh(self) -> str:
        n, self.count = self.count, self.count + 1
        return LETTERS[n] if n < len(LETTERS) else f"{LETTERS[n % len(LETTERS)]}{n // len(LETTERS)}"


def _names_for(node, extra):
    namer = _Namer()
    return [namer.fresh() for _ in node.shape], [namer.fresh() for _ in extra], namer


def _sub(names) -> str:
    names = list(names)
    if not names:
        return ""
    return "_" + ("".join(names) if all(len(n) == 1 for n in names) else "{" + ",".join(names) + "}")


def _matrix(expr) -> Optional[str]:
    return None if isinstance(matrix_form(expr), IndexForm) else matrix_notation(expr)


def _rebuilt(node, children):
    return node if all(a is b for a, b in zip(children, node.children)) else node.rebuild(children)


def _sum(terms) -> Expr:
    return simplify(terms[0] if len(terms) == 1 else Sum(terms))


def _zeros(shape) -> Expr:
    return Contraction((Const(0.0),), ((),), range(len(shape)), dict(enumerate(shape)))


# ---------------------------------------------------------------------------
# Flat products: the chain rule's contraction, its δ's, and their text


class _Product:
    """``coefficient · Σ_summed Π factors`` over integer labels, each label with a size and a name."""

    def __init__(self, factors, output, sizes, names, coefficient=1.0):
        self.factors, self.output, self.sizes = list(factors), list(output), dict(sizes)
        self.names, self.coefficient = names, coefficient

    def flatten(self, expr, labels, namer):
        """Append ``expr`` (its axes on ``labels``) as factors, opening nested contractions."""
        if isinstance(expr, Const) and expr.value.ndim == 0:
            self.coefficient *= float(expr.value[()])
        elif isinstance(expr, Contraction):
            rename = dict(zip(expr.output, labels))
            for label, dim in enumerate(expr.sizes):
                if label not in rename:
                    rename[label] = new = max(self.sizes, default=-1) + 1
                    self.sizes[new], self.names[new] = dim, namer.fresh()
            for op, ix in zip(expr.operands, expr.indices):
                self.flatten(op, [rename[label] for label in ix], namer)
        else:
            self.factors.append((expr, list(labels)))
        return self

    def eliminate_deltas(self) -> dict:
        """Simplify's rule: a δ with a summed index renames it to the other index, and goes."""
        renamed = {}
        changed = True
        while changed:
            changed = False
            for position, (op, ix) in enumerate(self.factors):
                if not isinstance(op, Delta) or (ix[0] in self.output and ix[1] in self.output
                                                 and ix[0] != ix[1]):
                    continue
                a, b = ix
                del self.factors[position]
                if a != b:
                    old, new = (b, a) if b not in self.output else (a, b)
                    self.factors = [(f, [new if l == old else l for l in ix]) for f, ix in self.factors]
                    self.output = [new if l == old else l for l in self.output]
                    del self.sizes[old]
                    renamed[self.names[old]] = self.names[new]
                changed = True
                break
        return renamed

    def expr(self) -> Expr:
        ops = [f for f, _ in self.factors]
        ixs = [tuple(ix) for _, ix in self.factors]
        if self.coefficient != 1.0:
            ops, ixs = [Const(self.coefficient)] + ops, [()] + ixs
        return Contraction(ops, ixs, self.output, self.sizes)

    def text(self, namer) -> str:
        carried = [l for _, ix in self.factors for l in ix]
        parts = []
        for op, ix in self.factors:
            part = index_notation(op, [self.names[l] for l in ix], namer)
            parts.append(f"({part})" if isinstance(op, Sum) or isinstance(op, Contraction) and " " in part
                         else part)
        parts += ["𝟙" + _sub([self.names[l]]) for l in self.output if l not in carried]
        parts += [str(d) for l, d in self.sizes.items() if l not in self.output and l not in carried]
        body = " ".join(parts)
        if not body:  # a constant
            body = f"{self.coefficient:g}"
        elif self.coefficient == -1.0:
            body = "-" + body
        elif self.coefficient != 1.0:
            body = f"{self.coefficient:g} {body}"
        summed = list(dict.fromkeys(l for l in carried if l not in self.output))
        return (f"Σ{_sub(self.names[l] for l in summed)} " if summed else "") + body


def _text(expr, names, namer) -> str:
    """``expr`` (its axes named ``names``) as flat products, term by term."""
    terms = expr.terms if isinstance(expr, Sum) else [expr]
    parts = []
    for n, term in enumerate(terms):
        product = _Product([], range(len(names)), dict(enumerate(term.shape)), dict(enumerate(names)))
        text = product.flatten(term, list(range(len(names))), namer).text(namer)
        parts.append((" - " + text[1:] if text.startswith("-") else " + " + text) if n else text)
    return "".join(parts)


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
    from .evaluation.evaluate import evaluate

    def concrete(node, children):
        if isinstance(node, Var):
            return Var(node.name, tuple(bound.get(d, d) for d in node.shape))
        if isinstance(node, Delta):
            return Delta(bound.get(node.dim, node.dim))
        if isinstance(node, Contraction):
            return Contraction(children, node.indices, node.output,
                               {l: bound.get(d, d) for l, d in enumerate(node.sizes)})
        return _rebuilt(node, children)

    return evaluate(transform([expr], concrete)[0] if bound else expr, values)


def _cost_steps(f, target, result, stand_in, bound, used) -> list:
    """Contracted vs naive (materialized Jacobians) from the programs' plans at ``bound``."""
    from .evaluation.evaluate import compile as compile_program

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
