"""Imports every primitive family and the NumPy/Python surface that maps onto them, so that
the registry and the library table are complete."""

from . import callback, control, special, creation, elementwise, indexing, linalg, reductions, shape  # noqa: F401
from ..frontend import python_api  # noqa: F401
from ..frontend.np_api import creation as _np_creation  # noqa: F401
from ..frontend.np_api import elementwise as _np_elementwise  # noqa: F401
from ..frontend.np_api import linalg as _np_linalg  # noqa: F401
from ..frontend.np_api import reductions as _np_reductions  # noqa: F401
from ..frontend.np_api import shape as _np_shape  # noqa: F401
from ..frontend.np_api import random as _np_random  # noqa: F401
from ..frontend.np_api import composite as _np_composite  # noqa: F401
from ..frontend.np_api import scipy_api as _scipy_api  # noqa: F401
from ..frontend import callback_api as _callback_api  # noqa: F401

from .. import custom as _custom  # noqa: E402

_custom._register()
