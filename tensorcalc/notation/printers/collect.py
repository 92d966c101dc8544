"""Display-only collections of a finished matrix form, each kept only where it prints shorter.

>>> from tensorcalc.notation.printers.records import Symbol, add, matmul, transpose
>>> from tensorcalc.notation.printers.spell import UNICODE
>>> A, X = Symbol("A", (3, 3)), Symbol("X", (3, 3))
>>> UNICODE(collected(add(matmul(transpose(A), transpose(X)), matmul(transpose(X), transpose(A)))))
'(XA + AX)ᵀ'

Three exact identities, applied bottom-up once the reader is done (they change what is
printed, never what is evaluated):

* powers of one square matrix in a chain add up: ``XᵀXᵀ(X³)⁻ᵀ = X⁻ᵀ``, ``(X⁻¹)⁻¹ = X``, with
  ``cofactor(M) = det(M) M⁻ᵀ`` and ``(AXB)⁻¹ = B⁻¹X⁻¹A⁻¹`` for square ``A, X, B`` opened up
  when that lets factors cancel (so ``Aᵀ cofactor(AXB) Bᵀ`` reads ``det(AXB) X⁻ᵀ``); an inverse
  that was printed exists, and then so do these;
* transposes collect: ``DᵀCᵀBᵀ = (BCD)ᵀ`` (a chain of three or more), ``AᵀXᵀ + XᵀAᵀ = (XA + AX)ᵀ``;
* a factor every term of a sum shares comes out: ``Xcbᵀ + Xbcᵀ = X(cbᵀ + bcᵀ)``.

"Shorter" is :func:`cost`, a count of the printed symbols.
"""

from __future__ import annotations

from .records import (Add, Identity, MatMul, MatrixOp, Power, Record, Scale, Times, Transpose,
                      add, is_symmetric, matmul, scale, times, transpose)
from .records import _split_scalars as split_scalars


def collected(record: Record) -> Record:
    """``record`` with the collections above applied wherever they print shorter."""
    memo: dict = {}
    costs: dict = {}
    stack = [(record, False)]
    while stack:  # children before parents, each record once
        node, ready = stack.pop()
        if id(node) in memo:
            continue
        if ready:
            memo[id(node)] = _collect(_tidied(node, [memo[id(c)] for c in node.children]), costs)
        else:
            stack.append((node, True))
            stack.extend((child, False) for child in node.children if id(child) not in memo)
    return memo[id(record)]


def _tidied(node: Record, children: list) -> Record:
    """``node`` over its collected children, rebuilt by the constructors (``s + s = 2s``)."""
    if all(new is old for new, old in zip(children, node.children)):
        return node
    if isinstance(node, Add):
        return add(*children)
    if isinstance(node, MatMul):
        return matmul(*children)
    return rebuilt(node, children)


def _collect(node: Record, costs: dict) -> Record:
    if isinstance(node, MatMul) or (isinstance(node, MatrixOp) and node.name == "inv"):
        node = _shortest(node, [_powers_merged(node)], costs)
        node = _shortest(node, [_transposed_chain(node)], costs)
    if isinstance(node, Add):
        node = _shortest(node, [_transposed_sum(node), _factored_out(node)], costs)
    return node


def _shortest(node, candidates, costs):
    best = node
    for candidate in candidates:
        if candidate is not None and cost(candidate, costs) < cost(best, costs):
            best = candidate
    return best


# ---------------------------------------------------------------------------
# Printed length


def cost(record: Record, costs: dict | None = None) -> int:
    """About how many symbols ``record`` prints as (``X⁻ᵀ`` is two, ``Aᵀ`` two, ``X³`` two)."""
    costs = {} if costs is None else costs
    found = costs.get(record)  # keyed by the record, which stays alive: an id could be reused
    if found is None:
        found = costs[record] = _cost(record, costs)
    return found


def _cost(record: Record, costs: dict) -> int:
    if isinstance(record, Transpose):
        inner = cost(record.arg, costs)
        free = is_symmetric(record.arg) or (isinstance(record.arg, MatrixOp)
                                            and record.arg.name in ("inv", "cofactor"))
        return inner if free else inner + 1
    if isinstance(record, MatMul):
        total, previous = 0, None
        for factor in record.factors:  # a run XX prints once, with an exponent
            total += 1 if factor is previous else cost(factor, costs)
            previous = factor
        return total
    if isinstance(record, Add):
        return sum(cost(t, costs) for t in record.terms) + len(record.terms) - 1
    if isinstance(record, Scale):
        return cost(record.arg, costs) + (0 if record.coefficient == 1 else 1)
    if isinstance(record, Times):
        return sum(cost(s, costs) for s in record.scalars) + cost(record.body, costs)
    if isinstance(record, MatrixOp) and record.name == "cofactor":  # det(M) M⁻ᵀ, a product
        return 2 * cost(record.args[0], costs) + 3
    return 1 + sum(cost(c, costs) for c in record.children)


# ---------------------------------------------------------------------------
# Powers of one matrix: a chain as (base, exponent, transposed) atoms


def _square(record: Record) -> bool:
    return len(record.shape) == 2 and record.shape[0] == record.shape[1]


def _atoms(record: Record, scalars: list) -> list:
    """``record`` as a list of ``[base, exponent, transposed]`` (exponent None: not a power of a
    square matrix), cofactors opened into ``scalars`` (``det(M)``) and ``M⁻ᵀ``."""
    if isinstance(record, Transpose):
        return _transposed(_atoms(record.arg, scalars))
    if isinstance(record, MatMul):
        return [atom for factor in record.factors for atom in _atoms(factor, scalars)]
    if isinstance(record, Power) and _square(record.arg):  # a run Aᵏ, (Aᵀ)ᵏ: one atom
        inner = _atoms(record.arg, scalars)
        if len(inner) == 1 and inner[0][1] is not None:
            base, exponent, flag = inner[0]
            return [[base, exponent * record.count, flag]]
        return [[record.arg, record.count, False]]
    if isinstance(record, MatrixOp) and record.name in ("inv", "cofactor") and _square(record.args[0]):
        inner = _atoms(record.args[0], [])
        if not all(exponent is not None for _, exponent, _ in inner):
            inner = [[record.args[0], 1, False]]
        inverse = [[base, -exponent, flag] for base, exponent, flag in reversed(inner)]
        if record.name == "inv":
            return inverse
        scalars.append(MatrixOp("det", record.args, None, ()))
        return _transposed(inverse)
    return [[record, 1 if _square(record) else None, False]]


def _transposed(atoms: list) -> list:
    return [[base, exponent, not flag and not is_symmetric(base)] for base, exponent, flag in reversed(atoms)]


def _powers_merged(chain: MatMul):
    """The chain with neighbouring powers of one matrix multiplied out."""
    scalars: list = []
    merged: list = []
    for base, exponent, flag in _atoms(chain, scalars):
        last = merged[-1] if merged else None
        if last is not None and exponent is not None and last[1] is not None \
                and last[0] is base and last[2] == flag:
            last[1] += exponent
            if last[1] == 0:
                merged.pop()
        else:
            merged.append([base, exponent, flag])
    factors = [_power(base, exponent, flag) for base, exponent, flag in merged]
    body = matmul(*[f for power in factors for f in power]) if factors else Identity(chain.shape[0])
    return times(scalars, body) if scalars else body


def _power(base: Record, exponent, flag: bool) -> list:
    factor = base if exponent is None or exponent > 0 else MatrixOp("inv", (base,), None, base.shape)
    factor = transpose(factor) if flag else factor
    return [factor if exponent is None or abs(exponent) == 1 else Power(factor, abs(exponent))]


# ---------------------------------------------------------------------------
# Transposes and common factors


def _transposed_chain(node: Record):
    """``DᵀCᵀBᵀ`` as ``(BCD)ᵀ``, scalars kept in front (a matrix only: a vector's transpose is a
    row; three factors or more: ``AᵀBᵀ`` reads as well as ``(BA)ᵀ``)."""
    coefficient, scalars, (chain,) = split_scalars([node])
    if not isinstance(chain, MatMul) or len(chain.shape) != 2 or len(chain.factors) < 3:
        return None
    inner = matmul(*(transpose(f) for f in reversed(chain.factors)))
    if not isinstance(inner, MatMul):
        return None
    return scale(coefficient, times(scalars, Transpose(inner)) if scalars else Transpose(inner))


def _transposed_sum(total: Add):
    """``AᵀXᵀ + XᵀAᵀ`` as ``(XA + AX)ᵀ``."""
    if len(total.shape) != 2:
        return None
    inner = add(*(transpose(t) for t in total.terms))
    return Transpose(inner) if isinstance(inner, Add) else None


def _factored_out(total: Add):
    """``XcbᵀS + XbcᵀS`` as ``X(cbᵀ + bcᵀ)S``: the factors every term begins or ends with."""
    terms = []
    for term in total.terms:
        coefficient, scalars, (body,) = split_scalars([term])
        chain = list(body.factors) if isinstance(body, MatMul) else [body]
        terms.append((coefficient, scalars, chain))
    shortest = min(len(chain) for _, _, chain in terms)
    first = 0
    while first < shortest - 1 and all(chain[first] is terms[0][2][first] for _, _, chain in terms):
        first += 1
    last = 0
    while first + last < shortest - 1 and all(chain[-1 - last] is terms[0][2][-1 - last]
                                              for _, _, chain in terms):
        last += 1
    if not first and not last:
        return None
    sign = -1 if all(not isinstance(c, complex) and c < 0 for c, _, _ in terms) else 1
    middles = [scale(sign * c, times(s, matmul(*chain[first:len(chain) - last]))) for c, s, chain in terms]
    chain = terms[0][2]
    return scale(sign, matmul(*chain[:first], add(*middles), *chain[len(chain) - last:]))


def rebuilt(node: Record, children: list) -> Record:
    """``node`` with its children replaced (the same kind of record)."""
    if all(new is old for new, old in zip(children, node.children)):
        return node
    if isinstance(node, Add):
        return Add(tuple(children))
    if hasattr(node, "factors"):  # MatMul, Hadamard
        return type(node)(tuple(children))
    if isinstance(node, Times):
        return Times(tuple(children[:-1]), children[-1])
    if isinstance(node, Scale):
        return Scale(node.coefficient, children[0])
    if isinstance(node, Power):
        return Power(children[0], node.count)
    if isinstance(node, MatrixOp):
        return MatrixOp(node.name, tuple(children), node.param, node.shape)
    if hasattr(node, "fn"):  # Func
        return type(node)(node.fn, children[0], node.param)
    return type(node)(children[0])

