import os
import sys

# Shared test helpers (tests/helpers.py, the program corpus loader) import from this folder.
sys.path.insert(0, os.path.dirname(__file__))
os.environ.setdefault("MORPHISM_VERIFY", "1")  # re-run the verifier after every pass in tests
# Tests that do not name a backend run on the reference interpreter (fast to start); the native
# backend is tested against it explicitly in tests/backends.
os.environ.setdefault("MORPHISM_BACKEND", "interpreter")
# Every test traces what it compiles (tests that patch a primitive's rules must not be answered by
# an entry an earlier run stored); tests/backends/test_trace_cache.py turns the trace cache on.
os.environ.setdefault("MORPHISM_TRACE_CACHE", "0")

# Compiling native code is most of the suite's time on a fresh machine. The tests have LLVM
# optimise it at -O1 rather than Numba's -O3: about 30% less compile time (measured on the
# corpus), the same values (Numba never uses fast-math unless asked). Numba's cache does not
# record the level, so the tests keep their compiled code apart (the generated modules and
# Numba's cache of morphism's own helpers), never to stand in for optimised code elsewhere.
if "NUMBA_OPT" not in os.environ:
    os.environ["NUMBA_OPT"] = "1"
    _cache = os.environ.get("MORPHISM_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "morphism")
    os.environ["MORPHISM_CACHE_DIR"] = os.path.join(_cache, "tests-O1")
    os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(_cache, "tests-O1", "numba"))
