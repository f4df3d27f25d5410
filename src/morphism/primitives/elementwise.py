"""Elementwise primitives: arithmetic, comparisons, logic and math functions.

All broadcast like NumPy. Derivative, batching and lowering rules are added beside each
declaration by later layers.
"""

from __future__ import annotations

import numpy as np

from ..ir.core import DType, is_value, make_type, promote
from .registry import (
    COMMUTATIVE,
    ELEMENTWISE,
    LINEAR,
    TypeRuleError,
    elementwise_rule,
    float_type,
    ordered,
    primitive,
    same_type,
)

EW = {ELEMENTWISE}

def _unary_keep(ts, **_):
    """-x, sign, square: the operand's dtype (bools become ints, as in Python)."""
    if len(ts) != 1:
        raise TypeRuleError(f"expected 1 operand, found {len(ts)}")
    (t,) = ts
    return [make_type(DType.int64 if t.dtype == DType.bool else t.dtype, t.ndim)]


def _abs_rule(ts, **_):
    """abs: the operand's dtype, real for complex (|z| of complex64 is float32)."""
    (t,) = _unary_keep(ts)
    return [t.with_dtype(t.dtype.real)]


# Arithmetic. Bools in arithmetic become ints, as in Python (True + True == 2).
add = primitive("add", elementwise_rule("promote"), impl=np.add, traits=EW | {LINEAR, COMMUTATIVE})
sub = primitive("sub", elementwise_rule("promote"), impl=np.subtract, traits=EW | {LINEAR})
mul = primitive("mul", elementwise_rule("promote"), impl=np.multiply, traits=EW | {COMMUTATIVE})
div = primitive("div", elementwise_rule("float"), impl=np.true_divide, traits=EW)
floordiv = primitive("floordiv", elementwise_rule("promote"), impl=np.floor_divide, traits=EW)
mod = primitive("mod", elementwise_rule("promote"), impl=np.mod, traits=EW)
fmod = primitive("fmod", elementwise_rule("promote"), impl=np.fmod, traits=EW)


def _pow_impl(x, y):
    # Python gives a float for int ** negative int; NumPy raises. The type rule says int, so only
    # non-negative exponents reach here as ints.
    return np.power(x, y)


pow = primitive("pow", elementwise_rule("promote"), impl=_pow_impl, traits=EW)
neg = primitive("neg", _unary_keep, impl=np.negative, traits=EW | {LINEAR})
abs = primitive("abs", _abs_rule, impl=np.abs, traits=EW)
sign = primitive("sign", _unary_keep, impl=np.sign, traits=EW)
square = primitive("square", _unary_keep, impl=np.square, traits=EW)
maximum = primitive("maximum", ordered(elementwise_rule("promote_keep_bool"), "maximum"), impl=np.maximum,
                    traits=EW | {COMMUTATIVE})
minimum = primitive("minimum", ordered(elementwise_rule("promote_keep_bool"), "minimum"), impl=np.minimum,
                    traits=EW | {COMMUTATIVE})

# Comparisons and logic.
eq = primitive("eq", elementwise_rule("bool"), impl=np.equal, traits=EW | {COMMUTATIVE})
ne = primitive("ne", elementwise_rule("bool"), impl=np.not_equal, traits=EW | {COMMUTATIVE})
lt = primitive("lt", ordered(elementwise_rule("bool"), "<"), impl=np.less, traits=EW)
le = primitive("le", ordered(elementwise_rule("bool"), "<="), impl=np.less_equal, traits=EW)
gt = primitive("gt", ordered(elementwise_rule("bool"), ">"), impl=np.greater, traits=EW)
ge = primitive("ge", ordered(elementwise_rule("bool"), ">="), impl=np.greater_equal, traits=EW)
logical_and = primitive("logical_and", elementwise_rule("logical"), impl=np.logical_and, traits=EW | {COMMUTATIVE})
logical_or = primitive("logical_or", elementwise_rule("logical"), impl=np.logical_or, traits=EW | {COMMUTATIVE})
logical_xor = primitive("logical_xor", elementwise_rule("logical"), impl=np.logical_xor, traits=EW | {COMMUTATIVE})
logical_not = primitive("logical_not", elementwise_rule("logical", nargs=1), impl=np.logical_not, traits=EW)
bitand = primitive("bitand", elementwise_rule("int_or_bool"), impl=np.bitwise_and, traits=EW | {COMMUTATIVE})
bitor = primitive("bitor", elementwise_rule("int_or_bool"), impl=np.bitwise_or, traits=EW | {COMMUTATIVE})
bitxor = primitive("bitxor", elementwise_rule("int_or_bool"), impl=np.bitwise_xor, traits=EW | {COMMUTATIVE})
invert = primitive("invert", elementwise_rule("int_or_bool", nargs=1), impl=np.invert, traits=EW)
lshift = primitive("lshift", elementwise_rule("int_or_bool"), impl=np.left_shift, traits=EW)
rshift = primitive("rshift", elementwise_rule("int_or_bool"), impl=np.right_shift, traits=EW)
isnan = primitive("isnan", elementwise_rule("bool", nargs=1), impl=np.isnan, traits=EW)
isinf = primitive("isinf", elementwise_rule("bool", nargs=1), impl=np.isinf, traits=EW)
isfinite = primitive("isfinite", elementwise_rule("bool", nargs=1), impl=np.isfinite, traits=EW)


def _select_rule(ts, **_):
    c, a, b = ts
    if c.dtype != DType.bool:
        raise TypeRuleError(f"the condition of `where` must be boolean, found {c}")
    return [make_type(promote(a.dtype, b.dtype), max(c.ndim, a.ndim, b.ndim))]


# where(c, a, b): both sides are computed; the control-flow form is `cond`.
select = primitive("select", _select_rule, impl=np.where, traits=EW)

# Unary math: ints become floats, as np.sin(1) does.
_UNARY = {
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "exp": np.exp, "exp2": np.exp2,
    "log": np.log, "log2": np.log2, "log10": np.log10, "log1p": np.log1p, "expm1": np.expm1,
    "sqrt": np.sqrt, "cbrt": np.cbrt, "tanh": np.tanh, "sinh": np.sinh, "cosh": np.cosh,
    "arcsin": np.arcsin, "arccos": np.arccos, "arctan": np.arctan, "arcsinh": np.arcsinh,
    "arccosh": np.arccosh, "arctanh": np.arctanh, "reciprocal": lambda x: np.reciprocal(np.asarray(x, dtype=np.float64)),
    "floor": np.floor, "ceil": np.ceil, "trunc": np.trunc, "rint": np.rint,
    "deg2rad": np.deg2rad, "rad2deg": np.rad2deg,
}
def _int_keep(ts, **_):
    """floor, ceil, trunc: integers stay integers (NumPy 2), other values as other math."""
    (t,) = ts
    return [t] if t.dtype.is_int else float_type(ts)


for _name, _fn in _UNARY.items():
    globals()[_name] = primitive(_name, _int_keep if _name in ("floor", "ceil", "trunc") else float_type,
                                 impl=_fn, traits=EW)

arctan2 = primitive("arctan2", elementwise_rule("float"), impl=np.arctan2, traits=EW)
hypot = primitive("hypot", elementwise_rule("float"), impl=np.hypot, traits=EW | {COMMUTATIVE})
logaddexp = primitive("logaddexp", elementwise_rule("float"), impl=np.logaddexp, traits=EW | {COMMUTATIVE})
copysign = primitive("copysign", elementwise_rule("float"), impl=np.copysign, traits=EW)


def _convert_rule(ts, dtype: DType, **_):
    (t,) = ts
    return [make_type(dtype, t.ndim)]


def _convert_impl(x, dtype: DType):
    return np.asarray(x).astype(dtype.np)


# astype / float() / int() / bool(): float to int truncates toward zero, like Python's int().
convert = primitive("convert", _convert_rule, impl=_convert_impl, traits=EW)

# Complex parts. For real operands: real and conj are the value, imag is zero, angle 0 or pi.
def _real_rule(ts, **_):
    (t,) = ts
    return [t.with_dtype(t.dtype.real)]


def _angle_rule(ts, **_):
    (t,) = float_type(ts)
    return [t.with_dtype(t.dtype.real)]


real = primitive("real", _real_rule, impl=np.real, traits=EW | {LINEAR})
imag = primitive("imag", _real_rule, impl=np.imag, traits=EW)
conj = primitive("conj", same_type, impl=np.conjugate, traits=EW | {LINEAR})
angle = primitive("angle", _angle_rule, impl=np.angle, traits=EW)

# A value that the derivative rules treat as a constant (`mo.stop_gradient`).
stop_gradient = primitive("stop_gradient", same_type, impl=lambda x: x, traits=EW)


# ============================================================================================
# Derivative rules, beside the primitives above.
#   jvp(ins, ins_dot, outs, **params) -> outs_dot      (None is a symbolic zero)
#   vjp(cts, ins, outs, **params)     -> ins_ct
# Binary rules handle broadcasting: a tangent is broadcast to the result's shape, a cotangent
# summed back to its operand's shape, only when another operand is an array.

import math as _math  # noqa: E402

from ..ir.core import Array as _Array  # noqa: E402
from ..ir.core import Scalar as _Scalar  # noqa: E402
from ..ir.core import lit as _lit  # noqa: E402
from .registry import NOT_APPLICABLE  # noqa: E402


def _adu():
    from ..transforms import adutil

    return adutil


def _others_array(ins, k) -> bool:
    return any(isinstance(a.type, _Array) for j, a in enumerate(ins) if j != k)


def _bcast(t, ins, k, out):
    if t is None:
        return None
    if isinstance(out.type, _Array) and (isinstance(t.type, _Scalar) or _others_array(ins, k)):
        return _adu().broadcast_like(t, out)
    return t


def _unb(ct, ins, k, out):
    x = ins[k]
    if ct is None or not _adu().is_float(x.type):
        return None
    if isinstance(x.type, _Scalar):
        return _adu().unbroadcast(ct, x)
    if _others_array(ins, k):
        return _adu().unbroadcast(ct, x)
    return ct


def _sum_tangents(terms):
    acc = None
    for t in terms:
        acc = _adu().add_ct(acc, t)
    return acc


def linear_rules(partials):
    """Rules from the partial derivatives: partials(ins, out) -> [d out / d in_k]. Each
    partial is an atom, or None when the input does not influence the output smoothly."""

    def jvp(ins, ts, outs, **p):
        ps = partials(ins, outs[0], **p)
        terms = []
        for k, (t, d) in enumerate(zip(ts, ps)):
            if t is None or d is None:
                continue
            term = t if is_value(d, 1.0) else mul(t, d)
            if isinstance(d, Lit):
                # A constant partial does not carry the other operands' shape: broadcast.
                term = _bcast(term, ins, k, outs[0])
            terms.append(term)
        return [_sum_tangents(terms)]

    def vjp(cts, ins, outs, **p):
        (ct,) = cts
        if ct is None:
            return [None] * len(ins)
        ps = partials(ins, outs[0], **p)
        res = []
        for k, d in enumerate(ps):
            if d is None or not _adu().is_float(ins[k].type):
                res.append(None)
                continue
            c = ct if is_value(d, 1.0) else mul(ct, d)
            res.append(_unb(c, ins, k, outs[0]))
        return res

    return jvp, vjp


from ..ir.core import Lit  # noqa: E402

_ONE = _lit(1.0)
_MINUS_ONE = _lit(-1.0)


def _set(prim, partials):
    prim.jvp, prim.vjp = linear_rules(partials)


def _fl(x):
    return x if x.type.dtype.is_inexact else convert(x, dtype=DType.float64)


_set(add, lambda ins, out: [_ONE, _ONE])
_set(sub, lambda ins, out: [_ONE, _MINUS_ONE])
_set(mul, lambda ins, out: [ins[1], ins[0]])
_set(div, lambda ins, out: [div(_ONE, ins[1]), neg(div(out, ins[1]))])
_set(neg, lambda ins, out: [_MINUS_ONE])
# (derivatives through complex values are refused before these run: real operands only)
_set(real, lambda ins, out: [_ONE])
_set(conj, lambda ins, out: [_ONE])


def _pow_partials(ins, out):
    x, y = ins
    dx = mul(y, pow(x, sub(y, 1))) if not y.type.dtype.is_inexact else mul(y, pow(x, sub(y, 1.0)))
    dy = None
    if y.type.dtype.is_inexact:
        # d/dy x**y = x**y log x, taken as 0 where x == 0 (as JAX does).
        safe = select(eq(x, 0.0), _ONE, _fl(x))
        dy = select(eq(x, 0.0), _lit(0.0), mul(out, log(safe)))
    return [dx, dy]


_set(pow, _pow_partials)
_set(abs, lambda ins, out: [sign(ins[0])])
_set(square, lambda ins, out: [mul(2.0, ins[0])])
_set(sqrt, lambda ins, out: [div(0.5, out)])
_set(cbrt, lambda ins, out: [div(_ONE, mul(3.0, square(out)))])
_set(exp, lambda ins, out: [out])
_set(exp2, lambda ins, out: [mul(out, _math.log(2.0))])
_set(log, lambda ins, out: [div(_ONE, ins[0])])
_set(log2, lambda ins, out: [div(_ONE, mul(ins[0], _math.log(2.0)))])
_set(log10, lambda ins, out: [div(_ONE, mul(ins[0], _math.log(10.0)))])
_set(log1p, lambda ins, out: [div(_ONE, add(ins[0], 1.0))])
_set(expm1, lambda ins, out: [add(out, 1.0)])
_set(sin, lambda ins, out: [cos(ins[0])])
_set(cos, lambda ins, out: [neg(sin(ins[0]))])
_set(tan, lambda ins, out: [add(1.0, square(out))])
_set(tanh, lambda ins, out: [sub(1.0, square(out))])
_set(sinh, lambda ins, out: [cosh(ins[0])])
_set(cosh, lambda ins, out: [sinh(ins[0])])
_set(arcsin, lambda ins, out: [div(_ONE, sqrt(sub(1.0, square(ins[0]))))])
_set(arccos, lambda ins, out: [div(_MINUS_ONE, sqrt(sub(1.0, square(ins[0]))))])
_set(arctan, lambda ins, out: [div(_ONE, add(1.0, square(ins[0])))])
_set(arcsinh, lambda ins, out: [div(_ONE, sqrt(add(square(ins[0]), 1.0)))])
_set(arccosh, lambda ins, out: [div(_ONE, sqrt(sub(square(ins[0]), 1.0)))])
_set(arctanh, lambda ins, out: [div(_ONE, sub(1.0, square(ins[0])))])
_set(reciprocal, lambda ins, out: [neg(square(out))])
_set(deg2rad, lambda ins, out: [_lit(_math.pi / 180.0)])
_set(rad2deg, lambda ins, out: [_lit(180.0 / _math.pi)])
_set(arctan2, lambda ins, out: [div(ins[1], add(square(ins[0]), square(ins[1]))),
                                neg(div(ins[0], add(square(ins[0]), square(ins[1]))))])
_set(hypot, lambda ins, out: [div(ins[0], out), div(ins[1], out)])
_set(logaddexp, lambda ins, out: [exp(sub(ins[0], out)), exp(sub(ins[1], out))])
_set(copysign, lambda ins, out: [mul(sign(ins[0]), sign(out)), None])
_set(fmod, lambda ins, out: [_ONE, neg(trunc(div(ins[0], ins[1])))])
_set(mod, lambda ins, out: [_ONE, neg(floor(div(ins[0], ins[1])))])


def _minmax_weight(x, y, greater):
    # 1 where this operand wins, 0 where the other does, 0.5 at ties (JAX's convention).
    win = gt(x, y) if greater else lt(x, y)
    lose = lt(x, y) if greater else gt(x, y)
    return select(win, 1.0, select(lose, 0.0, 0.5))


_set(maximum, lambda ins, out: [_minmax_weight(ins[0], ins[1], True), _minmax_weight(ins[1], ins[0], True)])
_set(minimum, lambda ins, out: [_minmax_weight(ins[0], ins[1], False), _minmax_weight(ins[1], ins[0], False)])


def _select_jvp(ins, ts, outs, **p):
    c, a, b = ins
    _, ta, tb = ts
    if ta is None and tb is None:
        return [None]
    out = outs[0]
    adu = _adu()
    ta = _bcast(ta, ins, 1, out) if ta is not None else adu.zeros_like(out)
    tb = _bcast(tb, ins, 2, out) if tb is not None else adu.zeros_like(out)
    return [select(c, ta, tb)]


def _select_vjp(cts, ins, outs, **p):
    (ct,) = cts
    if ct is None:
        return [None, None, None]
    c = ins[0]
    return [None, _unb(select(c, ct, 0.0), ins, 1, outs[0]), _unb(select(c, 0.0, ct), ins, 2, outs[0])]


select.jvp, select.vjp = _select_jvp, _select_vjp


def _convert_jvp(ins, ts, outs, dtype, **p):
    # float to float (float32 <-> float64): the tangent converts too; to an integer: none
    if ts[0] is None or not dtype.is_float:
        return [None]
    return [ts[0] if ts[0].type.dtype == dtype else convert(ts[0], dtype=dtype)]


def _convert_vjp(cts, ins, outs, dtype, **p):
    if cts[0] is None or not ins[0].type.dtype.is_float or not dtype.is_float:
        return [None]
    ct = cts[0]
    return [ct if ct.type.dtype == ins[0].type.dtype else convert(ct, dtype=ins[0].type.dtype)]


convert.jvp, convert.vjp = _convert_jvp, _convert_vjp

# Piecewise-constant functions have a zero derivative almost everywhere (JAX's convention).
_ZERO = (lambda ins, ts, outs, **p: [None] * len(outs), lambda cts, ins, outs, **p: [None] * len(ins))
for _p in (sign, floor, ceil, trunc, rint, floordiv, stop_gradient, imag, angle):
    _p.jvp, _p.vjp = _ZERO

# Results that are booleans or integers carry no derivative.
_NO_FLOAT = NOT_APPLICABLE("the result is boolean or integer: it has no derivative")
for _p in (eq, ne, lt, le, gt, ge, logical_and, logical_or, logical_xor, logical_not, bitand, bitor,
           bitxor, invert, lshift, rshift, isnan, isinf, isfinite):
    _p.jvp = _p.vjp = _NO_FLOAT


# ============================================================================================
# Native lowering (Numba), beside the primitives: an expression over the inputs' names.


def _nb_natural_dtype(prim, e):
    samples = []
    for a in e.inputs:
        dt = a.type.dtype.np
        samples.append(np.ones((1,) * a.type.ndim, dt) if a.type.ndim else dt.type(1))
    try:
        with np.errstate(all="ignore"):
            return np.asarray(prim.impl(*samples, **e.params)).dtype
    except Exception:
        return None


_BOOL_NATURAL = {"eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor", "logical_not",
                 "isnan", "isinf", "isfinite"}


def _scalar_result_is_natural(prim, e) -> bool:
    """Whether Numba's own result type for scalar operands is the IR's: float64 arithmetic with
    a float operand, int64 arithmetic on int64 operands, and comparisons."""
    ins = [a.type for a in e.inputs]
    if any(not isinstance(t, _Scalar) for t in ins):
        return False
    dt = e.outputs[0].type.dtype
    if dt == DType.bool:
        return prim.name in _BOOL_NATURAL
    if prim.name in ("bitand", "bitor", "bitxor", "invert", "lshift", "rshift", "sign", "convert"):
        return False
    if dt == DType.float64:
        return any(t.dtype == DType.float64 for t in ins)
    return dt == DType.int64 and all(t.dtype == DType.int64 for t in ins) and prim.name not in ("div", "pow")


def numba_rule(template: str):
    """A Numba lowering from a template. Scalars are cast to the IR's dtype (Numba follows
    Python there, e.g. True + True is an int); arrays are cast where NumPy's natural result dtype
    differs from the IR's (NumPy keeps bool + bool a bool)."""

    def rule(g, e, ins):
        from ..backends.numba_backend import np_dtype

        expr = template.format(*ins)
        out = e.outputs[0].type
        if isinstance(out, _Scalar):
            if _scalar_result_is_natural(e.prim, e):
                return expr  # no cast: a call per operation slows Numba's compiler (30% on a gradient)
            return f"{np_dtype(out)}({expr})"
        if _nb_natural_dtype(e.prim, e) != out.dtype.np:
            return f"({expr}).astype({np_dtype(out)})"
        return expr

    return rule


_NB = {
    add: "{0} + {1}", sub: "{0} - {1}", mul: "{0} * {1}", div: "{0} / {1}", floordiv: "{0} // {1}",
    mod: "{0} % {1}", pow: "{0} ** {1}", neg: "-{0}", abs: "np.abs({0})", sign: "np.sign({0})",
    square: "{0} * {0}", maximum: "np.maximum({0}, {1})", minimum: "np.minimum({0}, {1})",
    eq: "{0} == {1}", ne: "{0} != {1}", lt: "{0} < {1}", le: "{0} <= {1}", gt: "{0} > {1}", ge: "{0} >= {1}",
    logical_and: "np.logical_and({0}, {1})", logical_or: "np.logical_or({0}, {1})",
    logical_xor: "np.logical_xor({0}, {1})", logical_not: "np.logical_not({0})",
    bitand: "{0} & {1}", bitor: "{0} | {1}", bitxor: "{0} ^ {1}", lshift: "{0} << {1}", rshift: "{0} >> {1}",
    isnan: "np.isnan({0})", isinf: "np.isinf({0})", isfinite: "np.isfinite({0})",
    arctan2: "np.arctan2({0}, {1})", hypot: "np.hypot({0}, {1})", logaddexp: "np.logaddexp({0}, {1})",
    copysign: "np.copysign({0}, {1})", fmod: "np.fmod({0}, {1})", reciprocal: "1.0 / {0}",
    stop_gradient: "{0}", real: "np.real({0})", imag: "np.imag({0})", conj: "np.conj({0})",
    angle: "np.angle({0})",
}
for _name in ("sin", "cos", "tan", "exp", "exp2", "log", "log2", "log10", "log1p", "expm1", "sqrt", "cbrt",
              "tanh", "sinh", "cosh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "floor",
              "ceil", "trunc", "rint", "deg2rad", "rad2deg"):
    _NB[globals()[_name]] = f"np.{_name}({{0}})"
for _p, _t in _NB.items():
    _p.numba = numba_rule(_t)


def _nb_select(g, e, ins):
    from ..backends.numba_backend import np_dtype

    c, a, b = e.inputs
    out = e.outputs[0].type
    if all(isinstance(x.type, _Scalar) for x in e.inputs):
        return f"{np_dtype(out)}({ins[1]} if {ins[0]} else {ins[2]})"
    return f"np.where({ins[0]}, {ins[1]}, {ins[2]}).astype({np_dtype(out)})"


def _nb_convert(g, e, ins, dtype, **_):
    from ..backends.numba_backend import np_dtype

    x = ins[0]
    if e.inputs[0].type.dtype.is_complex and not dtype.is_complex:
        x = f"np.real({x})"  # NumPy drops the imaginary part (with a ComplexWarning); Numba refuses
    if isinstance(e.inputs[0].type, _Scalar):
        return f"{np_dtype(dtype)}({x})"
    return f"{x}.astype({np_dtype(dtype)})"


def _nb_invert(g, e, ins):
    t = e.inputs[0].type
    if t.dtype == DType.bool:
        return f"(not {ins[0]})" if isinstance(t, _Scalar) else f"np.logical_not({ins[0]})"
    return f"~{ins[0]}"


select.numba = _nb_select
convert.numba = lambda g, e, ins: _nb_convert(g, e, ins, **e.params)
invert.numba = _nb_invert


# ---- special functions: log-gamma and the polygamma family (closed under differentiation) ---


def _polygamma_impl(x, order=0):
    from scipy import special

    return special.polygamma(order, x) if order else special.digamma(x)


def _lgamma_impl(x):
    from scipy import special

    return special.gammaln(x)


lgamma = primitive("lgamma", float_type, impl=_lgamma_impl, traits=EW)
# polygamma[order=n](x) = d^(n+1)/dx^(n+1) lgamma(x); order 0 is the digamma function.
polygamma = primitive("polygamma", float_type, impl=_polygamma_impl, traits=EW)
# Native: the C library's lgamma, element by element. polygamma runs in object mode (SciPy's
# digamma and Hurwitz zeta have no Numba implementation).
lgamma.numba = lambda g, e, ins: (f"sup.lgamma({ins[0]})" if not e.inputs[0].type.ndim else
                                  f"sup.lgamma_flat(np.ascontiguousarray({ins[0]}).ravel()).reshape({ins[0]}.shape)")
_set(lgamma, lambda ins, out: [polygamma(ins[0], order=0)])
_set(polygamma, lambda ins, out, order=0: [polygamma(ins[0], order=order + 1)])


# ---- batching (vmap): operands broadcast, batched ones with their batch axis in front --------


def _declare_batch_rules() -> None:
    from ..transforms.batchutil import elementwise_rule as batch_rule
    from .registry import Primitive

    for p in list(globals().values()):
        if isinstance(p, Primitive) and p.has(ELEMENTWISE):
            p.batch = batch_rule(p)


_declare_batch_rules()
