"""NumPy's products and np.linalg mapped onto primitives.

Every product NumPy spells differently (dot, vdot, inner, outer, tensordot, kron, vecdot,
matvec) lowers to `matmul` where NumPy's semantics are matmul's, and to one `einsum` otherwise,
with labels chosen here from the operands' static ndims. Norms are composed from elementwise
ops, reductions and `svd`.
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np

from ...errors import TypeRuleError
from ...ir.core import Atom, DType, lit
from ...primitives import control as C
from ...primitives import elementwise as E
from ...primitives import indexing as I
from ...primitives import linalg as L
from ...primitives import reductions as R
from ...primitives.shape import stack
from ..library import (
    implements_lazy,
    cast,
    check_no_kwargs,
    error,
    implements,
    lookup,
    method,
    static,
    static_int,
    to_atom,
    to_float,
    type_error,
)

_LABELS = string.ascii_letters


def _labels(start: int, n: int) -> str:
    if start + n > len(_LABELS):
        error(f"arrays with {start + n} dimensions in total are too many for an einsum lowering "
              f"(at most {len(_LABELS)})")
    return _LABELS[start:start + n]


def _numpy(fn: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    """Calls the frontend's handler of another NumPy function (ravel, reshape, eye ...)."""
    h = lookup(fn)
    if h is None:
        error(f"{name} is needed here but not supported yet")
    return h(*args, **kwargs)


def _ravel(a: Atom) -> Atom:
    return a if a.type.ndim == 1 else _numpy(np.ravel, "np.ravel", a)


def _mul(a: Atom, b: Atom) -> Atom:
    # A product of booleans stays boolean in NumPy's products (np.dot(True, True) is True).
    if a.type.dtype == DType.bool and b.type.dtype == DType.bool:
        return E.logical_and(a, b)
    return E.mul(a, b)


def _array(x: Any, fname: str, min_ndim: int = 0) -> Atom:
    a = to_atom(x, f"{fname}()")
    if a.type.ndim < min_ndim:
        type_error(f"{fname}() expected an array of at least {min_ndim} dimension(s), found {a.type}")
    return a


# ---- products -------------------------------------------------------------------------------


@implements(np.matmul, getattr(np.linalg, "matmul", None))
def _matmul(a, b, **kw):
    check_no_kwargs("np.matmul", kw)
    return L.matmul(to_atom(a), to_atom(b))


def dot(a: Atom, b: Atom) -> Atom:
    na, nb = a.type.ndim, b.type.ndim
    if na == 0 or nb == 0:
        return _mul(a, b)
    if na == 1 or nb <= 2:
        # Here dot and matmul agree: both contract the last axis of a with the second-to-last
        # of b (the only one, if b is 1-d), and there are no batch axes on both sides to pair.
        return L.matmul(a, b)
    # dot(a, b)[i..., j..., m] = sum_k a[i..., k] * b[j..., k, m]
    ia, jb = _labels(0, na - 1), _labels(na - 1, nb - 2)
    k, m = _labels(na + nb - 3, 2)
    return L.einsum(a, b, spec=f"{ia}{k},{jb}{k}{m}->{ia}{jb}{m}")


@implements(np.dot)
def _dot(a, b, **kw):
    check_no_kwargs("np.dot", kw)
    return dot(to_atom(a), to_atom(b))


@method("dot")
def _dot_method(self, b, **kw):
    check_no_kwargs("ndarray.dot", kw)
    return dot(to_atom(self), to_atom(b))


@implements(np.vdot)
def _vdot(a, b):
    a, b = _ravel(to_atom(a)), _ravel(to_atom(b))
    return L.einsum(a, b, spec="i,i->")


@implements(np.inner)
def _inner(a, b):
    a, b = to_atom(a), to_atom(b)
    na, nb = a.type.ndim, b.type.ndim
    if na == 0 or nb == 0:
        return _mul(a, b)
    # inner(a, b)[i..., j...] = sum_k a[i..., k] * b[j..., k]
    ia, jb, k = _labels(0, na - 1), _labels(na - 1, nb - 1), _labels(na + nb - 2, 1)
    return L.einsum(a, b, spec=f"{ia}{k},{jb}{k}->{ia}{jb}")


@implements(np.outer)
def _outer(a, b, **kw):
    check_no_kwargs("np.outer", kw)
    return L.einsum(_ravel(to_atom(a)), _ravel(to_atom(b)), spec="i,j->ij")


@implements(getattr(np.linalg, "outer", None))
def _linalg_outer(a, b):
    a, b = to_atom(a), to_atom(b)
    if a.type.ndim != 1 or b.type.ndim != 1:
        type_error(f"np.linalg.outer expected two 1-d arrays, found {a.type} and {b.type}",
                   hint="np.outer flattens its inputs")
    return L.einsum(a, b, spec="i,j->ij")


def _normalize_axes(axes: Any, ndim: int, what: str) -> tuple[int, ...]:
    axes = axes if isinstance(axes, tuple) else (axes,)
    out = []
    for ax in axes:
        if isinstance(ax, bool) or not isinstance(ax, (int, np.integer)):
            type_error(f"{what}: axes must be integers, found {ax!r}")
        if not -ndim <= ax < ndim:
            type_error(f"{what}: axis {ax} is out of bounds for an array of {ndim} dimension(s)")
        out.append(int(ax) % ndim)
    if len(set(out)) != len(out):
        type_error(f"{what}: repeated axis in {axes!r}")
    return tuple(out)


@implements(np.tensordot, getattr(np.linalg, "tensordot", None))
def _tensordot(a, b, axes=2):
    a, b = to_atom(a), to_atom(b)
    na, nb = a.type.ndim, b.type.ndim
    ax = static(axes, "the axes of np.tensordot")
    if isinstance(ax, (int, np.integer)) and not isinstance(ax, bool):
        n = int(ax)
        if n < 0 or n > na or n > nb:
            type_error(f"np.tensordot: cannot sum over {n} axes of arrays of {na} and {nb} dimensions")
        axa, axb = tuple(range(na - n, na)), tuple(range(n))
    elif isinstance(ax, tuple) and len(ax) == 2:
        axa = _normalize_axes(ax[0], na, "np.tensordot")
        axb = _normalize_axes(ax[1], nb, "np.tensordot")
        if len(axa) != len(axb):
            type_error(f"np.tensordot: the axes {ax!r} pair {len(axa)} axes of a with {len(axb)} of b")
    else:
        type_error(f"np.tensordot: axes must be an integer or a pair of sequences, found {ax!r}")
    la, lb = list(_labels(0, na)), list(_labels(na, nb))
    for i, j in zip(axa, axb):
        lb[j] = la[i]
    out = [c for i, c in enumerate(la) if i not in axa] + [c for j, c in enumerate(lb) if j not in axb]
    return L.einsum(a, b, spec=f"{''.join(la)},{''.join(lb)}->{''.join(out)}")


@implements(np.kron)
def _kron(a, b):
    a, b = to_atom(a), to_atom(b)
    na, nb = a.type.ndim, b.type.ndim
    if na == 0 or nb == 0:
        return _mul(a, b)
    # kron(a, b)[i*nb + j, ...] = a[i, ...] * b[j, ...], with the shorter shape padded by 1s in
    # front: an outer product with axes interleaved, then merged pairwise.
    nd = max(na, nb)
    la, lb = _labels(0, na), _labels(na, nb)
    out, shape = "", []
    for k in range(nd):
        ka, kb = k - (nd - na), k - (nd - nb)
        da = I.dim(a, axis=ka) if ka >= 0 else None
        db = I.dim(b, axis=kb) if kb >= 0 else None
        out += (la[ka] if ka >= 0 else "") + (lb[kb] if kb >= 0 else "")
        shape.append(E.mul(da, db) if da is not None and db is not None else da if da is not None else db)
    prod = L.einsum(a, b, spec=f"{la},{lb}->{out}")
    return _numpy(np.reshape, "np.reshape", prod, tuple(shape))


@implements(np.cross, getattr(np.linalg, "cross", None))
def _cross(a, b, axis=-1, **kw):
    check_no_kwargs("np.cross", kw)
    if static(axis, "the axis of np.cross") != -1:
        error("np.cross is supported along the last axis only", hint="move the axis with np.moveaxis")
    a, b = to_atom(a), to_atom(b)
    if a.type.ndim == 0 or b.type.ndim == 0:
        type_error(f"np.cross expected arrays of 3-vectors, found {a.type} and {b.type}")
    if a.type.dtype == DType.bool and b.type.dtype == DType.bool:
        type_error("np.cross of boolean arrays is not defined (NumPy raises too)")
    for x in (a, b):
        C.check(E.eq(I.dim(x, axis=x.type.ndim - 1), 3), exc=ValueError,
                message="np.cross in morphism needs 3-vectors: the last axis must have length 3")
    a0, a1, a2 = (I.getitem(a, lit(k), spec=("e", "i")) for k in range(3))
    b0, b1, b2 = (I.getitem(b, lit(k), spec=("e", "i")) for k in range(3))
    c = [E.sub(E.mul(a1, b2), E.mul(a2, b1)), E.sub(E.mul(a2, b0), E.mul(a0, b2)),
         E.sub(E.mul(a0, b1), E.mul(a1, b0))]
    return stack(*c, axis=c[0].type.ndim)


@implements(getattr(np, "vecdot", None), getattr(np.linalg, "vecdot", None))
def _vecdot(a, b, axis=-1, **kw):
    check_no_kwargs("np.vecdot", kw)
    if static(axis, "the axis of np.vecdot") != -1:
        error("np.vecdot is supported along the last axis only", hint="move the axis with np.moveaxis")
    return L.einsum(_array(a, "np.vecdot", 1), _array(b, "np.vecdot", 1), spec="...i,...i->...")


@implements(getattr(np, "matvec", None))
def _matvec(m, v, **kw):
    check_no_kwargs("np.matvec", kw)
    return L.einsum(_array(m, "np.matvec", 2), _array(v, "np.matvec", 1), spec="...ij,...j->...i")


@implements(getattr(np, "vecmat", None))
def _vecmat(v, m, **kw):
    check_no_kwargs("np.vecmat", kw)
    return L.einsum(_array(v, "np.vecmat", 1), _array(m, "np.vecmat", 2), spec="...i,...ij->...j")


@implements(np.linalg.multi_dot)
def _multi_dot(arrays, **kw):
    check_no_kwargs("np.linalg.multi_dot", kw)
    if not isinstance(arrays, (tuple, list)) or len(arrays) < 2:
        type_error("np.linalg.multi_dot expected a list of at least two arrays")
    xs = [to_atom(x) for x in arrays]
    for k, x in enumerate(xs):
        ok = x.type.ndim == 2 or (x.type.ndim == 1 and k in (0, len(xs) - 1))
        if not ok:
            type_error(f"np.linalg.multi_dot: array {k} must be 2-d (only the first and last may be 1-d), "
                       f"found {x.type}")
    r = xs[0]
    for x in xs[1:]:
        r = L.matmul(r, x)
    return r


@implements(np.einsum)
def _einsum(subscripts, *operands, **kw):
    check_no_kwargs("np.einsum", kw, ("optimize",))
    static(kw.get("optimize", False), "optimize")  # only the speed depends on it
    if not isinstance(subscripts, str):
        error("np.einsum is supported with a subscripts string only, not the sublist form",
              hint="write np.einsum('ij,jk->ik', a, b)")
    xs = [to_atom(x) for x in operands]
    try:
        terms, out, _ = L.parse_einsum(subscripts, [x.type.ndim for x in xs])
    except TypeRuleError as e:
        type_error(f"np.einsum: {e}")
    return L.einsum(*xs, spec=L.einsum_spec(terms, out))


# ---- solvers and decompositions ---------------------------------------------------------------


def _matrix(x: Any, fname: str, square: bool = True) -> Atom:
    a = to_float(to_atom(x, fname))
    if a.type.ndim < 2:
        type_error(f"{fname} expected a {'square matrix' if square else 'matrix'} or a stack of them, "
                   f"found {a.type}", hint="np.linalg works on the last two axes")
    return a


@implements(np.linalg.solve)
def _solve(a, b):
    return L.solve(_matrix(a, "np.linalg.solve"), to_float(to_atom(b)))


@implements(np.linalg.inv)
def _inv(a):
    return L.inv(_matrix(a, "np.linalg.inv"))


@implements(np.linalg.det)
def _det(a):
    return L.det(_matrix(a, "np.linalg.det"))


@implements(np.linalg.slogdet)
def _slogdet(a):
    return L.slogdet(_matrix(a, "np.linalg.slogdet"))


@implements(np.linalg.cholesky)
def _cholesky(a, **kw):
    check_no_kwargs("np.linalg.cholesky", kw, ("upper",))
    upper = static(kw.get("upper", False), "upper")
    return L.cholesky(_matrix(a, "np.linalg.cholesky"), upper=bool(upper))


@implements(np.linalg.qr)
def _qr(a, mode="reduced"):
    mode = static(mode, "the mode of np.linalg.qr")
    if mode not in ("reduced", "r"):
        error(f"np.linalg.qr(mode={mode!r}) is not supported yet", hint="use mode='reduced' (the default)")
    q, r = L.qr(_matrix(a, "np.linalg.qr", square=False))
    return (q, r) if mode == "reduced" else r


@implements(np.linalg.eigh)
def _eigh(a, UPLO="L"):
    return L.eigh(_matrix(a, "np.linalg.eigh"), UPLO=_uplo(UPLO))


@implements(np.linalg.eigvalsh)
def _eigvalsh(a, UPLO="L"):
    return L.eigh(_matrix(a, "np.linalg.eigvalsh"), UPLO=_uplo(UPLO))[0]


def _uplo(v: Any) -> str:
    u = static(v, "UPLO")
    if u not in ("L", "U"):
        type_error(f"UPLO must be 'L' or 'U', found {u!r}")
    return u


@implements(np.linalg.eig, np.linalg.eigvals)
def _eig(a, *args, **kw):
    error("np.linalg.eig and eigvals return complex values, which morphism does not support yet",
          hint="for a symmetric matrix use np.linalg.eigh or eigvalsh")


@implements(np.linalg.svd)
def _svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    if static(hermitian, "hermitian"):
        error("np.linalg.svd(hermitian=True) is not supported yet", hint="leave hermitian=False")
    full = bool(static(full_matrices, "full_matrices"))
    uv = bool(static(compute_uv, "compute_uv"))
    outs = L.svd(_matrix(a, "np.linalg.svd", square=False), full_matrices=full, compute_uv=uv)
    return outs if uv else outs[0]


@implements(getattr(np.linalg, "svdvals", None))
def _svdvals(a):
    return L.svd(_matrix(a, "np.linalg.svdvals", square=False), full_matrices=False, compute_uv=False)[0]


@implements(np.linalg.lstsq)
def _lstsq(a, b, rcond=None):
    rc = static(rcond, "rcond")
    if rc is not None and (isinstance(rc, bool) or not isinstance(rc, (int, float))):
        type_error(f"rcond must be a number or None, found {rc!r}")
    a = to_float(to_atom(a))
    b = to_float(to_atom(b))
    if a.type.ndim != 2:
        type_error(f"np.linalg.lstsq expected a 2-d matrix, found {a.type}")
    return L.lstsq(a, b, rcond=None if rc is None else float(rc))


@implements(np.linalg.matrix_power)
def _matrix_power(a, n):
    a = to_atom(a)
    k = static_int(n, "the exponent of np.linalg.matrix_power")
    if a.type.ndim < 2:
        type_error(f"np.linalg.matrix_power expected a square matrix or a stack of them, found {a.type}")
    if k == 0:
        eye = _numpy(np.eye, "np.eye", I.dim(a, axis=a.type.ndim - 1), dtype=a.type.dtype.np)
        if a.type.ndim == 2:
            return eye
        shape = tuple(I.dim(a, axis=i) for i in range(a.type.ndim))
        return _numpy(np.broadcast_to, "np.broadcast_to", eye, shape)
    if k < 0:
        a, k = L.inv(to_float(a)), -k
    # Binary powering: log2(k) squarings, as NumPy does.
    result, base = None, a
    while True:
        if k & 1:
            result = base if result is None else L.matmul(result, base)
        k >>= 1
        if not k:
            return result
        base = L.matmul(base, base)


@implements(np.linalg.pinv)
def _pinv(a, rcond=None, hermitian=False, **kw):
    check_no_kwargs("np.linalg.pinv", kw, ("rtol",))
    if static(hermitian, "hermitian"):
        error("np.linalg.pinv(hermitian=True) is not supported yet", hint="leave hermitian=False")
    a = _matrix(a, "np.linalg.pinv", square=False)
    nd = a.type.ndim
    rc = static(rcond, "rcond")
    rt = static(kw.get("rtol", None), "rtol")
    if rc is not None and rt is not None:
        type_error("np.linalg.pinv: pass rcond or rtol, not both")
    cut = rc if rc is not None else rt
    u, s, vh = L.svd(a, full_matrices=False, compute_uv=True)
    if cut is None:  # NumPy: max(M, N) * eps
        cut = E.mul(to_float(E.maximum(I.dim(a, axis=nd - 2), I.dim(a, axis=nd - 1))),
                    float(np.finfo(np.float64).eps))
    cutoff = E.mul(to_atom(cut), R.reduce_max(s, axis=(nd - 2,), keepdims=True))
    large = E.gt(s, cutoff)
    s_inv = E.select(large, E.div(1.0, E.select(large, s, lit(1.0))), lit(0.0))
    # pinv = v @ diag(1/s) @ u^T; batch labels are upper case, clear of i, j, k.
    b = _labels(26, nd - 2)
    return L.einsum(vh, s_inv, u, spec=f"{b}kj,{b}k,{b}ik->{b}ji")


@implements(np.linalg.matrix_rank)
def _matrix_rank(a, tol=None, hermitian=False, **kw):
    check_no_kwargs("np.linalg.matrix_rank", kw)
    if static(hermitian, "hermitian"):
        error("np.linalg.matrix_rank(hermitian=True) is not supported yet", hint="leave hermitian=False")
    a = to_atom(a)
    if a.type.ndim < 2:  # NumPy: rank 1 unless all zero
        return cast(R.reduce_any(E.ne(a, 0), axis=None, keepdims=False), DType.int64)
    a = to_float(a)
    nd = a.type.ndim
    (s,) = L.svd(a, full_matrices=False, compute_uv=False)
    if static(tol, "tol") is None:
        eps = float(np.finfo(np.float64).eps)
        big = to_float(E.maximum(I.dim(a, axis=nd - 2), I.dim(a, axis=nd - 1)))
        t = E.mul(E.mul(R.reduce_max(s, axis=(nd - 2,), keepdims=True), big), eps)
    else:
        t = to_atom(tol)
    return R.reduce_sum(E.gt(s, t), axis=(nd - 2,), keepdims=False)


@implements(np.linalg.cond)
def _cond(x, p=None):
    if static(p, "p") is not None:
        error("np.linalg.cond is supported for p=None (the 2-norm) only")
    a = _matrix(x, "np.linalg.cond", square=False)
    (s,) = L.svd(a, full_matrices=False, compute_uv=False)
    first, last = I.getitem(s, lit(0), spec=("e", "i")), I.getitem(s, lit(-1), spec=("e", "i"))
    # A singular matrix has an infinite condition number (NumPy's too, for 0/0 of a zero matrix).
    singular = E.eq(last, 0.0)
    return E.select(singular, lit(float("inf")), E.div(first, E.select(singular, lit(1.0), last)))


# ---- norms -------------------------------------------------------------------------------------

_INF = float("inf")


def _vector_norm(x: Atom, ord: Any, axis: tuple[int, ...] | None, keepdims: bool) -> Atom:
    """The vector norm over `axis` (sorted, non-negative; None: all axes) of a float array."""
    red = dict(axis=axis, keepdims=keepdims)
    if ord is None or ord == 2:
        return E.sqrt(R.reduce_sum(E.mul(x, x), **red))
    if ord == _INF:
        return R.reduce_max(E.abs(x), **red)
    if ord == -_INF:
        return R.reduce_min(E.abs(x), **red)
    if ord == 0:
        return to_float(R.reduce_sum(E.ne(x, 0.0), **red))
    if ord == 1:
        return R.reduce_sum(E.abs(x), **red)
    if isinstance(ord, str) or isinstance(ord, bool) or not isinstance(ord, (int, float)):
        type_error(f"invalid norm order {ord!r} for vectors")
    p = float(ord)
    return E.pow(R.reduce_sum(E.pow(E.abs(x), p), **red), 1.0 / p)


def _matrix_norm(x: Atom, ord: Any, row: int, col: int, keepdims: bool) -> Atom:
    """NumPy's matrix norms over the axes (row, col) of a float array."""
    nd = x.type.ndim
    if ord in (2, -2, "nuc"):
        # Singular values of the matrices in the axes (row, col), moved to the end.
        perm = tuple(i for i in range(nd) if i not in (row, col)) + (row, col)
        if perm != tuple(range(nd)):
            x = _numpy(np.transpose, "np.transpose", x, perm)
        (s,) = L.svd(x, full_matrices=False, compute_uv=False)
        red = dict(axis=(nd - 2,), keepdims=False)
        r = (R.reduce_max(s, **red) if ord == 2 else R.reduce_min(s, **red) if ord == -2
             else R.reduce_sum(s, **red))
        if keepdims:
            spec = tuple("n" if i in (row, col) else "s000" for i in range(nd))
            r = I.getitem(r, spec=spec)
        return r
    if ord in (None, "fro"):
        return E.sqrt(R.reduce_sum(E.mul(x, x), axis=tuple(sorted((row, col))), keepdims=keepdims))
    if ord in (1, -1):
        inner, outer = row, col
    elif ord in (_INF, -_INF):
        inner, outer = col, row
    else:
        type_error(f"invalid norm order {ord!r} for matrices")
    sums = R.reduce_sum(E.abs(x), axis=(inner,), keepdims=keepdims)
    if not keepdims and outer > inner:
        outer -= 1
    pick = R.reduce_max if ord in (1, _INF) else R.reduce_min
    return pick(sums, axis=(outer,), keepdims=keepdims)


def _norm_ord(v: Any) -> Any:
    o = static(v, "ord")
    if isinstance(o, (np.integer, np.floating)):
        o = o.item()
    return o


@implements(np.linalg.norm)
def _norm(x, ord=None, axis=None, keepdims=False):
    x = to_float(to_atom(x))
    nd = x.type.ndim
    o = _norm_ord(ord)
    if x.type.dtype.is_complex:
        # norms of magnitudes, except those that need the singular values of a complex matrix
        matrix = (axis is None and nd == 2 and o is not None) or (isinstance(static(axis, "axis"), tuple)
                                                                 and len(static(axis, "axis")) == 2)
        if matrix and o in (2, -2, "nuc"):
            type_error(f"np.linalg.norm(ord={o!r}) of a complex matrix is not supported yet")
        x = E.abs(x)
    keep = bool(static(keepdims, "keepdims"))
    ax = static(axis, "axis")
    if ax is None:
        if o is None:
            return E.sqrt(R.reduce_sum(E.mul(x, x), axis=None, keepdims=keep))
        if nd == 1:
            return _vector_norm(x, o, (0,), keep)
        if nd == 2:
            return _matrix_norm(x, o, 0, 1, keep)
        type_error(f"np.linalg.norm with ord={o!r} needs a 1-d or 2-d array when axis is None, found {x.type}")
    if nd == 0:
        type_error("np.linalg.norm: an axis was given for a scalar")
    axes = _normalize_axes(ax, nd, "np.linalg.norm")
    if len(axes) == 1:
        if isinstance(o, str):
            type_error(f"invalid norm order {o!r} for vectors")
        return _vector_norm(x, o, axes, keep)
    if len(axes) == 2:
        return _matrix_norm(x, o, axes[0], axes[1], keep)
    type_error(f"np.linalg.norm: axis must name one or two axes, found {ax!r}")


@implements(getattr(np.linalg, "vector_norm", None))
def _vector_norm_api(x, axis=None, keepdims=False, ord=2):
    x = to_float(to_atom(x))
    o = _norm_ord(ord)
    ax = static(axis, "axis")
    axes = None if ax is None else tuple(sorted(_normalize_axes(ax, x.type.ndim, "np.linalg.vector_norm")))
    return _vector_norm(x, 2 if o is None else o, axes, bool(static(keepdims, "keepdims")))


@implements(getattr(np.linalg, "matrix_norm", None))
def _matrix_norm_api(x, keepdims=False, ord="fro"):
    x = _matrix(x, "np.linalg.matrix_norm", square=False)
    nd = x.type.ndim
    return _matrix_norm(x, _norm_ord(ord), nd - 2, nd - 1, bool(static(keepdims, "keepdims")))


# ---- scipy.linalg ------------------------------------------------------------------------------



def _scipy_matrix(x: Any, fname: str, check_finite: Any) -> Atom:
    a = _matrix(x, fname)
    if a.type.ndim != 2:
        error(f"{fname} is supported for a single 2-d matrix only, found {a.type}",
              hint="np.linalg batches over leading axes")
    _scipy_finite(a, fname, check_finite)
    return a


def _scipy_finite(a: Atom, fname: str, check_finite: Any) -> None:
    # SciPy checks its inputs for infs and NaNs unless told not to; so does the compiled code.
    if static(check_finite, "check_finite"):
        C.check(R.reduce_all(E.isfinite(a), axis=None, keepdims=False), exc=ValueError,
                message=f"{fname}: array must not contain infs or NaNs")


@implements_lazy("scipy.linalg", "solve")
def _scipy_solve(a, b, check_finite=True, **kw):
    check_no_kwargs("scipy.linalg.solve", kw)
    a = _scipy_matrix(a, "scipy.linalg.solve", check_finite)
    b = to_float(to_atom(b))
    if b.type.ndim not in (1, 2):
        error(f"scipy.linalg.solve is supported for a 1-d or 2-d right-hand side only, found {b.type}")
    _scipy_finite(b, "scipy.linalg.solve", check_finite)
    return L.solve(a, b)


@implements_lazy("scipy.linalg", "inv")
def _scipy_inv(a, check_finite=True, **kw):
    check_no_kwargs("scipy.linalg.inv", kw)
    return L.inv(_scipy_matrix(a, "scipy.linalg.inv", check_finite))


@implements_lazy("scipy.linalg", "det")
def _scipy_det(a, check_finite=True, **kw):
    check_no_kwargs("scipy.linalg.det", kw)
    return L.det(_scipy_matrix(a, "scipy.linalg.det", check_finite))


@implements_lazy("scipy.linalg", "cholesky")
def _scipy_cholesky(a, lower=False, check_finite=True, **kw):
    check_no_kwargs("scipy.linalg.cholesky", kw)
    # SciPy returns the upper factor by default, NumPy the lower one.
    upper = not static(lower, "lower")
    return L.cholesky(_scipy_matrix(a, "scipy.linalg.cholesky", check_finite), upper=upper)
