"""MLP loss: batch 256, 784 → 128 (tanh) → 10, softmax cross-entropy; gradient w.r.t. the weights
(a dict of params).

Array code dominated by two matmuls: every tool ends up in BLAS, so this measures the overhead
around it. `mlp_loss` is written once with `np.`; JAX and autograd run the very same function with
`np` bound to their own NumPy; PyTorch gets its own spelling.
"""

from __future__ import annotations

import numpy as np

from .. import peers
from ..harness import Config, Target, Tool, Workload, run_workload


def mlp_loss(params, x, labels):
    h = np.tanh(x @ params["W1"] + params["b1"])
    logits = h @ params["W2"] + params["b2"]
    m = np.max(logits, axis=1, keepdims=True)
    lse = np.log(np.sum(np.exp(logits - m), axis=1)) + m[:, 0]
    return np.mean(lse - np.sum(logits * labels, axis=1))


def data(batch: int, n_in: int, n_hidden: int, n_out: int):
    rng = np.random.default_rng(0)
    params = {"W1": rng.normal(0.0, 1.0 / np.sqrt(n_in), (n_in, n_hidden)), "b1": np.zeros(n_hidden),
              "W2": rng.normal(0.0, 1.0 / np.sqrt(n_hidden), (n_hidden, n_out)), "b2": np.zeros(n_out)}
    x = rng.normal(size=(batch, n_in))
    labels = np.eye(n_out)[rng.integers(0, n_out, batch)]
    return params, x, labels


def torch_loss(torch, params, x, labels):
    h = torch.tanh(x @ params["W1"] + params["b1"])
    logits = h @ params["W2"] + params["b2"]
    return torch.mean(torch.logsumexp(logits, dim=1) - torch.sum(logits * labels, dim=1))


def tools(params, x, labels) -> list[Tool]:
    mo_name = peers.morphism_name()

    def numpy_primal():
        return lambda: mlp_loss(params, x, labels)

    def morphism_grad():
        g = peers.mo_jit(peers.morphism().grad(mlp_loss))
        return lambda: g(params, x, labels)

    def jax_grad():
        jax = peers.jax()
        g = jax.jit(jax.grad(peers.rebind(mlp_loss, np=jax.numpy)))
        p = {k: jax.numpy.asarray(v) for k, v in params.items()}
        xj, lj = jax.numpy.asarray(x), jax.numpy.asarray(labels)
        return lambda: g(p, xj, lj)

    def torch_grad():
        torch = peers.torch()
        p = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
        xt, lt = torch.tensor(x), torch.tensor(labels)
        keys = sorted(p)

        def run():
            loss = torch_loss(torch, p, xt, lt)
            return dict(zip(keys, torch.autograd.grad(loss, [p[k] for k in keys])))

        return run

    def autograd_grad():
        ag = peers.autograd()
        import autograd.numpy as anp

        g = ag.grad(peers.rebind(mlp_loss, np=anp))
        return lambda: g(params, x, labels)

    return [
        Tool("NumPy primal", numpy_primal, kind="primal", baseline=True, eager=True, note="baseline"),
        Tool(f"{mo_name} grad", morphism_grad, is_morphism=True, targets=[
            Target("grad ÷ NumPy primal", 3.0, "NumPy primal"),
            Target("÷ JAX jit(grad)", 1.5, "JAX jit(grad)")]),
        Tool("JAX jit(grad)", jax_grad, sync=peers.jax_sync),
        Tool("PyTorch eager", torch_grad, eager=True),
        Tool("autograd", autograd_grad, eager=True),
    ]


def check_reference(params, x, labels):
    """The reference gradient against a central finite difference along a random direction."""

    def check(kind, grads):
        if kind != "grad":
            return True, ""
        rng = np.random.default_rng(1)
        d = {k: rng.normal(size=v.shape) for k, v in params.items()}
        h = 1e-5
        plus = mlp_loss({k: params[k] + h * d[k] for k in params}, x, labels)
        minus = mlp_loss({k: params[k] - h * d[k] for k in params}, x, labels)
        fd = (plus - minus) / (2 * h)
        ad = sum(float(np.sum(np.asarray(_np(grads[k])) * d[k])) for k in params)
        err = abs(ad - fd) / max(1e-12, abs(fd))
        return err < 1e-5, f"finite differences: rel err {err:.1e}"

    return check


def _np(v):
    return v.detach().numpy() if hasattr(v, "detach") else v


def run(cfg: Config):
    sizes = (64, 784, 128, 10) if cfg.quick else (256, 784, 128, 10)
    params, x, labels = data(*sizes)
    w = Workload(
        "mlp", f"MLP {sizes[1]}→{sizes[2]}→{sizes[3]} (tanh), softmax cross-entropy, batch {sizes[0]}, "
               "grad w.r.t. the weights", tools(params, x, labels),
        references={"grad": ["JAX jit(grad)", "autograd", "PyTorch eager"], "primal": ["NumPy primal"]},
        rtol=1e-7, atol=1e-9, check_reference=check_reference(params, x, labels),
        sizes=f"batch={sizes[0]}, layers={sizes[1]}-{sizes[2]}-{sizes[3]}")
    return w, run_workload(w, cfg)
