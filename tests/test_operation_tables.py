"""Every row of the operation table has an entry in each layer's table (issue 16): a VJP rule
(calculus), an index-notation spelling and a matrix/LaTeX/text spelling (notation) and numpy
source (evaluation).  A new operation missing one fails here, not in a user's hands.  The
registration functions refuse a name that is not a row."""

import numpy as np
import pytest

import tensorcalc as tc
from tensorcalc.calculus.operation_rules import VJPS, defvjp
from tensorcalc.errors import FunctionTableError
from tensorcalc.evaluation.operation_sources import OPERATION_SOURCES, register_source
from tensorcalc.expression.operations import OPERATIONS
from tensorcalc.notation.operation_spellings import register_spellings
from tensorcalc.notation.printers.spell import MATRIX_SPELLINGS
from tensorcalc.notation.printing import INDEX_SPELLINGS

TABLES = {"VJPS": VJPS, "INDEX_SPELLINGS": INDEX_SPELLINGS, "MATRIX_SPELLINGS": MATRIX_SPELLINGS,
          "OPERATION_SOURCES": OPERATION_SOURCES}


def test_the_public_table_is_the_expression_layers():
    assert tc.OPERATIONS is OPERATIONS
    assert {"inv", "det", "logdet", "solve", "softmax", "max", "reshape", "kron"} <= set(OPERATIONS)


@pytest.mark.parametrize("table", sorted(TABLES))
def test_every_row_has_an_entry(table):
    # codegen refuses an operation without source (CodegenError); no row relies on that today
    missing = sorted(set(OPERATIONS) - set(TABLES[table]))
    assert not missing, f"operations without an entry in {table}: {missing}"
    unknown = sorted(set(TABLES[table]) - set(OPERATIONS))
    assert not unknown, f"{table} has entries for no row of OPERATIONS: {unknown}"


@pytest.mark.parametrize("register", [lambda: defvjp("nope", None),
                                      lambda: register_source("nope", None),
                                      lambda: register_spellings("nope", None, None)])
def test_registering_an_unknown_operation_is_refused(register):
    with pytest.raises(FunctionTableError, match="'nope' is not a row of the operation table"):
        register()
    assert all("nope" not in table for table in TABLES.values())


def test_each_layer_reads_its_table():
    # one operation through every layer: its value (numpy row), its derivative (VJPS) against a
    # central difference, its printed forms (both spelling tables) and its generated source
    X = tc.var("X", (2, 2))
    value = np.array([[3.0, 1.0], [0.5, 2.0]])
    f = tc.logdet(X)
    assert float(tc.evaluate(f, X=value)) == pytest.approx(np.log(np.linalg.det(value)))
    h, direction = 1e-6, np.array([[0.3, -0.2], [0.1, 0.4]])
    central = (np.log(np.linalg.det(value + h * direction))
               - np.log(np.linalg.det(value - h * direction))) / (2 * h)
    gradient = tc.evaluate(tc.grad(f, X), X=value)
    assert np.sum(gradient * direction) == pytest.approx(central, rel=1e-7)
    assert tc.index_notation(f) == "log|X|"
    assert (tc.matrix_notation(f), tc.latex(f), tc.to_text(f)) == \
        ("log|X|", "\\log\\lvert X\\rvert", "logdet(X)")
    assert "np.linalg.slogdet(" in tc.codegen(f)
