"""What ``POST /api/derive`` answers, computed in a worker process: the JSON document of
``tensorcalc grad … --format json`` (the command line's own function), extended with the LaTeX
of both forms, the explanation's steps, the generated code and the numeric check.

The server only checks the request's fields (:func:`read_request`) and moves JSON; every call
into tensorcalc happens here, in a process the server can end at the time limit.

>>> status, answer = derive(read_request({"expression": "x'*A*x", "wrt": ["x"]}))
>>> status, answer["derivatives"][0]["matrix"], answer["check"]["results"][0]["ok"]
(200, '(A + Aᵀ) x', True)
>>> derive(read_request({"expression": "x'*A*)x"}))[1]["error"]["position"]
5
"""

from __future__ import annotations

import argparse
import io
import math
import re

import tensorcalc as tc
from tensorcalc.calculus.differentiate import DEFAULT_MEMORY_LIMIT
from tensorcalc.frontends import commands, inputs  # the command line's JSON and checks

COMPUTE = ("grad", "jacobian", "hessian")
DIALECTS = ("matrix", "numpy")
PARTS = ("explain", "code", "check")
TOLERANCE = 1e-6  # the numeric check's, as tensorcalc check's default


class RequestError(ValueError):
    """A request whose fields are missing or of the wrong kind (HTTP 400)."""


def read_request(request) -> dict:
    """The request's fields, checked and with their defaults: ``expression`` (text), ``wrt`` (a
    list of names or one comma-separated text), ``compute`` (grad, jacobian or hessian),
    ``dialect`` (matrix or numpy), ``types`` ({name: kind}), ``shapes`` ({name: "n,d" or
    ["n", 3]}) and ``explain``, ``code``, ``check`` (true unless false).

    >>> read_request({"expression": "x'*x", "wrt": "x"})["wrt"]
    ['x']
    >>> read_request({"expression": "x'*x", "colour": "red"})
    Traceback (most recent call last):
    ...
    tensorcalc.frontends.web.worker.RequestError: unknown field 'colour' (the fields: expression, wrt, compute, dialect, types, shapes, explain, code, check)
    """
    fields = ("expression", "wrt", "compute", "dialect", "types", "shapes") + PARTS
    if not isinstance(request, dict):
        raise RequestError("the request must be a JSON object such as "
                           '{"expression": "x\'*A*x", "wrt": ["x"]}')
    for key in request:
        if key not in fields:
            raise RequestError(f"unknown field {key!r} (the fields: {', '.join(fields)})")
    expression = request.get("expression")
    if not isinstance(expression, str):
        raise RequestError('"expression" must be a string, such as "x\'*A*x"')
    wrt = request.get("wrt") or []
    if isinstance(wrt, str):
        wrt = [wrt]
    if not isinstance(wrt, list) or not all(isinstance(w, str) for w in wrt):
        raise RequestError('"wrt" must be a list of variable names, such as ["x"]')
    options = {"expression": expression, "wrt": wrt}
    for key, choices in (("compute", COMPUTE), ("dialect", DIALECTS)):
        options[key] = request.get(key) or choices[0]
        if options[key] not in choices:
            raise RequestError(f'"{key}" must be one of {", ".join(choices)}, got {options[key]!r}')
    for key in ("types", "shapes"):
        table = request.get(key) or {}
        if not isinstance(table, dict):
            raise RequestError(f'"{key}" must be an object of names, such as {{"X": "n,d"}}')
        for name, value in table.items():
            if isinstance(value, list) and key == "shapes":
                value = ",".join(str(d) for d in value) + ("," if len(value) == 1 else "")
            if not isinstance(value, str) or isinstance(value, bool):
                raise RequestError(f'"{key}": the value for {name!r} must be a string')
            table = {**table, name: value}
        options[key] = table
    for key in PARTS:
        options[key] = request.get(key, True)
        if not isinstance(options[key], bool):
            raise RequestError(f'"{key}" must be true or false')
    return options


def derive(options: dict) -> tuple:
    """``(status, answer)`` for checked ``options``: 200 and the document, or 422 and
    ``{"error": {"message", "kind", "position", "end"}}`` for bad input (the caret message)."""
    try:
        return 200, _finite(_answer(options))
    except (inputs.UsageError, tc.TensorCalcError) as error:
        return 422, {"error": _error(error)}
    except RecursionError:
        return 422, {"error": {"message": "the expression is nested too deeply to read",
                               "kind": "RecursionError"}}
    except MemoryError:
        return 422, {"error": {"message": "out of memory", "kind": "MemoryError"}}


def answer(options: dict, connection) -> None:
    """The worker process's body: derive, send ``(status, answer)``, close."""
    try:
        result = derive(options)
    except Exception as error:  # noqa: BLE001 - a bug: said in one line, not a traceback
        result = 500, {"error": {"message": f"internal error ({type(error).__name__}: {error}); "
                                 "this is a bug in tensorcalc, please report it with the "
                                 "expression", "kind": type(error).__name__}}
    connection.send(result)
    connection.close()


def ready() -> None:
    """A worker with nothing to do: the server starts one to have the fork server ready."""


def _answer(options: dict) -> dict:
    compute = options["compute"]
    args = argparse.Namespace(
        command=compute, expression="-", wrt=options["wrt"], dialect=options["dialect"],
        type=[f"{n}={v}" for n, v in options["types"].items()],
        shape=[f"{n}={v}" for n, v in options["shapes"].items()])
    problem = inputs.read_problem(args, io.StringIO(options["expression"]))
    items = commands.derivatives(problem, compute)
    document = commands.derivatives_document(problem, items)
    document["compute"] = compute
    for record, item in zip(document["derivatives"], items):
        record["label_latex"] = commands.latex_label(item)
        record["index_latex"] = tc.latex(tc.as_expr(item.derivative), notation="index")
    if options["explain"]:
        document["explanation"] = _part(lambda: _explanation(problem))
    if options["code"]:
        document["code"] = _part(lambda: {"numpy": tc.codegen(
            [problem.f, *[item.derivative for item in items]])})
    if options["check"]:
        document["check"] = _part(lambda: _check(problem, items))
    return document


def _explanation(problem) -> dict:
    wrt = problem.wrt[0] if len(problem.wrt) == 1 else tuple(problem.wrt)
    result = tc.explain(problem.f, wrt)
    return {"text": result.text(), "steps": commands.explanation_steps(result)}


def _check(problem, items) -> dict:
    sizes = {d: inputs.DEFAULT_SIZE for v in problem.variables.values() for d in v.shape
             if isinstance(d, str)}
    commands.check_memory("check", problem, sizes, DEFAULT_MEMORY_LIMIT,
                     [item.derivative for item in items] + [problem.f])
    results = commands.check_derivatives(items, sizes)
    return {"tolerance": TOLERANCE, "sizes": sizes, "method": "central differences along a "
            "random direction at random values",
            "results": [{"name": r.label, "error": r.error, "ok": r.error <= TOLERANCE}
                        for r in results]}


def _part(build) -> dict:
    """One optional part of the answer; its failure is said in the part, not the whole."""
    try:
        return build()
    except (inputs.UsageError, tc.TensorCalcError, NotImplementedError, MemoryError) as error:
        return {"error": _words(str(error))}


def _error(error) -> dict:
    record = {"message": _words(str(error)), "kind": type(error).__name__}
    for key in ("position", "end"):
        if isinstance(getattr(error, key, None), int):
            record[key] = getattr(error, key)
    return record


# The command line's words for its options, in the page's words.
_PAGE_WORDS = [
    (re.compile(r"pass --wrt NAME"), "fill in “Differentiate with respect to”"),
    (re.compile(r"--wrt (\w+):"), r"with respect to \1:"),
    (re.compile(r"--wrt names"), "“Differentiate with respect to” names"),
    (re.compile(r"pass --shape (\w+)=\.\.\."), r"give \1=n,m under “Types and shapes”"),
    (re.compile(r"--(?:type|shape) (\w+)="), r"types and shapes: \1="),
    (re.compile(r"use tensorcalc jacobian"), "compute the Jacobian"),
]


def _words(message: str) -> str:
    message = inputs.cli_words(message)
    for pattern, replacement in _PAGE_WORDS:
        message = pattern.sub(replacement, message)
    return message


def _finite(value):
    """JSON has no inf or nan: a relative error of inf is sent as null (and fails the check)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
