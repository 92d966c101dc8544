"""benchmarks/dask_memory.py at a tiny size: the dask program on a LocalCluster of worker
processes, under a memory limit, agrees with numpy (the full benchmark is run by hand)."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("dask.array")
pytest.importorskip("distributed")

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture(scope="module")
def dask_memory():
    sys.path.insert(0, str(BENCHMARKS))  # its imports: threads, common
    try:
        spec = importlib.util.spec_from_file_location("dask_memory", BENCHMARKS / "dask_memory.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["dask_memory"] = module  # cloudpickle ships it to the workers by value
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(BENCHMARKS))
        sys.modules.pop("dask_memory", None)


def test_blocks_regenerate_the_lazy_array(dask_memory):
    X, y, w = dask_memory.problem(10, 3, block_mib=4 * 3 * 8 / 2 ** 20)  # blocks of 4 rows
    assert X.chunks == ((4, 4, 2), (3,))
    X1, y1 = dask_memory.numpy_block(0, 1, 4, 3)
    np.testing.assert_array_equal(X[4:8].compute(scheduler="sync"), X1)
    np.testing.assert_array_equal(y[4:8].compute(scheduler="sync"), y1)


def test_quick_run_agrees_with_numpy_under_the_limit(dask_memory):
    rows, cols = 8 * 1024, 64  # 8 blocks of 1,024 × 64 (0.5 MiB each)
    result = dask_memory.run(rows, cols, limit=0.25, workers=1, block_mib=0.5, check_blocks=2,
                             full_check=True)
    assert result["blocks"] == 8 and result["subset_blocks"] == 2
    # the values, recomputed here from the same per-block seeds, whole
    parts = [dask_memory.numpy_block(0, b, 1024, cols) for b in range(8)]
    X = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    w = np.random.default_rng(1).standard_normal(cols) / np.sqrt(cols)
    r = X @ w - y
    assert result["loss"] == pytest.approx(r @ r, rel=1e-12)
    np.testing.assert_allclose(result["grad"], 2 * (r @ X), rtol=1e-10, atol=1e-9)
    assert result["full_diff"] < 1e-9 * abs(r @ r) and result["subset_diff"] < 1e-9 * abs(r @ r)
    # no worker was restarted: the nanny kills a worker at 95% of its limit, so the run stayed
    # under it.  (ru_maxrss is not compared with the limit here: a worker spawned from a test
    # process that has imported jax and torch reports their import peak, ~700 MB, in CI.)
    assert not result["restarted"] and result["per_worker"] == int(0.25 * 2 ** 30)
    assert min(result["peaks"]) > 0
