"""Stages, symbols and names of an explanation, and the flat products (the chain rule's
contraction and its δ's) whose text the steps show."""

from __future__ import annotations

from typing import Optional

from ..calculus.simplify import simplify
from ..expression.nodes import Const, Contraction, Delta, Elementwise, Expr, Operation, Sum
from ..notation.printers import matrix_notation
from ..notation.printers.matrix_form import matrix_form
from ..notation.printers.records import IndexForm
from ..notation.printing import index_notation


LETTERS = "ijklmnpqrstuvwxyzabcdefgh"


# ---------------------------------------------------------------------------
# Stages, symbols and names


def _auto_stages(order, f, is_target, depends, parents) -> list:
    """The nodes worth a line of their own: function arguments and values, matrix products
    (not one only a bias is added to), and nodes used twice, but never a packed factorization
    (read by each of its outputs, it has no derivative of its own)."""
    chosen = []
    for node in order:
        if id(node) not in depends or id(node) in is_target or node is f:
            continue
        if isinstance(node, Operation) and node.name.endswith("_factor"):
            continue  # a packed factorization (svd, eigh, qr, lu): its outputs are the stages
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
