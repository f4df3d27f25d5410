"""Fitting a batch of initial conditions at once, with `mo.vmap`.

Twelve damped oscillators  x'' = -k x - c x'  share known (k, c) but each started from its own
unknown state (x0, v0). Each one was observed, with noise, at 30 times. We recover the twelve
initial states by least squares.

The loss of ONE trajectory is ordinary Python: a fixed-step RK4 loop. `mo.vmap` turns its
gradient into the gradients of all twelve trajectories in one call,

    batched = mo.jit(mo.vmap(mo.value_and_grad(loss), in_axes=(0, 0)))
    values, grads = batched(U0, observations)       # (12,) and (12, 2)

and since the twelve problems are independent, the sum of the twelve losses is minimised with
one L-BFGS-B run over all 24 unknowns. Under `jit`, vmap compiles the function made of loops
as a loop over the batch (the scalar code compiled once, run per member); for array code it
would compile vectorised code instead.

Run it with `python examples/ode_batch_fit.py`; it writes examples/output/ode_batch_fit.png.
"""

import pathlib
import time

import matplotlib
import numpy as np
from scipy.optimize import minimize

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import morphism as mo

K, C = 4.0, 0.3  # stiffness and damping, known
DT, STEPS_PER_OBS, N_OBS = 0.02, 5, 30


def trajectory(u0):
    """Positions at the observation times, from the initial state u0 = (x0, v0), by RK4."""
    x, v = u0[0], u0[1]
    out = np.zeros(N_OBS)
    for i in range(N_OBS):
        for _ in range(STEPS_PER_OBS):
            k1x, k1v = v, -K * x - C * v
            k2x, k2v = v + 0.5 * DT * k1v, -K * (x + 0.5 * DT * k1x) - C * (v + 0.5 * DT * k1v)
            k3x, k3v = v + 0.5 * DT * k2v, -K * (x + 0.5 * DT * k2x) - C * (v + 0.5 * DT * k2v)
            k4x, k4v = v + DT * k3v, -K * (x + DT * k3x) - C * (v + DT * k3v)
            x = x + DT / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
            v = v + DT / 6.0 * (k1v + 2.0 * k2v + 2.0 * k3v + k4v)
        out[i] = x
    return out


def loss(u0, observed):
    r = trajectory(u0) - observed
    return np.mean(r * r)


def main():
    rng = np.random.default_rng(1)
    batch = 12
    truth = rng.uniform(-2.0, 2.0, size=(batch, 2))
    sample = mo.jit(mo.vmap(trajectory))
    observed = sample(truth) + 0.05 * rng.standard_normal((batch, N_OBS))

    batched = mo.jit(mo.vmap(mo.value_and_grad(loss), in_axes=(0, 0)))
    t0 = time.perf_counter()
    batched(np.zeros((batch, 2)), observed)
    print(f"first call of jit(vmap(value_and_grad(loss))) (trace, differentiate, batch, compile): "
          f"{time.perf_counter() - t0:.2f} s")

    def total(flat):
        values, grads = batched(flat.reshape(batch, 2), observed)
        return float(np.sum(values)), grads.ravel()

    t0 = time.perf_counter()
    res = minimize(total, np.zeros(2 * batch), jac=True, method="L-BFGS-B")
    fitted = res.x.reshape(batch, 2)
    print(f"L-BFGS-B over {2 * batch} unknowns: {res.nit} iterations, {res.nfev} batched gradient calls, "
          f"{time.perf_counter() - t0:.2f} s")

    # the batched call against one call per member
    single = mo.jit(mo.value_and_grad(loss))
    single(fitted[0], observed[0])
    reps = 50
    t0 = time.perf_counter()
    for _ in range(reps):
        batched(fitted, observed)
    t_batch = (time.perf_counter() - t0) / reps
    t0 = time.perf_counter()
    for _ in range(reps):
        for b in range(batch):
            single(fitted[b], observed[b])
    t_loop = (time.perf_counter() - t0) / reps
    print(f"gradients of all {batch} trajectories: one vmapped call {t_batch * 1e6:.0f} us, "
          f"{batch} separate calls {t_loop * 1e6:.0f} us ({t_loop / t_batch:.1f}x)")

    err = np.abs(fitted - truth).max()
    print(f"largest error of a recovered initial state: {err:.3f} (noise 0.05)")
    for b in range(4):
        print(f"  trajectory {b}: truth ({truth[b, 0]:+.3f}, {truth[b, 1]:+.3f})  "
              f"fitted ({fitted[b, 0]:+.3f}, {fitted[b, 1]:+.3f})")

    out = pathlib.Path(__file__).parent / "output"
    out.mkdir(exist_ok=True)
    fig, axes = plt.subplots(3, 4, figsize=(12, 7), sharex=True)
    ts = DT * STEPS_PER_OBS * np.arange(1, N_OBS + 1)
    fits = sample(fitted)
    for b, ax in enumerate(axes.ravel()):
        ax.plot(ts, observed[b], "o", ms=3, label="data")
        ax.plot(ts, fits[b], "-", label="fit")
        ax.set_title(f"x0={fitted[b, 0]:+.2f}, v0={fitted[b, 1]:+.2f}", fontsize=9)
    axes[0, 0].legend(fontsize=8)
    fig.suptitle("12 initial states recovered at once with mo.vmap(mo.value_and_grad(loss))")
    fig.tight_layout()
    fig.savefig(out / "ode_batch_fit.png", dpi=90)
    print(f"plot: {out / 'ode_batch_fit.png'}")

    assert res.success, res.message
    assert err < 0.1, f"initial states not recovered: error {err}"
    # the vmapped gradients are the gradients of each member
    g_b = batched(fitted + 0.1, observed)[1]
    g_1 = np.stack([single(fitted[b] + 0.1, observed[b])[1] for b in range(batch)])
    assert np.allclose(g_b, g_1, rtol=1e-10, atol=1e-12)
    print("checks passed: initial states recovered, vmapped gradients equal per-member gradients")


if __name__ == "__main__":
    main()
