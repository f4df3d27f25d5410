"""Linear algebra: matmul (and `@`), einsum, and the decompositions and solvers of np.linalg.

Products that NumPy spells many ways (dot, vdot, inner, outer, tensordot, kron) are not
primitives: the frontend lowers them to `matmul` or `einsum` (frontend/np_api/linalg.py), so
each product has one derivative rule, and an einsum's derivative is another einsum.

The solvers and decompositions take float64 operands (the frontend converts ints and bools,
as NumPy does) and batch over leading axes like NumPy's stacked linalg functions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ir.core import Array, DType, Scalar, Type, make_type, promote
from .registry import TypeRuleError, primitive


def _fail(msg: str):
    raise TypeRuleError(msg)


# ---- matmul -----------------------------------------------------------------------------------


def _matmul_rule(ts, **_):
    a, b = ts
    if a.ndim == 0 or b.ndim == 0:
        _fail("expected arrays, found a scalar (use * to scale)")
    dt = promote(a.dtype, b.dtype)  # bool @ bool stays bool, as in NumPy
    if a.ndim == 1 and b.ndim == 1:
        nd = 0
    elif a.ndim == 1:
        nd = b.ndim - 1
    elif b.ndim == 1:
        nd = a.ndim - 1
    else:
        nd = max(a.ndim, b.ndim)
    return [make_type(dt, nd)]


# NumPy's matmul: 1-D operands are promoted to matrices and the added axis removed; leading
# axes broadcast as a batch.
matmul = primitive("matmul", _matmul_rule, impl=np.matmul)


def matmul_values(a, b):
    return matmul(a, b)


# ---- einsum -----------------------------------------------------------------------------------


def parse_einsum(spec: str, ndims: list[int]) -> tuple[tuple[str, ...], str, int]:
    """Checks an einsum spec against the operands' ndims, as NumPy does.

    Returns the input terms, the explicit output term (NumPy's implicit output made explicit:
    the ellipsis, then the labels used once, in alphabetical order) and the number of axes the
    ellipsis stands for. Raises TypeRuleError naming what is wrong.
    """
    spec = spec.replace(" ", "")
    lhs, arrow, rhs = spec.partition("->")
    terms = tuple(lhs.split(","))
    if len(terms) != len(ndims):
        _fail(f"the subscripts {spec!r} name {len(terms)} operand(s), found {len(ndims)}")
    ell = 0
    counts: dict[str, int] = {}
    for k, (term, nd) in enumerate(zip(terms, ndims)):
        labels = _labels(term, spec)
        if "..." in term:
            if nd < len(labels):
                _fail(f"operand {k} has {nd} dimension(s), fewer than the {len(labels)} labels of {term!r}")
            ell = max(ell, nd - len(labels))
        elif nd != len(labels):
            _fail(f"operand {k} has {nd} dimension(s), but its subscripts {term!r} name {len(labels)}")
        for c in labels:
            counts[c] = counts.get(c, 0) + 1
    if arrow:
        out = rhs
        labels = _labels(out, spec)
        for c in labels:
            if labels.count(c) > 1:
                _fail(f"the output subscripts {out!r} repeat the label {c!r}")
            if c not in counts:
                _fail(f"the output label {c!r} does not appear in the input subscripts of {spec!r}")
        if ell and "..." not in out:
            _fail(f"the inputs of {spec!r} broadcast {ell} axes under '...', so the output needs '...' too")
    else:
        out = ("..." if "..." in lhs else "") + "".join(sorted(c for c, n in counts.items() if n == 1))
    return terms, out, ell


def _labels(term: str, spec: str) -> str:
    if term.count("...") > 1:
        _fail(f"the term {term!r} of {spec!r} has more than one '...'")
    labels = term.replace("...", "")
    for c in labels:
        if not (c.isascii() and c.isalpha()):
            _fail(f"einsum labels are letters, found {c!r} in {spec!r}")
    return labels


def einsum_spec(terms: tuple[str, ...], out: str) -> str:
    return ",".join(terms) + "->" + out


def _einsum_rule(ts: list[Type], spec: str, **_: Any) -> list[Type]:
    if not ts:
        _fail("einsum needs at least one operand")
    terms, out, ell = parse_einsum(spec, [t.ndim for t in ts])
    if spec != einsum_spec(terms, out):
        _fail(f"expected the explicit form {einsum_spec(terms, out)!r}, found {spec!r}")
    nd = len(out.replace("...", "")) + (ell if "..." in out else 0)
    return [make_type(promote(*(t.dtype for t in ts)), nd)]


def _einsum_impl(*xs, spec: str):
    # Contraction order only changes speed (and rounding); optimising pays from three operands.
    r = np.einsum(spec, *xs, optimize=len(xs) > 2)
    # A transpose or a diagonal comes back as a view; results never alias their inputs.
    return r.copy() if isinstance(r, np.ndarray) and r.base is not None else r


# einsum(*xs, spec="ij,jk->ik"): `spec` is always explicit (the frontend makes NumPy's implicit
# output explicit), so passes read the output labels without re-deriving them.
einsum = primitive("einsum", _einsum_rule, impl=_einsum_impl)


# ---- solvers and decompositions ---------------------------------------------------------------


def _float_stack(t: Type, what: str, square: bool = True, ndim: int | None = None) -> Array:
    if not t.dtype.is_inexact:
        _fail(f"{what} expected a float or complex operand (the frontend converts ints), found {t}")
    if ndim is not None and t.ndim != ndim:
        _fail(f"{what} expected a {ndim}-d array, found {t}")
    if t.ndim < 2:
        _fail(f"{what} expected a {'square matrix' if square else 'matrix'} or a stack of them "
              f"(at least 2 dimensions), found {t}")
    return t  # type: ignore[return-value]


def _solve_rule(ts, **_):
    a, b = ts
    _float_stack(a, "solve")
    if not b.dtype.is_inexact or b.ndim == 0:
        _fail(f"solve expected a float or complex vector or matrix right-hand side, found {b}")
    # NumPy 2: b is a vector only when it is 1-D; otherwise a (stack of) matrices.
    return [make_type(promote(a.dtype, b.dtype), a.ndim - 1 if b.ndim == 1 else max(a.ndim, b.ndim))]


solve = primitive("solve", _solve_rule, impl=np.linalg.solve)


def _same_rule(what: str):
    def rule(ts, **_):
        (a,) = ts
        return [_float_stack(a, what)]

    return rule


inv = primitive("inv", _same_rule("inv"), impl=np.linalg.inv)


def _det_rule(ts, **_):
    (a,) = ts
    return [make_type(a.dtype, _float_stack(a, "det").ndim - 2)]


det = primitive("det", _det_rule, impl=np.linalg.det)


def _slogdet_rule(ts, **_):
    (a,) = ts
    nd = _float_stack(a, "slogdet").ndim - 2
    return [make_type(a.dtype, nd), make_type(a.dtype.real, nd)]  # (sign, log|det|)


# (sign, log|det|): the sign is 0 and the log -inf for a singular matrix.
slogdet = primitive("slogdet", _slogdet_rule, impl=lambda a: tuple(np.linalg.slogdet(a)),
                    multiple_results=True)


def _cholesky_rule(ts, upper: bool, **_):
    (a,) = ts
    return [_float_stack(a, "cholesky")]


cholesky = primitive("cholesky", _cholesky_rule, impl=lambda a, upper: np.linalg.cholesky(a, upper=upper))


def _qr_rule(ts, **_):
    (a,) = ts
    t = _float_stack(a, "qr", square=False)
    return [t, t]


# Reduced QR: q (..., M, K) and r (..., K, N) with K = min(M, N).
qr = primitive("qr", _qr_rule, impl=lambda a: tuple(np.linalg.qr(a, mode="reduced")), multiple_results=True)


def _eigh_rule(ts, UPLO: str, **_):
    (a,) = ts
    t = _float_stack(a, "eigh")
    if UPLO not in ("L", "U"):
        _fail(f"expected UPLO 'L' or 'U', found {UPLO!r}")
    return [Array(t.dtype.real, t.ndim - 1), t]


# Symmetric eigendecomposition: eigenvalues ascending, eigenvectors in the columns of v. Only
# the triangle named by UPLO is read.
eigh = primitive("eigh", _eigh_rule, impl=lambda a, UPLO: tuple(np.linalg.eigh(a, UPLO=UPLO)),
                 multiple_results=True)


def _svd_rule(ts, full_matrices: bool, compute_uv: bool, **_):
    (a,) = ts
    t = _float_stack(a, "svd", square=False)
    s = Array(t.dtype.real, t.ndim - 1)
    return [t, s, t] if compute_uv else [s]


def _svd_impl(a, full_matrices: bool, compute_uv: bool):
    if compute_uv:
        return tuple(np.linalg.svd(a, full_matrices=full_matrices))
    return (np.linalg.svd(a, compute_uv=False),)


# (u, s, vh) with a == u @ (s[..., None] * vh), singular values descending; or (s,) alone.
svd = primitive("svd", _svd_rule, impl=_svd_impl, multiple_results=True)


def _lstsq_rule(ts, rcond: float | None, **_):
    a, b = ts
    _float_stack(a, "lstsq", square=False, ndim=2)
    if b.dtype != DType.float64 or b.ndim not in (1, 2):
        _fail(f"lstsq expected a float64 1-d or 2-d right-hand side, found {b}")
    vec = Array(DType.float64, 1)
    return [b, vec, Scalar(DType.int64), vec]


def _lstsq_impl(a, b, rcond):
    x, residuals, rank, s = np.linalg.lstsq(a, b, rcond=rcond)
    return x, residuals, np.int64(rank), s


# (x, residuals, rank, s) as NumPy returns them; residuals is empty unless a has full column
# rank and more rows than columns.
lstsq = primitive("lstsq", _lstsq_rule, impl=_lstsq_impl, multiple_results=True)


# ============================================================================================
# Derivative rules, beside the primitives above.
#   jvp(ins, ins_dot, outs, **params) -> outs_dot      (None is a symbolic zero)
#   vjp(cts, ins, outs, **params)     -> ins_ct
# Rules emit only primitives that have rules themselves (einsum, matmul, solve, inv, svd, lstsq,
# elementwise, getitem, sum_to_shape; integer masks from arange), so derivatives nest. The
# decompositions follow JAX's conventions: cholesky and eigh treat their input as symmetric (a
# tangent is symmetrised, a cotangent comes back symmetric); eigh needs distinct eigenvalues and
# svd distinct nonzero singular values; lstsq's derivatives hold for full-rank problems.

import string as _string  # noqa: E402

from ..ir.core import Var as _Var  # noqa: E402
from ..ir.core import lit as _lit  # noqa: E402
from ..transforms.adutil import add_ct as _add, is_float as _is_float, unbroadcast as _unbroadcast  # noqa: E402
from .ad_support import sum_to_shape  # noqa: E402
from .control import check as _check  # noqa: E402
from .creation import arange, full  # noqa: E402
from .elementwise import add, convert, eq, gt, mul, neg, reciprocal, select, sub  # noqa: E402
from .indexing import dim, getitem  # noqa: E402
from .shape import reshape, transpose  # noqa: E402


def _wants(x) -> bool:
    """Whether operand `x` takes a cotangent: a float Var (literals and ints do not)."""
    return isinstance(x, _Var) and _is_float(x.type)


def _mT(x):
    """The matrices of a stack, transposed (the last two axes swapped): a view, natively too."""
    n = x.type.ndim
    return transpose(x, perm=(*range(n - 2), n - 1, n - 2))


def _sym(x):
    return mul(0.5, add(x, _mT(x)))


def _diag(x):
    return einsum(x, spec="...ii->...i")


def _row(v):
    """v[..., None, :]: a vector of a stack as a row, to scale columns by broadcasting."""
    return getitem(v, spec=("e", "n", "s000"))


def _col(v):
    """v[..., :, None]."""
    return getitem(v, spec=("e", "s000", "n"))


def _uncol(m):
    """m[..., 0]: the inverse of `_col`."""
    return getitem(m, _lit(0), spec=("e", "i"))


def _last(x, k: int = 1):
    return dim(x, axis=x.type.ndim - k)


def _iota(n):
    return arange(_lit(0), n, _lit(1), dtype=DType.int64)


def _rect_eye(m, n):
    """The m x n float matrix with ones where i == j (built from integers: no derivative)."""
    return convert(eq(reshape(_iota(m), m, _lit(1)), _iota(n)), dtype=DType.float64)


def _eye(n):
    return _rect_eye(n, n)


def _lower_mask(n, diagonal: float):
    """1 below the diagonal, `diagonal` on it, 0 above."""
    i, j = reshape(_iota(n), n, _lit(1)), _iota(n)
    return select(gt(i, j), 1.0, select(eq(i, j), diagonal, 0.0))


def _gap_inverses(w):
    """F[..., i, j] = 1 / (w[j] - w[i]) off the diagonal, 0 on it."""
    eye = _eye(_last(w))
    return sub(reciprocal(add(sub(_row(w), _col(w)), eye)), eye)


def _solve_vectors(a, v):
    """solve for a stack of vectors v (..., n): NumPy 2 reads a 2-d b as matrices."""
    if v.type.ndim == 1:
        return solve(a, v)
    return _uncol(solve(a, _col(v)))


def _trace_solve(a, a_dot):
    """trace(inv(a) @ a_dot), the derivative of log det a."""
    return einsum(solve(a, a_dot), spec="...ii->...")


def _matrix_like(s):
    """A batch of scalars, shaped to broadcast against the batch of matrices it belongs to."""
    return s if s.type.ndim == 0 else getitem(s, spec=("e", "n", "n"))


# ---- matmul: bilinear ------------------------------------------------------------------------


def _matmul_jvp(ins, ins_dot, outs):
    a, b = ins
    a_dot, b_dot = ins_dot
    return [_add(None if a_dot is None else matmul(a_dot, b), None if b_dot is None else matmul(a, b_dot))]


def _matmul_vjp(cts, ins, outs):
    (ct,) = cts
    a, b = ins
    if ct is None:
        return [None, None]
    na, nb = a.type.ndim, b.type.ndim
    a_bar = b_bar = None
    if na == 1 and nb == 1:  # a dot product: ct is a scalar
        a_bar = mul(ct, b) if _wants(a) else None
        b_bar = mul(ct, a) if _wants(b) else None
    elif nb == 1:  # (..., m, k) @ (k,) -> (..., m); b_bar sums over the batch
        a_bar = einsum(ct, b, spec="...i,j->...ij") if _wants(a) else None
        b_bar = einsum(ct, a, spec="...i,...ij->...j") if _wants(b) else None
        b_bar = _unbroadcast(b_bar, b) if na > 2 else b_bar
    elif na == 1:  # (k,) @ (..., k, n) -> (..., n)
        a_bar = einsum(ct, b, spec="...j,...ij->...i") if _wants(a) else None
        a_bar = _unbroadcast(a_bar, a) if nb > 2 else a_bar
        b_bar = einsum(a, ct, spec="i,...j->...ij") if _wants(b) else None
    else:
        if _wants(a):
            a_bar = matmul(ct, _mT(b))
            a_bar = _unbroadcast(a_bar, a) if outs[0].type.ndim > 2 else a_bar
        if _wants(b):
            b_bar = matmul(_mT(a), ct)
            b_bar = _unbroadcast(b_bar, b) if outs[0].type.ndim > 2 else b_bar
    return [a_bar, b_bar]


matmul.jvp, matmul.vjp = _matmul_jvp, _matmul_vjp


# ---- einsum: multilinear; each partial is another einsum ------------------------------------


def _einsum_jvp(ins, ins_dot, outs, spec):
    out_dot = None
    for k, t in enumerate(ins_dot):
        if t is not None:
            out_dot = _add(out_dot, einsum(*ins[:k], t, *ins[k + 1:], spec=spec))
    return [out_dot]


def _einsum_vjp(cts, ins, outs, spec):
    (ct,) = cts
    if ct is None:
        return [None] * len(ins)
    terms, out, _ = parse_einsum(spec, [x.type.ndim for x in ins])
    return [_einsum_transpose(ct, ins, k, terms, out) if _wants(ins[k]) else None for k in range(len(ins))]


def _einsum_transpose(ct, ins, k, terms, out):
    """The cotangent of operand k: an einsum of `ct` with the other operands.

    An axis of x_k whose label appears nowhere else was summed away: a ones vector brings it
    back. A repeated label (a diagonal, a trace) gets a fresh label for each repeat, tied to
    the first by an identity matrix: the cotangent lands on the diagonal. Axes that broadcast
    (under '...' or of size 1) are summed back to x_k's shape."""
    x, term = ins[k], terms[k]
    others = [t for j, t in enumerate(terms) if j != k]
    fresh = iter(c for c in _string.ascii_letters if c not in ",".join(terms) + out)
    labels = term.replace("...", "")
    pre = len(term.split("...")[0])  # labels before the ellipsis
    n_ell = x.type.ndim - len(labels)

    def axis(p: int) -> int:  # the axis of x named by the p-th label
        return p + (n_ell if "..." in term and p >= pre else 0)

    visible = set(out + "".join(others))
    new_labels, extra_terms, extra_ops, first = [], [], [], {}
    for p, c in enumerate(labels):
        if c in first:
            f = next(fresh)
            extra_terms.append(c + f)
            extra_ops.append(_eye(dim(x, axis=axis(first[c]))))
            new_labels.append(f)
            continue
        first[c] = p
        new_labels.append(c)
        if c not in visible and labels.count(c) == 1:
            extra_terms.append(c)
            extra_ops.append(full(1.0, dim(x, axis=axis(p)), dtype=DType.float64))
    ell = "..." in out or any("..." in t for t in others)
    lhs = (out, *others, *extra_terms)
    rhs = ("..." if ell else "") + "".join(new_labels)
    x_bar = einsum(ct, *[a for j, a in enumerate(ins) if j != k], *extra_ops, spec=einsum_spec(lhs, rhs))
    if len(ins) > 1:
        # Ellipsis axes first, then the labelled ones, as x_bar's are.
        ell_axes = list(range(pre, pre + n_ell)) if "..." in term else []
        lab_axes = [axis(p) for p in range(len(labels))]
        x_bar = sum_to_shape(x_bar, *(dim(x, axis=a) for a in ell_axes + lab_axes))
    if "..." in term and pre and ell:
        lab = "".join(new_labels)
        x_bar = einsum(x_bar, spec=f"...{lab}->{lab[:pre]}...{lab[pre:]}")
    return x_bar


einsum.jvp, einsum.vjp = _einsum_jvp, _einsum_vjp


# ---- solve and inv ---------------------------------------------------------------------------


def _solve_jvp(ins, ins_dot, outs):
    a, b = ins
    a_dot, b_dot = ins_dot
    (x,) = outs
    vec = b.type.ndim == 1
    rhs = b_dot  # x_dot = solve(a, b_dot - a_dot @ x)
    if a_dot is not None:
        ax = einsum(a_dot, x, spec="...ij,...j->...i") if vec else matmul(a_dot, x)
        rhs = neg(ax) if rhs is None else sub(rhs, ax)
    if rhs is None:
        return [None]
    return [_solve_vectors(a, rhs) if vec else solve(a, rhs)]


def _solve_vjp(cts, ins, outs):
    (ct,) = cts
    a, b = ins
    (x,) = outs
    if ct is None:
        return [None, None]
    vec = b.type.ndim == 1
    a_t = _mT(a)
    b_bar = _solve_vectors(a_t, ct) if vec else solve(a_t, ct)  # shaped like x
    a_bar = None
    if _wants(a):  # a_bar = -b_bar x^T
        if vec:
            a_bar = neg(einsum(b_bar, x, spec="...i,...j->...ij"))
        else:
            a_bar = neg(matmul(b_bar, _mT(x)))
            a_bar = _unbroadcast(a_bar, a) if x.type.ndim > 2 else a_bar
    if _wants(b) and x.type.ndim > (1 if vec else 2):
        b_bar = _unbroadcast(b_bar, b)
    return [a_bar, b_bar if _wants(b) else None]


solve.jvp, solve.vjp = _solve_jvp, _solve_vjp


def _inv_jvp(ins, ins_dot, outs):
    (y,) = outs  # d inv(a) = -y a_dot y
    return [neg(matmul(matmul(y, ins_dot[0]), y))]


def _inv_vjp(cts, ins, outs):
    (ct,) = cts
    (y,) = outs
    if ct is None:
        return [None]
    y_t = _mT(y)
    return [neg(matmul(matmul(y_t, ct), y_t))]


inv.jvp, inv.vjp = _inv_jvp, _inv_vjp


# ---- det and slogdet: d log|det a| = trace(inv(a) da); singular matrices are excluded ------------


def _det_jvp(ins, ins_dot, outs):
    return [mul(outs[0], _trace_solve(ins[0], ins_dot[0]))]


def _det_vjp(cts, ins, outs):
    (ct,) = cts
    if ct is None:
        return [None]
    return [mul(_matrix_like(mul(ct, outs[0])), _mT(inv(ins[0])))]


det.jvp, det.vjp = _det_jvp, _det_vjp


def _slogdet_jvp(ins, ins_dot, outs):
    return [None, _trace_solve(ins[0], ins_dot[0])]  # the sign is piecewise constant


def _slogdet_vjp(cts, ins, outs):
    ct = cts[1]
    if ct is None:
        return [None]
    return [mul(_matrix_like(ct), _mT(inv(ins[0])))]


slogdet.jvp, slogdet.vjp = _slogdet_jvp, _slogdet_vjp


# ---- cholesky: a = l l^T, l_dot = l phi(l^-1 a_dot l^-T), phi = lower triangle, half diagonal ---


def _cholesky_jvp(ins, ins_dot, outs, upper):
    l = _mT(outs[0]) if upper else outs[0]
    s = _sym(ins_dot[0])
    z = solve(l, _mT(solve(l, s)))  # l^-1 s l^-T (symmetric, so one transpose suffices)
    l_dot = matmul(l, mul(z, _lower_mask(_last(l), 0.5)))
    return [_mT(l_dot) if upper else l_dot]


def _cholesky_vjp(cts, ins, outs, upper):
    (ct,) = cts
    if ct is None:
        return [None]
    l = _mT(outs[0]) if upper else outs[0]
    l_bar = _mT(ct) if upper else ct
    p = mul(matmul(_mT(l), l_bar), _lower_mask(_last(l), 0.5))
    l_t = _mT(l)
    q = solve(l_t, p)  # l^-T p l^-1
    return [_sym(_mT(solve(l_t, _mT(q))))]


cholesky.jvp, cholesky.vjp = _cholesky_jvp, _cholesky_vjp


# ---- qr (reduced), for tall and wide matrices ----------------------------------------------------
# With K = min(m, n), x = a[..., :, :K] (through the selector e = eye(K, n)) is factored as
# q r_x with r_x square. Its derivative is the square/tall formula (JAX's qr_jvp_rule):
#   d = dx r_x^-1, c = q^T d, o = tril(c, -1) - tril(c, -1)^T, dq = q (o - c) + d;
# and dr = q^T da + dq^T a for all n (it reduces to (c - o) r_x when n <= m).


def _qr_jvp(ins, ins_dot, outs):
    (a,), (a_dot,) = ins, ins_dot
    q, r = outs
    k = _last(r, 2)
    e = _rect_eye(k, _last(r))
    r_x = matmul(r, _mT(e))
    d = _mT(solve(_mT(r_x), _mT(matmul(a_dot, _mT(e)))))
    c = matmul(_mT(q), d)
    low = mul(c, _lower_mask(k, 0.0))
    q_dot = add(matmul(q, sub(sub(low, _mT(low)), c)), d)
    r_dot = add(matmul(_mT(q), a_dot), matmul(_mT(q_dot), a))
    return [q_dot, r_dot]


def _qr_vjp(cts, ins, outs):
    q_bar, r_bar = cts
    (a,) = ins
    q, r = outs
    if q_bar is None and r_bar is None:
        return [None]
    # The jvp above, transposed step by step.
    a_bar = None
    if r_bar is not None:
        a_bar = matmul(q, r_bar)
        q_bar = _add(q_bar, matmul(a, _mT(r_bar)))
    k = _last(r, 2)
    e = _rect_eye(k, _last(r))
    m = matmul(_mT(q), q_bar)  # the cotangent of o; that of c is -m plus o's share
    c_bar = sub(mul(sub(m, _mT(m)), _lower_mask(k, 0.0)), m)
    d_bar = add(q_bar, matmul(q, c_bar))
    r_x = matmul(r, _mT(e))
    dx_bar = _mT(solve(r_x, _mT(d_bar)))
    return [_add(a_bar, matmul(dx_bar, e))]


qr.jvp, qr.vjp = _qr_jvp, _qr_vjp


# ---- eigh: a = v diag(w) v^T with distinct eigenvalues ----------------------------------------------
#   w_dot = diag(v^T a_dot v), v_dot = v (f * (v^T a_dot v)), f_ij = 1 / (w_j - w_i).


def _eigh_jvp(ins, ins_dot, outs, UPLO):
    w, v = outs
    x = matmul(matmul(_mT(v), _sym(ins_dot[0])), v)
    return [_diag(x), matmul(v, mul(_gap_inverses(w), x))]


def _eigh_vjp(cts, ins, outs, UPLO):
    w_bar, v_bar = cts
    w, v = outs
    inner = None
    if w_bar is not None:
        inner = mul(_row(w_bar), _eye(_last(w)))
    if v_bar is not None:
        inner = _add(inner, mul(_gap_inverses(w), matmul(_mT(v), v_bar)))
    if inner is None:
        return [None]
    return [_sym(matmul(matmul(v, inner), _mT(v)))]


eigh.jvp, eigh.vjp = _eigh_jvp, _eigh_vjp


# ---- svd: a = u diag(s) vh with distinct nonzero singular values ------------------------------------
# JAX's svd_jvp_rule: ds = diag(u^T da v) and, with f_ij = 1 / (s_j^2 - s_i^2) and dS = u^T da v,
#   du = u (f * (dS S + S dS^T)) + (I - u u^T) da v S^-1,
#   dv = v (f * (S dS + dS^T S)) + (I - v v^T) da^T u S^-1.
# The projections vanish when u (or v) is square, so one formula covers tall and wide matrices.
# With full_matrices=True only square matrices have a derivative (the extra columns of u or v
# are not unique), which is checked at run time.


def _svd_square_check(a, full_matrices):
    if full_matrices:
        _check(eq(_last(a, 2), _last(a)), exc=ValueError,
               message="the derivative of np.linalg.svd(a, full_matrices=True) exists only for square "
                       "matrices: the extra singular vectors are not unique (pass full_matrices=False)")


def _svd_jvp(ins, ins_dot, outs, full_matrices, compute_uv):
    (a,), (a_dot,) = ins, ins_dot
    if not compute_uv:
        u, _, vh = svd(a, full_matrices=False, compute_uv=True)
        return [einsum(u, a_dot, vh, spec="...ik,...ij,...kj->...k")]
    _svd_square_check(a, full_matrices)
    u, s, vh = outs
    v = _mT(vh)
    dav = matmul(a_dot, v)
    ds_mat = matmul(_mT(u), dav)
    f = _gap_inverses(mul(s, s))
    s_inv = reciprocal(s)
    dss = mul(ds_mat, _row(s))
    sds = mul(_col(s), ds_mat)
    du = add(matmul(u, mul(f, add(dss, _mT(dss)))), mul(sub(dav, matmul(u, ds_mat)), _row(s_inv)))
    dau = matmul(_mT(a_dot), u)
    dv = add(matmul(v, mul(f, add(sds, _mT(sds)))), mul(sub(dau, matmul(v, _mT(ds_mat))), _row(s_inv)))
    return [du, _diag(ds_mat), _mT(dv)]


def _svd_vjp(cts, ins, outs, full_matrices, compute_uv):
    (a,) = ins
    if not compute_uv:
        (s_bar,) = cts
        if s_bar is None:
            return [None]
        u, _, vh = svd(a, full_matrices=False, compute_uv=True)
        return [einsum(u, s_bar, vh, spec="...ik,...k,...kj->...ij")]
    u_bar, s_bar, vh_bar = cts
    if u_bar is None and s_bar is None and vh_bar is None:
        return [None]
    _svd_square_check(a, full_matrices)
    u, s, vh = outs
    # The jvp transposed: a_bar = u [diag(s_bar) + (g + g^T) S + S (h + h^T)] vh
    #   + (u_bar - u u^T u_bar) S^-1 vh + u S^-1 (vh_bar - h^T vh),
    # g = f * (u^T u_bar), h = f * (vh vh_bar^T).
    f = _gap_inverses(mul(s, s))
    s_inv = reciprocal(s)
    inner = None if s_bar is None else mul(_row(s_bar), _eye(_last(s)))
    a_bar = None
    if u_bar is not None:
        j = matmul(_mT(u), u_bar)
        g = mul(f, j)
        inner = _add(inner, mul(add(g, _mT(g)), _row(s)))
        a_bar = matmul(mul(sub(u_bar, matmul(u, j)), _row(s_inv)), vh)
    if vh_bar is not None:
        j = matmul(vh, _mT(vh_bar))
        h = mul(f, j)
        inner = _add(inner, mul(_col(s), add(h, _mT(h))))
        a_bar = _add(a_bar, matmul(u, mul(_col(s_inv), sub(vh_bar, matmul(_mT(j), vh)))))
    return [_add(a_bar, matmul(matmul(u, inner), vh))]


svd.jvp, svd.vjp = _svd_jvp, _svd_vjp


# ---- lstsq: x = pinv(a) b for a of full rank ------------------------------------------------------
# Golub and Pereyra's derivative of the pseudo-inverse, applied to b (r = b - a x):
#   dx = pinv(a) (db - da x + pinv(a^T) da^T r) + (I - pinv(a) a) da^T pinv(a^T) x,
# with each pinv applied by another lstsq. The first bracket's last term vanishes for tall
# matrices (r is orthogonal to the columns), the last term for wide ones (pinv(a) a = I).
# residuals (sum of squares per column, empty unless m > n = rank) have d = 2 sum(r (db - da x));
# s follows svd; rank is an integer.


def _pinv_apply(a, y, rcond):
    return lstsq(a, y, rcond=rcond)[0]


def _outer(p, q):
    return einsum(p, q, spec="i,j->ij" if p.type.ndim == 1 else "ik,jk->ij")


def _per_column(v, like):
    """The per-column sums of lstsq's residuals, shaped like `like` (shape (k,), (1,) or (0,))."""
    n = dim(like, axis=0)
    if v.type.ndim == 0:
        return mul(full(1.0, n, dtype=DType.float64), v)
    return einsum(_rect_eye(n, dim(v, axis=0)), v, spec="ij,j->i")


def _lstsq_jvp(ins, ins_dot, outs, rcond):
    a, b = ins
    a_dot, b_dot = ins_dot
    x, res, _, _ = outs
    rhs = b_dot
    x_dot = s_dot = None
    if a_dot is not None:
        a_t = _mT(a)
        r = sub(b, matmul(a, x))
        ax = matmul(a_dot, x)
        rhs = _add(rhs, sub(_pinv_apply(a_t, matmul(_mT(a_dot), r), rcond), ax))
        w = matmul(_mT(a_dot), _pinv_apply(a_t, x, rcond))
        x_dot = sub(w, _pinv_apply(a, matmul(a, w), rcond))
        u, _, vh = svd(a, full_matrices=False, compute_uv=True)
        s_dot = einsum(u, a_dot, vh, spec="ik,ij,kj->k")
    x_dot = _add(x_dot, _pinv_apply(a, rhs, rcond))
    # residuals: 2 sum(r * (db - da x)) per column
    change = b_dot if a_dot is None else (neg(ax) if b_dot is None else sub(b_dot, ax))
    r = sub(b, matmul(a, x)) if a_dot is None else r
    sums = einsum(r, change, spec="i,i->" if b.type.ndim == 1 else "ik,ik->k")
    return [x_dot, _per_column(mul(2.0, sums), res), None, s_dot]


def _lstsq_vjp(cts, ins, outs, rcond):
    x_bar, res_bar, _, s_bar = cts
    a, b = ins
    x, res, _, _ = outs
    a_bar = b_bar = None
    if x_bar is None and res_bar is None and s_bar is None:
        return [None, None]
    a_t = _mT(a)
    r = sub(b, matmul(a, x)) if (x_bar is not None or res_bar is not None) else None
    if x_bar is not None:
        y = _pinv_apply(a_t, x_bar, rcond)  # pinv(a)^T x_bar
        z = _pinv_apply(a, y, rcond)
        v = _pinv_apply(a_t, x, rcond)
        q = sub(x_bar, _pinv_apply(a, matmul(a, x_bar), rcond))  # (I - pinv(a) a) x_bar
        a_bar = add(sub(_outer(r, z), _outer(y, x)), _outer(v, q))
        b_bar = y
    if res_bar is not None:
        if b.type.ndim == 1:
            rg = mul(r, mul(2.0, einsum(res_bar, spec="i->")))
        else:
            g = einsum(res_bar, _rect_eye(dim(res_bar, axis=0), _last(b)), spec="i,ij->j")
            rg = mul(r, _row(mul(2.0, g)))
        b_bar = _add(b_bar, rg)
        a_bar = _add(a_bar, neg(_outer(rg, x)))
    if s_bar is not None:
        u, _, vh = svd(a, full_matrices=False, compute_uv=True)
        a_bar = _add(a_bar, einsum(u, s_bar, vh, spec="ik,k,kj->ij"))
    return [a_bar if _wants(a) else None, b_bar if _wants(b) else None]


lstsq.jvp, lstsq.vjp = _lstsq_jvp, _lstsq_vjp


# ---- native lowering (Numba): float matrix products go to BLAS through np.dot ------------------


def _nb_matmul(g, e, ins):
    a, b = e.inputs
    na, nb = a.type.ndim, b.type.ndim
    dt = e.outputs[0].type.dtype
    if not dt.is_inexact:  # BLAS multiplies floats and complex numbers; integers run in object mode
        g.fallback(e, ins)
        return None
    from ..backends.numba_backend import np_dtype

    # operands of another dtype (float32 @ float64) are converted to the result's, as NumPy does
    x, y = (f"np.ascontiguousarray({s})" if t.type.dtype == dt else f"np.ascontiguousarray({s}).astype({np_dtype(dt)})"
            for s, t in zip(ins, e.inputs))
    if na <= 2 and nb <= 2:
        return f"np.dot({x}, {y})"
    if na == 3 and nb == 2:  # one product: the stack's rows against b
        return (f"np.dot({x}.reshape(({ins[0]}.shape[0] * {ins[0]}.shape[1], {ins[0]}.shape[2])), {y})"
                f".reshape(({ins[0]}.shape[0], {ins[0]}.shape[1], {ins[1]}.shape[1]))")
    if na > 3 and nb == 2:  # (..., m, k) @ (k, n): one product of all the rows
        return (f"np.dot({x}.reshape((-1, {ins[0]}.shape[{na - 1}])), {y})"
                f".reshape(({', '.join(f'{ins[0]}.shape[{q}]' for q in range(na - 1))}, {ins[1]}.shape[1]))")
    if na == 3 and nb == 3:
        return f"sup.matmul3({x}, {y})"
    if na == 2 and nb == 3:
        return f"sup.matmul3({x}.reshape((1, {ins[0]}.shape[0], {ins[0]}.shape[1])), {y})"
    g.fallback(e, ins)  # a vector against a stack, or stacks of more axes
    return None


matmul.numba = _nb_matmul


# einsum of one or two operands, without repeated labels in a term (a diagonal) and not of
# bools (NumPy's einsum of bools is a logical or of ands), as a matrix product: "..." becomes
# labels of its own; labels that only one operand has and the output lacks are summed first;
# then the operands are transposed to (batch, kept, contracted) and (batch, contracted, kept),
# multiplied (np.dot, BLAS, for one float product; sup.bmm otherwise) and the result transposed
# to the output's order. Labels the two share broadcast as in NumPy (sup.bdim). Otherwise NumPy's
# einsum runs in object mode. The result is always a fresh array (never a view of an operand).


def _nb_einsum_terms(spec: str, ndims: list[int]) -> tuple[list[str], str]:
    terms, out, ell = parse_einsum(spec, ndims)
    fresh = [c for c in _string.ascii_letters if c not in spec][:ell]
    def expand(t: str, nd: int) -> str:
        k = nd - len(t.replace("...", ""))
        return t.replace("...", "".join(fresh[ell - k:])) if "..." in t else t
    return [expand(t, nd) for t, nd in zip(terms, ndims)], expand(out, ell + len(out.replace("...", "")))


def _nb_prod(dims: list[str]) -> str:
    return " * ".join(dims) or "1"


def _nb_arrange(g, tmp: str, x: str, labels: str, keep: str, size: dict) -> str:
    """`x` (axes named by `labels`) summed over the labels not in `keep` and transposed to
    `keep`'s order: an expression (a view of `x` when nothing is summed)."""
    perm = tuple(labels.index(c) for c in keep) + tuple(k for k, c in enumerate(labels) if c not in keep)
    src = x if perm == tuple(range(len(labels))) else f"np.transpose({x}, {perm!r})"
    if len(keep) == len(labels):
        return src
    shape = ", ".join(size[c] for c in keep)
    summed = _nb_prod([size[c] for c in labels if c not in keep])
    g.emit(f"{tmp} = sup.sum_rows(np.ascontiguousarray({src}).reshape(({_nb_prod([size[c] for c in keep])}, {summed})))")
    return f"{tmp}.reshape(({shape}{',' if len(keep) == 1 else ''}))" if keep else f"{tmp}[0]"


def _nb_einsum(g, e, ins, spec):
    from ..backends.numba_backend import np_dtype

    out_t = e.outputs[0].type
    terms, out = _nb_einsum_terms(spec, [x.type.ndim for x in e.inputs])
    if len(ins) > 2 or out_t.dtype == DType.bool or any(len(set(t)) != len(t) for t in terms):
        g.fallback(e, ins)
        return None
    base = g._name(e.outputs[0])
    xs = list(ins)
    for k, a in enumerate(e.inputs):
        if a.type.dtype != out_t.dtype:  # an int operand of a float product
            xs[k] = f"{base}_{'ab'[k]}{out_t.dtype.value[0]}"
            g.emit(f"{xs[k]} = {ins[k]}.astype({np_dtype(out_t)})")
    size: dict[str, str] = {}
    for x, t in zip(xs, terms):
        for k, c in enumerate(t):
            d = f"{x}.shape[{k}]"
            if c in size:  # a label the operands share: one length (a local)
                g.emit(f"{base}_{c} = sup.bdim({size[c]}, {d})")
                d = f"{base}_{c}"
            size[c] = d
    if len(terms) == 1:
        if not terms[0]:
            return xs[0]
        r = _nb_arrange(g, f"{base}_sum", xs[0], terms[0], out, size)
        return r if len(out) < len(terms[0]) else f"{r}.copy()"
    (ta, tb) = terms
    # summed first: labels of one operand that neither the other operand nor the output has
    ka = "".join(c for c in ta if c in tb or c in out)
    kb = "".join(c for c in tb if c in ta or c in out)
    if not ka or not kb:  # an operand summed to a scalar factor
        g.fallback(e, ins)
        return None
    batch = [c for c in out if c in ka and c in kb]
    contr = [c for c in ka if c in kb and c not in out]
    fa = [c for c in out if c in ka and c not in kb]
    fb = [c for c in out if c in kb and c not in ka]
    ops = []
    for k, (x, t, keep) in enumerate(zip(xs, (ta, tb), ("".join(batch + fa + contr), "".join(batch + contr + fb)))):
        shared = [c for c in t if c in (tb if k == 0 else ta)]
        if shared:  # broadcast the shared labels
            shape = ", ".join(size[c] if c in shared else f"{x}.shape[{j}]" for j, c in enumerate(t))
            x = f"np.broadcast_to({x}, ({shape}{',' if len(t) == 1 else ''}))"
        ops.append(_nb_arrange(g, f"{base}_{'ab'[k]}", x, t, keep, size))
    nb, nfa, nc, nfb = (_nb_prod([size[c] for c in ls]) for ls in (batch, fa, contr, fb))
    a2, b2 = (f"np.ascontiguousarray({x})" for x in ops)
    r = f"{base}_prod"
    if not batch and out_t.dtype == DType.float64:
        g.emit(f"{r} = np.dot({a2}.reshape(({nfa}, {nc})), {b2}.reshape(({nc}, {nfb})))")
    else:
        g.emit(f"{r} = sup.bmm({a2}.reshape(({nb}, {nfa}, {nc})), {b2}.reshape(({nb}, {nc}, {nfb})))")
    got = batch + fa + fb
    if not got:
        return f"{r}.ravel()[0]"
    r = f"{r}.reshape(({', '.join(size[c] for c in got)}{',' if len(got) == 1 else ''}))"
    perm = tuple(got.index(c) for c in out)
    return r if perm == tuple(range(len(out))) else f"np.ascontiguousarray(np.transpose({r}, {perm!r}))"


einsum.numba = lambda g, e, ins: _nb_einsum(g, e, ins, **e.params)


def _nb_lstsq(g, e, ins):
    # Numba's lstsq reads rcond=None as -1 (machine precision); NumPy's None is eps * max(m, n).
    rcond = e.params["rcond"]
    rc = f"{np.finfo(np.float64).eps!r} * max({ins[0]}.shape)" if rcond is None else repr(float(rcond))
    return f"np.linalg.lstsq(np.ascontiguousarray({ins[0]}), np.ascontiguousarray({ins[1]}), rcond={rc})"


lstsq.numba = _nb_lstsq


# One matrix: Numba's np.linalg, which calls the same LAPACK routines as NumPy's (getrf/getrs,
# potrf, syevd, geqrf/orgqr, gesdd), so results agree to rounding, signs included. A stack of
# matrices (more than 2 dimensions) runs NumPy's in object mode. Numba copies its operands to
# Fortran order and returns some results in it: inputs and results are made C-ordered.


def _c(x: str) -> str:
    return f"np.ascontiguousarray({x})"


def _nb_linalg(rule, native=lambda params: True):
    def lower(g, e, ins):
        if e.inputs[0].type.ndim != 2 or (len(e.inputs) > 1 and e.inputs[1].type.ndim > 2) or not native(e.params):
            g.fallback(e, ins)
            return None
        return rule(g, e, [_c(x) for x in ins], **e.params)

    return lower


def _nb_cholesky(g, e, ins, upper):
    # NumPy's upper factor reads the upper triangle: the lower factor of the transpose, transposed.
    if upper:
        return _c(f"np.linalg.cholesky({_c(f'{ins[0]}.T')}).T")
    return _c(f"np.linalg.cholesky({ins[0]})")


def _nb_eigh(g, e, ins, UPLO):
    w, v = (g.name(o) for o in e.outputs)
    g.emit(f"{w}, {v}_f = np.linalg.eigh({ins[0]})")
    g.emit(f"{v} = {_c(v + '_f')}")
    return None


def _nb_svd(g, e, ins, full_matrices, compute_uv):
    if compute_uv:
        return f"sup.svd({ins[0]}, {full_matrices})"
    return f"sup.svd({ins[0]}, False)[1]"  # Numba's svd always computes u and vh


solve.numba = _nb_linalg(lambda g, e, ins: _c(f"np.linalg.solve({ins[0]}, {ins[1]})"))
inv.numba = _nb_linalg(lambda g, e, ins: _c(f"np.linalg.inv({ins[0]})"))
det.numba = _nb_linalg(lambda g, e, ins: f"np.linalg.det({ins[0]})")
slogdet.numba = _nb_linalg(lambda g, e, ins: f"np.linalg.slogdet({ins[0]})")
cholesky.numba = _nb_linalg(_nb_cholesky)
# Numba's eigh reads the lower triangle. With UPLO="U", LAPACK's other reduction gives eigenvectors
# of other signs than NumPy's (the lower triangle of the transpose is not the same computation):
# that one stays in object mode.
eigh.numba = _nb_linalg(_nb_eigh, native=lambda params: params["UPLO"] == "L")
qr.numba = _nb_linalg(lambda g, e, ins: f"sup.qr({ins[0]})")
svd.numba = _nb_linalg(_nb_svd)


# ============================================================================================
# Batching (vmap): the batch axis becomes one more stack axis in front. The solvers and
# decompositions map over leading axes already; matmul and solve treat 1-d operands specially,
# so a batch of vectors is made a batch of matrices first (NumPy would read (B, n) as one
# matrix); einsum gives the batch axis a label of its own.

from ..transforms.batchutil import BatchingError, all_batched, dims, loop_rule, to_rank  # noqa: E402
from .shape import squeeze, transpose  # noqa: E402


def _as_matrix(x, left: bool):
    """A (batch of) vector(s) as rows (left operand of a product) or columns (right)."""
    d = dims(x)
    return reshape(x, *d[:-1], _lit(1), d[-1]) if left else reshape(x, *d, _lit(1))


def _matmul_batch(args, batched, size):
    a, b = args
    ra, rb = a.type.ndim - batched[0], b.type.ndim - batched[1]
    if not batched[1] and ra <= 2 and rb <= 2:
        # one 2-d product, which the native backend gives to BLAS: (B, k) @ b, or the matrices
        # of (B, m, k) stacked into (B m, k)
        if ra == 1:
            return [(matmul(a, b), True)]
        n, m, k = dims(a)
        out = matmul(reshape(a, mul(n, m), k), b)
        return [(reshape(out, n, m, *dims(out)[1:]), True)]
    if not batched[0] and ra <= 2 and rb == 1:  # a @ v for each vector v: (B, k) @ a^T
        return [(matmul(b, a if ra == 1 else transpose(a, perm=(1, 0))), True)]
    ra2, rb2 = max(ra, 2), max(rb, 2)
    a2 = _as_matrix(a, True) if ra == 1 else a
    b2 = _as_matrix(b, False) if rb == 1 else b
    top = max(ra2, rb2)
    a2 = to_rank(a2, ra2, top) if batched[0] else a2
    b2 = to_rank(b2, rb2, top) if batched[1] else b2
    out = matmul(a2, b2)
    nd = out.type.ndim
    drop = ((nd - 2,) if ra == 1 else ()) + ((nd - 1,) if rb == 1 else ())
    return [(squeeze(out, axes=drop) if drop else out, True)]


def _einsum_batch(args, batched, size, spec):
    terms, out, _ = parse_einsum(spec, [x.type.ndim - b for x, b in zip(args, batched)])
    z = next((c for c in _string.ascii_letters if c not in spec), None)
    if z is None:
        raise BatchingError(f"vmap: the einsum {spec!r} uses every letter, none is left for the batch axis")
    new = tuple(z + t if b else t for t, b in zip(terms, batched))
    return [(einsum(*args, spec=einsum_spec(new, z + out)), True)]


def _solve_batch(args, batched, size):
    a, b = args
    ra, rb = a.type.ndim - batched[0], b.type.ndim - batched[1]
    if rb == 1 and batched[1]:  # a batch of right-hand vectors: columns, solved, squeezed back
        x = solve(a, to_rank(_as_matrix(b, False), 2, ra))
        return [(squeeze(x, axes=(x.type.ndim - 1,)), True)]
    if rb == 1:  # a 1-d b is a vector for every matrix of the stack
        return [(solve(a, b), True)]
    top = max(ra, rb)
    a2 = to_rank(a, ra, top) if batched[0] else a
    b2 = to_rank(b, rb, top) if batched[1] else b
    return [(solve(a2, b2), True)]


def _stacked_batch(prim):
    """One stack of matrices in, stacks out: the batch axis is one more stack axis."""

    def rule(args, batched, size, **params):
        out = prim(*args, **params)
        return all_batched(out if isinstance(out, tuple) else (out,))

    return rule


matmul.batch = _matmul_batch
einsum.batch = _einsum_batch
solve.batch = _solve_batch
for _p in (inv, det, slogdet, cholesky, qr, eigh, svd):
    _p.batch = _stacked_batch(_p)
# np.linalg.lstsq takes one 2-d matrix (no stacks), and its residuals' length depends on the
# rank of each member: a loop over the batch.
lstsq.batch = loop_rule(lstsq)
