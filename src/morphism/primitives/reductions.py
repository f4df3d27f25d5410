"""reductions primitives."""

from __future__ import annotations
