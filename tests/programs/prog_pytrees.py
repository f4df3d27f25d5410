"""Pytrees at the boundary: tuples, lists, dicts, NamedTuples and dataclasses as arguments and
results, nested, with arrays and scalars as leaves."""

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np


class Particle(NamedTuple):
    pos: np.ndarray
    vel: np.ndarray
    mass: float


@dataclass
class LinearModel:
    W: np.ndarray
    b: np.ndarray
    scale: float


@dataclass
class SolverConfig:
    tol: float
    max_iter: int
    verbose: bool


def particle_step(p, force, dt):
    acc = force / p.mass
    vel = p.vel + dt * acc
    pos = p.pos + dt * vel
    return Particle(pos=pos, vel=vel, mass=p.mass)


def particle_energy(particles):
    # a list of NamedTuples
    kinetic = 0.0
    for p in particles:
        kinetic += 0.5 * p.mass * np.sum(p.vel * p.vel)
    centre = np.zeros_like(particles[0].pos)
    total_mass = 0.0
    for p in particles:
        centre += p.mass * p.pos
        total_mass += p.mass
    return kinetic, centre / total_mass


def linear_model_apply(model, X):
    out = model.scale * (X @ model.W + model.b)
    return out, LinearModel(W=2.0 * model.W, b=model.b - 1.0, scale=model.scale * 0.5)


def mlp_dict_params(params, X):
    h = np.tanh(X @ params["W1"] + params["b1"])
    y = h @ params["W2"] + params["b2"]
    return {"hidden": h, "out": y, "norm": np.sqrt(np.sum(y * y))}


def layer_stack(layers, x):
    # layers: a list of (W, b) tuples of different shapes
    h = x
    for W, b in layers:
        h = np.maximum(W @ h + b, 0.0)
    return h


def sgd_update(params, grads, lr):
    new = {}
    new["w"] = params["w"] - lr * grads["w"]
    new["b"] = params["b"] - lr * grads["b"]
    return new, (np.sum(grads["w"] ** 2) + grads["b"] ** 2) ** 0.5


def config_driven_iteration(cfg, a):
    # fixed-point iteration x = cos(a x) controlled by a dataclass of scalars
    x = 0.0
    k = 0
    err = 1.0
    while err > cfg.tol and k < cfg.max_iter:
        x_new = np.cos(a * x)
        err = abs(x_new - x)
        x = x_new
        k += 1
        if cfg.verbose:
            print("iter", k, "err", err)
    return {"x": x, "iters": k, "converged": err <= cfg.tol}


def nested_tree(tree):
    # {"a": (array, [float, array]), "b": {"c": int, "d": array}}
    arr, (s, v) = tree["a"]
    inner = tree["b"]
    total = arr.sum() + s * v.sum() + inner["c"] * inner["d"].mean()
    return [total, (arr * s, v[::-1]), {"count": inner["c"] + 1, "d2": inner["d"] * 2.0}]


def tuple_of_arrays_swap(pair):
    a, b = pair
    return b, a, (a + b, a - b)


def list_arg_sum(xs):
    # a list of 1-D arrays of equal length
    total = np.zeros_like(xs[0])
    for v in xs:
        total += v
    return total, len(xs), np.array([v.sum() for v in xs]), [v.max() for v in xs]


_rng = np.random.default_rng(15)
_p1 = Particle(pos=_rng.normal(size=3), vel=_rng.normal(size=3), mass=2.0)
_p2 = Particle(pos=_rng.normal(size=3), vel=_rng.normal(size=3), mass=0.5)
_model = LinearModel(W=_rng.normal(size=(4, 2)), b=_rng.normal(size=2), scale=1.5)
_X = _rng.normal(size=(5, 4))
_params = {"W1": _rng.normal(size=(4, 6)), "b1": np.zeros(6), "W2": _rng.normal(size=(6, 2)), "b2": np.ones(2)}
_layers = [(_rng.normal(size=(5, 3)), _rng.normal(size=5)), (_rng.normal(size=(2, 5)), _rng.normal(size=2))]
_tree = {"a": (np.arange(4.0), [0.5, np.array([1.0, -2.0, 3.0])]), "b": {"c": 3, "d": np.array([2.0, 4.0])}}

CASES = [
    (particle_step, (_p1, np.array([0.0, 0.0, -9.81]), 0.1)),
    (particle_step, (_p2, np.array([1.0, 2.0, 3.0]), 0.01)),
    (particle_energy, ([_p1, _p2],)),
    (particle_energy, ([_p2],)),
    (linear_model_apply, (_model, _X)),
    (mlp_dict_params, (_params, _X)),
    (layer_stack, (_layers, np.array([1.0, -0.5, 2.0]))),
    (sgd_update, ({"w": np.ones(3), "b": 0.5}, {"w": np.array([0.1, -0.2, 0.3]), "b": -1.0}, 0.1)),
    (config_driven_iteration, (SolverConfig(tol=1e-10, max_iter=200, verbose=False), 1.0)),
    (config_driven_iteration, (SolverConfig(tol=1e-10, max_iter=5, verbose=True), 0.7)),
    (nested_tree, (_tree,)),
    (tuple_of_arrays_swap, ((np.arange(3.0), np.ones(3)),)),
    (list_arg_sum, ([np.arange(4.0), np.ones(4), -np.arange(4.0)],)),
]
