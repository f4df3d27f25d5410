"""NumPy linalg API mapped onto primitives."""

from __future__ import annotations
