"""How generated code writes a contraction: δ's merged into the einsum, each pairwise step
as ``@``, ``np.tensordot``, a broadcasting multiply or a two-operand ``np.einsum``, in the
order opt_einsum planned (a mixin of :class:`tensorcalc.evaluation.statements._Function`).
"""

from __future__ import annotations

import math
from typing import Optional

from ..errors import CodegenError
from ..expression.nodes import Contraction
from .kernels import kernel_for
from .recipe import scaled_operand
from .source_forms import (_INDEX_NAMES, ATOM, NEGATION, PRODUCT, _broadcast, _Code,
                           _number, _real, _transposed)


class _ContractionWriter:
    """The contraction steps of :class:`~tensorcalc.evaluation.statements._Function`."""

    def _contraction(self, node: Contraction) -> str:
        recipe = self.program.recipes[id(node)]
        terms, carried, unique, roots = _relabel(recipe)
        factor = self._factor(recipe)
        diagonal = len(set(roots)) != len(roots)
        if not recipe.operands:  # a number: a size, or a δ with both indices free
            name = self._name_for(node)
            value = _Code(factor or "1.0", PRODUCT)
            if diagonal:
                self._diagonal(node, name, value, "", unique, roots)
            else:
                self.lines.append(f"{name} = np.full({self._shape(node.shape)}, {value.text}, "
                                  f"dtype={self._dtype()})")
                self._set(node, _Code(name), name)
                self.zero_d_arrays.add(name)
            return name
        operands = [node.operands[p] for p in recipe.operands]
        codes = [self.code[id(op)] for op in operands]
        owners = [self.owner[id(op)] for op in operands]
        scale_result = False
        if factor is not None:  # scale the smallest operand, or the result (as the evaluator)
            smallest = scaled_operand(operands, [math.prod(self._planned(op.shape))
                                                 for op in operands],
                                      math.prod(self._planned(node.shape)))
            if smallest is not None:
                codes[smallest] = _scaled(factor, codes[smallest])
                owners[smallest] = None
            else:
                scale_result = True
        if len(operands) == 1 and len(carried) == 2 and terms[0] == carried[::-1] and \
                id(node) in self.read_entrywise:  # a matrix transposed for sums and functions
            result, owner = _Code(f"np.transpose_for_entrywise({codes[0].text})"), None
        else:
            result, owner = self._kernel(node, recipe, terms, codes, owners, carried)
        if scale_result:
            result, owner = _scaled(factor, result), None
        name = self._name_for(node)
        if diagonal and id(node) in self.onto_diagonal:  # its sum adds it in place
            self.lines.append(f"{name} = {result.text}")
            value = _broadcast(_Code(name), carried, unique, self.functional)
            self.deferred[id(node)] = (value.operand(PRODUCT + 1), roots + "->" + unique)
            self._set(node, _Code(name), name)
        elif diagonal:
            self._diagonal(node, name, result, carried, unique, roots)
        elif len(carried) != len(roots):  # a broadcast: a read-only view
            expanded = _broadcast(result, carried, roots, self.functional)
            self.lines.append(f"{name} = np.broadcast_to({expanded.text}, "
                              f"{self._shape(node.shape)})")
            self._set(node, _Code(name), ("read-only", name))
        else:
            self.lines.append(f"{name} = {result.text}")
            self._set(node, _Code(name), owner if owner is not None else name)
            if _zero_d_array(result, self.zero_d_arrays):
                self.zero_d_arrays.add(name)
        return name

    def _gram(self, picked: list, codes: list, result: str):
        """``Σ_m U_ijm U_klm`` of one array ``U`` whose summed indices come last: ``g @ g.T`` of
        its matrix view ``g`` (numpy runs it as one syrk, half a GEMM's FLOPs), or None."""
        if len(picked) != 2 or len(picked[0]) <= 2 or codes[0].text != codes[1].text or \
                not codes[0].text.isidentifier():  # (a matrix: x @ x.T is what @ writes already)
            return None
        (a, b), x = picked, codes[0].text
        summed = [c for c in a if c in b and c not in result]
        count = len(summed)
        if not summed or len(a) != len(b) or len(a) == count or len(set(a + b)) != 2 * len(a) - count \
                or list(a[-count:]) != summed or list(b[-count:]) != summed:
            return None
        matrix = self.names.temporary()
        inner = " * ".join(f"{x}.shape[{k}]" for k in range(len(a) - count, len(a)))
        self.lines.append(f"{matrix} = {x}.reshape(-1, {inner})  # one matrix view of {x}")
        kept = ", ".join(f"{x}.shape[{k}]" for k in range(len(a) - count))
        produced = a[:-count] + b[:-count]
        code = _Code(f"({matrix} @ {matrix}.T).reshape({kept}, {kept})")
        return _transposed(code, tuple(produced.index(c) for c in result), False)

    def _sum_onto_diagonal(self, node, name: str) -> None:
        """``dense + δ term``: the dense term's array (a copy, unless this sum is its only
        reader) with the δ term's values added onto its diagonal, in place."""
        (dense, _), (diagonal, coefficient) = sorted(
            self.program.sum_terms[id(node)][0], key=lambda pair: id(pair[0]) in self.deferred)
        code = self.code[id(dense)]
        owned = self.owner.get(id(dense)) == code.text and code.text.isidentifier() and \
            self.program.readers.get(id(dense)) == 1 and \
            not any(dense is output for output in self.program.outputs)
        value, einsum = self.deferred[id(diagonal)]
        dtype = f"np.result_type({code.text}, {value})"  # a wider δ term widens the sum
        self.lines.append(f"{name} = np.asarray({code.text}, dtype={dtype})" if owned else
                          f"{name} = np.array({code.text}, dtype={dtype})")
        operator = "-=" if _real(coefficient) < 0 else "+="
        magnitude = -coefficient if operator == "-=" else coefficient
        added = value if magnitude == 1 else f"{_number(magnitude)} * {value}"
        self.lines.append(f"np.einsum({einsum!r}, {name})[...] {operator} {added}"
                          "  # the δ term: onto the diagonal, in place")
        self._set(node, _Code(name), name)

    def _planned(self, shape) -> tuple:
        return tuple(d if isinstance(d, int) else self.plan_sizes[d] for d in shape)

    def _factor(self, recipe) -> Optional[str]:
        """The recipe's constant factor (sizes of indices nothing carries included), or None."""
        number = recipe.coefficient
        named = []
        for dim in recipe.scale_dims:
            if isinstance(dim, int):
                number = number * dim
            else:
                named.append(self.dims[dim])
        if number == 1 and not named:
            return None
        return " * ".join(([] if number == 1 else [_number(number)]) + named)

    def _diagonal(self, node, name, value: _Code, carried: str, unique: str, roots: str) -> None:
        """Write ``value`` onto the diagonal of a zero array (numpy cannot write ``i->ii``)."""
        if not carried:
            dtype = self._dtype()
        else:
            if not value.text.isidentifier():  # read twice below (its dtype, its values)
                temporary = self.names.temporary()
                self.lines.append(f"{temporary} = {value.text}")
                value = _Code(temporary)
            dtype = f"{value.text}.dtype"
            value = _broadcast(value, carried, unique, self.functional)
        if self.functional:  # no in-place writes: the backend's place_diagonal primitive
            if not carried:  # a number: a 0-d array of the working dtype
                value = _Code(f"np.full((), {value.text}, dtype={dtype})")
            self.lines.append(f"{name} = np.place_diagonal({value.text}, {roots!r}, {unique!r}, "
                              f"{self._shape(node.shape)})  # the δ: onto the diagonal")
            self._set(node, _Code(name), name)
            return
        self.lines.append(f"{name} = np.zeros({self._shape(node.shape)}, dtype={dtype})")
        self.lines.append(f"np.einsum({roots + '->' + unique!r}, {name})[...] = {value.text}"
                          "  # the δ: onto the diagonal")
        self._set(node, _Code(name), name)

    def _kernel(self, node, recipe, terms, codes, owners, output: str) -> tuple:
        """The einsum along opt_einsum's path: ``(code of the result, owner if a view)``."""
        shapes = [self._planned(node.operands[p].shape) for p in recipe.operands]
        kernel = kernel_for(recipe.equation, shapes)
        path = kernel.info.path if kernel.info is not None else [(0,)]
        terms, codes, owners = list(terms), list(codes), list(owners)
        done: dict = {}  # a step's operands and pattern -> its temporary: U_imj and U_kml once
        for n, positions in enumerate(path):
            picked = [terms[p] for p in positions]
            picked_codes = [codes[p] for p in positions]
            picked_owners = [owners[p] for p in positions]
            for p in sorted(positions, reverse=True):
                del terms[p], codes[p], owners[p]
            last = n == len(path) - 1
            if last:
                result = output
            else:
                keep = set(output) | set("".join(terms))
                kept = "".join(dict.fromkeys(c for t in picked for c in t if c in keep))
                # the indices a later step sums over last, so that a product of this
                # temporary with itself reads it as one matrix (a syrk), where that
                # transposes no operand (U_ijm = t_im X_jm, not t_im X_jm as U_imj)
                last_summed = "".join([c for c in kept if c in output] + [c for c in kept if c not in output])
                result = last_summed if all(_in_order(t, last_summed) for t in picked) else kept
                key = (tuple(code.text for code in picked_codes), _pattern(picked + [result]))
                if key in done and not self.functional:
                    terms.append(result)
                    codes.append(done[key])
                    owners.append(None)
                    continue
            gram = None if self.functional else self._gram(picked, picked_codes, result)
            if gram is not None:
                code, owner = gram, None
            elif len(picked) == 1:
                code, is_view = _unary(picked_codes[0], picked[0], result, self.functional)
                owner = picked_owners[0] if is_view else None
            else:
                code, owner = _pairwise(picked, picked_codes, result, self.functional,
                                        self.free_transposes), None
            if not last:
                temporary = self.names.temporary()
                formula = _formula(picked_codes, picked, result)
                self.lines.append(f"{temporary} = {code.text}  # {temporary}_{result} = {formula}"
                                  if result else f"{temporary} = {code.text}  # {formula}")
                if _zero_d_array(code, self.zero_d_arrays):
                    self.zero_d_arrays.add(temporary)
                code = _Code(temporary)
                done[key] = code
            terms.append(result)
            codes.append(code)
            owners.append(owner)
        return codes[-1], owners[-1]


def _in_order(term: str, result: str) -> bool:
    """Whether ``term``'s indices that ``result`` has come in ``result`` in ``term``'s order."""
    positions = [result.index(c) for c in term if c in result]
    return positions == sorted(positions)


def _pattern(terms: list) -> tuple:
    """``terms`` with their letters renamed in order of appearance: equal for two steps that
    are one product up to the names of its indices."""
    names: dict = {}
    return tuple("".join(names.setdefault(c, _INDEX_NAMES[len(names) % len(_INDEX_NAMES)])
                         for c in term) for term in terms)


def _zero_d_array(code: _Code, zero_d_arrays: set) -> bool:
    """Whether a 0-d result's ``code`` may be a 0-d array rather than a numpy scalar: a
    ``tensordot`` (numpy's ufuncs, sums, ``@``, ``dot`` and ``einsum`` give scalars), or a
    local already known to be one."""
    return code.text.startswith("np.tensordot(") or code.text in zero_d_arrays


def _formula(codes: list, terms: list, result: str) -> str:
    """A pairwise step in index notation: ``Σ_k X_kj`` (Σ written out for a naked sum)."""
    text = " ".join(code.atom() + (f"_{term}" if term else "") for code, term in zip(codes, terms))
    letters = "".join(terms)
    naked = "".join(c for c in dict.fromkeys(letters) if c not in result and letters.count(c) == 1)
    return f"Σ_{naked} {text}" if naked else text


def _scaled(factor: str, code: _Code) -> _Code:
    if factor == "-1.0":
        return _Code(f"-{code.operand(NEGATION)}", NEGATION)
    return _Code(f"{factor} * {code.operand(PRODUCT + 1)}", PRODUCT)


def _relabel(recipe) -> tuple:
    """The recipe's einsum in letters that read like the printer's: output axis ``n`` is the
    ``n``-th of i, j, k, … (a δ's second axis takes its first axis's letter), summed indices
    follow.  ``(operand terms, einsum output, output axes without repeats, output axes)``."""
    inputs, output = recipe.equation.split("->")
    ndim = len(recipe.output_roots)
    spare = iter(_INDEX_NAMES[ndim:])
    letters: dict = {}

    def key(r):  # a carried output index is a letter of the einsum; the others are not
        if r in recipe.unique_output:
            return output[recipe.unique_output.index(r)]
        return r

    for axis, r in enumerate(recipe.output_roots):
        letters.setdefault(key(r), _INDEX_NAMES[axis] if axis < len(_INDEX_NAMES) else None)

    def letter(k):
        if k not in letters:
            letters[k] = next(spare, None)
        if letters[k] is None:
            raise CodegenError(f"codegen: a contraction has more than {len(_INDEX_NAMES)} "
                               "indices, more than np.einsum can name")
        return letters[k]

    roots = "".join(letter(key(r)) for r in recipe.output_roots)
    unique = "".join(letter(key(r)) for r in dict.fromkeys(recipe.output_roots))
    terms = ["".join(letter(c) for c in term)
             for term in (inputs.split(",") if recipe.operands else [])]
    carried = "".join(letter(c) for c in output)
    return terms, carried, unique, roots


def _unary(code: _Code, term: str, result: str, functional: bool = False) -> tuple:
    """One operand: ``(code, is a view)`` for a diagonal, a sum over axes or a transpose."""
    if term == result:
        return code, True
    if len(set(term)) != len(term):
        if len(term) == 2 and not result:
            return _Code(f"np.trace({code.text})"), False
        summing = set(term) - set(result)
        return _Code(f"np.einsum({term + '->' + result!r}, {code.text})"), not summing
    summed = tuple(n for n, c in enumerate(term) if c not in result)
    kept = "".join(c for c in term if c in result)
    if summed:
        axis = "" if len(summed) == len(term) else \
            f"axis={summed[0]}" if len(summed) == 1 else f"axis={summed}"
        if functional:
            code = _Code(f"np.sum({code.text}{', ' + axis if axis else ''})")
        else:
            code = _Code(f"{code.atom()}.sum({axis})")
    return _transposed(code, tuple(kept.index(c) for c in result), functional), not summed


def _pairwise(terms: list, codes: list, result: str, functional: bool = False,
              free_transposes: bool = False) -> _Code:
    """Two operands: ``@``, ``np.tensordot``, a broadcasting multiply, or ``np.einsum``."""
    (a, b), (x, y) = terms, codes
    if len(set(a)) != len(a) or len(set(b)) != len(b):
        return _Code(f"np.einsum({a + ',' + b + '->' + result!r}, {x.text}, {y.text})")
    # indices only one operand carries and the result drops: sum them first
    a_kept = "".join(c for c in a if c in b or c in result)
    b_kept = "".join(c for c in b if c in a or c in result)
    if a_kept != a:
        x, _ = _unary(x, a, a_kept, functional)
        a = a_kept
    if b_kept != b:
        y, _ = _unary(y, b, b_kept, functional)
        b = b_kept
    summed = [c for c in a if c in b and c not in result]
    if not summed:  # Hadamard, outer, scaling: one broadcasting multiply
        return _Code(f"{_broadcast(x, a, result, functional).operand(PRODUCT)} * "
                     f"{_broadcast(y, b, result, functional).operand(PRODUCT + 1)}", PRODUCT)
    batch = [c for c in result if c in a and c in b]
    only_a = [c for c in a if c not in b]
    only_b = [c for c in b if c not in a]
    if len(summed) == 1 and len(only_a) <= 1 and len(only_b) <= 1 and \
            (not batch or (only_a and only_b)):
        order = "".join(batch) + "".join(only_a) + "".join(only_b)
        if order != result:  # (AB)ᵀ = BᵀAᵀ: put the operand whose index comes first on the left
            (a, x, only_a), (b, y, only_b) = (b, y, only_b), (a, x, only_a)
            order = "".join(batch) + "".join(only_a) + "".join(only_b)
        if order == result:
            left = _transposed(x, tuple(a.index(c) for c in batch + only_a + summed), functional)
            right = _transposed(y, tuple(b.index(c) for c in batch + summed + only_b), functional)
            if not functional or free_transposes or (left is x and right is y):
                return _Code(f"{left.operand(PRODUCT)} @ {right.operand(PRODUCT + 1)}", PRODUCT)
    if functional and not free_transposes:  # einsum: one dot_general; a transpose: a copy
        return _Code(f"np.einsum({a + ',' + b + '->' + result!r}, {x.text}, {y.text})")
    if not batch and not only_a and not only_b and a == b and len(a) > 1:
        # a full contraction of two same-ordered arrays: one BLAS dot (tensordot's Python
        # set-up costs several microseconds, which is all the time a small step takes)
        return _Code(f"np.dot({x.operand(ATOM)}.ravel(), {y.operand(ATOM)}.ravel())")
    if not batch:
        axes = ([a.index(c) for c in summed], [b.index(c) for c in summed])
        produced = only_a + only_b
        if axes[0] == list(range(len(a) - len(summed), len(a))) and \
                axes[1] == list(range(len(summed))):
            call = _Code(f"np.tensordot({x.text}, {y.text}, axes={len(summed)})")
        else:
            call = _Code(f"np.tensordot({x.text}, {y.text}, axes=({axes[0]}, {axes[1]}))")
        return _transposed(call, tuple(produced.index(c) for c in result), functional)
    return _Code(f"np.einsum({a + ',' + b + '->' + result!r}, {x.text}, {y.text})")
