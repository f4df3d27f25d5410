"""Elementwise primitives: arithmetic, comparisons, logic and math functions.

All broadcast like NumPy. Derivative, batching and lowering rules are added beside each
declaration by later layers.
"""

from __future__ import annotations

import numpy as np

from ..ir.core import DType, make_type
from .registry import (
    COMMUTATIVE,
    ELEMENTWISE,
    LINEAR,
    TypeRuleError,
    elementwise_rule,
    float_type,
    primitive,
    same_type,
)

EW = {ELEMENTWISE}

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
neg = primitive("neg", lambda ts, **_: [make_type(DType.int64 if ts[0].dtype == DType.bool else ts[0].dtype, ts[0].ndim)], impl=np.negative, traits=EW | {LINEAR})
abs = primitive("abs", lambda ts, **_: [make_type(DType.int64 if ts[0].dtype == DType.bool else ts[0].dtype, ts[0].ndim)], impl=np.abs, traits=EW)
sign = primitive("sign", lambda ts, **_: [make_type(DType.int64 if ts[0].dtype == DType.bool else ts[0].dtype, ts[0].ndim)], impl=np.sign, traits=EW)
square = primitive("square", lambda ts, **_: [make_type(DType.int64 if ts[0].dtype == DType.bool else ts[0].dtype, ts[0].ndim)], impl=np.square, traits=EW)
maximum = primitive("maximum", elementwise_rule("promote_keep_bool"), impl=np.maximum, traits=EW | {COMMUTATIVE})
minimum = primitive("minimum", elementwise_rule("promote_keep_bool"), impl=np.minimum, traits=EW | {COMMUTATIVE})

# Comparisons and logic.
eq = primitive("eq", elementwise_rule("bool"), impl=np.equal, traits=EW | {COMMUTATIVE})
ne = primitive("ne", elementwise_rule("bool"), impl=np.not_equal, traits=EW | {COMMUTATIVE})
lt = primitive("lt", elementwise_rule("bool"), impl=np.less, traits=EW)
le = primitive("le", elementwise_rule("bool"), impl=np.less_equal, traits=EW)
gt = primitive("gt", elementwise_rule("bool"), impl=np.greater, traits=EW)
ge = primitive("ge", elementwise_rule("bool"), impl=np.greater_equal, traits=EW)
logical_and = primitive("logical_and", elementwise_rule("logical"), impl=np.logical_and, traits=EW | {COMMUTATIVE})
logical_or = primitive("logical_or", elementwise_rule("logical"), impl=np.logical_or, traits=EW | {COMMUTATIVE})
logical_xor = primitive("logical_xor", elementwise_rule("logical"), impl=np.logical_xor, traits=EW | {COMMUTATIVE})
logical_not = primitive("logical_not", elementwise_rule("logical"), impl=np.logical_not, traits=EW)
bitand = primitive("bitand", elementwise_rule("int_or_bool"), impl=np.bitwise_and, traits=EW | {COMMUTATIVE})
bitor = primitive("bitor", elementwise_rule("int_or_bool"), impl=np.bitwise_or, traits=EW | {COMMUTATIVE})
bitxor = primitive("bitxor", elementwise_rule("int_or_bool"), impl=np.bitwise_xor, traits=EW | {COMMUTATIVE})
invert = primitive("invert", elementwise_rule("int_or_bool"), impl=np.invert, traits=EW)
lshift = primitive("lshift", elementwise_rule("int_or_bool"), impl=np.left_shift, traits=EW)
rshift = primitive("rshift", elementwise_rule("int_or_bool"), impl=np.right_shift, traits=EW)
isnan = primitive("isnan", elementwise_rule("bool"), impl=np.isnan, traits=EW)
isinf = primitive("isinf", elementwise_rule("bool"), impl=np.isinf, traits=EW)
isfinite = primitive("isfinite", elementwise_rule("bool"), impl=np.isfinite, traits=EW)


def _select_rule(ts, **_):
    c, a, b = ts
    if c.dtype != DType.bool:
        raise TypeRuleError(f"the condition of `where` must be boolean, found {c}")
    return [make_type(max(a.dtype, b.dtype, key=lambda d: d.rank), max(c.ndim, a.ndim, b.ndim))]


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
for _name, _fn in _UNARY.items():
    globals()[_name] = primitive(_name, float_type, impl=_fn, traits=EW)

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

# A value that the derivative rules treat as a constant (`mo.stop_gradient`).
stop_gradient = primitive("stop_gradient", same_type, impl=lambda x: x, traits=EW)
