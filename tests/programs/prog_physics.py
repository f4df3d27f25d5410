"""Physics and numerical analysis: ODE integrators, root finders, PDE solvers, N-body."""

import math

import numpy as np

SIGMA = 10.0
RHO = 28.0
BETA = 8.0 / 3.0


def lorenz_deriv(s):
    x, y, z = s[0], s[1], s[2]
    return np.array([SIGMA * (y - x), x * (RHO - z) - y, x * y - BETA * z])


def lorenz_rk4(s0, dt, n_steps):
    s = s0.copy()
    traj = [s0.copy()]
    for _ in range(n_steps):
        k1 = lorenz_deriv(s)
        k2 = lorenz_deriv(s + 0.5 * dt * k1)
        k3 = lorenz_deriv(s + 0.5 * dt * k2)
        k4 = lorenz_deriv(s + dt * k3)
        s = s + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        traj.append(s)
    return s, np.array(traj)


def euler_decay(y0, lam, t_end, n_steps):
    dt = t_end / n_steps
    y = y0
    ys = np.zeros(n_steps + 1)
    ys[0] = y0
    for i in range(n_steps):
        y = y - dt * lam * y
        ys[i + 1] = y
    exact = y0 * math.exp(-lam * t_end)
    return ys, abs(y - exact)


def rk4_oscillator(x0, v0, omega, dt, n_steps):
    # the closure captures omega
    def f(state):
        return np.array([state[1], -omega * omega * state[0]])

    y = np.array([x0, v0])
    energies = np.zeros(n_steps)
    for i in range(n_steps):
        k1 = f(y)
        k2 = f(y + 0.5 * dt * k1)
        k3 = f(y + 0.5 * dt * k2)
        k4 = f(y + dt * k3)
        y = y + (dt / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        energies[i] = 0.5 * y[1] ** 2 + 0.5 * (omega * y[0]) ** 2
    return y, energies.max() - energies.min()


def newton_root(c, x0, tol=1e-14, max_iter=60):
    # solves x - cos(c x) = 0 by Newton iteration
    x = x0
    for it in range(max_iter):
        f = x - math.cos(c * x)
        df = 1.0 + c * math.sin(c * x)
        step = f / df
        x -= step
        if abs(step) < tol:
            return x, it + 1, True
    return x, max_iter, False


def bisection_root(a, b, tol=1e-12):
    fa = a * a * a - 2.0 * a - 5.0
    n = 0
    while b - a > tol:
        m = 0.5 * (a + b)
        fm = m * m * m - 2.0 * m - 5.0
        if fa * fm <= 0.0:
            b = m
        else:
            a = m
            fa = fm
        n += 1
    return 0.5 * (a + b), n


def projectile_with_drag(v0, angle_deg, k, dt=1e-2):
    theta = math.pi * angle_deg / 180.0
    pos = np.array([0.0, 0.0])
    vel = np.array([v0 * math.cos(theta), v0 * math.sin(theta)])
    t = 0.0
    max_h = 0.0
    while pos[1] >= 0.0:
        speed = np.sqrt(vel @ vel)
        acc = -k * speed * vel
        acc[1] -= 9.81
        vel = vel + dt * acc
        pos = pos + dt * vel
        t += dt
        max_h = max(max_h, pos[1])
    return pos[0], t, max_h


def damped_pendulum(theta0, gamma, dt, n_steps):
    th = theta0
    om = 0.0
    crossings = 0
    for _ in range(n_steps):
        om_new = om + dt * (-gamma * om - 9.81 * math.sin(th))
        th_new = th + dt * om_new
        if th_new * th < 0.0:
            crossings += 1
        th, om = th_new, om_new
    return th, om, crossings


def velocity_verlet_nbody(pos0, vel0, masses, dt, n_steps, soft=0.05):
    pos = pos0.copy()
    vel = vel0.copy()
    n = pos.shape[0]

    def accelerations(p):
        acc = np.zeros_like(p)
        for i in range(n):
            for j in range(n):
                if i == j:
                    continue
                d = p[j] - p[i]
                r2 = d @ d + soft * soft
                acc[i] += masses[j] * d / (r2 * np.sqrt(r2))
        return acc

    a = accelerations(pos)
    for _ in range(n_steps):
        pos = pos + dt * vel + 0.5 * dt * dt * a
        a_new = accelerations(pos)
        vel = vel + 0.5 * dt * (a + a_new)
        a = a_new
    momentum = (masses[:, None] * vel).sum(axis=0)
    return pos, vel, momentum


def thomas_solve(a, b, c, d):
    # tridiagonal system: a sub-diagonal (a[0] unused), b diagonal, c super-diagonal (c[-1] unused)
    n = len(d)
    cp = np.zeros(n)
    dp = np.zeros(n)
    cp[0] = c[0] / b[0]
    dp[0] = d[0] / b[0]
    for i in range(1, n):
        denom = b[i] - a[i] * cp[i - 1]
        cp[i] = c[i] / denom
        dp[i] = (d[i] - a[i] * dp[i - 1]) / denom
    x = np.zeros(n)
    x[-1] = dp[-1]
    for i in range(n - 2, -1, -1):
        x[i] = dp[i] - cp[i] * x[i + 1]
    return x


def heat_implicit(u0, r, n_steps):
    # backward Euler for u_t = u_xx with zero Dirichlet ends: (1 + 2r) u_i - r u_{i-1} - r u_{i+1}
    n = len(u0)
    a = np.full(n, -r)
    b = np.full(n, 1.0 + 2.0 * r)
    c = np.full(n, -r)
    u = u0.copy()
    for _ in range(n_steps):
        u = thomas_solve(a, b, c, u)
    return u


def trapezoid_work(force, x):
    # work = integral of force dx by the trapezoid rule, also cumulatively
    dx = np.diff(x)
    seg = 0.5 * (force[1:] + force[:-1]) * dx
    cum = np.zeros(len(x))
    cum[1:] = np.cumsum(seg)
    return seg.sum(), cum


def poisson_jacobi_2d(f, h, tol=1e-8, max_sweeps=2000):
    # solve -lap(u) = f on a square grid with zero boundary by Jacobi sweeps until converged
    n, m = f.shape
    u = np.zeros((n, m))
    sweeps = 0
    change = np.inf
    while change > tol and sweeps < max_sweeps:
        u_new = u.copy()
        u_new[1:-1, 1:-1] = 0.25 * (u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2] + h * h * f[1:-1, 1:-1])
        change = np.max(np.abs(u_new - u))
        u = u_new
        sweeps += 1
    return u, sweeps


_rng = np.random.default_rng(11)
_pos0 = _rng.normal(size=(4, 2))
_vel0 = 0.1 * _rng.normal(size=(4, 2))
_masses = _rng.uniform(0.5, 1.5, size=4)
_xs = np.linspace(0.0, 2.0, 41)

CASES = [
    (lorenz_rk4, (np.array([1.0, 1.0, 1.0]), 0.01, 200)),
    (lorenz_rk4, (np.array([-5.0, 3.0, 20.0]), 0.005, 50)),
    (lorenz_rk4, (np.array([0.0, 1.0, 0.0]), 0.01, 0)),
    (euler_decay, (1.0, 2.0, 1.0, 50)),
    (euler_decay, (3.0, 0.5, 4.0, 7)),
    (rk4_oscillator, (1.0, 0.0, 2.0, 0.02, 150)),
    (rk4_oscillator, (0.0, 1.0, 0.5, 0.1, 20)),
    (newton_root, (1.0, 0.5)),
    (newton_root, (3.0, 0.2)),
    (newton_root, (1.0, 0.5, 1e-14, 2)),
    (bisection_root, (2.0, 3.0)),
    (bisection_root, (0.0, 4.0, 1e-6)),
    (projectile_with_drag, (20.0, 45.0, 0.0)),
    (projectile_with_drag, (30.0, 60.0, 0.02, 2e-2)),
    (damped_pendulum, (1.0, 0.1, 0.01, 400)),
    (damped_pendulum, (3.0, 0.5, 0.02, 100)),
    (velocity_verlet_nbody, (_pos0, _vel0, _masses, 0.01, 30)),
    (thomas_solve, (np.full(8, -1.0), np.full(8, 4.0), np.full(8, -1.0), np.arange(8.0))),
    (heat_implicit, (np.sin(np.pi * np.linspace(0.0, 1.0, 15)), 0.5, 10)),
    (poisson_jacobi_2d, (np.ones((8, 8)), 1.0 / 7.0)),
    (poisson_jacobi_2d, (np.ones((6, 5)), 0.2, 1e-3)),
    (trapezoid_work, (np.cos(_xs), _xs)),
    (trapezoid_work, (_xs ** 2, _xs)),
]
