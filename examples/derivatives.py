"""Derivatives of plain Python with loops, branches and data-dependent while loops."""

import math
import time

import numpy as np

import morphism as mo
from basics import lorenz_rk4


def loss(params, xs):
    s = 0.0
    for x in xs:  # loops over data
        y = params["w"] * x + params["b"]
        if y > 0:  # branches on values
            s += y * y
    return s / len(xs)


def adaptive_decay(k, t_end):
    """y' = -k y, Euler with step doubling and step rejection: a data-dependent while loop
    (JAX cannot differentiate this in reverse mode)."""
    t, y, h = 0.0, 1.0, 0.1
    while t < t_end:
        if t + h > t_end:
            h = t_end - t
        full = y + h * (-k * y)
        half = y + 0.5 * h * (-k * y)
        two = half + 0.5 * h * (-k * half)
        if abs(two - full) > 1e-4:
            h = 0.5 * h  # reject the step
            continue
        t, y = t + h, two
        if abs(two - full) < 1e-6:
            h = 1.5 * h
    return y


def lorenz_loss(p):
    return lorenz_rk4(p[0], p[1], p[2], 500, 0.01)


def main():
    xs = np.linspace(-1.0, 1.0, 50)
    params = {"w": 0.5, "b": 0.1}
    print("grad of a loss with a loop and a branch, w.r.t. a dict:", mo.grad(loss)(params, xs))

    g = mo.grad(adaptive_decay)(1.3, 2.0)
    eps = 1e-6
    fd = (adaptive_decay(1.3 + eps, 2.0) - adaptive_decay(1.3 - eps, 2.0)) / (2 * eps)
    print(f"d/dk of an adaptive integrator: {g:.8f} (finite differences {fd:.8f})")

    p = np.array([10.0, 28.0, 8.0 / 3.0])
    print("Hessian of the Lorenz-63 loss w.r.t. (sigma, rho, beta):")
    print(mo.hessian(lorenz_loss)(p))

    native = mo.jit(mo.grad(lorenz_loss), backend="native")
    t0 = time.perf_counter()
    native(p)
    t1 = time.perf_counter()
    native(p)
    t2 = time.perf_counter()
    print(f"native gradient: first call (compile) {t1 - t0:.2f} s, then {1e3 * (t2 - t1):.2f} ms per call")
    print("\nThe IR of the gradient of a short loop (forward sweep with a tape, reversed loop):")

    def short(x):
        acc = 0.0
        for i in range(3):
            acc = math.sin(acc) * x + acc
        return acc

    print(mo.make_ir(mo.grad(short))(0.5))


if __name__ == "__main__":
    main()
