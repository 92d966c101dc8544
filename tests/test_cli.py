"""The ``tensorcalc`` command line: every subcommand, format and error path.

Most cases call ``main(argv)`` in-process (fast); a handful run ``python -m tensorcalc`` as a
subprocess to check what a shell sees: the exit status, stdout and stderr, no traceback.
"""

import io
import json
import subprocess
import sys

import pytest

import tensorcalc as tc
from tensorcalc.frontends import cli, commands
from tensorcalc.frontends.cli import main


def run(*argv, stdin=None):
    """``python -m tensorcalc argv…`` as a shell would run it."""
    return subprocess.run([sys.executable, "-m", "tensorcalc", *argv], input=stdin,
                          capture_output=True, text=True, timeout=60)


def call(capsys, *argv):
    """``main(argv)`` in-process: ``(status, stdout, stderr)``."""
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


# ---------------------------------------------------------------------------
# What a shell sees (subprocesses)


def test_grad_from_the_shell():
    result = run("grad", "x'*A*x", "--wrt", "x")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ("f(A, x) = x'*A*x  with A: (n, n), x: (n,)\n"
                             "∂f/∂x  shape (n,)\n"
                             "  index:  (A_ij + A_ji) x_j\n"
                             "  matrix: (A + Aᵀ) x\n")
    assert result.stderr == ""


def test_parse_error_from_the_shell_prints_the_caret_and_no_traceback():
    result = run("grad", "x'*A*x+", "--wrt", "x")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == ("tensorcalc: error: unexpected end of input: '+' needs a right operand\n"
                             "    x'*A*x+\n"
                             "           ^\n")
    assert "Traceback" not in result.stderr


def test_expression_on_stdin_from_the_shell():
    result = run("grad", "--wrt", "x", "--format", "matrix", stdin="x'*A*x\n")
    assert (result.returncode, result.stdout) == (0, "(A + Aᵀ) x\n")


def test_generated_code_runs_its_own_check_and_fails_when_corrupted(tmp_path):
    result = run("code", "norm2(A*x-y)^2", "--wrt", "x")
    assert result.returncode == 0, result.stderr
    module = tmp_path / "f.py"
    module.write_text(result.stdout)
    checked = subprocess.run([sys.executable, str(module)], capture_output=True, text=True,
                             timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "largest relative error" in checked.stdout

    returned = "return value, dx\n"
    assert result.stdout.count(returned) == 1
    corrupted = tmp_path / "corrupted.py"
    corrupted.write_text(result.stdout.replace(returned, "return value, 1.01 * dx\n"))
    checked = subprocess.run([sys.executable, str(corrupted)], capture_output=True, text=True,
                             timeout=60)
    assert checked.returncode == 1, checked.stdout + checked.stderr


def test_help_shows_the_examples_from_the_shell():
    result = run("--help")
    assert result.returncode == 0
    assert "examples:" in result.stdout
    assert "tensorcalc grad \"x'*A*x\" --wrt x" in result.stdout
    for command in cli.SUBCOMMANDS:
        assert command in result.stdout


# ---------------------------------------------------------------------------
# grad, jacobian, hessian and their formats


def test_grad_formats(capsys):
    assert call(capsys, "grad", "x'*A*x", "--wrt", "x", "--format", "index") == \
        (0, "(A_ij + A_ji) x_j\n", "")
    assert call(capsys, "grad", "x'*A*x", "--wrt", "x", "--format", "matrix") == \
        (0, "(A + Aᵀ) x\n", "")
    assert call(capsys, "grad", "x'*A*x", "--wrt", "x", "--format", "latex") == \
        (0, "\\frac{\\partial f}{\\partial x} = \\left(A + A^{\\top}\\right) x\n", "")


def test_grad_json(capsys):
    status, out, err = call(capsys, "grad", "sum(exp(A*x))", "--wrt", "x,A", "--format", "json")
    assert (status, err) == (0, "")
    document = json.loads(out)
    assert document["expression"] == "sum(exp(A*x))"
    assert document["variables"] == {"A": ["n", "m"], "x": ["m"]}
    dx, dA = document["derivatives"]
    assert dx == {"name": "∂f/∂x", "wrt": ["x"], "shape": ["m"], "index": "A_ji exp(A_jk x_k)",
                  "matrix": "Aᵀ exp(Ax)", "latex": "A^{\\top} \\exp\\left(A x\\right)"}
    assert (dA["wrt"], dA["shape"], dA["matrix"]) == (["A"], ["n", "m"], "exp(Ax) xᵀ")


def test_wrt_repeated_or_comma_separated(capsys):
    repeated = call(capsys, "grad", "sum(exp(A*x))", "--wrt", "x", "--wrt", "A", "--format", "index")
    commas = call(capsys, "grad", "sum(exp(A*x))", "--wrt", "x, A", "--format", "index")
    assert repeated == commas == (0, "A_ji exp(A_jk x_k)\nexp(A_ik x_k) x_j\n", "")


def test_wrt_defaults_to_the_only_variable(capsys):
    assert call(capsys, "grad", "sum(exp(x))", "--format", "index") == (0, "exp(x_i)\n", "")


def test_jacobian_of_Wa_is_the_three_tensor(capsys):
    status, out, _ = call(capsys, "jacobian", "W*a", "--wrt", "W", "--type", "a=vector")
    assert status == 0
    assert out == ("f(W, a) = W*a  with W: (n, m), a: (m,)\n"
                   "∂f/∂W  shape (n, n, m)\n"
                   "  index:  δ_ij a_k\n"
                   "  matrix: aᵀ ⊗ I  (as ∂vec(f)/∂vec(W)ᵀ, vec column-major)\n")
    status, out, _ = call(capsys, "jacobian", "W*a", "--wrt", "W", "--shape", "a=m",
                          "--format", "json")
    (record,) = json.loads(out)["derivatives"]
    assert (record["shape"], record["index"], record["matrix"]) == (["n", "n", "m"], "δ_ij a_k", None)
    assert record["latex"] == "\\delta_{ij} a_{k}"
    assert record["kronecker"] == {"form": "aᵀ ⊗ I", "latex": "a^{\\top} \\otimes \\mathbf{I}",
                                   "convention": "∂vec(f)/∂vec(W)ᵀ, vec column-major"}
    status, out, _ = call(capsys, "jacobian", "X'", "--wrt", "X")  # ∂Xᵀ/∂X: the commutation matrix
    assert out.endswith("  matrix: K  (as ∂vec(f)/∂vec(X)ᵀ, vec column-major, K vec(X) = vec(Xᵀ))\n")
    status, out, _ = call(capsys, "jacobian", "x*x'", "--wrt", "x", "--format", "json")
    (record,) = json.loads(out)["derivatives"]
    assert record["kronecker"]["form"] == "I ⊗ x + x ⊗ I"
    status, out, _ = call(capsys, "jacobian", "X*tr(X)", "--wrt", "X")  # vec(X) vec(I)ᵀ: an outer product
    assert "matrix: (none: index form only: a factor pairs an index of the function" in out


def test_hessian(capsys):
    status, out, _ = call(capsys, "hessian", "x'*A*x", "--wrt", "x")
    assert status == 0
    assert out.splitlines()[1:] == ["∂²f/∂x²  shape (n, n)", "  index:  A_ij + A_ji",
                                    "  matrix: A + Aᵀ"]
    status, out, _ = call(capsys, "hessian", "x'*A*y", "--wrt", "x,y", "--format", "json")
    blocks = json.loads(out)["derivatives"]
    assert [(b["name"], b["wrt"], b["index"]) for b in blocks] == [
        ("∂²f/∂x²", ["x", "x"], "0"), ("∂²f/∂x∂y", ["x", "y"], "A_ij"), ("∂²f/∂y²", ["y", "y"], "0")]


def test_hessian_latex_names_shared_subexpressions(capsys):
    status, out, _ = call(capsys, "hessian", "sum(log(exp(-y.*(X*w))+vector(1)))", "--wrt", "w",
                          "--format", "latex")
    assert status == 0
    assert out.startswith("\\frac{\\partial^2 f}{\\partial w^2} = ")
    assert "\\text{where } s = \\sigma" in out


def test_numpy_dialect_and_shapes(capsys):
    status, out, _ = call(capsys, "grad", "x @ A @ x", "--dialect", "numpy", "--wrt", "x",
                          "--shape", "x=n", "--shape", "A=n,n", "--format", "matrix")
    assert (status, out) == (0, "(A + Aᵀ) x\n")
    status, out, _ = call(capsys, "grad", "sum(exp(q*x))", "--wrt", "x", "--shape", "q=",
                          "--format", "matrix")  # q, a vector by its letter, made a scalar
    assert (status, out) == (0, "q exp(qx)\n")


def test_stdin_in_process(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("x'*A*x\n"))
    assert call(capsys, "grad", "-", "--wrt", "x", "--format", "matrix") == (0, "(A + Aᵀ) x\n", "")


def test_no_expression_at_a_terminal(capsys, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stdin", Terminal())
    status, out, err = call(capsys, "grad", "--wrt", "x")
    assert (status, out) == (2, "")
    assert err.startswith("tensorcalc: error: no expression")


# ---------------------------------------------------------------------------
# Bad input: exit status 2, one line (or a caret quote) on stderr


@pytest.mark.parametrize("argv, message", [
    (["grad", "x'*A*x", "--wrt", "X"],
     "--wrt X: the expression has no variable named 'X'; did you mean 'x'? (its variables: A, x)"),
    (["grad", "x'*A*x"],
     "grad: which variable? pass --wrt NAME (the expression has the variables A, x)"),
    (["grad", "x'*A*x", "--wrt", "x,x"], "--wrt names a variable twice: x, x"),
    (["grad", "2+3"], "grad: the expression has no variables"),
    (["grad", "x'*A*x", "--wrt", "x", "--type", "A=tensor"],
     "--type A=tensor: unknown kind; use one of scalar, vector, row vector, matrix, "
     "symmetric matrix (or --shape A=n,m)"),
    (["grad", "x'*A*x", "--wrt", "x", "--type", "A"], "--type expects NAME=VALUE"),
    (["grad", "x'*A*x", "--wrt", "x", "--shape", "A=n,-1"],
     "--shape A=n,-1: '-1' is neither a positive size nor a dimension name"),
    (["grad", "x'*A*x", "--wrt", "x", "--type", "A=matrix", "--shape", "A=n,n"],
     "the type of 'A' is given twice"),
    (["grad", "x'*A*x", "--wrt", "x", "--shape", "q=3"],
     "a type was given for 'q', which is not in the text"),
    (["grad", "A*x", "--wrt", "x"],
     "grad needs a scalar expression, but this one has shape (n,); use tensorcalc jacobian"),
    (["hessian", "A*x", "--wrt", "x"], "hessian needs a scalar expression"),
    (["check", "x'*A*x", "--wrt", "x", "--size", "n=three"],
     "--size expects NAME=SIZE with a positive integer size (such as --size n=3), got 'n=three'"),
    (["check", "x'*A*x", "--wrt", "x", "--size", "q=3"],
     "--size q=...: 'q' is no dimension of the expression (it has n)"),
    (["check", "x'*A*x", "--wrt", "x", "--tolerance", "-1"], "--tolerance must be a positive number"),
    (["code", "x'*A*x", "--wrt", "x", "--size", "q=3"], "--size q=...: 'q' is no dimension"),
    (["code", "x'*A*x", "--wrt", "x", "--name", "not-a-name"], "--name not-a-name: not a Python"),
    (["grad", "x @ A @ x", "--dialect", "numpy", "--wrt", "x"], "variable 'x' has no shape"),
])
def test_bad_input(capsys, argv, message):
    status, out, err = call(capsys, *argv)
    assert (status, out) == (2, "")
    assert err.startswith("tensorcalc: error: " + message), err
    assert "Traceback" not in err


def test_parse_error_quotes_the_text_with_a_caret(capsys):
    status, _, err = call(capsys, "grad", "x'*A*x", "--wrt", "x", "--shape", "A=3,4")
    assert status == 2
    assert err.splitlines() == [
        "tensorcalc: error: matrix product '*': cannot multiply row vector \"x'*A\" of shape (4,) "
        "by column vector 'x' of shape (3,): the inner dimensions 4 and 3 differ",
        "    x'*A*x",
        "        ^"]


def test_argparse_errors_are_status_2(capsys):
    status, _, err = call(capsys, "grad", "x'*A*x", "--format", "yaml")
    assert status == 2 and "invalid choice: 'yaml'" in err
    status, _, err = call(capsys)
    assert status == 2 and "required" in err


def test_help_and_version_in_process(capsys):
    for command, (_, examples) in cli.SUBCOMMANDS.items():
        status, out, _ = call(capsys, command, "--help")
        assert status == 0
        assert examples.splitlines()[1].strip() in out  # the first example, as written
    status, out, _ = call(capsys, "--version")
    assert (status, out) == (0, f"tensorcalc {tc.__version__}\n")


# ---------------------------------------------------------------------------
# check


def test_check_passes(capsys):
    status, out, err = call(capsys, "check", "tr(A*X'*B*X*C)", "--wrt", "X")
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "f(A, X, B, C) = tr(A*X'*B*X*C)  with A: (n, m), X: (k, m), B: (k, k), C: (m, n)"
    assert lines[1].startswith("at random values (k=3, m=3, n=3, seed 0)")
    assert lines[2].startswith("∂f/∂X  relative error ") and lines[2].endswith("  ok")
    assert lines[3] == "all 1 derivative within 1e-06"


def test_check_sizes_seed_order_and_domain(capsys):
    status, out, _ = call(capsys, "check", "sum(log(exp(-y.*(X*w))+vector(1)))", "--wrt", "w",
                          "--size", "n=20,m=4", "--seed", "5")
    assert status == 0 and "(m=4, n=20, seed 5)" in out
    status, out, _ = call(capsys, "check", "x'*A*x", "--wrt", "x,A", "--order", "2")
    assert status == 0 and "all 3 derivatives within 1e-06" in out
    status, out, _ = call(capsys, "check", "sum(log(x))+sum(sqrt(x))")  # drawn positive
    assert status == 0


def test_check_fails_with_status_1_below_its_error(capsys):
    status, out, _ = call(capsys, "check", "tr(A*X'*B*X*C)", "--wrt", "X", "--tolerance", "1e-300")
    assert status == 1
    assert "FAILED (above 1e-300)" in out and out.endswith("1 of 1 derivative above 1e-300\n")


def test_check_catches_a_wrong_derivative():
    f = tc.parse("tr(A*X'*B*X*C)")
    right = tc.grad(f, "X")
    wrong = tc.Derivative(tc.as_expr(1.01 * right), f, right.wrt)
    results = commands.check_derivatives([right, wrong], sizes={"n": 4, "m": 3, "k": 5})
    assert results[0].error < 1e-8
    assert results[1].error > 1e-3
    out = io.StringIO()
    assert commands.report_check(results, 1e-6, out) == 1
    assert "∂f/∂X  relative error" in out.getvalue() and "FAILED" in out.getvalue()
    assert commands.report_check(results[:1], 1e-6, io.StringIO()) == 0


# ---------------------------------------------------------------------------
# code and explain


def test_code_prints_the_codegen_module(capsys):
    status, out, err = call(capsys, "code", "sum(exp(A*x))", "--wrt", "x,A", "--name", "loss",
                            "--size", "n=5,m=2")
    assert (status, err) == (0, "")
    f = tc.parse("sum(exp(A*x))")
    assert out == tc.codegen([f, *tc.grad(f, ("x", "A"))], name="loss", sizes={"n": 5, "m": 2})
    assert "def loss(*, A, x):" in out and 'if __name__ == "__main__":' in out


class FakeExplanation:
    steps = ({"kind": "seed", "expression": "1"}, {"kind": "rule", "expression": "v_i x_j"})

    def __str__(self):
        return "step 1: seed\nstep 2: v_i x_j"


def test_explain_calls_tc_explain(capsys, monkeypatch):
    calls = []

    def explain(f, wrt, **options):
        calls.append((f, wrt, options))
        return FakeExplanation()

    monkeypatch.setattr(tc, "explain", explain, raising=False)
    status, out, _ = call(capsys, "explain", "v'*(W*x)", "--wrt", "W", "--size", "n=4")
    assert (status, out) == (0, "step 1: seed\nstep 2: v_i x_j\n")
    ((f, wrt, options),) = calls
    assert f is tc.parse("v'*(W*x)") and wrt == "W" and options == {"sizes": {"n": 4}}
    status, out, _ = call(capsys, "explain", "v'*(W*x)", "--wrt", "W,v", "--level", "2",
                          "--format", "json")
    assert status == 0 and json.loads(out) == list(FakeExplanation.steps)
    assert calls[-1][1:] == (("W", "v"), {"level": 2})


def test_explain_missing_says_so(capsys, monkeypatch):
    monkeypatch.delattr(tc, "explain", raising=False)
    status, out, err = call(capsys, "explain", "v'*(W*x)", "--wrt", "W")
    assert (status, out) == (1, "")
    assert err.startswith("tensorcalc: error: explain is not available")


@pytest.mark.skipif(not hasattr(tc, "explain"), reason="tc.explain is not in this tree yet")
def test_explain_for_real(capsys):
    status, out, err = call(capsys, "explain", "v'*(W*x)", "--wrt", "W")
    assert status == 0, err
    assert out.strip()


# ---------------------------------------------------------------------------
# Issue 15: every bad input ends in status 2, a message on stderr and no traceback (subprocesses)


@pytest.mark.parametrize("argv, message", [
    (["explain", "v'*(W*x)", "--wrt", "W", "--level", "5"], "argument --level: expected 1"),
    (["explain", "v'*(W*x)", "--wrt", "W", "--level", "99999999999"], "argument --level"),
    (["explain", "v'*(W*x)", "--wrt", "W", "--level", "abc"], "argument --level"),
    (["explain", "v'*(W*x)", "--wrt", "q"], "--wrt q: the expression has no variable named 'q'"),
    (["check", "x'*A*x", "--wrt", "x", "--size", "n=100000000"],
     "check: at n=100000000 the values and derivatives need about 71.1 PiB, above "
     "--memory-limit 4.0 GiB"),
    (["check", "x'*A*x", "--wrt", "x", "--size", "n=2000", "--memory-limit", "1MB"],
     "check: at n=2000 the values and derivatives need about"),
    (["check", "x'*A*x", "--wrt", "x", "--memory-limit", "4XB"],
     "argument --memory-limit: expected a positive size in bytes, or with a unit"),
    (["check", "x'*A*x", "--wrt", "x", "--memory-limit", "0"], "argument --memory-limit"),
    (["code", "x'*x", "--size", "n=100000000000"],
     "code (the generated module's own check): at n=100000000000 the values"),
    (["check", "x'*x", "--seed", "-1"], "argument --seed: expected a non-negative integer"),
    (["check", "x'*x", "--size", "n"], "--size expects NAME=SIZE"),
    (["check", "x'*x", "--size", "n=1e3"], "--size expects NAME=SIZE"),
    (["grad", "x'*A*x", "--type", "A=tensor"], "--type A=tensor: unknown kind"),
    (["grad", "x'*A*x", "--wrt", "y"], "--wrt y: the expression has no variable named 'y'"),
    (["grad", ""], "empty input"),
    (["grad", "x @ A @ x", "--dialect", "numpy", "--wrt", "x"],
     "variable 'x' has no shape: pass --shape x=... (the numpy dialect needs every shape)"),
    (["grad", "jnp.sum(x)", "--dialect", "numpy", "--shape", "x=n"], ""),
    (["grad", "x'*A*x", "--wrt", "x", "--shape", "A=n,n,n"], "use --dialect numpy"),
    (["grad", "(" * 5000 + "x" + ")" * 5000], ""),
    (["grad", "x\udcff"], "the expression is not UTF-8 text"),
])
def test_bad_input_from_the_shell(argv, message):
    result = run(*argv)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith(("tensorcalc: error: ", "usage:")), result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_stdin_that_is_not_utf8_from_the_shell():
    result = subprocess.run([sys.executable, "-m", "tensorcalc", "grad"], input=b"x\xff",
                            capture_output=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.decode() == ("tensorcalc: error: standard input is not UTF-8 text: byte "
                                      "0xff at offset 1 cannot be decoded\n")


def test_an_expression_may_start_with_a_minus_from_the_shell():
    for argv in (["grad", "-x'*x", "--wrt", "x"], ["grad", "--wrt", "x", "-x'*x"],
                 ["grad", "--wrt", "x", "--", "-x'*x"]):
        result = run(argv[0], "--format", "index", *argv[1:])
        assert (result.returncode, result.stdout, result.stderr) == (0, "-2 x_i\n", ""), argv
    result = run("check", "-x'*A*x", "--wrt", "x", "--seed", "3")
    assert result.returncode == 0 and "seed 3" in result.stdout, result.stderr
    assert "starts with '-'" in run("grad", "--help").stdout


def test_memory_limit_accepts_human_sizes(capsys):
    assert [cli.parse_memory(t) for t in ("4GiB", "500MB", "1000", "2 kib", "1.5GB")] == \
        [4 * 2**30, 500 * 10**6, 1000, 2048, 1_500_000_000]
    status, out, err = call(capsys, "check", "x'*A*x", "--wrt", "x", "--size", "n=30",
                            "--memory-limit", "1MB")
    assert (status, err) == (0, "") and "all 1 derivative within" in out


def test_explain_several_variables_and_level_for_real(capsys):
    for wrt in (["--wrt", "W,x"], ["--wrt", "W", "--wrt", "x"]):
        status, out, err = call(capsys, "explain", "v'*(W*x)", *wrt, "--format", "json")
        assert (status, err) == (0, "")
        steps = json.loads(out)
        results = [s for s in steps if s["kind"] == "result"]
        assert [(s["name"], s["matrix"]) for s in results] == [("∂L/∂W", "v xᵀ"), ("∂L/∂x", "Wᵀv")]
    status, out, err = call(capsys, "explain", "v'*(W*x)", "--wrt", "W", "--level", "1")
    assert (status, err) == (0, "") and len(out.splitlines()) == 4  # forward, forward, result, cost
    status, out, _ = call(capsys, "explain", "sum(tanh(W*x))", "--wrt", "W", "--size", "n=200,m=200")
    assert status == 0 and "shape (200, 200): 40000 entries, 200 non-zero" in out
    assert "('n'" not in out
