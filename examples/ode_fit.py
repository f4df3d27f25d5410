"""Fitting an ODE model to data, through an adaptive Runge-Kutta solver written in plain Python.

The model is the Lotka-Volterra predator-prey system

    dx/dt =  a x - b x y        (x: prey)
    dy/dt = -c y + d x y        (y: predators)

with four unknown parameters (a, b, c, d). We observe both populations at a few dozen times,
with 5% multiplicative noise, and recover the parameters by minimising a least-squares loss
with SciPy's L-BFGS-B, which needs the loss *and its gradient*.

The point of this example is the solver. `dopri5_solve` below is a textbook Dormand-Prince 5(4)
integrator with error control, written the way one writes it in a numerics course: ordinary
Python on floats and NumPy arrays, with a loop like

    while t < t_end:
        h = min(h, t_end - t)                     # do not step past the end (an observation)
        ... try a step of size h, estimate its error err ...
        if err <= 1.0:                            # accept the step ...
            t, u = t + h, u_new
        h = h * min(10, max(0.2, 0.9 * err ** -0.2))   # ... or reject it: retry with smaller h

How many steps run, and which of them are rejected, depends on the parameter values: the loop
is a *data-dependent* while loop. That is exactly what the usual tools handle badly:

* JAX can trace it only as `lax.while_loop`, and `jax.grad` refuses to differentiate a
  `while_loop` in reverse mode (the trip count is unknown when the backward pass is built).
  One has to rewrite the solver (fixed number of steps, checkpointing, or a hand-written
  adjoint ODE as in diffrax).
* PyTorch and autograd differentiate it, but by recording every scalar operation in a graph at
  run time: thousands of tiny Python-level operations per solve, slow for an optimiser that
  calls the gradient many times.

morphism reads the source of `loss`, turns it (solver included) into a typed IR, differentiates
the IR in reverse mode (the while loop records its trip count and the values the backward pass
needs on a tape), and compiles the result to native code. The gradient we get is the exact
derivative of the algorithm as it runs, step-size control included, which the script checks
against finite differences.

Run it with `python examples/ode_fit.py`; it writes examples/output/ode_fit.png.
"""

import os
import pathlib
import time

import matplotlib
import numpy as np
from scipy.optimize import minimize

matplotlib.use("Agg")  # write a PNG, no window
import matplotlib.pyplot as plt  # noqa: E402

import morphism as mo

# ----------------------------------------------------------------------------------------------
# The Dormand-Prince 5(4) Butcher tableau (Dormand & Prince 1980; Hairer, Norsett & Wanner,
# "Solving ODEs I", table 5.2). Module-level constants: morphism treats globals as compile-time
# constants, so these are folded into the compiled code.
# ----------------------------------------------------------------------------------------------
C2, C3, C4, C5 = 1.0 / 5.0, 3.0 / 10.0, 4.0 / 5.0, 8.0 / 9.0
A21 = 1.0 / 5.0
A31, A32 = 3.0 / 40.0, 9.0 / 40.0
A41, A42, A43 = 44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0
A51, A52, A53, A54 = 19372.0 / 6561.0, -25360.0 / 2187.0, 64448.0 / 6561.0, -212.0 / 729.0
A61, A62, A63 = 9017.0 / 3168.0, -355.0 / 33.0, 46732.0 / 5247.0
A64, A65 = 49.0 / 176.0, -5103.0 / 18656.0
# 5th-order weights (also row 7 of the tableau: the "first same as last" stage)
B1, B3, B4, B5, B6 = 35.0 / 384.0, 500.0 / 1113.0, 125.0 / 192.0, -2187.0 / 6784.0, 11.0 / 84.0
# difference between the 5th- and the embedded 4th-order weights: the local error estimate
E1, E3, E4, E5, E6, E7 = (
    71.0 / 57600.0, -71.0 / 16695.0, 71.0 / 1920.0, -17253.0 / 339200.0, 22.0 / 525.0, -1.0 / 40.0,
)

# Step-size control (Hairer & Wanner's defaults)
SAFETY = 0.9  # aim a little below the step the error estimate allows
FAC_MIN = 0.2  # never shrink the step by more than 5x ...
FAC_MAX = 10.0  # ... nor grow it by more than 10x at once
RTOL = 1e-8
ATOL = 1e-10


def lotka_volterra(x, y, p):
    """The right-hand side of the ODE: (dx/dt, dy/dt) at the state (x, y)."""
    a, b, c, d = p[0], p[1], p[2], p[3]
    return a * x - b * x * y, -c * y + d * x * y


def dopri5_solve(p, u0, ts):
    """Integrate the Lotka-Volterra system from ts[0] to ts[-1] with adaptive Dormand-Prince 5(4);
    return the states at the times ts (an array of shape (len(ts), 2)) and the numbers of
    accepted and rejected steps.

    One adaptive `while` loop runs over the whole time span; `i` is the next output time. A step
    that would overshoot ts[i] is shortened to land exactly on it, and once it is accepted the
    state is recorded and the target moves on to ts[i + 1]. The state is two scalars (x, y): the
    model is small, so the code stays close to what one would write in C or Fortran.
    """
    n = len(ts)
    out = np.zeros((n, 2))
    x, y = u0[0], u0[1]
    out[0, 0], out[0, 1] = x, y
    t = ts[0]
    h = 0.05  # initial step; from then on the controller chooses it
    k1x, k1y = lotka_volterra(x, y, p)  # FSAL: the last stage of a step is the first of the next
    n_accepted = 0
    n_rejected = 0
    i = 1  # index of the next output time
    while i < n:
        # Clip the step so that it ends exactly on the next output time.
        t_next = ts[i]
        last = h >= t_next - t
        hs = t_next - t if last else h

        # The six new stages of the Dormand-Prince tableau (the ODE is autonomous: no t).
        k2x, k2y = lotka_volterra(x + hs * A21 * k1x, y + hs * A21 * k1y, p)
        k3x, k3y = lotka_volterra(x + hs * (A31 * k1x + A32 * k2x),
                                  y + hs * (A31 * k1y + A32 * k2y), p)
        k4x, k4y = lotka_volterra(x + hs * (A41 * k1x + A42 * k2x + A43 * k3x),
                                  y + hs * (A41 * k1y + A42 * k2y + A43 * k3y), p)
        k5x, k5y = lotka_volterra(x + hs * (A51 * k1x + A52 * k2x + A53 * k3x + A54 * k4x),
                                  y + hs * (A51 * k1y + A52 * k2y + A53 * k3y + A54 * k4y), p)
        k6x, k6y = lotka_volterra(
            x + hs * (A61 * k1x + A62 * k2x + A63 * k3x + A64 * k4x + A65 * k5x),
            y + hs * (A61 * k1y + A62 * k2y + A63 * k3y + A64 * k4y + A65 * k5y), p)
        # The 5th-order solution, and the 7th stage evaluated there.
        x_new = x + hs * (B1 * k1x + B3 * k3x + B4 * k4x + B5 * k5x + B6 * k6x)
        y_new = y + hs * (B1 * k1y + B3 * k3y + B4 * k4y + B5 * k5y + B6 * k6y)
        k7x, k7y = lotka_volterra(x_new, y_new, p)

        # Local error estimate (5th- minus embedded 4th-order solution), each component scaled
        # by its tolerance, then the RMS norm: the step is good if err <= 1.
        ex = hs * (E1 * k1x + E3 * k3x + E4 * k4x + E5 * k5x + E6 * k6x + E7 * k7x)
        ey = hs * (E1 * k1y + E3 * k3y + E4 * k4y + E5 * k5y + E6 * k6y + E7 * k7y)
        sx = ATOL + RTOL * max(abs(x), abs(x_new))
        sy = ATOL + RTOL * max(abs(y), abs(y_new))
        err = np.sqrt(0.5 * ((ex / sx) ** 2 + (ey / sy) ** 2))

        # Step-size proposal: h * safety * err^(-1/5), the factor clipped to [FAC_MIN, FAC_MAX].
        factor = min(FAC_MAX, max(FAC_MIN, SAFETY * (err + 1e-16) ** -0.2))
        if err <= 1.0:
            # Accept: advance (to exactly t_next on a clipped step, whatever t + hs rounds to).
            t = t_next if last else t + hs
            x, y = x_new, y_new
            k1x, k1y = k7x, k7y
            n_accepted += 1
            h = hs * factor
            if last:  # reached an output time: record the state, aim for the next one
                out[i, 0], out[i, 1] = x, y
                i += 1
        else:
            # Reject: stay at t and retry with a smaller step (factor < 1 here).
            n_rejected += 1
            h = hs * min(1.0, factor)
    return out, n_accepted, n_rejected


def loss(p, u0, t_obs, u_obs):
    """Mean squared error between the log of the model and the log of the data (the noise is
    multiplicative), over all observations after the initial condition."""
    sol, n_accepted, n_rejected = dopri5_solve(p, u0, t_obs)
    log_model = np.log(np.maximum(sol[1:], 1e-12))  # guard: a wild guess may go negative
    return np.mean((log_model - np.log(u_obs[1:])) ** 2)


# ----------------------------------------------------------------------------------------------
# Synthetic data
# ----------------------------------------------------------------------------------------------
NAMES = ["a (prey growth)", "b (predation)", "c (predator death)", "d (predator growth)"]
P_TRUE = np.array([1.0, 0.4, 1.2, 0.3])
U0 = np.array([10.0, 1.0])  # initial populations, assumed known
T_END = 12.0
N_OBS = 40
NOISE = 0.05  # 5% multiplicative (log-normal) noise


def make_data(rng):
    t_obs = np.linspace(0.0, T_END, N_OBS + 1)  # ts[0] = 0 is the (known) initial condition
    clean, _, _ = dopri5_solve(P_TRUE, U0, t_obs)  # plain Python: no morphism involved
    u_obs = clean * np.exp(NOISE * rng.standard_normal(clean.shape))
    u_obs[0] = U0
    return t_obs, u_obs


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main():
    t_start = time.perf_counter()
    rng = np.random.default_rng(20240607)
    t_obs, u_obs = make_data(rng)
    p0 = P_TRUE * rng.uniform(0.5, 1.5, size=4)  # perturbed initial guess, 0.5x to 1.5x

    # ------------------------------------------------------------------------------------------
    # Compile. mo.value_and_grad(loss) is the reverse-mode gradient w.r.t. p (argument 0);
    # mo.jit compiles it to native code. The first call traces, differentiates and compiles
    # (or loads the compiled code from the disk cache), later calls run native code only.
    # ------------------------------------------------------------------------------------------
    loss_and_grad = mo.jit(mo.value_and_grad(loss))
    loss_jit = mo.jit(loss)
    solve = mo.jit(dopri5_solve)  # the solver alone, for step counts and the plot

    t0 = time.perf_counter()
    v, g = loss_and_grad(p0, U0, t_obs, u_obs)
    compile_grad = time.perf_counter() - t0
    t0 = time.perf_counter()
    v_primal = loss_jit(p0, U0, t_obs, u_obs)
    compile_primal = time.perf_counter() - t0
    assert abs(v - v_primal) <= 1e-12 * abs(v_primal), (v, v_primal)
    assert abs(v - loss(p0, U0, t_obs, u_obs)) <= 1e-12 * abs(v), "compiled != plain Python"
    print("first calls (trace, differentiate, compile with Numba; or load from the disk cache"
          " in MORPHISM_CACHE_DIR, default ~/.cache/morphism):")
    print(f"  jit(value_and_grad(loss)) {compile_grad:6.2f} s")
    print(f"  jit(loss)                 {compile_primal:6.2f} s")

    # ------------------------------------------------------------------------------------------
    # Fit with L-BFGS-B. jac=True: the objective returns (loss, gradient).
    # ------------------------------------------------------------------------------------------
    last = {}

    def objective(p):
        value, grad = loss_and_grad(p, U0, t_obs, u_obs)
        last["p"], last["f"], last["g"] = p.copy(), float(value), np.asarray(grad)
        return last["f"], last["g"]

    iteration = [0]

    def progress(p):  # called by SciPy after each iteration with the new iterate
        iteration[0] += 1
        if last.get("p") is None or not np.array_equal(last["p"], p):
            objective(p)
        params = " ".join(f"{v:7.4f}" for v in p)
        gnorm = np.linalg.norm(last["g"])
        print(f"  iter {iteration[0]:3d}  loss {last['f']:.6e}  |grad| {gnorm:.3e}  p = [{params}]")

    print(f"\nfitting {len(P_TRUE)} parameters to {2 * N_OBS} noisy observations with L-BFGS-B")
    print(f"  start     loss {v:.6e}  |grad| {np.linalg.norm(g):.3e}  p = ["
          + " ".join(f"{x:7.4f}" for x in p0) + "]")
    t0 = time.perf_counter()
    result = minimize(objective, p0, jac=True, method="L-BFGS-B",
                      bounds=[(1e-3, 10.0)] * len(p0), callback=progress,
                      options={"maxiter": 200, "ftol": 1e-14, "gtol": 1e-9})
    fit_time = time.perf_counter() - t0
    p_fit = result.x
    print(f"{result.message} after {result.nit} iterations, {result.nfev} gradient evaluations,"
          f" {fit_time:.2f} s")

    print(f"\n{'parameter':<22}{'truth':>9}{'initial':>9}{'fitted':>9}{'rel. err':>10}")
    rel_err = np.abs(p_fit - P_TRUE) / P_TRUE
    for name, pt, pi, pf, e in zip(NAMES, P_TRUE, p0, p_fit, rel_err):
        print(f"{name:<22}{pt:9.4f}{pi:9.4f}{pf:9.4f}{100 * e:9.2f}%")

    # ------------------------------------------------------------------------------------------
    # Timing: gradient vs primal vs finite differences, at the fitted parameters.
    # ------------------------------------------------------------------------------------------
    args = (U0, t_obs, u_obs)
    _, n_steps, n_rejected = solve(p_fit, U0, t_obs)
    repeats = 50
    t_grad = median_time(lambda: loss_and_grad(p_fit, *args), repeats)
    t_primal = median_time(lambda: loss_jit(p_fit, *args), repeats)

    def fd_gradient(p, rel_step=1e-6):
        """Central differences: 2 evaluations of the (compiled) primal per parameter.

        The solver's output is only piecewise smooth in p: where a change of p flips a decision
        (accept or reject a step, clip one to an output time) it jumps by about the tolerance.
        With RTOL = 1e-8 those jumps are far below what a step of 1e-6 resolves."""
        grad = np.zeros_like(p)
        for j in range(len(p)):
            step = rel_step * max(abs(p[j]), 1.0)
            e = np.zeros_like(p)
            e[j] = step
            grad[j] = (loss_jit(p + e, *args) - loss_jit(p - e, *args)) / (2 * step)
        return grad

    t_fd = median_time(lambda: fd_gradient(p_fit), repeats)
    # Compare at the initial guess, where the gradient is large (at the optimum it is ~0 and
    # a relative comparison would only measure finite-difference noise).
    g_ad = np.asarray(loss_and_grad(p0, *args)[1])
    g_fd = fd_gradient(p0)
    fd_rel = float(np.max(np.abs(g_ad - g_fd)) / np.max(np.abs(g_ad)))

    print(f"\none solve: {n_steps} accepted steps, {n_rejected} rejected, {N_OBS} output times")
    print(f"jit(loss)                  {1e6 * t_primal:9.1f} us per call")
    print(f"jit(value_and_grad(loss))  {1e6 * t_grad:9.1f} us per call  "
          f"= {t_grad / t_primal:.2f}x the primal")
    print(f"central finite differences {1e6 * t_fd:9.1f} us per gradient ({2 * len(p_fit)} primal"
          f" calls) = {t_fd / t_grad:.2f}x the AD gradient")
    print(f"AD vs finite differences at the initial guess: max |AD - FD| / max |AD| = {fd_rel:.2e}")
    print(f"  AD: {g_ad}\n  FD: {g_fd}")

    # ------------------------------------------------------------------------------------------
    # Plot: data, fitted trajectory, initial-guess trajectory (dense, from the same solver).
    # ------------------------------------------------------------------------------------------
    t_dense = np.linspace(0.0, T_END, 600)
    fit_dense = solve(p_fit, U0, t_dense)[0]
    init_dense = solve(p0, U0, t_dense)[0]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for k, (label, color) in enumerate([("prey x", "tab:blue"), ("predators y", "tab:red")]):
        ax.plot(t_obs, u_obs[:, k], "o", color=color, ms=4, label=f"{label}: noisy data")
        ax.plot(t_dense, fit_dense[:, k], "-", color=color, lw=1.8, label=f"{label}: fit")
        ax.plot(t_dense, init_dense[:, k], "--", color=color, lw=1.0, alpha=0.6,
                label=f"{label}: initial guess")
    ax.set_xlabel("t")
    ax.set_ylabel("population")
    ax.set_title("Lotka-Volterra fit: L-BFGS-B with gradients of a DOPRI5 solver (morphism)")
    ax.set_ylim(0.0, 1.45 * u_obs.max())  # room for the legend above the curves
    ax.legend(ncol=3, fontsize=8, loc="upper center")
    fig.tight_layout()
    out_dir = pathlib.Path(__file__).parent / "output"
    out_dir.mkdir(exist_ok=True)
    fig.savefig(out_dir / "ode_fit.png", dpi=120)
    print(f"\nplot written to {os.path.relpath(out_dir / 'ode_fit.png')}")

    # ------------------------------------------------------------------------------------------
    # Checks, so that `make demo` fails loudly on a regression.
    # ------------------------------------------------------------------------------------------
    assert result.success, result.message
    assert np.all(rel_err < 0.05), f"parameters not recovered: relative errors {rel_err}"
    assert fd_rel < 1e-4, f"AD and finite-difference gradients disagree: {fd_rel:.2e}"
    print("checks passed: parameters recovered within 5%, AD gradient matches finite differences")
    print(f"total time {time.perf_counter() - t_start:.1f} s")


if __name__ == "__main__":
    main()
