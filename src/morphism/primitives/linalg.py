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
    if t.dtype != DType.float64:
        _fail(f"{what} expected a float64 operand (the frontend converts ints), found {t}")
    if ndim is not None and t.ndim != ndim:
        _fail(f"{what} expected a {ndim}-d array, found {t}")
    if t.ndim < 2:
        _fail(f"{what} expected a {'square matrix' if square else 'matrix'} or a stack of them "
              f"(at least 2 dimensions), found {t}")
    return t  # type: ignore[return-value]


def _solve_rule(ts, **_):
    a, b = ts
    _float_stack(a, "solve")
    if b.dtype != DType.float64 or b.ndim == 0:
        _fail(f"solve expected a float64 vector or matrix right-hand side, found {b}")
    # NumPy 2: b is a vector only when it is 1-D; otherwise a (stack of) matrices.
    return [make_type(DType.float64, a.ndim - 1 if b.ndim == 1 else max(a.ndim, b.ndim))]


solve = primitive("solve", _solve_rule, impl=np.linalg.solve)


def _same_rule(what: str):
    def rule(ts, **_):
        (a,) = ts
        return [_float_stack(a, what)]

    return rule


inv = primitive("inv", _same_rule("inv"), impl=np.linalg.inv)


def _det_rule(ts, **_):
    (a,) = ts
    return [make_type(DType.float64, _float_stack(a, "det").ndim - 2)]


det = primitive("det", _det_rule, impl=np.linalg.det)


def _slogdet_rule(ts, **_):
    (a,) = ts
    t = make_type(DType.float64, _float_stack(a, "slogdet").ndim - 2)
    return [t, t]


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
    return [Array(DType.float64, t.ndim - 1), t]


# Symmetric eigendecomposition: eigenvalues ascending, eigenvectors in the columns of v. Only
# the triangle named by UPLO is read.
eigh = primitive("eigh", _eigh_rule, impl=lambda a, UPLO: tuple(np.linalg.eigh(a, UPLO=UPLO)),
                 multiple_results=True)


def _svd_rule(ts, full_matrices: bool, compute_uv: bool, **_):
    (a,) = ts
    t = _float_stack(a, "svd", square=False)
    s = Array(DType.float64, t.ndim - 1)
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
