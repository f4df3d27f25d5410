"""morphism: a compiler for differentiable numerical Python."""

from .api import disable_jit, grad, hessian, jacfwd, jacrev, jit, jvp, make_ir, value_and_grad, vjp, vmap
from .custom import custom_jvp, custom_vjp, stop_gradient
from .errors import (
    ArgumentError,
    MorphismError,
    MorphismTypeError,
    UndefinedVariableError,
    UnsupportedSyntaxError,
    VerifyError,
)
from .frontend.callback_api import ShapeDtypeStruct, pure_callback
from .ir.core import Func

__all__ = [
    "jit", "vmap", "make_ir", "disable_jit", "Func", "grad", "value_and_grad", "jvp", "vjp", "jacfwd", "jacrev", "hessian", "custom_jvp", "custom_vjp", "stop_gradient",
    "pure_callback", "ShapeDtypeStruct",
    "MorphismError", "UnsupportedSyntaxError", "MorphismTypeError", "UndefinedVariableError",
    "ArgumentError", "VerifyError",
]
__version__ = "0.1.0"
