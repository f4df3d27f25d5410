"""NumPy's shape API (reshape, transpose, stacking, flipping, diagonals, ...) and the array
attributes and methods that go with it, mapped onto the shape primitives and `getitem`.

Only the number of dimensions is known at compile time; lengths are run-time values, so a
shape argument becomes a list of i64 atoms (`dims_of`) and an array's shape is a tuple of `dim`
atoms (`shape_of`). Axis arguments must be compile-time constants.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

import numpy as np

from ...ir.core import Array, Atom, DType, Lit, Scalar, lit
from ...primitives import creation as C
from ...primitives import elementwise as E
from ...primitives import indexing as I
from ...primitives import shape as S
from ..library import (
    weak,
    attribute,
    cast,
    check_no_kwargs,
    error,
    implements,
    lookup,
    method,
    static,
    static_axis,
    static_dtype,
    static_int,
    to_atom,
    type_error,
)
from ..values import ListVal, describe, is_atom

ALL = "s000"  # a `:` index item


# ---- shared helpers (also used by creation.py) ----------------------------------------------


def api(*objs: Any):
    """Registers a handler for library functions. The call is checked against the handler's
    signature first, so that a wrong argument is a MorphismError naming the function."""
    return _checked(f"np.{objs[0].__name__}", implements(*objs))


def meth(*names: str):
    """Registers a handler for array methods, checked like `api`."""
    return _checked(f"{names[0]}", method(*names))


def _checked(name: str, register):
    def deco(h):
        sig = inspect.signature(h)

        @functools.wraps(h)
        def checked(*args, **kwargs):
            try:
                sig.bind(*args, **kwargs)
            except TypeError as err:
                check_no_kwargs(name, kwargs, tuple(sig.parameters))
                type_error(f"{name}(): {err}")
            return h(*args, **kwargs)

        register(checked)
        return h

    return deco


def shape_of(x: Atom) -> list[Atom]:
    """The dims of `x` as i64 atoms; literal arrays give literal dims."""
    if isinstance(x, Lit) and isinstance(x.type, Array):
        return [lit(int(d)) for d in x.value.shape]
    return [weak(I.dim(x, axis=k)) for k in range(x.type.ndim)]  # Python ints, as in NumPy


def int_scalar(v: Any, what: str) -> Atom:
    """An integer argument that may be a run-time value, as an i64 atom."""
    if isinstance(v, (bool, int, np.integer)):
        return lit(int(v))
    if not is_atom(v):
        type_error(f"{what} must be an integer, found {describe(v)}")
    if not isinstance(v.type, Scalar) or v.type.dtype.is_inexact:
        type_error(f"{what} must be an integer, found a value of type {v.type}")
    return cast(v, DType.int64)


def dims_of(shape: Any, what: str) -> list[Atom]:
    """A shape argument (an int, or a tuple or list of ints, each possibly a run-time value) as
    i64 atoms. The number of dims must be known at compile time."""
    if isinstance(shape, (tuple, list)):
        return [int_scalar(d, f"{what}: a shape entry") for d in shape]
    if isinstance(shape, Lit) and isinstance(shape.type, Array):
        if shape.type.ndim != 1 or shape.type.dtype.is_inexact:
            type_error(f"{what}: a shape must be a 1-d sequence of integers, found {shape.type}")
        return [lit(int(d)) for d in shape.value]
    if is_atom(shape) and isinstance(shape.type, Array) or isinstance(shape, ListVal):
        error(f"{what}: the number of dimensions must be known at compile time, found {describe(shape)} "
              f"whose length is only known at run time",
              hint="pass a tuple such as (n, m) or x.shape")
    return [int_scalar(shape, f"{what}: the shape")]


def norm_axis(axis: int, ndim: int, what: str = "axis") -> int:
    if not -ndim <= axis < ndim:
        type_error(f"{what} {axis} is out of bounds for an array of {ndim} dimension(s)")
    return axis % ndim


def norm_axes(axes: tuple[int, ...], ndim: int, what: str = "axis") -> tuple[int, ...]:
    out = tuple(norm_axis(a, ndim, what) for a in axes)
    if len(set(out)) != len(out):
        type_error(f"repeated {what} in {axes}")
    return out


def index(x: Atom, spec: tuple[str, ...], *ops: Atom) -> Atom:
    return I.getitem(x, *ops, spec=spec)


def iota(n: Atom, start: Atom | int = 0) -> Atom:
    """[start, start + n) as an i64 vector."""
    start = lit(start) if isinstance(start, int) else start
    stop = E.add(start, n) if not (isinstance(start, Lit) and start.value == 0) else n
    return C.arange(start, stop, lit(1), dtype=DType.int64)


def sequence(arrays: Any, name: str) -> list[Atom]:
    if isinstance(arrays, (tuple, list)) and not hasattr(arrays, "_fields"):
        if not arrays:
            type_error(f"{name} needs at least one array")
        return [to_atom(a, f"{name}()") for a in arrays]
    type_error(f"{name} expects a tuple or list of arrays, found {describe(arrays)}")


def _stacked(arrays: Any) -> Atom | None:
    """A sequence that is one array along axis 0 already: a list built by append, or an array."""
    if isinstance(arrays, ListVal):
        return to_atom(arrays)
    if is_atom(arrays) and isinstance(arrays.type, Array):
        return arrays
    return None


def _sum_last(x: Atom) -> Atom:
    h = lookup(np.sum)
    if h is None:  # pragma: no cover  (the reductions family registers np.sum)
        error("np.sum is not available")
    return h(x, axis=lit(-1))


# ---- attributes and inspection --------------------------------------------------------------


@attribute("shape")
def _shape_attr(x: Atom) -> tuple:
    return tuple(shape_of(x))


@attribute("ndim")
def _ndim_attr(x: Atom) -> Lit:
    return lit(x.type.ndim)


@attribute("size")
def _size_attr(x: Atom) -> Atom:
    if isinstance(x.type, Scalar):
        return lit(1)
    if isinstance(x, Lit):
        return lit(int(x.value.size))
    return I.size(x)


@attribute("dtype")
def _dtype_attr(x: Atom) -> np.dtype:
    return x.type.dtype.np  # a compile-time constant: `np.zeros(n, dtype=x.dtype)`


@attribute("T")
def _T_attr(x: Atom) -> Atom:
    return transpose(x, None)


@attribute("real")
def _real_attr(x: Atom) -> Atom:
    return E.real(x)


@attribute("imag")
def _imag_attr(x: Atom) -> Atom:
    return E.imag(x)


@method("conj", "conjugate")
def _conj_method(x: Atom) -> Atom:
    return E.conj(x)


@api(np.shape)
def _np_shape(a):
    return tuple(shape_of(to_atom(a)))


@api(np.ndim)
def _np_ndim(a):
    return lit(to_atom(a).type.ndim)


@api(np.size)
def _np_size(a, axis=None):
    x = to_atom(a)
    ax = static(axis, "axis")
    if ax is None:
        return _size_attr(x)
    return shape_of(x)[norm_axis(static_int(ax, "axis"), x.type.ndim)]


# ---- reshape, transpose and friends ---------------------------------------------------------


def reshape(x: Atom, shape: Any, order: Any = "C") -> Atom:
    o = static(order, "order")
    if o not in ("C", "A", "K"):
        error(f"reshape with order={o!r} is not supported yet", hint="morphism reshapes in row-major (C) order")
    dims = dims_of(shape, "reshape")
    if sum(isinstance(d, Lit) and d.value == -1 for d in dims) > 1:
        type_error("reshape: can only specify one unknown dimension (-1)")
    return S.reshape(x, *dims)


@api(np.reshape)
def _np_reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    if shape is None:
        shape = newshape
    if shape is None:
        type_error("np.reshape() missing required argument 'shape'")
    return reshape(to_atom(a), shape, order)


@meth("reshape")
def _m_reshape(self, *shape, order="C", copy=None, **kw):
    check_no_kwargs("reshape", kw, ("shape",))
    if "shape" in kw:
        shape = (kw["shape"],)
    if not shape:
        type_error("reshape() needs a shape")
    return reshape(self, shape[0] if len(shape) == 1 else shape, order)


def transpose(x: Atom, axes: Any) -> Atom:
    nd = x.type.ndim
    ax = static(axes, "axes")
    if ax is None:
        perm = tuple(reversed(range(nd)))
    else:
        ax = ax if isinstance(ax, tuple) else (ax,)
        if len(ax) != nd:
            type_error(f"transpose: axes {ax} do not match an array of {nd} dimension(s)")
        perm = norm_axes(tuple(static_int(a, "axes") for a in ax), nd, "axis")
    if perm == tuple(range(nd)):
        return x
    return S.transpose(x, perm=perm)


@api(np.transpose)
def _np_transpose(a, axes=None):
    return transpose(to_atom(a), axes)


@meth("transpose")
def _m_transpose(self, *axes):
    if len(axes) == 0:
        return transpose(self, None)
    if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
        return transpose(self, axes[0])
    return transpose(self, tuple(axes))


def swapaxes(x: Atom, axis1: Any, axis2: Any) -> Atom:
    nd = x.type.ndim
    a = norm_axis(static_int(axis1, "axis1"), nd, "axis1")
    b = norm_axis(static_int(axis2, "axis2"), nd, "axis2")
    perm = list(range(nd))
    perm[a], perm[b] = perm[b], perm[a]
    return transpose(x, tuple(perm))


api(np.swapaxes)(lambda a, axis1, axis2: swapaxes(to_atom(a), axis1, axis2))
meth("swapaxes")(swapaxes)


def moveaxis(x: Atom, source: Any, destination: Any) -> Atom:
    nd = x.type.ndim
    src = norm_axes(static_axis(source, "source"), nd, "source")
    dst = norm_axes(static_axis(destination, "destination"), nd, "destination")
    if len(src) != len(dst):
        type_error("moveaxis: `source` and `destination` must have the same number of elements")
    order = [n for n in range(nd) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(x, tuple(order))


api(np.moveaxis)(lambda a, source, destination: moveaxis(to_atom(a), source, destination))


def ravel(x: Atom, order: Any = "C") -> Atom:
    if x.type.ndim == 1:
        return x
    return reshape(x, (lit(-1),), order)


api(np.ravel)(lambda a, order="C": ravel(to_atom(a), order))
meth("ravel", "flatten")(lambda self, order="C": ravel(self, order))


def squeeze(x: Atom, axis: Any = None) -> Atom:
    axes = static_axis(axis)
    if axes is None:
        if x.type.ndim == 0:
            return x
        error("squeeze without `axis` is not supported: which axes have length 1 is only known at run time",
              hint="name the axes, e.g. np.squeeze(x, axis=0)")
    return S.squeeze(x, axes=norm_axes(axes, x.type.ndim))


api(np.squeeze)(lambda a, axis=None: squeeze(to_atom(a), axis))
meth("squeeze")(lambda self, axis=None: squeeze(self, axis))


def expand_dims(x: Atom, axes: tuple[int, ...]) -> Atom:
    out_nd = x.type.ndim + len(axes)
    new = norm_axes(axes, out_nd)
    return index(x, tuple("n" if i in new else ALL for i in range(out_nd)))


@api(np.expand_dims)
def _np_expand_dims(a, axis):
    return expand_dims(to_atom(a), static_axis(axis))


def _atleast_spec(n: int, nd: int) -> tuple[str, ...] | None:
    """The index that gives an array of n dims at least nd dims, as np.atleast_{1,2,3}d do."""
    if n >= nd:
        return None
    if nd == 3 and n == 1:
        return ("n", ALL, "n")  # (N,) -> (1, N, 1)
    if nd == 3 and n == 2:
        return (ALL, ALL, "n")  # (M, N) -> (M, N, 1)
    return ("n",) * (nd - n) + (ALL,) * n


def _atleast(x: Atom, nd: int) -> Atom:
    spec = _atleast_spec(x.type.ndim, nd)
    return x if spec is None else index(x, spec)


def _atleast_nd(nd: int):
    def h(*arys):
        if not arys:
            type_error(f"atleast_{nd}d needs at least one argument")
        out = tuple(_atleast(to_atom(a), nd) for a in arys)
        return out[0] if len(out) == 1 else out

    return h


api(np.atleast_1d)(_atleast_nd(1))
api(np.atleast_2d)(_atleast_nd(2))
api(np.atleast_3d)(_atleast_nd(3))


@api(np.broadcast_to)
def _np_broadcast_to(array, shape, subok=False):
    return S.broadcast_to(to_atom(array), *dims_of(shape, "broadcast_to"))


# ---- joining --------------------------------------------------------------------------------


def concatenate(xs: list[Atom], axis: int | None) -> Atom:
    if axis is None:
        xs, axis = [ravel(x) for x in xs], 0
    for x in xs:
        if x.type.ndim == 0:
            type_error("zero-dimensional arrays cannot be concatenated")
    axis = norm_axis(axis, xs[0].type.ndim)
    return S.concatenate(*xs, axis=axis)


def _join_rows(whole: Atom, axis: int) -> Atom:
    """Concatenates the rows of `whole` along `axis` of a row: merges axes 0 and axis + 1."""
    nd = whole.type.ndim - 1
    if nd == 0:
        type_error("zero-dimensional arrays cannot be concatenated")
    axis = norm_axis(axis, nd)
    moved = moveaxis(whole, 0, axis)
    dims = shape_of(moved)
    return S.reshape(moved, *dims[:axis], E.mul(dims[axis], dims[axis + 1]), *dims[axis + 2:])


@api(np.concatenate)
def _np_concatenate(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    if out is not None:
        error("np.concatenate(out=...) is not supported: morphism values are immutable")
    ax = static(axis, "axis")
    ax = None if ax is None else static_int(ax, "axis")
    dt = static_dtype(dtype)
    whole = _stacked(arrays)
    if whole is not None:
        # Rows of one array: join axis `ax` of the rows, i.e. merge axes 0 and ax + 1.
        if ax is None:
            return ravel(whole if dt is None else cast(whole, dt))
        r = _join_rows(whole, ax)
        return r if dt is None else cast(r, dt)
    xs = sequence(arrays, "np.concatenate")
    if dt is not None:
        xs = [cast(x, dt) for x in xs]
    return concatenate(xs, ax)


@api(np.stack)
def _np_stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    if out is not None:
        error("np.stack(out=...) is not supported: morphism values are immutable")
    ax = static_int(axis, "axis")
    dt = static_dtype(dtype)
    whole = _stacked(arrays)
    if whole is not None:
        r = moveaxis(whole, 0, ax)
        r = S.copy(r) if r is whole else r
    else:
        xs = sequence(arrays, "np.stack")
        nd = xs[0].type.ndim
        if not -(nd + 1) <= ax <= nd:
            type_error(f"axis {ax} is out of bounds for stacking arrays of {nd} dimension(s)")
        r = S.stack(*xs, axis=ax % (nd + 1))
    return r if dt is None else cast(r, dt)


def _joiner(name: str, spec_of, axis_of):
    """vstack and friends: each array is reshaped by the index `spec_of(ndim)` (None: as it is),
    then they are joined along `axis_of(ndim after)`."""

    def h(tup, *, dtype=None, casting="same_kind"):
        dt = static_dtype(dtype)
        whole = _stacked(tup)
        if whole is not None:  # a list built by append: reshape every row at once
            spec = spec_of(whole.type.ndim - 1)
            rows = whole if spec is None else index(whole, (ALL,) + spec)
            r = _join_rows(rows, axis_of(rows.type.ndim - 1))
            return r if dt is None else cast(r, dt)
        xs = []
        for x in sequence(tup, f"np.{name}"):
            spec = spec_of(x.type.ndim)
            xs.append(x if spec is None else index(x, spec))
        if dt is not None:
            xs = [cast(x, dt) for x in xs]
        return concatenate(xs, axis_of(xs[0].type.ndim))

    return h


def _column_spec(n: int) -> tuple[str, ...] | None:
    return ("n", "n") if n == 0 else (ALL, "n") if n == 1 else None


api(np.vstack, getattr(np, "row_stack", None))(_joiner("vstack", lambda n: _atleast_spec(n, 2), lambda nd: 0))
api(np.hstack)(_joiner("hstack", lambda n: _atleast_spec(n, 1), lambda nd: 0 if nd == 1 else 1))
api(np.dstack)(_joiner("dstack", lambda n: _atleast_spec(n, 3), lambda nd: 2))
api(np.column_stack)(_joiner("column_stack", _column_spec, lambda nd: 1))


# ---- reordering and repeating ---------------------------------------------------------------


def flip(x: Atom, axis: Any = None) -> Atom:
    nd = x.type.ndim
    axes = static_axis(axis)
    axes = tuple(range(nd)) if axes is None else norm_axes(axes, nd)
    if not axes:
        return x
    spec = tuple("s001" if i in axes else ALL for i in range(nd))
    return index(x, spec, *[lit(-1)] * len(axes))


api(np.flip)(lambda m, axis=None: flip(to_atom(m), axis))


@api(np.fliplr)
def _np_fliplr(m):
    x = to_atom(m)
    if x.type.ndim < 2:
        type_error(f"np.fliplr needs an array of at least 2 dimensions, found {x.type}")
    return flip(x, 1)


@api(np.flipud)
def _np_flipud(m):
    x = to_atom(m)
    if x.type.ndim < 1:
        type_error(f"np.flipud needs an array of at least 1 dimension, found {x.type}")
    return flip(x, 0)


@api(np.roll)
def _np_roll(a, shift, axis=None):
    x = to_atom(a)
    shifts = [int_scalar(s, "np.roll: the shift") for s in (shift if isinstance(shift, (tuple, list)) else (shift,))]
    axes = static_axis(axis)
    if axes is None:
        flat = ravel(x)
        for s in shifts:
            flat = S.roll(flat, s, axis=0)
        return S.reshape(flat, *shape_of(x))
    if x.type.ndim == 0:
        type_error("np.roll along an axis needs an array, found a scalar")
    if len(shifts) == 1:
        shifts = shifts * len(axes)
    elif len(axes) == 1:
        axes = axes * len(shifts)
    if len(shifts) != len(axes):
        type_error(f"np.roll: {len(shifts)} shifts do not match {len(axes)} axes")
    for s, ax in zip(shifts, axes):
        x = S.roll(x, s, axis=norm_axis(ax, x.type.ndim))
    return x


@api(np.tile)
def _np_tile(A, reps):
    x = orig = to_atom(A)
    reps = dims_of(reps, "np.tile: reps")
    d = max(len(reps), x.type.ndim)
    reps = [lit(1)] * (d - len(reps)) + reps
    if x.type.ndim < d:
        x = index(x, ("n",) * (d - x.type.ndim) + (ALL,) * x.type.ndim)
    dims = shape_of(x)
    # (s0, s1, ...) -> (1, s0, 1, s1, ...) -> broadcast to (r0, s0, r1, s1, ...) -> (r0*s0, r1*s1, ...).
    tiled = [i for i, r in enumerate(reps) if not (isinstance(r, Lit) and r.value == 1)]
    if not tiled:
        return S.copy(x) if x is orig else x  # NumPy's tile always makes a new array
    spec, bdims = [], []
    for i in range(d):
        if i in tiled:
            spec.append("n")
            bdims.append(reps[i])
        spec.append(ALL)
        bdims.append(dims[i])
    b = S.broadcast_to(index(x, tuple(spec)), *bdims)
    return S.reshape(b, *[E.mul(reps[i], dims[i]) if i in tiled else dims[i] for i in range(d)])


def repeat(x: Atom, repeats: Any, axis: Any = None) -> Atom:
    if is_atom(repeats) and isinstance(repeats.type, Array) or isinstance(repeats, (tuple, list)):
        error("np.repeat with per-element repeat counts is not supported yet",
              hint="pass one integer count")
    r = int_scalar(repeats, "np.repeat: repeats")
    ax = static(axis, "axis")
    if ax is None:
        x, ax = ravel(x), 0
    else:
        if x.type.ndim == 0:
            type_error("np.repeat along an axis needs an array, found a scalar")
        ax = norm_axis(static_int(ax, "axis"), x.type.ndim)
    nd = x.type.ndim
    dims = shape_of(x)
    # (.., s, ..) -> (.., s, 1, ..) -> broadcast to (.., s, r, ..) -> (.., s*r, ..).
    y = index(x, (ALL,) * (ax + 1) + ("n",) + (ALL,) * (nd - ax - 1))
    b = S.broadcast_to(y, *dims[: ax + 1], r, *dims[ax + 1:])
    return S.reshape(b, *dims[:ax], E.mul(dims[ax], r), *dims[ax + 1:])


api(np.repeat)(lambda a, repeats, axis=None: repeat(to_atom(a), repeats, axis))
meth("repeat")(lambda self, repeats, axis=None: repeat(self, repeats, axis))


def take(x: Atom, indices: Any, axis: Any = None, out: Any = None, mode: Any = None) -> Atom:
    if out is not None:
        error("take(out=...) is not supported: morphism values are immutable")
    if static(mode, "mode") not in (None, "raise"):
        error(f"take with mode={static(mode, 'mode')!r} is not supported yet", hint="only mode='raise'")
    idx = to_atom(indices, "take() indices")
    if idx.type.dtype.is_inexact:
        type_error(f"take() indices must be integers, found {idx.type}")
    idx = cast(idx, DType.int64)  # np.take reads booleans as 0 and 1, not as a mask
    ax = static(axis, "axis")
    if ax is None:
        x, ax = ravel(x), 0
    else:
        ax = norm_axis(static_int(ax, "axis"), x.type.ndim)
    return index(x, (ALL,) * ax + ("i" if isinstance(idx.type, Scalar) else "a",), idx)


api(np.take)(lambda a, indices, axis=None, out=None, mode="raise": take(to_atom(a), indices, axis, out, mode))
meth("take")(take)


@api(np.flatnonzero)
def _np_flatnonzero(a):
    flat = ravel(to_atom(a))
    nz = flat if flat.type.dtype == DType.bool else E.ne(flat, 0)
    return index(iota(I.dim(flat, axis=0)), ("m",), nz)


# ---- diagonals and triangles ----------------------------------------------------------------


def diagonal(x: Atom, offset: Any = 0, axis1: Any = 0, axis2: Any = 1) -> Atom:
    nd = x.type.ndim
    if nd < 2:
        type_error(f"diagonal needs an array of at least 2 dimensions, found {x.type}")
    k = static_int(offset, "offset")
    a = norm_axis(static_int(axis1, "axis1"), nd, "axis1")
    b = norm_axis(static_int(axis2, "axis2"), nd, "axis2")
    if a == b:
        type_error("diagonal: axis1 and axis2 cannot be the same")
    xt = transpose(x, tuple(i for i in range(nd) if i not in (a, b)) + (a, b))
    dims = shape_of(xt)
    r0, c0 = max(-k, 0), max(k, 0)
    n = E.maximum(E.minimum(E.sub(dims[-2], r0), E.sub(dims[-1], c0)), lit(0))
    return index(xt, ("e", "a", "a"), iota(n, r0), iota(n, c0))


api(np.diagonal)(lambda a, offset=0, axis1=0, axis2=1: diagonal(to_atom(a), offset, axis1, axis2))
meth("diagonal")(diagonal)


def trace(x: Atom, offset: Any = 0, axis1: Any = 0, axis2: Any = 1, dtype: Any = None, out: Any = None) -> Atom:
    if out is not None:
        error("trace(out=...) is not supported: morphism values are immutable")
    d = diagonal(x, offset, axis1, axis2)
    dt = static_dtype(dtype)
    return _sum_last(d if dt is None else cast(d, dt))


api(np.trace)(lambda a, offset=0, axis1=0, axis2=1, dtype=None, out=None: trace(to_atom(a), offset, axis1, axis2, dtype, out))
meth("trace")(trace)


@api(np.diag)
def _np_diag(v, k=0):
    x = to_atom(v)
    k = static_int(k, "k")
    if x.type.ndim == 2:
        return diagonal(x, k)
    if x.type.ndim != 1:
        type_error(f"np.diag needs a 1-d or 2-d array, found {x.type}")
    n = I.dim(x, axis=0)
    size = E.add(n, abs(k)) if k else n
    z = C.zeros(size, size, dtype=x.type.dtype)
    return I.setitem(z, x, iota(n, max(-k, 0)), iota(n, max(k, 0)), spec=("a", "a"))


def _triangle(keep):
    def h(m, k=0):
        x = to_atom(m)
        nd = x.type.ndim
        if nd == 0:
            type_error("np.triu and np.tril need an array, found a scalar")
        rows, cols = (I.dim(x, axis=0),) * 2 if nd == 1 else (I.dim(x, axis=nd - 2), I.dim(x, axis=nd - 1))
        diff = E.sub(iota(cols), index(iota(rows), (ALL, "n")))  # j - i
        zero = lit(0, x.type.dtype)
        return E.select(keep(diff, int_scalar(k, "k")), x, zero)

    return h


api(np.triu)(_triangle(E.ge))
api(np.tril)(_triangle(E.le))


# ---- grids ----------------------------------------------------------------------------------


@api(np.meshgrid)
def _np_meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    ind = static(indexing, "indexing")
    if ind not in ("xy", "ij"):
        type_error(f"np.meshgrid: indexing must be 'xy' or 'ij', found {ind!r}")
    sparse = bool(static(sparse, "sparse"))
    xs = [to_atom(x) for x in xi]
    xs = [x if x.type.ndim == 1 else ravel(x) for x in xs]
    n = len(xs)
    pos = list(range(n))
    if ind == "xy" and n >= 2:
        pos[0], pos[1] = 1, 0
    out_dims: list[Atom] = [lit(0)] * n
    for x, p in zip(xs, pos):
        out_dims[p] = I.dim(x, axis=0)
    out = []
    for x, p in zip(xs, pos):
        g = index(x, tuple(ALL if j == p else "n" for j in range(n)))
        out.append(g if sparse else S.broadcast_to(g, *out_dims))
    return tuple(out)


# ---- copies and conversions -----------------------------------------------------------------


def _as_array(a: Any, dtype: Any = None, ndmin: Any = 0, copy: bool = False) -> Atom:
    """np.array / np.asarray. Records become arrays (to_atom stacks them); an array is the same
    value, aliased as in NumPy unless `copy` or a conversion makes a new one."""
    x = to_atom(a, "np.array()")
    dt = static_dtype(dtype)
    if dt is not None and dt != x.type.dtype:
        x, copy = cast(x, dt), False
    nmin = static_int(ndmin, "ndmin")
    if x.type.ndim < nmin:
        x, copy = index(x, ("n",) * (nmin - x.type.ndim) + (ALL,) * x.type.ndim), False
    return S.copy(x) if copy and is_atom(a) and isinstance(x.type, Array) else x


@api(np.array)
def _np_array(object, dtype=None, *, copy=True, order="K", subok=False, ndmin=0, ndmax=0, like=None):
    if static(ndmax, "ndmax"):
        error("np.array(ndmax=...) is not supported yet")
    return _as_array(object, dtype, ndmin, copy=bool(static(copy, "copy")))


@api(np.asarray, np.asanyarray)
def _np_asarray(a, dtype=None, order=None, *, device=None, copy=None, like=None):
    return _as_array(a, dtype, copy=bool(static(copy, "copy")))


@api(np.ascontiguousarray)
def _np_ascontiguousarray(a, dtype=None, *, like=None):
    return _as_array(a, dtype)


# A copy is a new value: writes into it must not reach the original (and vice versa).
api(np.copy)(lambda a, order="K", subok=False: _as_array(a, copy=True))
meth("copy")(lambda self, order="C": S.copy(self))


@meth("astype")
def _m_astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
    if static(casting, "casting") != "unsafe":
        error("astype(casting=...) is not supported yet")
    dt = static_dtype(dtype)
    if dt is None:
        type_error("astype() needs a dtype")
    if dt == self.type.dtype:
        return S.copy(self) if static(copy, "copy") else self
    return cast(self, dt)


@meth("item")
def _m_item(self, *args):
    if args:
        error("item() with an index is not supported yet", hint="index first: x[i, j]")
    if isinstance(self.type, Scalar):
        return self
    return S.reshape(self)  # NumPy raises at run time unless the array has one element
