import os
import sys

# Shared test helpers (tests/helpers.py, the program corpus loader) import from this folder.
sys.path.insert(0, os.path.dirname(__file__))
os.environ.setdefault("MORPHISM_VERIFY", "1")  # re-run the verifier after every pass in tests
