import os
import sys

# Shared test helpers (tests/helpers.py, the program corpus loader) import from this folder.
sys.path.insert(0, os.path.dirname(__file__))
os.environ.setdefault("MORPHISM_VERIFY", "1")  # re-run the verifier after every pass in tests
# Tests that do not name a backend run on the reference interpreter (fast to start); the native
# backend is tested against it explicitly in tests/backends.
os.environ.setdefault("MORPHISM_BACKEND", "interpreter")
