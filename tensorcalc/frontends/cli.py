"""The ``tensorcalc`` command line: a thin shell over ``tc.parse``, ``tc.grad``, the printers,
``tc.codegen`` and ``tc.explain``, and the local web page over the same.

>>> main(["grad", "x'*A*x", "--wrt", "x"])
f(A, x) = x'*A*x  with A: (n, n), x: (n,)
∂f/∂x  shape (n,)
  index:  (A_ij + A_ji) x_j
  matrix: (A + Aᵀ) x
0

Subcommands: ``grad``, ``jacobian``, ``hessian`` (print derivatives in index
notation, matrix notation, LaTeX or JSON), ``explain`` (``tc.explain``'s steps),
``code`` (a standalone numpy module from ``tc.codegen``), ``check`` (the
derivatives against central differences at random values) and ``serve`` (the
same on a local web page, :mod:`tensorcalc.frontends.web`).  The exit status
is 0 on success, 1 when ``check`` finds an error above its tolerance, and 2 for
bad input: a parse error (its caret message on stderr), an unknown name, a bad
option, any :class:`~tensorcalc.TensorCalcError`.  User text is only ever read
by ``tc.parse``; nothing is evaluated as Python.
"""

from __future__ import annotations

import argparse
import math
import sys

import tensorcalc as tc
from tensorcalc.calculus.differentiate import DEFAULT_MEMORY_LIMIT  # --memory-limit's default: tc.grad's
from tensorcalc.frontends.commands import RUNNERS as COMMANDS
from tensorcalc.frontends.inputs import FORMATS, KINDS, PROG, UsageError, _level, _seed, cli_words, parse_memory
from tensorcalc.frontends.web import server

EXAMPLES = """\
examples:
  tensorcalc grad "x'*A*x" --wrt x
  tensorcalc jacobian "W*a" --wrt W --type a=vector       # the 3-tensor δ_ij a_k
  tensorcalc hessian "sum(log(exp(-y.*(X*w))+vector(1)))" --wrt w --format latex
  tensorcalc explain "v'*(W*x)" --wrt W
  tensorcalc code "norm2(A*x-y)^2" --wrt x > f.py && python f.py
  tensorcalc check "tr(A*X'*B*X*C)" --wrt X
  echo "sum(exp(A*x))" | tensorcalc grad --wrt x,A --format json
  tensorcalc serve                        # the same on a web page, offline

Names take their kind from the first letter (a-g scalar, h-z vector, A-Z matrix)
unless --type or --shape says otherwise; --dialect numpy reads numpy code, with
--shape for every name.  Exit status: 0 ok, 1 check failed, 2 bad input.
"""

_COMMON_EPILOG = """
Names take their kind from the first letter (a-g scalar, h-z vector, A-Z
matrix) unless --type or --shape says otherwise.  Exit status: 0 ok, 2 bad input{extra}.
"""

SUBCOMMANDS = {
    "grad": ("the gradient of a scalar expression", """\
examples:
  tensorcalc grad "x'*A*x" --wrt x
  tensorcalc grad "tr(X'*A*X)" --wrt X --format matrix
  tensorcalc grad "sum(exp(A*x))" --wrt x,A --format json
  tensorcalc grad "x @ A @ x" --dialect numpy --shape x=n --shape A=n,n
"""),
    "jacobian": ("the (generalized) Jacobian of any expression, of shape f.shape + wrt.shape", """\
examples:
  tensorcalc jacobian "W*a" --wrt W --type a=vector      # ∂(Wa)/∂W = δ_ij a_k
  tensorcalc jacobian "tanh(A*x)" --wrt x --format matrix
"""),
    "hessian": ("the Hessian (grad of grad) of a scalar expression", """\
examples:
  tensorcalc hessian "x'*A*x" --wrt x
  tensorcalc hessian "sum(log(exp(-y.*(X*w))+vector(1)))" --wrt w --format latex
  tensorcalc hessian "x'*A*y" --wrt x,y          # the blocks xx, xy and yy
"""),
    "explain": ("how the derivative is found, step by step (tc.explain)", """\
examples:
  tensorcalc explain "v'*(W*x)" --wrt W
  tensorcalc explain "norm2(A*x-y)^2" --wrt x --size n=100 --size m=50
"""),
    "code": ("a standalone numpy module computing f and its derivatives (tc.codegen)", """\
examples:
  tensorcalc code "norm2(A*x-y)^2" --wrt x > f.py && python f.py
  tensorcalc code "sum(exp(A*x))" --wrt x,A --name loss --size n=100 --size m=20

The module needs only numpy; running it checks its derivatives against central
differences and exits 1 on failure.
"""),
    "check": ("the derivatives against central differences at random values", """\
examples:
  tensorcalc check "tr(A*X'*B*X*C)" --wrt X
  tensorcalc check "sum(log(exp(-y.*(X*w))+vector(1)))" --wrt w --size n=50 --size m=4
  tensorcalc check "x'*A*x" --wrt x --order 2 --seed 7
"""),
}


# ---------------------------------------------------------------------------
# The argument parser and main


SERVE_SUMMARY = "a local web page: type an expression, read its derivative, the steps and the code"
SERVE_EXAMPLES = """\
examples:
  tensorcalc serve                       # opens http://127.0.0.1:8765 in the browser
  tensorcalc serve --port 9000 --no-browser
  tensorcalc serve --time-limit 5        # stop a derivation after 5 seconds

The page works offline; it calls POST /api/derive, which answers the JSON of
tensorcalc grad --format json with the explanation, the code and a numeric check.
Ctrl-C stops the server.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Matrix and tensor calculus from the command line: derivatives "
        "in index and matrix notation, their numpy code and a numeric check.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"{PROG} {tc.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command, (summary, examples) in SUBCOMMANDS.items():
        extra = ", 1 check failed" if command == "check" else ""
        sub = commands.add_parser(command, help=summary, description=summary[0].upper() + summary[1:] + ".",
                                  epilog=examples + _COMMON_EPILOG.format(extra=extra),
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        sub.add_argument("expression", nargs="?", metavar="EXPRESSION",
                         help="the expression text; '-' or none reads standard input (one "
                         "that starts with '-', such as \"-x'*x\", is read as the expression; "
                         "after -- anything is)")
        sub.add_argument("--wrt", action="append", metavar="NAMES",
                         help="variable(s) to differentiate with respect to, comma-separated or "
                         "repeated (needed unless the expression has one variable)")
        sub.add_argument("--type", action="append", metavar="NAME=KIND",
                         help=f"a name's kind: {', '.join(KINDS)}")
        sub.add_argument("--shape", action="append", metavar="NAME=DIMS",
                         help="a name's shape: sizes or dimension names, --shape X=n,d; "
                         "--shape c= for a scalar")
        sub.add_argument("--dialect", choices=("matrix", "numpy"), default="matrix",
                         help="matrixcalculus.org's language (default) or numpy code")
        if command in ("grad", "jacobian", "hessian"):
            sub.add_argument("--format", choices=FORMATS, default="text",
                             help="text (default: index and matrix forms with the shapes), index, "
                             "matrix, latex or json")
        if command in ("explain", "code", "check"):
            sub.add_argument("--size", action="append", metavar="DIM=N",
                             help="the size of a named dimension (default 3), repeated or "
                             "comma-separated: --size n=100,m=20")
        if command in ("explain", "code", "check"):
            sub.add_argument("--memory-limit", type=parse_memory, metavar="BYTES",
                             default=None if command == "explain" else DEFAULT_MEMORY_LIMIT,
                             help="refuse sizes whose values would need more memory: bytes or "
                             "4GiB, 500MB (default 4GiB" + ("; explain then skips counting "
                             "non-zeros)" if command == "explain" else ")"))
        if command == "explain":
            sub.add_argument("--level", type=_level, help="how much detail: 1 (forward, result, "
                             "cost), 2 (every step, the default) or 3 (every node)")
            sub.add_argument("--format", choices=("text", "json"), default="text",
                             help="the text view (default) or the steps as JSON")
        if command == "code":
            sub.add_argument("--name", default="f_and_grad",
                             help="the generated function's name (default f_and_grad)")
        if command == "check":
            sub.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
            sub.add_argument("--tolerance", type=float, default=1e-6,
                             help="the largest relative error that passes (default 1e-6)")
            sub.add_argument("--order", type=int, choices=(1, 2), default=1,
                             help="1: gradients/Jacobians (default); 2: Hessian blocks")
    serve = commands.add_parser("serve", help=SERVE_SUMMARY, description=SERVE_SUMMARY[0].upper()
                                + SERVE_SUMMARY[1:] + ".", epilog=SERVE_EXAMPLES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    serve.add_argument("--port", type=_port, default=8765, help="the port (default 8765)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="the address to listen on (default 127.0.0.1: this machine only)")
    serve.add_argument("--no-browser", action="store_true", help="do not open a browser")
    serve.add_argument("--time-limit", type=_seconds, default=30.0, metavar="SECONDS",
                       help="stop a derivation that runs longer (default 30)")
    return parser


def _port(text: str) -> int:
    if not text.strip().isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number from 0 to 65535, got {text!r}")
    return int(text)


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds < math.inf:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return seconds


def run_serve(args, out) -> int:
    """``tensorcalc serve``: the web page (:mod:`tensorcalc.frontends.web`) until Ctrl-C."""
    try:
        return server.serve(args.host, args.port, time_limit=args.time_limit,
                            open_browser=not args.no_browser, out=out)
    except OSError as error:
        raise UsageError(f"serve: cannot listen on {args.host}:{args.port} ({error.strerror or error}); "
                         "pick another --port") from None


RUNNERS = {**COMMANDS, "serve": run_serve}


def expression_first(argv: list) -> list:
    """``argv`` with an expression that starts with '-' (``"-x'*x"``) moved behind ``--``, so
    that argparse reads it as the expression and not as an unknown option.

    >>> expression_first(["grad", "-x'*x", "--wrt", "x"])
    ['grad', '--wrt', 'x', '--', "-x'*x"]

    A single-dash word other than ``-`` and ``-h`` is no option of ours; a word after an option
    that takes a value (``--seed -1``) is that value.
    """
    if "--" in argv:
        return argv
    command = next((n for n, word in enumerate(argv) if not word.startswith("-")), None)
    if command is None:
        return argv
    flags = ("-h", "--help")
    for n in range(command + 1, len(argv)):
        word, previous = argv[n], argv[n - 1]
        takes_value = n - 1 > command and previous.startswith("--") and "=" not in previous \
            and previous not in flags
        if word.startswith("-") and not word.startswith("--") and word not in ("-", "-h") \
                and not takes_value:
            return argv[:n] + argv[n + 1:] + ["--", word]
    return argv


def main(argv=None) -> int:
    """Run the command line on ``argv`` (default ``sys.argv[1:]``); return the exit status.

    >>> main(["grad", "x'*A*x", "--wrt", "z"])
    2
    """
    parser = build_parser()
    argv = expression_first(list(sys.argv[1:] if argv is None else argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit:  # --help, --version, or argparse's own usage error (2)
        return exit.code if isinstance(exit.code, int) else 1
    try:
        return RUNNERS[args.command](args, sys.stdout)
    except (UsageError, tc.TensorCalcError) as error:
        _error(cli_words(str(error)))
        return 2
    except BrokenPipeError:  # tensorcalc code ... | head
        sys.stderr.close()
        return 1
    except MemoryError as error:  # past what --memory-limit predicts (einsum's temporaries)
        _error(f"out of memory ({error}); use smaller --size values or a lower --memory-limit")
        return 2
    except RecursionError:
        _error("the expression is nested too deeply")
        return 2
    except Exception as error:  # noqa: BLE001 - a bug: say so in one line, not a traceback
        _error(f"internal error ({type(error).__name__}: {error}); this is a bug in tensorcalc, "
               "please report it with the command line")
        return 70  # EX_SOFTWARE: not the input's fault


def _error(message: str) -> None:
    """``tensorcalc: error: …`` on stderr, whatever characters the message holds."""
    text = f"{PROG}: error: {message}"
    encoding = getattr(sys.stderr, "encoding", None) or "utf-8"
    print(text.encode(encoding, "backslashreplace").decode(encoding), file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
