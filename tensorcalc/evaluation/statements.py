"""Straight-line code: a compiled program written out as one numpy function.

:func:`generate` is the core: a :class:`~tensorcalc.Program` in, the source of
one straight-line function out.  Contractions are written the way the
evaluator runs them: δ's merged into the einsum (a δ left with two free
indices is written onto a diagonal through a writeable ``np.einsum`` view, never
built dense), each pairwise step as ``@``, ``np.tensordot``, a broadcasting
multiply or a two-operand ``np.einsum``.  The contraction order is planned at
``sizes`` (named dimensions otherwise at the engine's representative size);
the code itself works for any sizes.  Elementwise rows become numpy
expressions from :data:`~tensorcalc.evaluation.source_forms.SOURCES`; a row without one (a user-registered
function) is refused with a :class:`CodegenError`.

The program's fast path, the backends and :func:`tensorcalc.codegen` (the
standalone module writer) all use it.
"""

from __future__ import annotations

import functools
import textwrap
from typing import Optional

import numpy as np

from ..calculus.optimize import REPRESENTATIVE_SIZE
from ..errors import CodegenError
from ..expression.functions import FUNCTIONS
from ..expression.nodes import Const, Contraction, Delta, Elementwise, Operation, Sum, Var
from ..expression.operations import OPERATIONS
from ..notation.printing import index_notation
from .contraction_source import _ContractionWriter
from .indexing_sources import FUNCTIONAL_SOURCES, NUMPY_ONLY
from .operation_sources import OPERATION_SOURCES, SAME_AS_EVALUATOR, view_owner

from .source_forms import load  # noqa: F401 - statements.load, as the callers import it
from .source_forms import (_COMMENT_WIDTH, _INDEX_NAMES, _RESERVED, _SHORT, ATOM,
                           MAX_CONSTANT_SIZE, PRODUCT, SOURCES, SUM, _Code, _default_output_names,
                           _identifier, _literal, _Names, _number, _read_only_entrywise, _real,
                           _shape_text, _tree_size, used_bindings)
from .shared_exp import exp_step, member_step
from .steps import _elementwise

# the function rows whose numpy source an array backend cannot run (np.vectorize of math.erf):
# they call the namespace's own function (backends.base.Namespace.erf)
FUNCTIONAL_FUNCTION_SOURCES = {"erf": lambda x, p: f"np.erf({x})"}


# ---------------------------------------------------------------------------
# One function per program


class _Function(_ContractionWriter):
    """Writes the body of one generated function, one statement per step of ``program``."""

    def __init__(self, program, name: str, sizes: dict, output_names, checks: bool,
                 accept=(), functional: bool = False, free_transposes: bool = False,
                 runners: Optional[dict] = None, static: Optional[dict] = None, prologue=()):
        self.program = program
        self.prologue = list(prologue)  # lines the body starts with (the fast path's guard)
        self.runners = runners
        self.static = static or {}  # id(node) -> the global its value was made once into
        self.shared_parts: dict = {}  # id(SharedExp) -> the local(s) of its e, s, m
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
        # δ terms added onto the diagonal of their sum's other term in place: id -> its parts
        self.onto_diagonal = set() if functional else program.onto_diagonal
        self.deferred: dict = {}

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
            elif id(node) in self.static:  # made once for these sizes: a read-only global
                self._set(node, _Code(self.static[id(node)]), ("input", self.static[id(node)]))
                self.zero_d_arrays.add(self.static[id(node)])
            elif isinstance(node, Const):
                self._constant(node)
            else:
                self._step(node)
        returned = self._return()
        if not self.checks:  # sizes only the checks read: not bound at all (the fast path)
            binding_lines = used_bindings(binding_lines, self.lines + [returned])
        parameters = [v.name for v in self.required] + [f"{a}=None" for a in self.accept]
        header = [f"def {self.name}({', '.join(['*'] + parameters) if parameters else ''}):"]
        body = ([] if self.runners is not None else [self._docstring()]) + self.prologue + \
            binding_lines  # the fast path's function: read by no one
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
            if id(node) not in self.static:
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
        if self.runners is not None:  # the fast path's function: read by no one, written fast
            return
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
        if id(node) in self.program.shared:  # logsumexp and softmax of one argument
            self._shared_member(node, name)
            return
        if self._call_evaluator(node, name):
            return
        if isinstance(node, Elementwise):
            source = (FUNCTIONAL_FUNCTION_SOURCES.get(node.fn) if self.functional else None) \
                or SOURCES.get(node.fn)
            if source is None:
                raise CodegenError(f"codegen: function {node.fn!r} has no numpy source form "
                                   f"(rows with one: {', '.join(sorted(SOURCES))}); generated code "
                                   "cannot call a user-registered row")
            argument = self.code[id(node.arg)].atom()
            self.lines.append(f"{name} = {source(argument, node.param)}")
            self._set(node, _Code(name), name)
            if node.ndim == 0 and "np.where(" in self.lines[-1]:  # a 0-d array (isfinite)
                self.zero_d_arrays.add(name)
        elif isinstance(node, Sum) and any(id(t) in self.deferred
                                           for t, _ in self.program.sum_terms[id(node)][0]):
            self._sum_onto_diagonal(node, name)
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
            if self.functional and node.name in NUMPY_ONLY:
                source = FUNCTIONAL_SOURCES.get(node.name)
                if source is None:
                    raise CodegenError(f"backend: the operation {node.name!r} (shape "
                                       f"{node.shape}) {NUMPY_ONLY[node.name]} and runs on numpy "
                                       "only; evaluate it with tc.evaluate, tc.compile or tc.codegen")
            codes = [f"np.asarray({self.code[id(op)].atom()}, dtype={self._dtype()})"
                     if isinstance(op, Const) and op.value.ndim == 0 else self.code[id(op)].atom()
                     for op in node.operands]  # a row's source reads arrays, not literals
            self.lines.append(f"{name} = {source(codes, node.param)}")
            self._set(node, _Code(name), view_owner(self.owner, node, name))
            self.zero_d_arrays.add(name)  # a row's source may make a 0-d array
        else:  # a node type this writer does not know: refuse rather than miscompute
            raise CodegenError(f"codegen: cannot generate code for a {type(node).__name__} node "
                               f"({index_notation(node)})")

    def _shared_member(self, node, name: str) -> None:
        """A member of a logsumexp and softmax pair (``shared_exp.py``): the first one writes
        the shared ``m = max z``, ``e = exp(z − m)``, ``s = Σ e``; each member reads them."""
        record = self.program.shared[id(node)]
        parts = self.shared_parts.get(id(record))
        operand, axes = self.code[id(record.operand)].atom(), record.axes
        if parts is None and self.runners is not None:
            parts = self.names.temporary()
            function = self.names.claim("_step_shifted_exp")
            self.runners[function] = exp_step(axes)
            self.lines.append(f"{parts} = {function}({operand})  # exp(z − max z), Σ, max")
        elif parts is None:
            parts = tuple(self.names.temporary() for _ in range(3))
            e, total, top = parts
            self.lines += [f"{top} = np.max({operand}, axis={axes}, keepdims=True)",
                           f"{e} = np.exp({operand} - {top})  # shared by logsumexp and softmax",
                           f"{total} = np.sum({e}, axis={axes}, keepdims=True)"]
        self.shared_parts[id(record)] = parts
        if self.runners is not None:
            function = self.names.claim(f"_step_{node.name}")
            self.runners[function] = member_step(node)
            self.lines.append(f"{name} = {function}({parts})")
        elif node.name == "logsumexp":
            self.lines.append(f"{name} = np.squeeze(np.log({parts[1]}) + {parts[2]}, axis={axes})")
        else:
            self.lines.append(f"{name} = {parts[0]} / {parts[1]}")
        self._set(node, _Code(name), name)
        self.zero_d_arrays.add(name)

    def _call_evaluator(self, node, name: str) -> bool:
        """With ``runners``, an operation whose source could differ from the evaluator's step
        (outside :data:`SAME_AS_EVALUATOR`) or a function without a source form is written as
        a call of the evaluator's own step function, put in ``runners`` under its global name."""
        if self.runners is None:
            return False
        if isinstance(node, Operation) and node.name not in SAME_AS_EVALUATOR:
            step, label = OPERATIONS[node.name].runner(node.param), node.name
        elif isinstance(node, Elementwise) and node.fn not in SOURCES:
            step, label = functools.partial(_elementwise, FUNCTIONS[node.fn].numpy, node.param), node.fn
        else:
            return False
        function = self.names.claim(f"_step_{label}")
        self.runners[function] = step
        codes = [self.code[id(child)].text for child in node.children]
        self.lines.append(f"{name} = {function}({', '.join(codes)})")
        self._set(node, _Code(name), view_owner(self.owner, node, name))
        self.zero_d_arrays.add(name)  # the evaluator's step may return a 0-d array
        return True

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


# ---------------------------------------------------------------------------
# Public entry points


def generate(program, name: str = "f", sizes: Optional[dict] = None, *, output_names=None,
             checks: bool = True, accept=(), functional: bool = False,
             free_transposes: bool = False, runners=None, static=None, prologue=()) -> tuple:
    """``(source, function_name)``: one straight-line numpy function computing ``program``.

    >>> import numpy as np, tensorcalc as tc
    >>> from tensorcalc.evaluation.statements import generate, load
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

    ``runners`` (a dict, for the program's fast path) makes every step whose source could
    differ from the evaluator's a call of the evaluator's own step function (``logsumexp``,
    ``logdet``, a user-registered function, ...), which the dict receives under the name the
    code calls; :func:`load` with ``extra=runners`` puts them in the function's globals
    (``static``, id → a global's name: nodes read from such globals); ``prologue``: lines
    the body starts with.
    """
    function = _Function(program, name, dict(sizes or {}), output_names, checks, accept,
                         functional, free_transposes, runners, static, prologue)
    return function.write(), function.name
