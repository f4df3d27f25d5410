"""NPBench kernels (benchmarks/npbench, unmodified NumPy code from spcl/npbench) under mo.jit on the
native backend, against NumPy, as the benchmark runner checks them: return values and every array
argument afterwards, NPBench's tolerances, no object mode, no fallback. A sample of kernels that
compile quickly and exercise issue 12 (writes into arguments under branches in loops, complex
numbers, int32/uint8, histograms, grids, boolean masks and index pairs); MORPHISM_TEST_NPBENCH=all
runs all 54 (about 10 minutes, resnet alone 4)."""

from __future__ import annotations

import copy
import importlib.util
import os
import pathlib
import sys
import warnings

import pytest

import morphism as mo
from morphism.api import MorphismPerformanceWarning

_SUITE = pathlib.Path(__file__).resolve().parent.parent / "benchmarks" / "npbench" / "suite.py"
_spec = importlib.util.spec_from_file_location("npbench_suite", _SUITE)
suite = importlib.util.module_from_spec(_spec)
sys.modules["npbench_suite"] = suite
_spec.loader.exec_module(suite)

BENCHES = suite.all_benches()
SAMPLE = ["sselfeng", "nussinov", "azimhist", "coninteg", "mandel1", "mandel2", "crc16", "spmv", "floydwar",
          "durbin", "doitgen", "mlp", "sthamfft"]
NAMES = list(BENCHES) if os.environ.get("MORPHISM_TEST_NPBENCH") == "all" else SAMPLE


@pytest.mark.parametrize("name", NAMES)
def test_npbench_kernel_natively_matches_numpy(name):
    bench = suite.find(BENCHES, name)
    fn = suite.kernel(bench, "_numpy")
    data = suite.initial_data(bench, "S")
    ref_args = suite.arguments(bench, data)
    ref = suite.outputs(bench, ref_args, fn(*ref_args), every_array=True)
    args = suite.arguments(bench, data)
    jitted = mo.jit(fn, backend="native")
    with warnings.catch_warnings():
        warnings.simplefilter("error", MorphismPerformanceWarning)  # a fallback to the interpreter fails
        got = suite.outputs(bench, args, jitted(*copy.copy(args)), every_array=True)
    assert suite.compare(bench, ref, got) is None, suite.compare(bench, ref, got)
    src = jitted.lower(*suite.arguments(bench, data)).source
    assert "numba.objmode(" not in src, "part of the kernel runs in Numba's object mode"
