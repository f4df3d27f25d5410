"""The registry is complete: every primitive declares every rule, or says why not; and every
elementwise derivative rule agrees with central finite differences."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import morphism.primitives.families  # noqa: F401  (fills the registry)
from morphism.backends.interpreter import run_func
from morphism.ir.builder import Builder, building
from morphism.ir.core import DType, Func, Scalar, Var
from morphism.primitives import elementwise as E
from morphism.primitives.registry import ELEMENTWISE, NOT_APPLICABLE, REGISTRY
from morphism.transforms.jvp import jvp_func
from morphism.transforms.vjp import vjp_func

PRIMS = sorted(REGISTRY.values(), key=lambda p: p.name)


@pytest.mark.parametrize("prim", PRIMS, ids=lambda p: p.name)
def test_every_primitive_has_its_rules(prim):
    assert callable(prim.type_rule)
    assert prim.impl is not None or prim.interpret is not None, f"{prim.name}: no impl"
    for rule in ("jvp", "vjp"):
        r = getattr(prim, rule)
        assert callable(r) or isinstance(r, NOT_APPLICABLE), f"{prim.name} has no {rule} rule"
        if isinstance(r, NOT_APPLICABLE):
            assert r.reason, f"{prim.name}: NOT_APPLICABLE needs a reason"


# Unary and binary float elementwise primitives, with a domain where each is smooth.
DOMAINS = {
    "log": (0.1, 5), "log2": (0.1, 5), "log10": (0.1, 5), "log1p": (-0.5, 5), "sqrt": (0.1, 5),
    "arcsin": (-0.9, 0.9), "arccos": (-0.9, 0.9), "arctanh": (-0.9, 0.9), "arccosh": (1.1, 5),
    "reciprocal": (0.2, 5), "cbrt": (0.2, 5), "tan": (-1.2, 1.2), "abs": (0.1, 3),
    "lgamma": (0.5, 5), "polygamma": (0.5, 5), "ndtri": (0.05, 0.95),
}
SKIP = {"sign", "floor", "ceil", "trunc", "rint", "stop_gradient", "convert", "select", "floordiv", "angle"}  # piecewise constant


def _float_elementwise(arity):
    out = []
    for p in PRIMS:
        if not p.has(ELEMENTWISE) or p.name in SKIP or isinstance(p.jvp, NOT_APPLICABLE) or p.jvp is None:
            continue
        try:
            ts = p.type_rule([Scalar(DType.float64)] * arity)
        except Exception:
            continue
        if ts and ts[0] == Scalar(DType.float64):
            out.append(p)
    return out


def _single(prim, arity):
    xs = [Var(Scalar(DType.float64), f"x{k}") for k in range(arity)]
    b = Builder()
    with building(b):
        y = prim(*xs)
    return Func(prim.name, b.block(xs, [y]))


@pytest.mark.parametrize("prim", _float_elementwise(1), ids=lambda p: p.name)
@given(u=st.floats(0.0, 1.0))
@settings(max_examples=15, deadline=None)
def test_unary_rules_match_finite_differences(prim, u):
    lo, hi = DOMAINS.get(prim.name, (-2.0, 2.0))
    x = lo + (hi - lo) * u
    f = _single(prim, 1)
    eps = 1e-6 * max(1.0, abs(x))
    fd = (run_func(f, [x + eps])[0] - run_func(f, [x - eps])[0]) / (2 * eps)
    jv = run_func(jvp_func(f, [True]), [x, 1.0])[1]
    vj = run_func(vjp_func(f, [True]), [x, 1.0])[1]
    assert jv == pytest.approx(fd, rel=1e-5, abs=1e-6)
    assert vj == pytest.approx(jv, rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("prim", _float_elementwise(2), ids=lambda p: p.name)
@given(u=st.floats(0.05, 1.0), w=st.floats(0.05, 1.0))
@settings(max_examples=15, deadline=None)
def test_binary_rules_match_finite_differences(prim, u, w):
    x, y = 0.3 + 2.0 * u, 0.2 + 1.7 * w  # positive operands: pow, mod and friends are smooth here
    if prim.name in ("maximum", "minimum") and abs(x - y) < 1e-3:
        return  # a tie: the kink of max/min
    q = x / y
    if prim.name in ("mod", "fmod") and abs(q - round(q)) < 1e-4:
        return  # x/y next to an integer: the jump of mod, which finite differences would straddle
    f = _single(prim, 2)
    for k in range(2):
        args = [x, y]
        hi, lo = list(args), list(args)
        hi[k] += 1e-6
        lo[k] -= 1e-6
        fd = (run_func(f, hi)[0] - run_func(f, lo)[0]) / 2e-6
        tangent = [1.0 if j == k else 0.0 for j in range(2)]
        jv = run_func(jvp_func(f, [True, True]), [x, y, *tangent])[1]
        vj = run_func(vjp_func(f, [True, True]), [x, y, 1.0])[1 + k]
        assert jv == pytest.approx(fd, rel=1e-5, abs=1e-6), (prim.name, k)
        assert vj == pytest.approx(jv, rel=1e-12, abs=1e-14), (prim.name, k)


def test_broadcasting_rules_sum_cotangents_back():
    import morphism as mo

    def f(a, b):
        return ((a * b + a) / (b + 2.0)).sum()

    a = np.array([[1.0], [2.0]])
    b = np.array([[0.5, 1.5, 2.5]])
    ga, gb = mo.grad(f, argnums=(0, 1))(a, b)
    assert ga.shape == a.shape and gb.shape == b.shape
    eps = 1e-6
    for arr, g, k in ((a, ga, 0), (b, gb, 1)):
        for idx in np.ndindex(arr.shape):
            e = np.zeros_like(arr)
            e[idx] = eps
            args_hi = [a, b]
            args_lo = [a, b]
            args_hi[k] = arr + e
            args_lo[k] = arr - e
            assert g[idx] == pytest.approx((f(*args_hi) - f(*args_lo)) / (2 * eps), rel=1e-6)
