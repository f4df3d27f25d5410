"""Run-time support for generated native code: tapes, growable lists, object-mode fallbacks."""

from __future__ import annotations

import math
from typing import Any, Callable

import numba
import numpy as np

_FALLBACKS: dict[str, Callable] = {}


def register_fallbacks(table: dict[str, Callable]) -> None:
    _FALLBACKS.update(table)


def fallback(key: str) -> Callable:
    return _FALLBACKS[key]


def coerce(v: Any, dtype: Any, ndim: int) -> Any:
    """An object-mode result as the exact type the generated code declared. Arrays are copied:
    the result may be an argument of the fallback or a view of one (`sum_to_shape` returns its
    input when there is nothing to sum), and the compiled code may write it in place."""
    if ndim == 0:
        return dtype(np.asarray(v).item()) if not isinstance(v, dtype) else v
    return np.array(v, dtype=dtype, order="C")


# ---- tapes: (buffer, length, high-water mark) ----------------------------------------------------
# The high-water mark is shared by all versions of one tape: a push appends in place when this
# version is the newest (the usual case), and copies otherwise, so tapes behave as values.


@numba.njit(cache=True)
def tape_new_f64(capacity):
    return (np.empty(max(capacity, 4), np.float64), 0, np.zeros(1, np.int64))


@numba.njit(cache=True)
def tape_new_i64(capacity):
    return (np.empty(max(capacity, 4), np.int64), 0, np.zeros(1, np.int64))


@numba.njit(cache=True)
def tape_new_bool(capacity):
    return (np.empty(max(capacity, 4), np.bool_), 0, np.zeros(1, np.int64))


# Copies are written as loops, never as `new[:n] = buf[:n]`: Numba compiles an array-into-slice
# assignment with a shape check whose error message formats the shapes, which pulls in its string
# machinery: about 3 s of compile time in every process that compiles its first one (it was most of
# the cold first call of jit(grad(lorenz))).


@numba.njit(cache=True)
def _copy_prefix(new, buf, n):
    """new[:n] = buf[:n] for 1-d arrays."""
    for i in range(n):
        new[i] = buf[i]


@numba.njit(cache=True)
def tape_push(t, v):
    buf, n, hw = t
    if hw[0] != n or n >= buf.shape[0]:
        new = np.empty(max(2 * buf.shape[0], n + 1, 4), buf.dtype)
        _copy_prefix(new, buf, n)
        buf = new
        if hw[0] != n:
            hw = np.zeros(1, np.int64)
    buf[n] = v
    hw[0] = n + 1
    return (buf, n + 1, hw)


@numba.njit(cache=True)
def tape_get(t, k):
    return t[0][k]


@numba.njit(cache=True)
def tape_len(t):
    return t[1]


@numba.njit(cache=True)
def grow(buf, n):
    new = np.empty(max(2 * buf.shape[0], n + 1, 4), buf.dtype)
    _copy_prefix(new, buf, n)
    return new


@numba.njit(cache=True)
def reserve(buf, n):
    """`buf`, or a copy with room for at least `n` entries (all of `buf` copied: the caller's
    length is at most `buf.shape[0]`)."""
    if n <= buf.shape[0]:
        return buf
    new = np.empty(max(2 * buf.shape[0], n), buf.dtype)
    _copy_prefix(new, buf, buf.shape[0])
    return new


@numba.njit(cache=True)
def range_len(start, stop, step):
    if step > 0:
        n = (stop - start + step - 1) // step
    else:
        n = (start - stop - step - 1) // (-step)
    return max(n, 0)



# ---- writing an array into a basic-indexed view: x[1:-1] = v, x[:, j] += v ------------------------
# Generated code writes `sup.put2(x[:, 1:], v, False)` rather than `x[:, 1:] = v`: Numba's own
# array-into-slice assignment compiles a shape-mismatch error that formats the shapes, about 3-5 s
# in the first function of a process that has one. These helpers are compiled once and cached.
# The value broadcasts as in NumPy (the generator gives it the view's number of dimensions, with
# leading `None`s), and is copied first where it shares memory with the view (`x[1:] = x[:-1]`).

@numba.njit(cache=True)
def _extent(a):
    """The bytes [lo, hi) that the array `a` spans."""
    lo = hi = np.intp(a.ctypes.data)
    for k in range(a.ndim):
        if a.shape[k] == 0:
            return lo, lo
        step = (a.shape[k] - 1) * a.strides[k]
        if step < 0:
            lo += step
        else:
            hi += step
    return lo, hi + a.itemsize


@numba.njit(cache=True)
def _overlap(a, b):
    alo, ahi = _extent(a)
    blo, bhi = _extent(b)
    return alo < bhi and blo < ahi


@numba.njit(cache=True)
def _fits(dst_shape, src_shape):
    """Whether a value of src_shape broadcasts to dst_shape (same number of dims here)."""
    for k in range(len(dst_shape)):
        if src_shape[k] != dst_shape[k] and src_shape[k] != 1:
            return False
    return True


@numba.njit(cache=True)
def _put1(dst, src, add):
    n, m = dst.shape[0], src.shape[0]
    if m != n:
        v = src[0]
        if add:
            for i in range(n):
                dst[i] += v
        else:
            for i in range(n):
                dst[i] = v
    elif add:
        for i in range(n):
            dst[i] += src[i]
    else:
        for i in range(n):
            dst[i] = src[i]


@numba.njit(cache=True)
def _put2(dst, src, add):
    n, m = dst.shape[0], src.shape[0]
    for i in range(n):
        _put1(dst[i], src[i if m == n else 0], add)


@numba.njit(cache=True)
def _put3(dst, src, add):
    n, m = dst.shape[0], src.shape[0]
    for i in range(n):
        _put2(dst[i], src[i if m == n else 0], add)


# dst[...] = src (or += when `add`) for arrays of 1, 2 or 3 dims, src broadcast to dst. They
# return False, writing nothing, when src does not broadcast: the generated code raises, naming
# the user's line.


@numba.njit(cache=True)
def put1(dst, src, add):
    if not _fits(dst.shape, src.shape):
        return False
    _put1(dst, src.copy() if _overlap(dst, src) else src, add)
    return True


@numba.njit(cache=True)
def put2(dst, src, add):
    if not _fits(dst.shape, src.shape):
        return False
    _put2(dst, src.copy() if _overlap(dst, src) else src, add)
    return True


@numba.njit(cache=True)
def put3(dst, src, add):
    if not _fits(dst.shape, src.shape):
        return False
    _put3(dst, src.copy() if _overlap(dst, src) else src, add)
    return True

# ---- growable lists ----------------------------------------------------------------------------


@numba.njit(cache=True)
def list_append_scalar(buf, n, v):
    if n >= buf.shape[0]:
        new = np.empty(max(8, 2 * buf.shape[0]), buf.dtype)
        _copy_prefix(new, buf, n)
        buf = new
    buf[n] = v
    return buf, n + 1


@numba.njit(cache=True)
def list_append_array(buf, n, v):
    """Appends the array `v` to the list buffer `buf` (one more dimension), growing it (and
    fixing its element shape, which an empty buffer does not know yet) when needed."""
    if n >= buf.shape[0] or buf.shape[1:] != v.shape:
        new = np.empty((max(8, 2 * buf.shape[0]),) + v.shape, buf.dtype)
        if n:
            _copy_prefix(new.reshape(-1), buf.reshape(-1), n * v.size)
        buf = new
    flat, vf = buf.reshape(-1), np.ascontiguousarray(v).reshape(-1)
    for k in range(v.size):
        flat[n * v.size + k] = vf[k]
    return buf, n + 1



# ---- reductions over axes (moved last and flattened: one row per result element) ---------------


@numba.njit(cache=True)
def sum_rows(x):
    out = np.zeros(x.shape[0], x.dtype)
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            out[i] += x[i, j]
    return out


@numba.njit(cache=True)
def prod_rows(x):
    out = np.ones(x.shape[0], x.dtype)
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            out[i] *= x[i, j]
    return out


@numba.njit(cache=True)
def max_rows(x):
    if x.shape[1] == 0 and x.shape[0]:
        raise ValueError("zero-size array to reduction operation maximum which has no identity")
    out = np.empty(x.shape[0], x.dtype)
    for i in range(x.shape[0]):
        acc = x[i, 0]
        for j in range(1, x.shape[1]):
            v = x[i, j]
            if v > acc or v != v:  # NaN propagates, as in NumPy
                acc = v
        out[i] = acc
    return out


@numba.njit(cache=True)
def min_rows(x):
    if x.shape[1] == 0 and x.shape[0]:
        raise ValueError("zero-size array to reduction operation minimum which has no identity")
    out = np.empty(x.shape[0], x.dtype)
    for i in range(x.shape[0]):
        acc = x[i, 0]
        for j in range(1, x.shape[1]):
            v = x[i, j]
            if v < acc or v != v:
                acc = v
        out[i] = acc
    return out


@numba.njit(cache=True)
def any_rows(x):
    out = np.zeros(x.shape[0], np.bool_)
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            if x[i, j]:
                out[i] = True
                break
    return out


@numba.njit(cache=True)
def all_rows(x):
    out = np.ones(x.shape[0], np.bool_)
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            if not x[i, j]:
                out[i] = False
                break
    return out


@numba.njit(cache=True)
def sum_to_shape_flat(xf, xshape, dshape):
    """The sum of the C-ordered elements `xf` of an array of shape `xshape` down to `dshape` (its
    trailing axes, where an axis of length 1 sums the axis it broadcast to), flattened."""
    rank, r = xshape.shape[0], dshape.shape[0]
    lead = rank - r
    n_out = 1
    for k in range(r):
        n_out *= dshape[k]
    out = np.zeros(n_out, xf.dtype)
    trailing = True  # only leading axes are summed (a bias's cotangent): rows added up
    for k in range(r):
        if dshape[k] != xshape[lead + k]:
            trailing = False
    if trailing:
        for i in range(xf.shape[0] // max(n_out, 1) if n_out else 0):
            for o in range(n_out):
                out[o] += xf[i * n_out + o]
        return out
    idx = np.zeros(rank, np.int64)
    for j in range(xf.shape[0]):
        o = 0
        for k in range(r):
            o = o * dshape[k] + (0 if dshape[k] == 1 else idx[lead + k])
        out[o] += xf[j]
        k = rank - 1
        while k >= 0:
            idx[k] += 1
            if idx[k] < xshape[k]:
                break
            idx[k] = 0
            k -= 1
    return out


# ---- scans and sorts along the last axis of a 2-d array (the axis moved last, one row each) -----


@numba.njit(cache=True)
def cumsum_rows(x):
    out = np.empty(x.shape, x.dtype)
    for i in range(x.shape[0]):
        acc = x.dtype.type(0)
        for j in range(x.shape[1]):
            acc += x[i, j]
            out[i, j] = acc
    return out


@numba.njit(cache=True)
def cumprod_rows(x):
    out = np.empty(x.shape, x.dtype)
    for i in range(x.shape[0]):
        acc = x.dtype.type(1)
        for j in range(x.shape[1]):
            acc *= x[i, j]
            out[i, j] = acc
    return out


@numba.njit(cache=True)
def argsort_rows(x):
    """A stable argsort of each row (NaN last, as NumPy's)."""
    out = np.empty(x.shape, np.int64)
    for i in range(x.shape[0]):
        r = np.argsort(x[i], kind="mergesort")
        for j in range(x.shape[1]):
            out[i, j] = r[j]
    return out


# ---- ranges, computed as NumPy computes them ------------------------------------------------------


@numba.njit(cache=True)
def arange_f64(start, stop, step):
    """np.arange for float64: ceil((stop - start) / step) elements start + i * delta, where
    delta = (start + step) - start (NumPy fills from the first two elements, not from step)."""
    if step == 0:
        raise ZeroDivisionError("arange: step is zero")
    n = max(int(np.ceil((stop - start) / step)), 0)
    out = np.empty(n, np.float64)
    first = np.float64(start)
    delta = np.float64(start + step) - first
    if n > 0:
        out[0] = first
    if n > 1:
        out[1] = np.float64(start + step)
    for i in range(2, n):
        out[i] = first + i * delta
    return out


@numba.njit(cache=True)
def arange_i64(start, stop, step):
    if step == 0:
        raise ZeroDivisionError("arange: step is zero")
    n = max(int(np.ceil((stop - start) / step)), 0)
    out = np.empty(n, np.int64)
    for i in range(n):
        out[i] = start + i * step
    return out


@numba.njit(cache=True)
def linspace(start, stop, num, endpoint):
    """np.linspace in float64, step for step as NumPy computes it (numpy/_core/function_base.py)."""
    if num < 0:
        raise ValueError("linspace: the number of samples must be non-negative")
    div = num - 1 if endpoint else num
    start, stop = np.float64(start), np.float64(stop)
    delta = stop - start
    y = np.empty(num, np.float64)
    if div > 0:
        step = delta / div
        if step == 0:  # denormal spacing: NumPy divides first (gh-5437)
            for i in range(num):
                y[i] = (i / div) * delta + start
        else:
            for i in range(num):
                y[i] = i * step + start
    else:
        for i in range(num):
            y[i] = i * delta + start
    if endpoint and num > 1:
        y[num - 1] = stop
    return y


# ---- special functions -----------------------------------------------------------------------------


@numba.njit(cache=True)
def lgamma(v):
    """scipy.special.gammaln (the C library's lgamma: equal up to rounding), -inf at -inf as SciPy."""
    v = np.float64(v)
    return -np.inf if v == -np.inf else math.lgamma(v)


@numba.njit(cache=True)
def lgamma_flat(x):
    out = np.empty(x.shape[0], np.float64)
    for i in range(x.shape[0]):
        out[i] = lgamma(x[i])
    return out


# ---- a batch of matrix products (einsum): (B, m, k) x (B, k, n) -> (B, m, n) --------------------


@numba.njit(cache=True)
def bmm(a, b):
    nb, m, kk = a.shape
    n = b.shape[2]
    out = np.zeros((nb, m, n), a.dtype)
    for p in range(nb):
        for i in range(m):
            for k in range(kk):
                v = a[p, i, k]
                for j in range(n):
                    out[p, i, j] += v * b[p, k, j]
    return out


@numba.njit(cache=True)
def matmul3(a, b):
    """a @ b for stacks of matrices (3-d, C-contiguous), the stack axis broadcast: one BLAS
    product per matrix."""
    na, m, k = a.shape
    nb, k2, n = b.shape
    if k != k2:
        raise ValueError("matmul: the last axis of the first operand and the second-to-last of the second differ")
    if na != nb and na != 1 and nb != 1:
        raise ValueError("matmul: the stacks of matrices could not be broadcast together")
    out = np.zeros((max(na, nb), m, n), a.dtype)
    if m == 0 or n == 0 or k == 0:
        return out
    for p in range(out.shape[0]):
        np.dot(a[p if na > 1 else 0], b[p if nb > 1 else 0], out[p])
    return out


@numba.njit(cache=True)
def bdim(m, n):
    """The length of an einsum label that two operands share, broadcast as NumPy does."""
    if m == n or n == 1:
        return m
    if m == 1:
        return n
    raise ValueError("einsum: operands could not be broadcast together")


# ---- decompositions of one matrix (Numba's np.linalg rejects empty operands of these two) --------


@numba.njit(cache=True)
def qr(a):
    """Reduced QR, as np.linalg.qr(a, mode="reduced"), C-ordered."""
    m, n = a.shape
    if m == 0 or n == 0:
        k = min(m, n)
        return np.zeros((m, k)), np.zeros((k, n))
    q, r = np.linalg.qr(a)
    return np.ascontiguousarray(q), np.ascontiguousarray(r)


@numba.njit(cache=True)
def svd(a, full_matrices):
    """np.linalg.svd(a, full_matrices), C-ordered."""
    m, n = a.shape
    if m == 0 or n == 0:
        k = min(m, n)
        if full_matrices:
            return np.eye(m), np.zeros(k), np.eye(n)
        return np.zeros((m, k)), np.zeros(k), np.zeros((k, n))
    u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
    return np.ascontiguousarray(u), s, np.ascontiguousarray(vh)


@numba.njit(cache=True)
def erf_flat(x):
    out = np.empty(x.shape[0], np.float64)
    for i in range(x.shape[0]):
        out[i] = math.erf(x[i])
    return out


@numba.njit(cache=True)
def erfc_flat(x):
    out = np.empty(x.shape[0], np.float64)
    for i in range(x.shape[0]):
        out[i] = math.erfc(x[i])
    return out


@numba.njit(cache=True)
def erf1(v):
    return math.erf(v)


@numba.njit(cache=True)
def erfc1(v):
    return math.erfc(v)


# ---- boolean masks of several dimensions (x[m] with m of x's shape): Numba indexes with 1-d
# masks only. Elements are visited in C order, as NumPy's x[m] lists them.


@numba.njit(cache=True)
def _mask_count(x, m):
    if x.shape != m.shape:
        raise IndexError("boolean index did not match the indexed array in shape")
    n = 0
    for idx in np.ndindex(m.shape):
        if m[idx]:
            n += 1
    return n


@numba.njit(cache=True)
def mask_get(x, m):
    out = np.empty(_mask_count(x, m), x.dtype)
    k = 0
    for idx in np.ndindex(m.shape):
        if m[idx]:
            out[k] = x[idx]
            k += 1
    return out


@numba.njit(cache=True)
def mask_set(x, m, v):
    """x[m] = v in place; v a scalar."""
    _mask_count(x, m)
    for idx in np.ndindex(m.shape):
        if m[idx]:
            x[idx] = v


@numba.njit(cache=True)
def mask_set_array(x, m, v):
    """x[m] = v in place; v a 1-d array of one value per True (or of one value)."""
    n = _mask_count(x, m)
    if v.shape[0] != n and v.shape[0] != 1:
        raise ValueError("NumPy boolean array indexing assignment cannot assign this many input values to the "
                         "output values where the mask is true")
    k = 0
    for idx in np.ndindex(m.shape):
        if m[idx]:
            x[idx] = v[k if v.shape[0] > 1 else 0]
            k += 1


# ---- several 1-d integer index arrays (x[ia, ib] with one array per axis): Numba indexes with
# one advanced index only. Negative indices count from the end, as in NumPy.


@numba.njit(cache=True)
def _adv_index(i, n):
    if i < 0:
        i += n
    if i < 0 or i >= n:
        raise IndexError("index out of bounds")
    return i


@numba.njit(cache=True)
def _adv_len(x, idx):
    n = idx[0].shape[0]
    for a in idx:
        if a.shape[0] != n and a.shape[0] != 1:
            raise IndexError("shape mismatch: indexing arrays could not be broadcast together")
        n = max(n, a.shape[0])
    return n


@numba.njit(cache=True)
def adv_get2(x, ia, ib):
    n = _adv_len(x, (ia, ib))
    out = np.empty(n, x.dtype)
    for k in range(n):
        out[k] = x[_adv_index(ia[k if ia.shape[0] > 1 else 0], x.shape[0]),
                   _adv_index(ib[k if ib.shape[0] > 1 else 0], x.shape[1])]
    return out


@numba.njit(cache=True)
def adv_set2(x, ia, ib, v):
    """x[ia, ib] = v in place; v a scalar or a 1-d array (one value per index, or one value)."""
    n = _adv_len(x, (ia, ib))
    vals = np.asarray(v).ravel()
    if vals.shape[0] != n and vals.shape[0] != 1:
        raise ValueError("shape mismatch: value array could not be broadcast to indexing result")
    for k in range(n):
        x[_adv_index(ia[k if ia.shape[0] > 1 else 0], x.shape[0]),
          _adv_index(ib[k if ib.shape[0] > 1 else 0], x.shape[1])] = vals[k if vals.shape[0] > 1 else 0]
