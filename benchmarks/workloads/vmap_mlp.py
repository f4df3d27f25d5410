"""vmap (issue 6): per-example gradients of the MLP loss of `mlp.py` (784 → 128 (tanh) → 10,
softmax cross-entropy), batch 256: the gradient of the loss of ONE example w.r.t. the weights,
vmapped over the examples (`in_axes=(None, 0, 0)`: the weights are shared).

Array code without loops, so `mo.vmap`'s "auto" strategy is vectorised code: the member's matmuls
become batched ones. The result is one weight gradient per example (256 × 784 × 128 for W1 alone:
200 MB at full size), so every tool is bound by writing it.
"""

from __future__ import annotations

import numpy as np

from .. import peers
from ..harness import Config, Target, Tool, Workload, run_workload
from .mlp import data, mlp_loss, torch_loss


def example_loss(params, x, label):
    """The loss of one example (x: (784,), label: one-hot (10,)): the batch loss of a batch of one."""
    return mlp_loss(params, x[None, :], label[None, :])


def tools(params, x, labels) -> list[Tool]:
    mo_name = peers.morphism_name()
    base = "JAX jit(vmap(grad))"

    def jax_vmap_grad():
        jax = peers.jax()
        jnp = jax.numpy
        loss = peers.rebind(example_loss, np=jnp, mlp_loss=peers.rebind(mlp_loss, np=jnp))
        g = jax.jit(jax.vmap(jax.grad(loss), in_axes=(None, 0, 0)))
        p = {k: jnp.asarray(v) for k, v in params.items()}
        xj, lj = jnp.asarray(x), jnp.asarray(labels)
        return lambda: g(p, xj, lj)

    def morphism_vmap_grad():
        mo = peers.morphism()
        g = peers.mo_jit(mo.vmap(mo.grad(example_loss), in_axes=(None, 0, 0)))
        return lambda: g(params, x, labels)

    def morphism_loop():
        g = peers.mo_jit(peers.morphism().grad(example_loss))
        keys = sorted(params)

        def run():
            grads = [g(params, x[i], labels[i]) for i in range(x.shape[0])]
            return {k: np.stack([gi[k] for gi in grads]) for k in keys}

        return run

    def torch_vmap_grad():
        torch = peers.torch()
        func = peers._import("torch.func")  # torch ≥ 2.0
        p = {k: torch.tensor(v) for k, v in params.items()}
        xt, lt = torch.tensor(x), torch.tensor(labels)
        g = func.vmap(func.grad(lambda p, xi, li: torch_loss(torch, p, xi[None], li[None])), in_dims=(None, 0, 0))
        return lambda: g(p, xt, lt)

    return [
        Tool(base, jax_vmap_grad, baseline=True, sync=peers.jax_sync, note="baseline"),
        Tool(f"{mo_name} jit(vmap(grad))", morphism_vmap_grad, is_morphism=True,
             note="auto: vectorised (no loops)",
             targets=[Target("jit(vmap(grad)) ÷ JAX jit(vmap(grad))", 1.5, base, issue=6)]),
        Tool("PyTorch torch.func vmap(grad)", torch_vmap_grad,
             note="no compile step: 'compile' is torch.func's first-call set-up"),
        Tool(f"NumPy loop over examples, {mo_name} jit(grad)", morphism_loop, is_morphism=True,
             note="one jitted call per example, results stacked"),
    ]


def check_reference(params, x, labels):
    """The mean of the per-example gradients is the gradient of the batch loss (a mean over the
    examples): checked along a random direction against a central finite difference of it."""

    def check(kind, grads):
        rng = np.random.default_rng(1)
        d = {k: rng.normal(size=v.shape) for k, v in params.items()}
        h = 1e-5
        plus = mlp_loss({k: params[k] + h * d[k] for k in params}, x, labels)
        minus = mlp_loss({k: params[k] - h * d[k] for k in params}, x, labels)
        fd = (plus - minus) / (2 * h)
        n = x.shape[0]
        ad = sum(float(np.sum(np.asarray(grads[k]).reshape(n, -1) @ d[k].ravel())) for k in params) / n
        err = abs(ad - fd) / max(1e-12, abs(fd))
        return err < 1e-5, f"finite differences of the batch loss: rel err {err:.1e}"

    return check


def run(cfg: Config):
    sizes = (64, 784, 128, 10) if cfg.quick else (256, 784, 128, 10)
    params, x, labels = data(*sizes)
    w = Workload(
        "vmap_mlp", f"vmap: per-example gradients of the MLP loss ({sizes[1]}→{sizes[2]}→{sizes[3]}, tanh, "
                    f"softmax cross-entropy), batch {sizes[0]}, w.r.t. the weights",
        tools(params, x, labels),
        references={"grad": ["JAX jit(vmap(grad))", "PyTorch torch.func vmap(grad)"]},
        rtol=1e-7, atol=1e-9, check_reference=check_reference(params, x, labels),
        sizes=f"batch={sizes[0]}, layers={sizes[1]}-{sizes[2]}-{sizes[3]}, in_axes=(None, 0, 0)")
    return w, run_workload(w, cfg)
