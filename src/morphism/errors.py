"""morphism's errors. Every error says what was expected, what was found, and where.

This module sits at the top of the package (not under frontend/) because the type rules of the
primitives, the verifier and the API raise these errors too.
"""

from __future__ import annotations

from typing import Any


class MorphismError(Exception):
    """Base class of every error morphism raises about the user's program or arguments."""

    def __init__(self, message: str, loc: Any = None, hint: str | None = None, ir: str | None = None):
        self.message = message
        self.loc = loc
        self.hint = hint
        self.ir = ir
        super().__init__(self._format())

    def _format(self) -> str:
        parts = [self.message]
        loc = self.loc
        if loc is not None and getattr(loc, "line", 0):
            parts.append(f"  {loc.long()}")
            src = loc.source_line()
            if src is not None:
                stripped = src.lstrip()
                indent = len(src) - len(stripped)
                parts.append(f"    {stripped}")
                width = max(getattr(loc, "end_col", 0) - loc.col, 1)
                parts.append("    " + " " * max(loc.col - indent, 0) + "^" * width)
        if self.ir:
            parts.append("  in the IR:\n" + "\n".join("    " + l for l in self.ir.splitlines()))
        if self.hint:
            parts.append(f"  hint: {self.hint}")
        return "\n".join(parts)


class UnsupportedSyntaxError(MorphismError):
    """A Python construct, library function or method that morphism does not compile."""


class MorphismTypeError(MorphismError, TypeError):
    """Types that do not fit: operands of a primitive, branches of an `if`, arguments of a call."""


class UndefinedVariableError(MorphismError, NameError):
    """A name that is not defined, or may be undefined on some path through the program."""


class ArgumentError(MorphismError, TypeError):
    """An argument passed to a compiled or transformed function that morphism cannot take."""


class VerifyError(MorphismError):
    """The IR does not satisfy its type rules: a bug in a pass, reported with the IR."""


class TypeRuleError(Exception):
    """Raised by a primitive's type rule; the caller adds the location and turns it into a
    MorphismTypeError."""


def add_location_note(exc: BaseException, loc: Any) -> None:
    """Adds the user's line to an error raised while running their program (a NumPy error in
    the interpreter), once: the innermost equation's line, the most precise."""
    if isinstance(exc, MorphismError) or getattr(exc, "_morphism_located", False) or not getattr(loc, "line", 0):
        return
    src = loc.source_line()
    exc.add_note(f"  {loc.long()}" + (f"\n    {src.strip()}" if src else ""))
    exc._morphism_located = True
