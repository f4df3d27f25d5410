"""A first look at morphism: compile plain Python, print its IR, run it."""

import math

import numpy as np

import morphism as mo


def lorenz_rk4(sigma, rho, beta, n_steps, dt):
    """Lorenz-63 integrated with classical RK4; returns the trajectory's mean squared x."""
    x, y, z = 1.0, 1.0, 1.0
    total = 0.0
    for _ in range(n_steps):
        k1 = (sigma * (y - x), x * (rho - z) - y, x * y - beta * z)
        x2, y2, z2 = x + 0.5 * dt * k1[0], y + 0.5 * dt * k1[1], z + 0.5 * dt * k1[2]
        k2 = (sigma * (y2 - x2), x2 * (rho - z2) - y2, x2 * y2 - beta * z2)
        x3, y3, z3 = x + 0.5 * dt * k2[0], y + 0.5 * dt * k2[1], z + 0.5 * dt * k2[2]
        k3 = (sigma * (y3 - x3), x3 * (rho - z3) - y3, x3 * y3 - beta * z3)
        x4, y4, z4 = x + dt * k3[0], y + dt * k3[1], z + dt * k3[2]
        k4 = (sigma * (y4 - x4), x4 * (rho - z4) - y4, x4 * y4 - beta * z4)
        x += dt / 6.0 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
        y += dt / 6.0 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
        z += dt / 6.0 * (k1[2] + 2 * k2[2] + 2 * k3[2] + k4[2])
        total += x * x
    return total / n_steps


def newton_sqrt(a, tol=1e-12):
    """A data-dependent while loop with an early exit."""
    x = a if a > 1.0 else 1.0
    for it in range(100):
        x_new = 0.5 * (x + a / x)
        if abs(x_new - x) < tol:
            return x_new, it
        x = x_new
    return x, 100


def running_max(xs):
    """In-place writes into a local array."""
    out = np.zeros(len(xs))
    best = -math.inf
    for i, v in enumerate(xs):
        if v > best:
            best = v
        out[i] = best
    return out


def main():
    print("== the IR of newton_sqrt ==")
    print(mo.make_ir(newton_sqrt)(2.0))
    for f, args in [
        (lorenz_rk4, (10.0, 28.0, 8.0 / 3.0, 1000, 0.01)),
        (newton_sqrt, (2.0,)),
        (running_max, (np.array([1.0, 3.0, 2.0, 5.0, 4.0]),)),
    ]:
        got = mo.jit(f, backend="interpreter")(*args)
        want = f(*args)
        print(f"{f.__name__:12s} morphism: {got}\n{'':12s} python:   {want}")


if __name__ == "__main__":
    main()
