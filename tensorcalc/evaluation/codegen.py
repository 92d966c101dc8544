"""Generated code: a compiled program written out as a standalone numpy module.

>>> import numpy as np, tensorcalc as tc
>>> x, A = tc.var("x", ("n",)), tc.var("A", ("n", "n"))
>>> f = x @ A @ x
>>> source = tc.codegen([f, tc.grad(f, x)], name="quadratic")
>>> namespace = {}
>>> exec(source, namespace)
>>> value, dx = namespace["quadratic"](x=np.ones(2), A=np.eye(2))
>>> value, dx
(np.float64(2.0), array([2., 2.]))
>>> namespace["check_gradient"]() < 1e-6
True

:func:`codegen` returns the source of a module that imports only numpy: one
function taking the variables as keywords (called like :func:`tc.compile
<tensorcalc.compile>`'s program), with one statement per step of the compiled
program, the step's formula in a comment, and the contractions in the order
opt_einsum planned; a ``check_gradient`` that compares every derivative output
with central differences; and a ``__main__`` block running that check.

:func:`generate` is the core: a :class:`~tensorcalc.Program` in, the source of
one straight-line function out.  Contractions are written the way the
evaluator runs them: δ's merged into the einsum (a δ left with two free
indices is written onto a diagonal through a writeable ``np.einsum`` view, never
built dense), each pairwise step as ``@``, ``np.tensordot``, a broadcasting
multiply or a two-operand ``np.einsum``.  The contraction order is planned at
``sizes`` (named dimensions otherwise at the engine's representative size);
the code itself works for any sizes.  Elementwise rows become numpy
expressions from :data:`SOURCES`; a row without one (a user-registered
function) is refused with a :class:`CodegenError`.
"""

from __future__ import annotations

import keyword
import math
import textwrap
from typing import Optional

import numpy as np

from ..expression.construct import as_expr
from ..errors import CodegenError, TensorCalcError
from .evaluate import compile as compile_program
from ..expression.functions import FUNCTIONS
from .kernels import kernel_for
from .operation_sources import OPERATION_SOURCES
from ..expression.nodes import Const, Contraction, Delta, Elementwise, Operation, Sum, Var
from ..calculus.optimize import REPRESENTATIVE_SIZE
from ..notation.printing import index_notation


# ---------------------------------------------------------------------------
# The elementwise table's source forms: row name -> numpy source for an argument that is a name.


def _power(x: str, p) -> str:
    return f"{x} ** {_number(int(p) if float(p).is_integer() else p)}"


SOURCES = {
    "exp": lambda x, p: f"np.exp({x})",
    "log": lambda x, p: f"np.log({x})",
    "sin": lambda x, p: f"np.sin({x})",
    "cos": lambda x, p: f"np.cos({x})",
    "tanh": lambda x, p: f"np.tanh({x})",
    # e^min(x,0) / (1 + e^-|x|): never overflows, full precision in both tails
    "sigmoid": lambda x, p: f"np.exp(np.minimum({x}, 0.0)) / (1.0 + np.exp(-np.abs({x})))",
    "softplus": lambda x, p: f"np.maximum({x}, 0.0) + np.log1p(np.exp(-np.abs({x})))",
    "sqrt": lambda x, p: f"np.sqrt({x})",
    "relu": lambda x, p: f"np.maximum({x}, 0.0)",
    "abs": lambda x, p: f"np.abs({x})",
    "step": lambda x, p: f"np.heaviside({x}, 0.0)",
    "sign": lambda x, p: f"np.sign({x})",
    "log1p": lambda x, p: f"np.log1p({x})",
    "expm1": lambda x, p: f"np.expm1({x})",
    "tan": lambda x, p: f"np.tan({x})",
    "arcsin": lambda x, p: f"np.arcsin({x})",
    "arccos": lambda x, p: f"np.arccos({x})",
    "arctan": lambda x, p: f"np.arctan({x})",
    "sinh": lambda x, p: f"np.sinh({x})",
    "cosh": lambda x, p: f"np.cosh({x})",
    # vectorize makes a 0-d array of a scalar, and its otypes fix the dtype: [()] and result_type
    "erf": lambda x, p: f"np.vectorize(__import__('math').erf, "
                        f"otypes=[np.result_type({x}, 0.0)])({x})[()]",
    "pow": _power,
}

MAX_CONSTANT_SIZE = 64  # entries a constant array may have to be written out as a literal

# the module-level helper every generated function with checks calls
HELPERS = '''\
def _array(value, name, shape):
    """``value`` as an array of ``shape``'s number of axes and fixed sizes (integers become
    float64; float32 stays float32)."""
    array = np.asarray(value)
    if array.dtype.kind not in "fc":
        array = array.astype(np.float64)
    if array.ndim != len(shape):
        raise ValueError(f"variable {name!r} expects shape {shape} ({len(shape)} axes) but got "
                         f"an array of shape {array.shape}")
    for axis, (dim, size) in enumerate(zip(shape, array.shape)):
        if isinstance(dim, int) and dim != size:
            raise ValueError(f"variable {name!r} expects shape {shape}, got {array.shape}: "
                             f"axis {axis} has size {size}, not {dim}")
    return array
'''

_RESERVED = {"np", "float", "ValueError", "_array"}  # names generated bodies rely on
_INDEX_NAMES = "ijklmnpqrstuvwxyzabcdefgho" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # printing's order first
_COMMENT_WIDTH = 92


def _number(value) -> str:
    """A number as Python source (validated: never text from outside)."""
    if isinstance(value, (complex, np.complexfloating)):
        value = complex(value)
        if value.imag == 0:
            return _number(value.real)
        return f"complex({_number(value.real)}, {_number(value.imag)})"
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return str(int(value))
    value = float(value)
    if math.isnan(value):
        return "np.nan"
    if math.isinf(value):
        return "np.inf" if value > 0 else "-np.inf"
    return repr(value)


def _literal(array: np.ndarray) -> str:
    """A small constant array as an ``np.array([...])`` literal."""
    def nested(a):
        if a.ndim == 0:
            return _number(a[()])
        return "[" + ", ".join(nested(row) for row in a) + "]"
    return f"np.array({nested(np.asarray(array))})"


def _identifier(name: str, what: str) -> str:
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise CodegenError(f"codegen: {what} {name!r} is not a Python identifier a generated "
                           "function can use")
    return name


class _Names:
    """Hands out local names: never a keyword, a reserved name or one already taken."""

    def __init__(self, taken=()):
        self.taken = set(taken) | _RESERVED
        self.count = 0

    def claim(self, name: str) -> str:
        candidate, n = name, 1
        while candidate in self.taken or keyword.iskeyword(candidate) or \
                not candidate.isidentifier():
            n += 1
            candidate = f"{name}_{n}"
        self.taken.add(candidate)
        return candidate

    def temporary(self) -> str:
        while True:
            self.count += 1
            name = f"t{self.count}"
            if name not in self.taken:
                self.taken.add(name)
                return name


# ---------------------------------------------------------------------------
# Source fragments: text with its precedence, so composing never needs guesswork.

ATOM, POWER, NEGATION, PRODUCT, SUM = 5, 4, 3, 2, 1


class _Code:
    __slots__ = ("text", "level")

    def __init__(self, text: str, level: int = ATOM):
        self.text, self.level = text, level

    def atom(self) -> str:
        return self.text if self.level == ATOM else f"({self.text})"

    def operand(self, level: int) -> str:
        return self.text if self.level >= level else f"({self.text})"


def _transposed(code: _Code, permutation: tuple, functional: bool = False) -> _Code:
    if permutation == tuple(range(len(permutation))):
        return code
    if functional:  # a function call: every backend's namespace has transpose(x, axes)
        return _Code(f"np.transpose({code.text}, {permutation})")
    if permutation == (1, 0):
        return _Code(code.atom() + ".T")
    return _Code(f"{code.atom()}.transpose{permutation}")


def _broadcast(code: _Code, term: str, result: str, functional: bool = False) -> _Code:
    """``code`` (axes ``term``) viewed with axes in ``result`` order, size 1 where missing."""
    order = [c for c in result if c in term]
    code = _transposed(code, tuple(term.index(c) for c in order), functional)
    if not term:
        return code
    first = min(result.index(c) for c in term)
    index = [":" if c in term else "None" for c in result[first:]]
    while index and index[-1] == ":":
        index.pop()
    if not index:
        return code
    return _Code(f"{code.atom()}[{', '.join(index)}]")


# ---------------------------------------------------------------------------
# One function per program


class _Function:
    """Writes the body of one generated function, one statement per step of ``program``."""

    def __init__(self, program, name: str, sizes: dict, output_names, checks: bool,
                 accept=(), functional: bool = False, free_transposes: bool = False):
        self.program = program
        self.functional = functional
        self.free_transposes = free_transposes
        self.name = _identifier(name, "function name")
        if name in _RESERVED:
            raise CodegenError(f"codegen: the function cannot be named {name!r}, which the "
                               "generated module uses")
        self.checks = checks
        self.lines: list = []
        variables = list(program.variables.values())
        for variable in variables + list(program.optional):
            _identifier(variable.name, "variable name")
            if variable.name in _RESERVED:
                raise CodegenError(f"codegen: variable {variable.name!r} has a name the generated "
                                   "code uses for itself; rename the variable")
        self.names = _Names([v.name for v in variables] + [v.name for v in program.optional] +
                            list(accept) + (["_constants"] if functional else []))
        if functional and "_constants" in program.variables:
            raise CodegenError("codegen: variable '_constants' has a name the generated code uses "
                               "for itself; rename the variable")
        self.plan_sizes = {d: int(sizes.get(d, REPRESENTATIVE_SIZE)) for d in program.named_dims}
        self.dims: dict = {}  # dimension name -> local variable holding its size
        self.code: dict = {}  # id(node) -> _Code of its value
        self.owner: dict = {}  # id(node) -> what owns its memory: ("input", name) or a local name
        # locals that may hold a 0-d array where numpy would hand back a scalar (an input, a
        # tensordot, np.full): a scalar output read from one is returned as name[()]
        self.zero_d_arrays: set = set()
        self.dtype_name: Optional[str] = None
        self.tree_sizes: dict = {}  # id(node) -> its size as a tree, capped (for comments)
        self.required = self._required(variables)
        self.accept = [v.name for v in program.optional if v.name not in
                       {r.name for r in self.required}] + \
            [a for a in accept if a not in program.variables and
             a not in {v.name for v in program.optional}]
        self.output_names = list(output_names or _default_output_names(program))
        self.read_entrywise = _read_only_entrywise(program) if functional else set()

    # -- parameters and checks ------------------------------------------------------------

    def _required(self, variables: list) -> list:
        """The variables the function reads, and optional ones needed to bind a dimension."""
        required = list(variables)
        bound = {d for v in variables for d in v.shape if isinstance(d, str)}
        for variable in self.program.optional:
            dims = {d for d in variable.shape if isinstance(d, str)}
            if (dims & set(self.program.named_dims)) - bound:
                required.append(variable)
                bound |= dims
        return required

    def _bind(self) -> None:
        owners: dict = {}
        for variable in self.required:
            name = variable.name
            if self.checks:
                self.lines.append(f"{name} = _array({name}, {name!r}, {variable.shape!r})")
            new, checks = [], []
            for axis, dim in enumerate(variable.shape):
                if isinstance(dim, int):
                    continue
                size = f"{name}.shape[{axis}]"
                if dim in self.dims:
                    local = self.dims[dim]
                    checks += [f"if {size} != {local}:",
                               f"    raise ValueError(f\"dimension {dim!r} is {{{local}}} in variable "
                               f"{owners[dim]!r} \"",
                               f"                     f\"but {{{size}}} in variable {name!r}\")"]
                else:
                    self.dims[dim] = self.names.claim(dim)
                    owners[dim] = name
                    new.append((axis, self.dims[dim]))
            if new and [a for a, _ in new] == list(range(variable.ndim)):
                targets = ", ".join(local for _, local in new)
                self.lines.append(f"{targets} = {name}.shape" if variable.ndim > 1 else
                                  f"{targets}, = {name}.shape")
            else:
                self.lines.extend(f"{local} = {name}.shape[{axis}]" for axis, local in new)
            if self.checks:
                self.lines.extend(checks)

    def _dim(self, dim) -> str:
        return str(dim) if isinstance(dim, int) else self.dims[dim]

    def _shape(self, shape) -> str:
        parts = [self._dim(d) for d in shape]
        return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"

    def _dtype(self) -> str:
        """The working dtype (that of the inputs), for arrays made from nothing."""
        if self.dtype_name is None:
            self.dtype_name = self.names.claim("dtype")
            names = [v.name for v in self.required]
            self.preamble_dtype = f"{self.dtype_name} = " + (
                f"np.result_type({', '.join(names)})" if names else "np.float64")
        return self.dtype_name

    # -- the steps -------------------------------------------------------------------------

    def write(self) -> str:
        program = self.program
        self._bind()
        binding_lines, self.lines = self.lines, []
        needed = self._needed()
        for node in program.nodes:
            if id(node) not in needed:
                continue
            if isinstance(node, Var):
                self._set(node, _Code(node.name), ("input", node.name))
                if node.ndim == 0:
                    self.zero_d_arrays.add(node.name)
            elif isinstance(node, Const):
                self._constant(node)
            else:
                self._step(node)
        returned = self._return()
        parameters = [v.name for v in self.required] + [f"{a}=None" for a in self.accept]
        header = [f"def {self.name}({', '.join(['*'] + parameters) if parameters else ''}):"]
        body = [self._docstring()] + binding_lines
        if self.dtype_name is not None:
            body.append(self.preamble_dtype)
        body += self.lines + [returned]
        return "\n".join(header + [textwrap.indent(line, "    ") if line else "" for line in
                                   "\n".join(body).split("\n")]) + "\n"

    def _docstring(self) -> str:
        inputs = ", ".join(f"{v.name} {_shape_text(v.shape)}" for v in self.required)
        outputs = ", ".join(self.output_names)
        text = f"{outputs} from {inputs}." if inputs else f"{outputs}."
        if self.accept:
            text += f"  {', '.join(self.accept)}: accepted, as tc.compile's program does; not read."
        return '"""' + "\n".join(textwrap.wrap(text, 88)) + '"""'

    def _needed(self) -> set:
        """The nodes some output depends on, through the inputs the program's steps read."""
        program = self.program
        needed: set = set()
        pending = list(program.outputs)
        while pending:
            node = pending.pop()
            if id(node) in needed:
                continue
            needed.add(id(node))
            pending.extend(program.inputs.get(id(node), ()))
        return needed

    def _set(self, node, code: _Code, owner) -> None:
        """``owner``: the local that owns the value's memory, or a tuple (an input's, a
        read-only view's) when the caller may not be handed it as it is."""
        self.code[id(node)] = code
        self.owner[id(node)] = owner

    def _name_for(self, node) -> str:
        for n, output in enumerate(self.program.outputs):
            if output is node:
                return self.names.claim(self.output_names[n])
        return self.names.temporary()

    def _comment(self, name: str, node, at: Optional[int] = None) -> None:
        text = index_notation(self._printable(node)).replace("\n", " ")
        letters = _INDEX_NAMES[:node.ndim]
        target = name + (("_" + letters) if node.ndim else "")
        room = _COMMENT_WIDTH - len(target) - 5
        if len(text) > room:
            text = text[:room - 1] + "…"
        self.lines.insert(len(self.lines) if at is None else at, f"# {target} = {text}")

    def _printable(self, node):
        """``node`` itself when it prints short; else ``node`` over its inputs' local names
        (``tanh(t6_i)``), so that a long chain is not printed whole at every step."""
        if _tree_size(node, self.tree_sizes, _SHORT) < _SHORT:
            return node
        children = []
        for child in node.children:
            code = self.code.get(id(child))
            if isinstance(child, (Const, Delta, Var)) or code is None:
                children.append(child if isinstance(child, (Const, Delta, Var)) else
                                self._printable(child))
            else:
                children.append(Var(code.text, child.shape) if code.level == ATOM and
                                code.text.isidentifier() else child)
        return node.rebuild(children)

    def _constant(self, node: Const) -> None:
        value = node.value
        if value.ndim == 0:
            text = _number(value[()])
            self._set(node, _Code(text, ATOM if not text.startswith("-") else SUM), None)
            return
        if self.functional:  # the backend's own array, handed in through the globals
            name = self.names.claim("c")
            self.lines.append(f"{name} = _constants[{self.program.slot[id(node)]}]")
            self._set(node, _Code(name), name)
            return
        if value.size > MAX_CONSTANT_SIZE:
            raise CodegenError(f"codegen: a constant of shape {value.shape} ({value.size} entries) "
                               f"is too large to write out (at most {MAX_CONSTANT_SIZE}); pass it "
                               "as a variable instead")
        name = self.names.claim("c")
        self.lines.append(f"{name} = {_literal(value)}")
        self._set(node, _Code(name), name)

    def _step(self, node) -> None:
        if isinstance(node, Contraction):  # named after the temporaries of its pairwise steps
            at = len(self.lines)
            name = self._contraction(node)
            self._comment(name, node, at)
            return
        name = self._name_for(node)
        self._comment(name, node)
        if isinstance(node, Elementwise):
            source = SOURCES.get(node.fn)
            if source is None:
                raise CodegenError(f"codegen: function {node.fn!r} has no numpy source form "
                                   f"(rows with one: {', '.join(sorted(SOURCES))}); generated code "
                                   "cannot call a user-registered row")
            argument = self.code[id(node.arg)].atom()
            self.lines.append(f"{name} = {source(argument, node.param)}")
            self._set(node, _Code(name), name)
        elif isinstance(node, Sum):
            source = self._sum(node)
            self.lines.append(f"{name} = {source}")
            self._set(node, _Code(name), name)
            if source.startswith("np.full(") or source in self.zero_d_arrays:
                self.zero_d_arrays.add(name)
        elif isinstance(node, Delta):
            self.lines.append(f"{name} = np.eye({self._dim(node.dim)}, dtype={self._dtype()})")
            self._set(node, _Code(name), name)
        elif isinstance(node, Operation):  # a row of the operation table with a numpy form
            source = OPERATION_SOURCES.get(node.name)
            if source is None or (node.name == "solve" and node.operands[0].ndim != 2):
                raise CodegenError(f"codegen: the operation {node.name!r} (shape {node.shape}) "
                                   "has no numpy source form yet; evaluate it with tc.compile")
            codes = [self.code[id(op)].atom() for op in node.operands]
            self.lines.append(f"{name} = {source(codes, node.param)}")
            self._set(node, _Code(name), name)
            self.zero_d_arrays.add(name)  # a row's source may make a 0-d array
        else:  # a node type this writer does not know: refuse rather than miscompute
            raise CodegenError(f"codegen: cannot generate code for a {type(node).__name__} node "
                               f"({index_notation(node)})")

    def _sum(self, node: Sum) -> str:
        terms, constant = self.program.sum_terms[id(node)]
        if not terms:
            return f"np.full({self._shape(node.shape)}, {_number(constant)}, dtype={self._dtype()})"
        parts = []
        for term, coefficient in terms:
            code = self.code[id(term)]
            sign = "-" if _real(coefficient) < 0 else "+"
            magnitude = -coefficient if sign == "-" else coefficient
            text = code.operand(PRODUCT + 1) if magnitude != 1 else code.operand(SUM + 1)
            if magnitude != 1:
                text = f"{_number(magnitude)} * {text}"
            parts.append((sign, text))
        if constant and len(terms) == 1:  # 1 - t: the constant first reads better
            parts.insert(0, ("+", _number(constant)))
        elif constant:
            parts.append(("-" if _real(constant) < 0 else "+",
                          _number(-constant if _real(constant) < 0 else constant)))
        sign, text = parts[0]
        source = ("-" if sign == "-" else "") + text
        for sign, text in parts[1:]:
            source += f" {sign} {text}"
        return source

    # -- contractions ------------------------------------------------------------------------

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
            sizes = [math.prod(self._planned(op.shape)) for op in operands]
            smallest = min(range(len(operands)), key=sizes.__getitem__)
            if sizes[smallest] < math.prod(self._planned(node.shape)):
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
        if diagonal:
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
            if value.level != ATOM:
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
                result = "".join(dict.fromkeys(c for t in picked for c in t if c in keep))
            if len(picked) == 1:
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
            terms.append(result)
            codes.append(code)
            owners.append(owner)
        return codes[-1], owners[-1]

    # -- outputs -----------------------------------------------------------------------------

    def _scalar(self, output, code: _Code) -> str:
        """A 0-d output as a numpy scalar: a numeric constant in the working dtype (a weak
        number, as the evaluator casts it), a possible 0-d array indexed with ``[()]``."""
        if isinstance(output, Const):
            value = output.value[()]
            dtype = self._dtype()
            if isinstance(value, (complex, np.complexfloating)) and value.imag != 0:
                dtype = f"np.result_type({code.text}, {dtype})"
            return f"np.asarray({code.text}, dtype={dtype})[()]"
        if code.text in self.zero_d_arrays:
            return f"{code.atom()}[()]"
        return code.text

    def _return(self) -> str:
        returned_owners: list = []
        parts = []
        if self.functional:  # values as they are: the backend decides ownership and scalars
            parts = [f"np.full((), {self.code[id(output)].text}, dtype={self._dtype()})"
                     if isinstance(output, Const) and output.ndim == 0 else
                     self.code[id(output)].text for output in self.program.outputs]
            if self.program.single:
                return f"return {parts[0]}"
            return f"return {', '.join(parts)}" + ("," if len(parts) == 1 else "")
        for output in self.program.outputs:
            code = self.code[id(output)]
            owner = self.owner[id(output)]
            if output.ndim == 0:  # a numpy scalar of the working dtype, as the evaluator's
                parts.append(self._scalar(output, code))
                continue
            shared = owner is None or isinstance(owner, tuple) or owner in returned_owners
            parts.append(f"{code.atom()}.copy()" if shared else code.text)
            returned_owners.append(owner)
        if self.program.single:
            return f"return {parts[0]}"
        return f"return {', '.join(parts)}" + ("," if len(parts) == 1 else "")


_SHORT = 24  # nodes of a tree that prints short enough to print whole


def _zero_d_array(code: _Code, zero_d_arrays: set) -> bool:
    """Whether a 0-d result's ``code`` may be a 0-d array rather than a numpy scalar: a
    ``tensordot`` (numpy's ufuncs, sums, ``@``, ``dot`` and ``einsum`` give scalars), or a
    local already known to be one."""
    return code.text.startswith("np.tensordot(") or code.text in zero_d_arrays


def _read_only_entrywise(program) -> set:
    """``id`` of the nodes that only sums and elementwise functions read (no contraction, no
    operation, not an output): a backend may lay such a transpose out for entrywise reading
    (:meth:`tensorcalc.evaluation.backends.base.Namespace.transpose_for_entrywise`)."""
    readers: dict = {}
    for node in program.nodes:
        for child in node.children:
            readers.setdefault(id(child), []).append(node)
    outputs = {id(o) for o in program.outputs}
    return {key for key, nodes in readers.items() if key not in outputs and
            all(isinstance(n, (Sum, Elementwise)) for n in nodes)}


def _tree_size(node, memo: dict, cap: int) -> int:
    """The nodes of ``node`` as a tree (shared subexpressions counted each time), up to ``cap``."""
    size = memo.get(id(node))
    if size is None:
        size = 1
        for child in node.children:
            size += _tree_size(child, memo, cap)
            if size >= cap:
                break
        memo[id(node)] = size = min(size, cap)
    return size


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


def _real(value) -> float:
    return value.real if isinstance(value, complex) else value


def _shape_text(shape) -> str:
    parts = [str(d) for d in shape]
    return "()" if not parts else f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"


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


def _default_output_names(program) -> list:
    """``d<wrt>`` for a derivative, ``value`` (or ``value1``, …) for the rest."""
    pending = list(program.derivatives)
    names = []
    plain = sum(1 for _ in program.outputs) - len(pending)
    count = 0
    for output in program.outputs:
        if pending and as_expr(pending[0]) is output:
            names.append(_derivative_name(pending.pop(0)))
        else:
            count += 1
            names.append("value" if plain == 1 else f"value{count}")
    return names


def _derivative_name(item) -> str:
    wrt = getattr(item, "wrt", None)
    name = getattr(wrt, "name", None)
    return f"d{name}" if isinstance(name, str) else "derivative"


# ---------------------------------------------------------------------------
# Public entry points


def generate(program, name: str = "f", sizes: Optional[dict] = None, *, output_names=None,
             checks: bool = True, accept=(), functional: bool = False,
             free_transposes: bool = False) -> tuple:
    """``(source, function_name)``: one straight-line numpy function computing ``program``.

    >>> import numpy as np, tensorcalc as tc
    >>> from tensorcalc.evaluation.codegen import generate, load
    >>> W, a = tc.var("W", (2, 2)), tc.var("a", (2,))
    >>> source, name = generate(tc.compile(W @ a), "matvec")
    >>> print(source)
    def matvec(*, W, a):
        \"\"\"value from W (2, 2), a (2,).\"\"\"
        W = _array(W, 'W', (2, 2))
        a = _array(a, 'a', (2,))
        # value_i = W_ij a_j
        value = W @ a
        return value
    <BLANKLINE>
    >>> load(source, name)(W=np.eye(2), a=np.array([1.0, 2.0]))
    array([1., 2.])

    The function needs ``np`` and the helper ``_array`` (:data:`HELPERS`) in its
    globals; :func:`load` provides both.  ``checks=False`` leaves out the
    argument checks (for a caller that has bound the arguments already);
    ``accept`` adds keyword parameters that default to ``None`` and are not
    read.  ``sizes`` (names → ints) are the sizes the contraction order is
    planned for.

    ``functional=True`` writes code for an array namespace other than numpy's
    (see :mod:`tensorcalc.evaluation.backends`): ``np`` then names that namespace, nothing
    is written in place (a δ's diagonal goes through ``np.place_diagonal``),
    transposes and sums are function calls (``np.transpose``, ``np.sum``),
    array constants are read from the global ``_constants`` (node slot →
    array), and outputs are returned as they are (0-d arrays, no copies).  Products of two
    operands are then ``np.einsum`` calls (XLA makes one ``dot_general`` of each, where a
    transpose would be a copy), unless ``free_transposes`` says the library's transposes are
    views (torch): then, as for numpy, ``@`` and ``np.tensordot`` of transposed views, which
    skip einsum's parsing (20–40 µs a call in torch).
    """
    function = _Function(program, name, dict(sizes or {}), output_names, checks, accept,
                         functional, free_transposes)
    return function.write(), function.name


def load(source: str, function_name: str, namespace=None, constants=None):
    """The function that :func:`generate` wrote, compiled (with numpy and :data:`HELPERS`).

    ``namespace`` (a functional function's array namespace) and ``constants``
    (its ``_constants``) stand in for numpy in the function's globals.
    """
    namespace = {"np": np if namespace is None else namespace, "_constants": constants}
    exec(compile(HELPERS + "\n\n" + source, f"<tensorcalc.evaluation.codegen {function_name}>", "exec"),
         namespace)
    return namespace[function_name]


def codegen(outputs, name: str = "f_and_grad", sizes: Optional[dict] = None) -> str:
    """The source of a standalone module (numpy only) computing ``outputs``.

    >>> import tensorcalc as tc
    >>> x = tc.var("x", ("n",))
    >>> source = tc.codegen([tc.sum(tc.tanh(x)), tc.grad(tc.sum(tc.tanh(x)), x)], sizes={"n": 4})
    >>> print(source[source.index("def f_and_grad"):source.index("def forward")].strip())
    def f_and_grad(*, x):
        \"\"\"value, dx from x (n,).\"\"\"
        x = _array(x, 'x', ('n',))
        n, = x.shape
        # t1_i = tanh(x_i)
        t1 = np.tanh(x)
        # value = Σ_i tanh(x_i)
        value = t1.sum()
        # t2_i = tanh(x_i)²
        t2 = t1 ** 2
        # dx_i = 1 - tanh(x_i)²
        dx = 1.0 - t2
        return value, dx

    The module holds the function ``name`` (keyword arguments, as the program
    ``tc.compile(outputs)`` is called; a tuple for a list of outputs, scalars
    as numpy scalars of the inputs' dtype), a ``forward`` function per
    distinct function that a derivative output differentiates,
    ``check_gradient(seed=0)`` and a
    ``__main__`` block that runs the check and exits 1 when its error exceeds
    1e-6.  ``sizes`` plan the contraction order and size the check's data
    (named dimensions default to 3 there).
    """
    single = not isinstance(outputs, (list, tuple))
    items = [outputs] if single else list(outputs)
    program = compile_program(outputs)
    sizes = dict(sizes or {})
    names = _default_output_names(program)
    checked = [(n, item) for n, item in enumerate(items)
               if getattr(item, "of", None) is not None and getattr(item, "cotangent", None) is None]
    differentiated = list({id(as_expr(item.of)): item.of for _, item in checked}.values())
    forward_names = ["forward"] if len(differentiated) == 1 else \
        [f"forward{n + 1}" for n in range(len(differentiated))]
    if name in forward_names or name in ("sys", "check_gradient", "_projection_error",
                                         "_symmetric"):
        raise CodegenError(f"codegen: the function cannot be named {name!r}, which the "
                           "generated module uses")
    # id(f) -> (name, program) of each function some derivative output differentiates
    forward_programs = {id(as_expr(of)): (fname, compile_program(of))
                        for of, fname in zip(differentiated, forward_names)}
    all_programs = [program] + [p for _, p in forward_programs.values()]
    dims = sorted({d for p in all_programs for d in p.named_dims})
    unknown = sorted(set(sizes) - set(dims))
    if unknown:
        raise CodegenError(f"codegen: sizes names {unknown[0]!r}, which is no dimension of the "
                           f"expressions (they have {dims or 'none'})")
    for dim, size in sizes.items():
        if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size < 1:
            raise CodegenError(f"codegen: sizes[{dim!r}] is {size!r}, not a positive int")
    main_source, _ = generate(program, name, sizes, output_names=names)
    accepted = list(program.variables.values()) + list(program.optional)
    sources = [main_source]
    for fname, forward in forward_programs.values():
        extra = [v.name for v in accepted if v.name not in forward.variables and
                 v.name not in {o.name for o in forward.optional}]
        source, _ = generate(forward, fname, sizes, accept=extra)
        sources.append(source)
    header = _module_docstring(name, items, program, accepted, dims, checked)
    low, high = (0.5, 1.5) if _needs_positive(all_programs) else (-1.0, 1.0)
    check = _check_source(name, accepted, sizes, checked, forward_programs, single, low, high)
    parts = [header, "import sys\n\nimport numpy as np\n", *sources, HELPERS, check, _MAIN]
    return "\n\n\n".join(part.rstrip("\n") for part in parts) + "\n"


def _module_docstring(name, items, program, variables, dims, checked) -> str:
    import tensorcalc  # the package, for printers that may not exist yet (matrix notation)

    lines = [f"{name}: generated by tensorcalc.evaluation.codegen; needs only numpy.", "", "Computes:"]
    for output_name, item in zip(_default_output_names(program), items):
        text = str(item) if getattr(item, "of", None) is not None else index_notation(as_expr(item))
        lines.extend(_wrapped(f"{output_name}: {text}"))
    matrix_notation = getattr(tensorcalc, "matrix_notation", None)
    if matrix_notation is not None:
        forms = []
        for output_name, item in zip(_default_output_names(program), items):
            try:
                forms.extend(_wrapped(f"{output_name} = {matrix_notation(item)}"))
            except (TensorCalcError, NotImplementedError, ValueError, TypeError):
                continue  # no matrix form for this output (a 3-tensor, say)
        if forms:
            lines += ["", "In matrix notation:"] + forms
    lines += ["", "Variables:"]
    lines += [f"    {v.name}: shape {_shape_text(v.shape)}" for v in variables]
    if dims:
        lines += ["", f"Named dimensions ({', '.join(dims)}) take any sizes, as long as the "
                  "arrays agree."]
    lines += ["", "Run this file to check the derivatives against central differences." if checked
              else "No output is a derivative: check_gradient() returns 0.0."]
    text = "\n".join(lines).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return '"""' + text + '\n"""\n'


def _wrapped(text: str, limit: int = 1200) -> list:
    text = text.replace("\n", " ")
    if len(text) > limit:
        text = text[:limit - 1] + "…"
    return textwrap.wrap(text, 92, initial_indent="    ", subsequent_indent="        ")


def _needs_positive(programs) -> bool:
    """Whether some function is real only for positive arguments (log, √, x^-1, x^0.5): the
    check then draws data in [0.5, 1.5], else in [-1, 1] (where tanh does not saturate)."""
    for program in programs:
        for node in program.nodes:
            if isinstance(node, Elementwise) and FUNCTIONS[node.fn].domain[0] >= 0 and not (
                    node.fn == "pow" and float(node.param).is_integer() and node.param >= 0):
                return True
    return False


def _check_source(name, variables, sizes, checked, forwards, single, low, high) -> str:
    lines = ["def check_gradient(seed=0):",
             '    """The largest relative error of the derivatives against central differences.',
             "",
             "    Each derivative D of f with respect to x is projected on random directions,",
             "    <u, D v>, and compared with <u, f(x + h v) - f(x - h v)> / 2h (Richardson-",
             f"    extrapolated), at random data in [{low}, {high}]. 0.0 when no output is a "
             "derivative",
             '    (vjp results are not checked)."""']
    if not checked:
        lines.append("    return 0.0")
        return "\n".join(lines) + "\n"
    check_sizes = {d: int(sizes.get(d, 3)) for d in
                   sorted({d for v in variables for d in v.shape if isinstance(d, str)})}
    lines.append("    rng = np.random.default_rng(seed)")
    lines.append("    data = {")
    for v in variables:
        shape = tuple(d if isinstance(d, int) else check_sizes[d] for d in v.shape)
        draw = f"rng.uniform({low}, {high}, size={shape!r})"
        if getattr(v, "symmetric", False):
            draw = f"_symmetric({draw})"
        lines.append(f"        {v.name!r}: {draw},")
    lines.append("    }")
    call = f"{name}(**data)"
    lines.append(f"    outputs = ({call},)" if single else f"    outputs = {call}")
    lines.append("    errors = [")
    for n, item in checked:
        fname = forwards[id(as_expr(item.of))][0]
        symmetric = ", symmetric=True" if getattr(item.wrt, "symmetric", False) else ""
        lines.append(f"        _projection_error({fname}, data, {item.wrt.name!r}, outputs[{n}], "
                     f"rng{symmetric}),")
    lines.append("    ]")
    lines.append("    return float(max(errors))")
    lines.append("")
    lines.append("")
    lines.extend(_PROJECTION.split("\n"))
    if any(getattr(v, "symmetric", False) for v in variables):
        lines.extend(["", "", _SYMMETRIC.rstrip("\n")])
    return "\n".join(lines) + "\n"


_PROJECTION = '''\
def _projection_error(function, data, name, derivative, rng, symmetric=False, h=1e-4):
    """|<u, D v> - <u, f(x + h v) - f(x - h v)> / 2h|, relative to their size."""
    x = data[name]
    v = rng.standard_normal(np.shape(x))
    if symmetric:
        v = (v + np.swapaxes(v, -1, -2)) / 2

    def difference(step):  # a central difference along v
        plus = np.asarray(function(**{**data, name: x + step * v}))
        minus = np.asarray(function(**{**data, name: x - step * v}))
        return (plus - minus) / (2 * step)

    value = np.asarray(function(**data))
    u = rng.standard_normal(value.shape)
    slope = (4 * difference(h) - difference(2 * h)) / 3  # Richardson: error O(h^4)
    numeric = float(np.sum(u * slope))
    exact = float(np.sum(np.tensordot(u, np.asarray(derivative), axes=u.ndim) * v))
    scale = max(abs(exact), abs(numeric)) + 1e-5 * (1 + np.linalg.norm(u) * np.linalg.norm(value))
    return float(abs(exact - numeric) / scale)
'''

_SYMMETRIC = '''\
def _symmetric(m):
    return (m + np.swapaxes(m, -1, -2)) / 2
'''

_MAIN = '''\
if __name__ == "__main__":
    error = check_gradient()
    print(f"largest relative error of the derivatives: {error:.3g}")
    sys.exit(0 if error <= 1e-6 else 1)
'''
