"""creation primitives."""

from __future__ import annotations
