"""The package's layers stay visible (README: "How it works inside").

* import-linter's layers contract (pyproject.toml): a module imports only its own layer and the
  layers below it, errors < expression < calculus < notation < evaluation < explain < frontends;
* no import inside a function of the package's own modules, except the operator mixin's hook
  (expression/algebra.py's ``construction``): such an import is a circle in disguise;
* no import circle between modules but through that hook;
* every module reads in one sitting.

The import graph here is read from the source with ``ast`` (every import statement, at module
level or inside a function), independently of import-linter.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tensorcalc"
# the one import inside a function that the layering accepts: (importing module, imported module)
HOOK = ("tensorcalc.expression.algebra", "tensorcalc.expression.construct")
MAX_LINES = 500


def _modules() -> dict:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    is_package = MODULES[module].name == "__init__.py"
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _known(name: str) -> str:
    """The package module an import names (``a.b.c`` may name the object ``c`` of ``a.b``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def _imports(module: str):
    """``(imported module, inside a function?, line)`` for each import of a package module."""
    tree = ast.parse(MODULES[module].read_text())
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            inside.update(id(n) for n in ast.walk(node) if n is not node)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = _resolve(module, node)
            targets = [f"{base}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            continue
        for target in targets:
            if target.split(".")[0] == "tensorcalc" and _known(target) not in ("", module):
                yield _known(target), id(node) in inside, node.lineno


def test_the_layers_contract_holds():
    cli = pytest.importorskip("importlinter.cli", reason="the test extra installs import-linter")
    assert cli.lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0


def test_no_imports_inside_functions_but_the_operator_hook():
    inside = sorted((module, target, line) for module in MODULES
                    for target, in_function, line in _imports(module) if in_function)
    assert [(m, t) for m, t, _ in inside] == [HOOK], inside


def test_no_import_circle_but_through_the_operator_hook():
    graph = {module: {t for t, _, _ in _imports(module)} for module in MODULES}
    graph[HOOK[0]].discard(HOOK[1])
    # the package's __init__ imports every layer to assemble the public API; the layers never
    # import it back (the contract above), so it closes no circle
    state: dict = {}

    def visit(start):
        stack = [(start, iter(sorted(graph[start])))]
        state[start] = "open"
        while stack:
            module, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[module] = "done"
                stack.pop()
            elif state.get(child) == "open":
                circle = [m for m, _ in stack][[m for m, _ in stack].index(child):] + [child]
                raise AssertionError("import circle: " + " -> ".join(circle))
            elif child not in state:
                state[child] = "open"
                stack.append((child, iter(sorted(graph[child]))))

    for module in sorted(MODULES):
        if module not in state:
            visit(module)


def test_each_module_reads_in_one_sitting():
    long = {module: n for module, path in MODULES.items()
            if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_each_layer_says_what_it_owns_and_what_it_may_import():
    for layer in ("expression", "calculus", "notation", "evaluation", "frontends"):
        doc = ast.get_docstring(ast.parse((PACKAGE / layer / "__init__.py").read_text()))
        assert doc and "may import" in doc, layer
