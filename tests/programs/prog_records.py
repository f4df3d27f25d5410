"""Local records: dicts with constant keys, tuples, fixed-length lists; nested unpacking."""

import numpy as np


def particle_in_spring(x0, v0, k, dt, n_steps):
    state = {"x": x0, "v": v0, "t": 0.0}
    for _ in range(n_steps):
        a = -k * state["x"]
        state["v"] += dt * a
        state["x"] += dt * state["v"]
        state["t"] = state["t"] + dt
    energy = 0.5 * state["v"] ** 2 + 0.5 * k * state["x"] ** 2
    return state["x"], state["v"], state["t"], energy


def summary_record(x):
    n = len(x)
    mu = x.sum() / n
    rec = {"n": n, "mean": mu, "min": x.min(), "max": x.max()}
    rec["range"] = rec["max"] - rec["min"]
    rec["centered"] = x - rec["mean"]
    return rec


def list_as_record(x0, v0, dt, n_steps):
    # a fixed-length list [position, velocity] used as a mutable record
    rec = [x0, v0]
    for _ in range(n_steps):
        rec[1] = rec[1] - 9.81 * dt
        rec[0] += dt * rec[1]
        if rec[0] < 0.0:
            rec[0] = -rec[0]
            rec[1] = -0.8 * rec[1]
    return rec


def nested_unpacking(a, b):
    pair = (a + b, (a - b, a * b))
    s, (d, p) = pair
    (x, y), z = (d, p), s
    x, y = y, x
    return x, y, z


def min_max_with_positions(x):
    lo = (x[0], 0)
    hi = (x[0], 0)
    for i in range(1, len(x)):
        if x[i] < lo[0]:
            lo = (x[i], i)
        if x[i] > hi[0]:
            hi = (x[i], i)
    val_lo, i_lo = lo
    val_hi, i_hi = hi
    return {"lo": (val_lo, i_lo), "hi": (val_hi, i_hi)}


def running_stats_dict(x):
    acc = {"count": 0, "mean": 0.0, "m2": 0.0}
    for v in x:
        acc["count"] += 1
        delta = v - acc["mean"]
        acc["mean"] += delta / acc["count"]
        acc["m2"] += delta * (v - acc["mean"])
    var = acc["m2"] / (acc["count"] - 1) if acc["count"] > 1 else 0.0
    return acc["mean"], var, acc["count"]


def rect_record(w, h):
    box = [w, h, w * h]
    box[0] *= 2.0
    box[2] = box[0] * box[1]
    corners = np.array([[0.0, 0.0], [box[0], 0.0], [box[0], box[1]], [0.0, box[1]]])
    return box, corners, tuple(box)


def swap_buffers(u0, n_steps):
    bufs = (u0.copy(), np.zeros_like(u0))
    for _ in range(n_steps):
        src, dst = bufs
        dst[1:-1] = 0.5 * (src[:-2] + src[2:])
        dst[0] = src[0]
        dst[-1] = src[-1]
        bufs = (dst, src)
    return bufs[0]


_rng = np.random.default_rng(4)
_x = _rng.normal(size=25)

CASES = [
    (particle_in_spring, (1.0, 0.0, 4.0, 0.01, 100)),
    (particle_in_spring, (0.0, 2.0, 1.0, 0.1, 7)),
    (summary_record, (_x,)),
    (summary_record, (np.array([3.0]),)),
    (list_as_record, (1.0, 0.0, 0.01, 120)),
    (list_as_record, (0.2, 3.0, 0.02, 40)),
    (nested_unpacking, (3.0, 1.5)),
    (nested_unpacking, (2, 5)),
    (min_max_with_positions, (_x,)),
    (min_max_with_positions, (np.array([1.0, 1.0, 1.0]),)),
    (running_stats_dict, (_x,)),
    (running_stats_dict, (np.array([2.0]),)),
    (rect_record, (2.0, 3.0)),
    (swap_buffers, (np.sin(np.linspace(0.0, 3.0, 12)), 5)),
    (swap_buffers, (np.sin(np.linspace(0.0, 3.0, 12)), 0)),
]
