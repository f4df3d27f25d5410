"""Imports every primitive family and the NumPy/Python surface that maps onto them, so that
the registry and the library table are complete."""

from . import control, elementwise, indexing, linalg, shape  # noqa: F401
from ..frontend import python_api  # noqa: F401
from ..frontend.np_api import elementwise as _np_elementwise  # noqa: F401
