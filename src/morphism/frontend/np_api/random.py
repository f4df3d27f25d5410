"""Random draws: methods of `np.random.Generator` (`rng = np.random.default_rng(seed)`),
of `np.random.RandomState`, and the global `np.random.normal`, `rand`, `seed`, ...

A draw is a call into the actual generator object at run time (the `random_draw` primitive, an
effect): a compiled function draws the same numbers, in the same order, as plain Python with the
same generator object. Draws are constants for derivatives. The generator is created outside the
compiled function (a global, a closure variable or a static argument).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...ir.core import DType, Lit, make_type
from ...primitives import callback as CB
from ...ir.builder import current
from ..library import bind_args, implements, implements_method, to_atom, type_error
from .shape import dims_of

_F, _I = DType.float64, DType.int64


def _draw(owner: Any, method: str, named: dict[str, Any], size: Any, dtype: DType, star_dims: bool = False,
          extra: dict | None = None) -> Any:
    """`owner.method(**named, size=size, **extra)` at run time. `named` are distribution
    parameters (numbers or arrays, run-time values allowed), `size` None, an int or a tuple
    (run-time ints allowed); with `star_dims` the dims are passed positionally (`randn(2, 3)`)."""
    names = [k for k, v in named.items() if v is not None]
    params = [to_atom(named[k], f"{method}'s {k}") for k in names]
    if size is None:
        dims, ndim = [], max((p.type.ndim for p in params), default=0)
    else:
        dims = dims_of(size, f"{method}'s size")
        ndim = len(dims)
    bound = getattr(owner, method)
    extra = extra or {}
    n = len(names)

    def call(*xs):
        kw = dict(zip(names, xs[:n]), **extra)
        shape = tuple(int(d) for d in xs[n:])
        if star_dims:
            return [bound(*shape, **kw)]
        return [bound(**kw, size=shape if size is not None else None)]

    loc = current().loc
    where = f"{loc.file}:{loc.line}" if loc is not None else method
    fn = CB.Callback(call, f"{type(owner).__name__}.{method}", (None,), where)
    (out,) = CB.random_draw(*params, *dims, fn=fn, out_types=(make_type(dtype, ndim),))
    return out


def _dist(method: str, params: list[str], defaults: dict, dtype: DType = _F):
    def h(owner, *args, **kwargs):
        vals = bind_args(method, args, kwargs, [*params, "size"], {**defaults, "size": None})
        return _draw(owner, method, dict(zip(params, vals[:-1])), vals[-1], dtype)

    return h


_GEN = np.random.Generator
_RS = np.random.RandomState

for _owner in (_GEN, _RS):
    implements_method(_owner, "normal")(_dist("normal", ["loc", "scale"], {"loc": 0.0, "scale": 1.0}))
    implements_method(_owner, "uniform")(_dist("uniform", ["low", "high"], {"low": 0.0, "high": 1.0}))
    implements_method(_owner, "standard_normal")(_dist("standard_normal", [], {}))
    implements_method(_owner, "exponential")(_dist("exponential", ["scale"], {"scale": 1.0}))
    implements_method(_owner, "poisson")(_dist("poisson", ["lam"], {"lam": 1.0}, _I))
implements_method(_GEN, "random")(_dist("random", [], {}))
implements_method(_RS, "random_sample", "random")(_dist("random_sample", [], {}))


@implements_method(_GEN, "integers")
def _integers(owner, low, high=None, size=None, dtype=np.int64, endpoint=False):
    if dtype not in (np.int64, int, "int64"):
        type_error("Generator.integers: only dtype=np.int64 is supported")
    ep = endpoint.value if isinstance(endpoint, Lit) else endpoint
    return _draw(owner, "integers", {"low": low, "high": high}, size, _I, extra={"endpoint": bool(ep)})


@implements_method(_RS, "randint")
def _randint(owner, low, high=None, size=None, dtype=int):
    return _draw(owner, "randint", {"low": low, "high": high}, size, _I)


@implements_method(_RS, "randn")
def _randn(owner, *dims):
    return _draw(owner, "randn", {}, tuple(dims) if dims else None, _F, star_dims=True)


@implements_method(_RS, "rand")
def _rand(owner, *dims):
    return _draw(owner, "rand", {}, tuple(dims) if dims else None, _F, star_dims=True)


@implements_method(_RS, "seed")
def _seed(owner, seed=None):
    return _seed_call(owner.seed, seed)


@implements(np.random.seed)
def _global_seed(seed=None):
    return _seed_call(np.random.seed, seed)


def _seed_call(seed_fn, seed):
    s = [] if seed is None else [to_atom(seed, "the seed")]

    def call(*xs):
        seed_fn(*(int(x) for x in xs))
        return []

    loc = current().loc
    fn = CB.Callback(call, "RandomState.seed", (), f"{loc.file}:{loc.line}" if loc is not None else "seed")
    CB.random_draw(*s, fn=fn, out_types=())
    return None
