"""Special functions of statistics: erf, erfc and ndtri (the inverse of the normal CDF).

The rest of scipy.special that statistical models call (ndtr, log_ndtr, expit, logit, xlogy,
softmax...) is composed from these and the elementwise family in frontend/np_api/scipy_api.py.
"""

from __future__ import annotations

import math


from ..ir.core import lit
from .elementwise import EW, _set, div, exp, mul, neg, square
from .registry import float_type, primitive


def _scipy(name):
    def impl(x):
        from scipy import special

        return getattr(special, name)(x)

    return impl


erf = primitive("erf", float_type, impl=_scipy("erf"), traits=EW)
erfc = primitive("erfc", float_type, impl=_scipy("erfc"), traits=EW)
ndtri = primitive("ndtri", float_type, impl=_scipy("ndtri"), traits=EW)

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_2PI = math.sqrt(2.0 * math.pi)


def _gauss(x):  # 2/sqrt(pi) exp(-x^2)
    return mul(lit(_TWO_OVER_SQRT_PI), exp(neg(square(x))))


_set(erf, lambda ins, out: [_gauss(ins[0])])
_set(erfc, lambda ins, out: [neg(_gauss(ins[0]))])
# d ndtri(p)/dp = 1 / phi(ndtri(p)) = sqrt(2 pi) exp(ndtri(p)^2 / 2)
_set(ndtri, lambda ins, out: [mul(lit(_SQRT_2PI), exp(div(square(out), lit(2.0))))])


def _nb_math(fn):
    # Native: the C library's erf/erfc per element (Numba has math.erf, not np.erf).
    def rule(g, e, ins):
        if not e.inputs[0].type.ndim:
            return f"sup.{fn}1(np.float64({ins[0]}))"
        return f"sup.{fn}_flat(np.ascontiguousarray({ins[0]}).ravel().astype(np.float64)).reshape({ins[0]}.shape)"

    return rule


erf.numba = _nb_math("erf")
erfc.numba = _nb_math("erfc")
# ndtri runs in object mode (SciPy's), like polygamma.


def _declare_batch_rules() -> None:
    from ..transforms.batchutil import elementwise_rule as batch_rule

    for p in (erf, erfc, ndtri):
        p.batch = batch_rule(p)


_declare_batch_rules()
