"""NumPy reductions API mapped onto primitives."""

from __future__ import annotations
