"""NumPy shape API mapped onto primitives."""

from __future__ import annotations
