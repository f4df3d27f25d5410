"""The IR: types, values, equations, blocks and functions.

Everything here is an immutable dataclass. A pass builds new IR; nothing mutates IR in place.
Control flow is structured: `cond`, `for_range`, `while_loop` and `call` are equations whose
params hold nested `Block`s. A block may read values defined in the blocks around it (lexical
scope, as in MLIR's `scf` regions); loop-carried values are explicit block params.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Iterator

import numpy as np


class DType(Enum):
    bool = "bool"
    int8 = "int8"
    int16 = "int16"
    int32 = "int32"
    int64 = "int64"
    uint8 = "uint8"
    uint16 = "uint16"
    uint32 = "uint32"
    uint64 = "uint64"
    float32 = "float32"
    float64 = "float64"
    complex64 = "complex64"
    complex128 = "complex128"

    @property
    def short(self) -> str:
        return _SHORT[self]

    @property
    def np(self) -> np.dtype:
        return _NP[self]

    @property
    def kind(self) -> str:
        """NumPy's kind: 'b' bool, 'i' signed, 'u' unsigned, 'f' float, 'c' complex."""
        return _NP[self].kind

    @property
    def is_int(self) -> bool:
        return self.kind in "iu"

    @property
    def is_float(self) -> bool:
        return self.kind == "f"

    @property
    def is_complex(self) -> bool:
        return self.kind == "c"

    @property
    def is_inexact(self) -> bool:
        return self.kind in "fc"

    @property
    def real(self) -> "DType":
        """The dtype of the real part: float32 for complex64, float64 for complex128."""
        return {DType.complex64: DType.float32, DType.complex128: DType.float64}.get(self, self)

    def __repr__(self) -> str:
        return self.value


_SHORT = {DType.bool: "bool", DType.int8: "i8", DType.int16: "i16", DType.int32: "i32", DType.int64: "i64",
          DType.uint8: "u8", DType.uint16: "u16", DType.uint32: "u32", DType.uint64: "u64",
          DType.float32: "f32", DType.float64: "f64", DType.complex64: "c64", DType.complex128: "c128"}
_NP = {d: np.dtype(d.value) for d in DType}
_OF_NUMPY = {v: k for k, v in _NP.items()}

bool_, int64, float64 = DType.bool, DType.int64, DType.float64


def dtype_of_numpy(dt: Any) -> DType | None:
    """The IR dtype of a NumPy dtype (or scalar type), or None when the IR has no such dtype."""
    try:
        return _OF_NUMPY.get(np.dtype(dt))
    except TypeError:
        return None


def promote(*dtypes: DType) -> DType:
    """NumPy's promotion of these dtypes (all strongly typed: Python numbers are cast to their
    NEP 50 dtype by the frontend before they meet a typed value)."""
    if len(dtypes) == 1:
        return dtypes[0]
    r = dtype_of_numpy(np.result_type(*(d.np for d in dtypes)))
    if r is None:  # pragma: no cover (every pair of IR dtypes promotes to an IR dtype)
        raise TypeError(f"no common dtype for {dtypes}")
    return r


def inexact(d: DType) -> DType:
    """The dtype a true division or `np.sqrt` gives: floats and complex stay, integers become
    float64 (int16 float32, as in NumPy); None where NumPy gives float16 (int8, uint8)."""
    if d.is_inexact:
        return d
    if d in (DType.int16, DType.uint16):
        return DType.float32
    if d in (DType.int8, DType.uint8):
        return None  # type: ignore[return-value]
    return DType.float64


@dataclass(frozen=True)
class Scalar:
    dtype: DType

    ndim = 0

    def __str__(self) -> str:
        return self.dtype.short

    def with_dtype(self, dtype: DType) -> "Scalar":
        return Scalar(dtype)


@dataclass(frozen=True)
class Array:
    dtype: DType
    ndim: int

    def __post_init__(self):
        assert self.ndim >= 1, "a 0-d array is a Scalar"

    def __str__(self) -> str:
        return f"{self.dtype.short}[{','.join(':' * self.ndim)}]"

    def with_dtype(self, dtype: DType) -> "Array":
        return Array(dtype, self.ndim)


@dataclass(frozen=True)
class Tape:
    """A stack of values saved by reverse mode's forward sweep, one entry per loop iteration
    (a growable array in the backends; an array of tapes for nested loops)."""

    elem: "Type"

    ndim = 0

    @property
    def dtype(self) -> DType:
        return self.elem.dtype

    def __str__(self) -> str:
        return f"tape<{self.elem}>"


Type = Scalar | Array | Tape


def make_type(dtype: DType, ndim: int) -> Type:
    return Scalar(dtype) if ndim == 0 else Array(dtype, ndim)


def type_of_value(value: Any) -> Type | None:
    """The IR type of a run-time value, or None when the IR cannot hold it."""
    if isinstance(value, (bool, np.bool_)):
        return Scalar(DType.bool)
    if isinstance(value, int):
        return Scalar(DType.int64) if -(2**63) <= value < 2**63 else None
    if isinstance(value, float):
        return Scalar(DType.float64)
    if isinstance(value, complex):
        return Scalar(DType.complex128)
    if isinstance(value, np.generic):
        dt = dtype_of_numpy(value.dtype)
        return Scalar(dt) if dt is not None else None
    if isinstance(value, np.ndarray):
        dt = dtype_of_numpy(value.dtype)
        if dt is None:
            return None
        return make_type(dt, value.ndim)
    return None


# --------------------------------------------------------------------------------------------
# Source locations


@dataclass(frozen=True)
class Loc:
    file: str
    line: int
    col: int
    func: str = ""
    end_col: int = 0  # where the construct ends on its first line (0: unknown)

    def __str__(self) -> str:
        name = self.file.rsplit("/", 1)[-1]
        return f"{name}:{self.line}"

    def long(self) -> str:
        return f'File "{self.file}", line {self.line}, col {self.col + 1}' + (
            f", in {self.func}" if self.func else ""
        )

    def source_line(self) -> str | None:
        import linecache

        text = linecache.getline(self.file, self.line)
        return text.rstrip("\n") if text else None


NO_LOC = Loc("<morphism>", 0, 0)


# --------------------------------------------------------------------------------------------
# Values

_ids = itertools.count()


@dataclass(frozen=True, eq=False)
class Var:
    """An SSA value. Identity is the object itself; `hint` is the Python name it came from."""

    type: Type
    hint: str = ""
    id: int = field(default_factory=lambda: next(_ids))

    def __hash__(self) -> int:
        return self.id

    def __eq__(self, other: object) -> bool:
        return self is other

    def __repr__(self) -> str:
        return f"Var({self.hint or '_'}#{self.id}:{self.type})"


@dataclass(frozen=True)
class Lit:
    """A constant. Scalars hold a Python bool/int/float; arrays a read-only NumPy array, or,
    for an array the function captured (a global, a closure cell), the caller's array itself:
    `name` says which, and the backends read it when the function runs, not when it compiles
    (so a change made in place between calls is seen, and no data goes into generated source)."""

    value: Any
    type: Type
    name: str = ""

    def __hash__(self) -> int:
        if isinstance(self.type, Array):
            return hash((id(self.value), self.type))
        return hash((type(self.value), self.value, self.type))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Lit) or other.type != self.type:
            return False
        if isinstance(self.type, Array):
            return self.value is other.value
        return type(self.value) is type(other.value) and (
            self.value == other.value or (self.value != self.value and other.value != other.value)
        )

    def __repr__(self) -> str:
        return f"Lit({self.value!r}:{self.type})"


Atom = Var | Lit


def captured(arr: np.ndarray, name: str) -> Lit:
    """The caller's array `arr`, captured by the function under `name`, by reference."""
    t = type_of_value(arr)
    if not isinstance(t, Array):
        raise TypeError(f"arrays of dtype {arr.dtype} are not supported")
    return Lit(arr, t, name or "captured")


def numpy_scalar(value: Any, dtype: DType) -> Lit:
    """A NumPy scalar literal (`np.float64(2.0)`): unlike a Python number, it keeps its dtype
    when it meets an array of another (NEP 50)."""
    return Lit(python_value(value, dtype), Scalar(dtype), "numpy")


def is_value(a: Any, v: Any) -> bool:
    """Whether `a` is the scalar literal `v` (an array literal never is)."""
    return isinstance(a, Lit) and isinstance(a.type, Scalar) and a.value == v


def lit(value: Any, dtype: DType | None = None) -> Lit:
    """A scalar or array literal of the given (or inferred) dtype."""
    if isinstance(value, np.ndarray):
        arr = np.array(value, dtype=dtype.np if dtype else None)
        t = type_of_value(arr)
        if t is None:
            raise TypeError(f"arrays of dtype {arr.dtype} are not supported")
        if isinstance(t, Scalar):
            return lit(arr.item(), t.dtype)
        arr.setflags(write=False)
        return Lit(arr, t)
    if dtype is None:
        t = type_of_value(value)
        if t is None:
            raise TypeError(f"cannot make a literal of {value!r}")
        dtype = t.dtype
    return Lit(python_value(value, dtype), Scalar(dtype))


def python_value(value: Any, dtype: DType) -> Any:
    """`value` as the Python number a scalar literal of `dtype` holds (rounded to float32 or
    complex64; an integer that does not fit the dtype is an OverflowError, as in NumPy)."""
    k = dtype.kind
    if k == "b":
        return bool(value)
    if k in "iu":
        v = int(value)
        info = np.iinfo(dtype.np)
        if not info.min <= v <= info.max:
            raise OverflowError(f"Python integer {v} out of bounds for {dtype.value}")
        return v
    if k == "f":
        return float(dtype.np.type(value)) if dtype != DType.float64 else float(value)
    return complex(dtype.np.type(value)) if dtype != DType.complex128 else complex(value)


# --------------------------------------------------------------------------------------------
# Equations, blocks, functions


class Params(dict):
    """A primitive's static parameters: a hashable, read-only mapping with attribute access."""

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted((k, _hashable(v)) for k, v in self.items())))

    def _readonly(self, *a, **k):
        raise TypeError("Params are immutable; use .replace(...)")

    __setitem__ = __delitem__ = update = pop = popitem = setdefault = clear = _readonly  # type: ignore

    def replace(self, **kw: Any) -> "Params":
        return Params({**self, **kw})


def _hashable(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return tuple(_hashable(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((k, _hashable(x)) for k, x in v.items()))
    if isinstance(v, np.ndarray):
        return id(v)
    return v


@dataclass(frozen=True, eq=False)
class Eqn:
    prim: "Primitive"  # noqa: F821  (primitives.registry.Primitive)
    inputs: tuple[Atom, ...]
    params: Params
    outputs: tuple[Var, ...]
    loc: Loc = NO_LOC

    def blocks(self) -> Iterator["Block"]:
        for v in self.params.values():
            if isinstance(v, Block):
                yield v
            elif isinstance(v, tuple) and v and all(isinstance(b, Block) for b in v):
                yield from v


@dataclass(frozen=True, eq=False)
class Block:
    params: tuple[Var, ...]
    eqns: tuple[Eqn, ...]
    results: tuple[Atom, ...]

    @property
    def result_types(self) -> tuple[Type, ...]:
        return tuple(r.type for r in self.results)


@dataclass(frozen=True, eq=False)
class Func:
    name: str
    body: Block
    # Pytree structure of the user-facing arguments and results, kept for the API layer.
    in_tree: Any = None
    out_tree: Any = None
    loc: Loc = NO_LOC

    @property
    def params(self) -> tuple[Var, ...]:
        return self.body.params

    @property
    def results(self) -> tuple[Atom, ...]:
        return self.body.results

    def __str__(self) -> str:
        from .printer import print_funcs

        return print_funcs(self)


def defined_vars(block: Block) -> set[Var]:
    """Vars bound in `block` or in blocks nested in it (params and equation outputs)."""
    out = set(block.params)
    for e in block.eqns:
        out.update(e.outputs)
        for sub in e.blocks():
            out |= defined_vars(sub)
    return out


def free_vars(block: Block) -> list[Var]:
    """Vars read by `block` (or blocks nested in it) but defined outside it, in first-use order."""
    defined: set[Var] = set()
    seen: dict[Var, None] = {}

    def walk(b: Block) -> None:
        defined.update(b.params)
        for e in b.eqns:
            for a in e.inputs:
                if isinstance(a, Var) and a not in defined:
                    seen.setdefault(a)
            for sub in e.blocks():
                walk(sub)
            defined.update(e.outputs)
        for r in b.results:
            if isinstance(r, Var) and r not in defined:
                seen.setdefault(r)

    walk(block)
    return [v for v in seen if v not in defined]


@dataclass(eq=False)
class FuncRef:
    """The callee of a `call` equation. Mutable on purpose, and only here: a recursive function's
    body refers to itself, so the body is attached after the signature is known."""

    name: str
    in_types: tuple[Type, ...]
    out_types: tuple[Type, ...]
    func: Func | None = None

    def __repr__(self) -> str:
        return f"@{self.name}"

    def __hash__(self) -> int:
        return id(self)
