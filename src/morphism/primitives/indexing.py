"""Indexing: getitem, setitem (functional; the backend writes in place when the old value is
dead), dim (one axis of the shape), and the growable lists that `append` builds.

An index is described statically by `spec`, one entry per index item:
  "i" integer scalar, "n" None/np.newaxis, "e" Ellipsis, "a" integer array, "m" boolean mask,
  "sXYZ" a slice, X/Y/Z = 1 when start/stop/step is given (each then is one operand).
The dynamic parts are operands after the array (and after the value, for setitem).
"""

from __future__ import annotations

import numpy as np

from ..ir.core import Array, DType, Scalar, Type, Var, lit, make_type, promote
from .registry import TypeRuleError, primitive


def spec_operand_count(spec: tuple[str, ...]) -> int:
    n = 0
    for s in spec:
        if s in ("i", "a", "m"):
            n += 1
        elif s[0] == "s":
            n += s.count("1")
    return n


def index_result_ndim(x: Type, spec: tuple[str, ...], idx_types: list[Type]) -> int:
    if len(idx_types) != spec_operand_count(spec):
        raise TypeRuleError("index operands do not match the index spec")
    consumed, kept, adv_ndim, has_adv, k = 0, 0, 0, False, 0
    for s in spec:
        if s == "i":
            t = idx_types[k]
            k += 1
            if not isinstance(t, Scalar) or t.dtype.is_inexact:
                raise TypeRuleError(f"an index must be an integer, found {t} (only integers, slices, "
                                    f"None, Ellipsis, and integer or boolean arrays are valid indices)")
            consumed += 1
        elif s == "a":
            t = idx_types[k]
            k += 1
            if t.dtype.is_inexact:
                raise TypeRuleError(f"an index array must hold integers or booleans, found {t}")
            consumed += 1
            adv_ndim = max(adv_ndim, t.ndim)
            has_adv = True
        elif s == "m":
            t = idx_types[k]
            k += 1
            consumed += max(t.ndim, 1)
            adv_ndim = max(adv_ndim, 1)
            has_adv = True
        elif s == "n":
            kept += 1
        elif s == "e":
            pass
        else:
            for flag in s[1:]:
                if flag == "1":
                    t = idx_types[k]
                    k += 1
                    if not isinstance(t, Scalar) or t.dtype.is_inexact:
                        raise TypeRuleError(f"slice bounds must be integers, found {t}")
            consumed += 1
            kept += 1
    if consumed > x.ndim:
        raise TypeRuleError(f"too many indices: the array has {x.ndim} dimension(s), {consumed} were indexed")
    return x.ndim - consumed + kept + (adv_ndim if has_adv else 0)


def build_index(spec: tuple[str, ...], ops: tuple) -> tuple:
    it = iter(ops)
    out = []
    for s in spec:
        if s in ("i", "a", "m"):
            out.append(next(it))
        elif s == "n":
            out.append(None)
        elif s == "e":
            out.append(Ellipsis)
        else:
            start = next(it) if s[1] == "1" else None
            stop = next(it) if s[2] == "1" else None
            step = next(it) if s[3] == "1" else None
            out.append(slice(start, stop, step))
    return tuple(out)


def _getitem_rule(ts, spec, **_):
    x, *idx = ts
    if spec.count("e") > 1:
        raise TypeRuleError("an index can only have a single ellipsis")
    return [make_type(x.dtype, index_result_ndim(x, spec, idx))]


def _getitem_impl(x, *ops, spec):
    r = np.asarray(x)[build_index(spec, ops)]
    return r.copy() if isinstance(r, np.ndarray) and r.base is not None else r


getitem = primitive("getitem", _getitem_rule, impl=_getitem_impl)


def _setitem_rule(ts, spec, **_):
    x, v, *idx = ts
    if not isinstance(x, Array):
        raise TypeRuleError(f"cannot assign into a scalar of type {x}")
    target = index_result_ndim(x, spec, idx)
    if v.ndim > target:
        raise TypeRuleError(f"cannot assign a value of {v.ndim} dimension(s) into {target} dimension(s)")
    if x.dtype == DType.bool and v.dtype != DType.bool or x.dtype == DType.int64 and v.dtype == DType.float64:
        # NumPy would silently truncate; morphism does too, but only for explicit scalars.
        pass
    return [x]


def _setitem_impl(x, v, *ops, spec):
    # Functional semantics: a new array. The native backend writes in place when `x` is dead.
    out = np.array(x, copy=True)
    out[build_index(spec, ops)] = v
    return out


setitem = primitive("setitem", _setitem_rule, impl=_setitem_impl)


def _dim_rule(ts, axis, **_):
    (x,) = ts
    if not -x.ndim <= axis < x.ndim:
        raise TypeRuleError(f"axis {axis} is out of bounds for a value of {x.ndim} dimension(s)")
    return [Scalar(DType.int64)]


dim = primitive("dim", _dim_rule, impl=lambda x, axis: np.shape(x)[axis])


def _size_rule(ts, **_):
    return [Scalar(DType.int64)]


size = primitive("size", _size_rule, impl=lambda x: np.size(x))


# ---- growable lists (lists built by append) -------------------------------------------------


def _append_rule(ts, **_):
    buf, n, v = ts
    if not isinstance(buf, Array) or buf.ndim != v.ndim + 1:
        raise TypeRuleError(f"cannot append a value of type {v} to a list of {buf}")
    if n != Scalar(DType.int64):
        raise TypeRuleError("list length must be i64")
    return [Array(promote(buf.dtype, v.dtype), buf.ndim), Scalar(DType.int64)]


def _append_impl(buf, n, v):
    # Appending never changes entries [0, n), so earlier versions of the list stay valid
    # even though the buffer is written in place.
    v = np.asarray(v)
    n = int(n)
    if n >= buf.shape[0] or buf.shape[1:] != v.shape:
        if n and buf.shape[1:] != v.shape:
            raise ValueError(f"list elements have different shapes: {buf.shape[1:]} and {v.shape}")
        grown = np.empty((max(8, 2 * buf.shape[0]),) + v.shape, dtype=buf.dtype)
        if n:  # an empty buffer may have another element shape
            grown[:n] = buf[:n]
        buf = grown
    buf[n] = v
    return buf, n + 1


list_append = primitive("list_append", _append_rule, impl=_append_impl, multiple_results=True)


def _list_new_rule(ts, dtype, ndim, **_):
    return [Array(dtype, ndim + 1)]


# An empty list buffer for elements of the given dtype and ndim.
list_new = primitive("list_new", _list_new_rule, impl=lambda dtype, ndim: np.empty((0,) * (ndim + 1), dtype=dtype.np),
                     traits={"fresh"})


def _list_view_rule(ts, **_):
    buf, n = ts
    return [buf]


list_view = primitive("list_view", _list_view_rule, impl=lambda buf, n: np.array(buf[: int(n)]))


def _scatter_add_impl(x, v, *ops, spec):
    # x.at[idx].add(v). A basic index (None included) names each element once: an in-place add
    # on the view. An array index may repeat one: NumPy's ufunc.at, which accumulates.
    out = np.array(x, dtype=np.result_type(x, v), copy=True)
    idx = build_index(spec, ops)
    if not any(s in ("a", "m") for s in spec):
        out[idx] += v
    elif "n" in spec:
        raise NotImplementedError("scatter_add with both None and array indices")
    else:
        np.add.at(out, idx, v)
    return out


# x.at[idx].add(v): the transpose of getitem (repeated indices accumulate).
scatter_add = primitive("scatter_add", _setitem_rule, impl=_scatter_add_impl)


# ============================================================================================
# Derivative rules


def _adu():
    from ..transforms import adutil

    return adutil


def _getitem_jvp(ins, ts, outs, spec):
    return [None if ts[0] is None else getitem(ts[0], *ins[1:], spec=spec)]


def _getitem_vjp(cts, ins, outs, spec):
    (ct,) = cts
    if ct is None:
        return [None] * len(ins)
    from ..transforms.vjp import Accum

    x, *ops = ins
    # Added into the existing cotangent of x: the values of x are never needed.
    return [Accum(lambda existing: scatter_add(existing if existing is not None else _adu().zeros_like(x), ct, *ops, spec=spec)),
            *([None] * len(ops))]


getitem.jvp, getitem.vjp = _getitem_jvp, _getitem_vjp


def _setitem_jvp(ins, ts, outs, spec):
    x, v, *ops = ins
    tx, tv = ts[0], ts[1]
    if tx is None and tv is None:
        return [None]
    adu = _adu()
    tx = tx if tx is not None else adu.zeros_like(x)
    tv = tv if tv is not None else 0.0
    return [setitem(tx, tv, *ops, spec=spec)]


def _setitem_vjp(cts, ins, outs, spec):
    (ct,) = cts
    x, v, *ops = ins
    if ct is None:
        return [None] * len(ins)
    adu = _adu()
    # Read before writing: then the write can update `ct` in place (the native backend copies
    # an array that is still read afterwards).
    ct_v = None
    if adu.is_float(v.type):
        region = _last_writes(ct, ops, spec) if "a" in spec else getitem(ct, *ops, spec=spec)
        ct_v = adu.unbroadcast(region, v)
    ct_x = setitem(ct, 0.0, *ops, spec=spec) if adu.is_float(x.type) else None
    return [ct_x, ct_v, *([None] * len(ops))]


def _last_writes(ct, ops, spec):
    """`ct[idx]` for an assignment `x[idx] = v` whose array index may repeat an element: only
    the last write of each element of x is kept (as NumPy does), so only its position of v gets
    the cotangent, the others zero. Each element of x records the position that wrote it last."""
    from .creation import arange, full
    from .elementwise import eq, select
    from .shape import reshape

    adu = _adu()
    region = getitem(ct, *ops, spec=spec)
    dims = adu.dims_of(region)
    pos = reshape(arange(0, size(region), 1, dtype=DType.int64), *dims)
    owner = setitem(full(-1, *adu.dims_of(ct), dtype=DType.int64), pos, *ops, spec=spec)
    return select(eq(getitem(owner, *ops, spec=spec), pos), region, 0.0)


setitem.jvp, setitem.vjp = _setitem_jvp, _setitem_vjp


def _scatter_add_jvp(ins, ts, outs, spec):
    x, v, *ops = ins
    tx, tv = ts[0], ts[1]
    if tx is None and tv is None:
        return [None]
    if tv is None:
        return [tx]
    tx = tx if tx is not None else _adu().zeros_like(x)
    return [scatter_add(tx, tv, *ops, spec=spec)]


def _scatter_add_vjp(cts, ins, outs, spec):
    (ct,) = cts
    x, v, *ops = ins
    if ct is None:
        return [None] * len(ins)
    adu = _adu()
    ct_v = adu.unbroadcast(getitem(ct, *ops, spec=spec), v) if adu.is_float(v.type) else None
    return [ct if adu.is_float(x.type) else None, ct_v, *([None] * len(ops))]


scatter_add.jvp, scatter_add.vjp = _scatter_add_jvp, _scatter_add_vjp


def _append_jvp(ins, ts, outs):
    buf, n, v = ins
    tb, _, tv = ts
    if tb is None and tv is None:
        return [None, None]
    adu = _adu()
    tb = tb if tb is not None else adu.zeros_like(buf)
    tv = tv if tv is not None else adu.zeros_like(v)
    return [list_append(tb, n, tv)[0], None]


def _append_vjp(cts, ins, outs):
    ct = cts[0]
    buf, n, v = ins
    if ct is None:
        return [None, None, None]
    adu = _adu()
    ct_v = getitem(ct, n, spec=("i",))
    # The new buffer may have grown: the old one's cotangent is its first rows.
    ct_buf = getitem(ct, dim(buf, axis=0), spec=("s010",))
    return [ct_buf if adu.is_float(buf.type) else None, None, ct_v if adu.is_float(v.type) else None]


list_append.jvp, list_append.vjp = _append_jvp, _append_vjp


def _view_jvp(ins, ts, outs):
    return [None if ts[0] is None else list_view(ts[0], ins[1])]


def _view_vjp(cts, ins, outs):
    (ct,) = cts
    if ct is None:
        return [None, None]
    from ..transforms.vjp import Accum

    buf, n = ins
    return [Accum(lambda existing: scatter_add(existing if existing is not None else _adu().zeros_like(buf), ct, n, spec=("s010",))), None]


list_view.jvp, list_view.vjp = _view_jvp, _view_vjp
list_new.jvp = lambda ins, ts, outs, **p: [None]
list_new.vjp = lambda cts, ins, outs, **p: []

from .registry import NOT_APPLICABLE  # noqa: E402

dim.jvp = dim.vjp = size.jvp = size.vjp = NOT_APPLICABLE("the result is an integer")


# ============================================================================================
# Native lowering (Numba)


def _nb_index(spec, ops):
    it = iter(ops)
    parts = []
    for s in spec:
        if s in ("i", "a", "m"):
            parts.append(next(it))
        elif s == "n":
            parts.append("None")
        elif s == "e":
            parts.append("...")
        else:
            a = next(it) if s[1] == "1" else ""
            b = next(it) if s[2] == "1" else ""
            c = next(it) if s[3] == "1" else ""
            parts.append(f"{a}:{b}" + (f":{c}" if c else ""))
    return ", ".join(parts) if parts else "()"


def _nb_simple(spec, ops):
    # Numba indexes with basic indices and at most one advanced index, a 1-d one if a mask.
    masks = [o for o, k in zip(ops, _operand_kinds(spec)) if k == "m"]
    return (sum(1 for s in spec if s in ("a", "m")) <= 1 and not ("n" in spec and any(s in ("a", "m") for s in spec))
            and all(m.type.ndim == 1 for m in masks))


def _nb_getitem(g, e, ins, spec):
    if isinstance(e.inputs[0].type, Scalar) and all(s in ("n", "e") for s in spec):
        # a scalar with new axes (np.expand_dims(s, 0), s[None]): Numba cannot index a scalar
        k = e.outputs[0].type.ndim
        return f"np.full(({'1, ' * k}), {ins[0]})" if k else ins[0]
    if _full_mask(e.inputs[0], spec, e.inputs[1:]):
        return f"sup.mask_get({ins[0]}, {ins[1]})"
    if _pair_of_arrays(e.inputs[0], spec, e.inputs[1:]):
        return f"sup.adv_get2({ins[0]}, {ins[1]}, {ins[2]})"
    if not _nb_simple(spec, e.inputs[1:]):
        g.fallback(e, ins)
        return None
    return f"{ins[0]}[{_nb_index(spec, ins[1:])}]"


def _pair_of_arrays(x, spec, ops) -> bool:
    """x[ia, ib] with two 1-d integer index arrays on a 2-d array (Numba: one advanced index)."""
    return (spec == ("a", "a") and isinstance(x.type, Array) and x.type.ndim == 2
            and all(o.type.ndim == 1 for o in ops[:2]))


def _full_mask(x, spec, ops) -> bool:
    """x[m] with a boolean mask of x's shape (several dimensions: Numba indexes with 1-d masks)."""
    return spec == ("m",) and isinstance(x.type, Array) and ops[0].type.ndim == x.type.ndim > 1


def _nb_update(op: str):
    """x[idx] = v (setitem) or x[idx] += v (scatter_add), in place when the liveness analysis
    allows it, else on a copy."""

    def rule(g, e, ins, spec):
        advanced_ok = op == "="  # repeated indices must accumulate: += with arrays goes to ufunc.at
        advanced = any(s in ("a", "m") for s in spec)
        x, v = e.inputs[0].type, e.inputs[1].type
        if advanced_ok and _full_mask(e.inputs[0], spec, e.inputs[2:]) and v.ndim <= 1:
            if g.in_place(e) and isinstance(e.inputs[0], Var):
                g.coalesce(e.outputs[0], e.inputs[0])
                target = ins[0]
            else:
                target = g.name(e.outputs[0])
                g.emit(f"{target} = {ins[0]}.copy()")
            g.emit(f"sup.mask_set{'_array' if v.ndim else ''}({target}, {ins[2]}, {ins[1]})")
            return None
        if advanced_ok and _pair_of_arrays(e.inputs[0], spec, e.inputs[2:]) and v.ndim <= 1:
            if g.in_place(e) and isinstance(e.inputs[0], Var):
                g.coalesce(e.outputs[0], e.inputs[0])
                target = ins[0]
            else:
                target = g.name(e.outputs[0])
                g.emit(f"{target} = {ins[0]}.copy()")
            g.emit(f"sup.adv_set2({target}, {ins[2]}, {ins[3]}, {ins[1]})")
            return None
        if not _nb_simple(spec, e.inputs[2:]) or (not advanced_ok and advanced) or ("n" in spec and advanced):
            g.fallback(e, ins)
            return None
        x, v = e.inputs[0].type, e.inputs[1].type
        value, v_ndim = ins[1], v.ndim
        if "n" in spec:
            # New axes (the vjp of `x[:, None]`): write into x[idx without them], the value
            # without those size-1 axes
            spec, value, v_ndim = _without_new_axes(g, e, spec, x, v, value)
        if g.in_place(e) and isinstance(e.inputs[0], Var):
            g.coalesce(e.outputs[0], e.inputs[0])
            target = ins[0]
        else:
            target = g.name(e.outputs[0])
            g.emit(f"{target} = {ins[0]}.copy()")
        index = _nb_index(spec, ins[2:])
        view_ndim = x.ndim - sum(1 for s in spec if s == "i")
        if v_ndim >= 1 and v_ndim <= view_ndim <= 3 and not advanced:
            # an array into a view: through sup.put* (see there why not Numba's slice assignment)
            view = target if all(s == "e" for s in spec) else f"{target}[{index}]"
            lead = ", ".join(["None"] * (view_ndim - v_ndim) + [":"] * v_ndim)
            value = value if v_ndim == view_ndim else f"{value}[{lead}]"
            g.emit(f"if not sup.put{view_ndim}({view}, {value}, {op == '+='}):")
            g.emit(f"    raise ValueError({_shape_error(e)!r})")
        else:
            g.emit(f"{target}[{index}] {op} {value}")
        return None

    return rule


def _without_new_axes(g, e, spec, x, v, value):
    """(spec without its None entries, the value without the axes they add, its ndim). The
    value's axes there must have size 1 (checked: NumPy raises otherwise)."""
    rest = x.ndim - sum(1 for s in spec if s == "i" or s[0] == "s")  # axes the ellipsis takes
    region, new = 0, []
    for s in spec:
        if s == "n":
            new.append(region)
            region += 1
        elif s[0] == "s":
            region += 1
        elif s == "e":
            region += rest
    spec = tuple(s for s in spec if s != "n")
    if not isinstance(v, Array):
        return spec, value, 0
    total = x.ndim - sum(1 for s in spec if s == "i") + len(new)  # axes past the index are the region's too
    off = total - v.ndim  # the value lines up with the region's last axes
    drop = [p - off for p in new if p >= off]
    if not drop:
        return spec, value, v.ndim
    g.emit(f"if {' or '.join(f'{value}.shape[{q}] != 1' for q in drop)}:")
    g.emit(f"    raise ValueError({_shape_error(e)!r})")
    parts = ", ".join("0" if q in drop else ":" for q in range(v.ndim))
    return spec, f"{value}[{parts}]", v.ndim - len(drop)


def _shape_error(e) -> str:
    """The message of a value that does not broadcast into the region it is written to, naming
    the user's line (raised by the generated code: Numba cannot say where)."""
    msg = "could not broadcast the value into the indexed region"
    if e.loc.line:
        src = e.loc.source_line()
        msg += f"\n  {e.loc.long()}" + (f"\n    {src.strip()}" if src else "")
    return msg


_nb_setitem = _nb_update("=")
_nb_scatter_add = _nb_update("+=")


getitem.numba = lambda g, e, ins: _nb_getitem(g, e, ins, **e.params)
setitem.numba = lambda g, e, ins: _nb_setitem(g, e, ins, **e.params)
scatter_add.numba = lambda g, e, ins: _nb_scatter_add(g, e, ins, **e.params)
dim.numba = lambda g, e, ins: f"{ins[0]}.shape[{e.params['axis']}]"
size.numba = lambda g, e, ins: "1" if isinstance(e.inputs[0].type, Scalar) else f"{ins[0]}.size"
list_view.numba = "{0}[:{1}].copy()"


def _nb_list_append(g, e, ins):
    if e.inputs[2].type.ndim != 0:
        return f"sup.list_append_array({ins[0]}, {ins[1]}, np.asarray({ins[2]}, {np_dtype_of(e.outputs[0])}))"
    return f"sup.list_append_scalar({ins[0]}, {ins[1]}, {ins[2]})"


def np_dtype_of(v):
    from ..backends.numba_backend import np_dtype

    return np_dtype(v.type)


def _nb_list_new(g, e, ins, dtype, ndim):
    from ..backends.numba_backend import np_dtype

    return f"np.empty(({', '.join(['0'] * (ndim + 1))},), {np_dtype(dtype)})"


list_append.numba = _nb_list_append
list_new.numba = lambda g, e, ins: _nb_list_new(g, e, ins, **e.params)


# ---- batching (vmap): shapes are the same for every member of a batch ----------------------


def _dim_batch(args, batched, size, axis):
    (x,), (b,) = args, batched
    r = x.type.ndim - 1 if b else x.type.ndim
    return [(dim(x, axis=(axis % r) + 1 if b else axis), False)]


def _size_batch(args, batched, size):
    from .elementwise import mul

    x = args[0]
    n = lit(1)
    for k in range(1, x.type.ndim):
        n = mul(n, dim(x, axis=k))
    return [(n, False)]


dim.batch = _dim_batch
size.batch = _size_batch


def _list_append_batch(args, batched, size):
    """A batched list is a batched buffer; its length is the same for every member (appending
    under a condition that differs between members is refused by vmap)."""
    from ..transforms.batchutil import as_batched, loop_over_batch

    buf, n, v = args
    if batched[1]:
        from ..transforms.batchutil import BatchingError

        raise BatchingError("vmap: a list whose length differs between batch members")
    bufs = loop_over_batch(lambda b, x: list_append(b, n, x)[0], [as_batched(buf, batched[0], size), v],
                           [True, batched[2]], size)
    from .elementwise import add

    return [bufs[0], (add(n, lit(1)), False)]


list_append.batch = _list_append_batch


# ---- batching (vmap): getitem, setitem, scatter_add, list views -----------------------------
# An unbatched index on a batched x takes a full slice in front: x[:, index]. A batched index
# becomes an advanced index, member b reading x[b, i[b]]: that is x[arange(B), i] (arange(B)
# shaped to broadcast against the other advanced indices), or x[i] itself when x is not
# batched. NumPy puts the axes of the advanced indices where those stand when they are
# adjacent, and first otherwise (integers count as advanced next to arrays), so the axes of
# the batched result are named and transposed to the batch axis followed by the unbatched
# result's axes. Slice bounds and masks that differ between members go through a loop.


def _operand_kinds(spec: tuple[str, ...]) -> list[str]:
    """The kind of entry ('i', 'a', 'm', or 's' for a slice bound) each index operand belongs to."""
    out = []
    for s in spec:
        if s in ("i", "a", "m"):
            out.append(s)
        elif s[0] == "s":
            out.extend("s" * s.count("1"))
    return out


def _result_axes(spec, keys, consumed, ndim, block) -> list:
    """The axes of x[index], named: a slice or None by its entry's key, an ellipsis (explicit or
    the implied one at the end) by (key, j); `block`, the axes of the advanced indices, goes
    where NumPy puts it."""
    arrays = any(s in ("a", "m") for s in spec)
    n_rest = ndim - sum(consumed)
    per = [[(k, j) for j in range(n_rest)] if s == "e" else [k] if s == "n" or s[0] == "s" else []
           for s, k in zip(spec, keys)]
    tail = [] if "e" in spec else [("rest", j) for j in range(n_rest)]
    adv = [p for p, s in enumerate(spec) if s in ("a", "m") or (s == "i" and arrays)]

    def basic(ps):
        return [a for p in ps for a in per[p]]

    if not adv:
        return basic(range(len(spec))) + tail
    if adv == list(range(adv[0], adv[-1] + 1)):
        return basic(range(adv[0])) + list(block) + basic(range(adv[-1] + 1, len(spec))) + tail
    return list(block) + basic(range(len(spec))) + tail


def _batched_index(x, xb, ops, flags, spec, size, drop_none=False):
    """x[index] for a batch, as one indexing: (x, ops, spec, have, want), the axes `have` of
    x[index'] to be transposed to `want` ("B", then the unbatched result's axes). None when an
    index differs in length between members (batched slice bounds) or is a 0-d mask. With
    `drop_none`, None entries are left out of the new index (their axes are still in `want`)."""
    from ..transforms.batchutil import to_rank

    kinds = _operand_kinds(spec)
    if any(k == "s" and f for k, f in zip(kinds, flags)):
        return None
    entries, it = [], iter(zip(ops, flags))
    for s in spec:
        n = 1 if s in ("i", "a", "m") else s.count("1") if s[0] == "s" else 0
        entries.append((s, [next(it) for _ in range(n)]))
    if any(s == "m" and o.type.ndim - f == 0 for s, os in entries for o, f in os):
        return None
    rx = x.type.ndim - xb
    # the axes of x each entry consumes (a mask: its own number of dims)
    consumed = [os[0][0].type.ndim - os[0][1] if s == "m" else 0 if s in ("n", "e") else 1 for s, os in entries]
    arrays = any(s in ("a", "m") for s in spec)
    adv_nd = max([o.type.ndim - f if s == "a" else 1 for s, os in entries if s in ("a", "m") for o, f in os],
                 default=0)
    block = [("adv", j) for j in range(adv_nd)] if arrays else []
    keys = list(range(len(spec)))
    want = ["B"] + _result_axes(spec, keys, consumed, rx, block)
    if not any(flags):  # only x is batched: x[:, index]
        new_spec, new_ops, new_keys, new_consumed = ["s000", *spec], list(ops), ["B", *keys], [1, *consumed]
    else:
        new_spec, new_ops, block = [], [], ["B", *block]
        for s, os in entries:
            if s in ("i", "a") and os[0][1]:
                op = os[0][0]
                new_spec.append("a")
                new_ops.append(to_rank(op, op.type.ndim - 1, adv_nd))
            else:
                new_spec.append(s)
                new_ops.extend(o for o, _ in os)
        new_keys, new_consumed = list(keys), list(consumed)
        if xb:
            from .creation import arange

            iota = arange(lit(0), size, lit(1), dtype=DType.int64)
            new_spec, new_ops = ["a", *new_spec], [to_rank(iota, 0, adv_nd), *new_ops]
            new_keys, new_consumed = ["B", *new_keys], [1, *new_consumed]
    if drop_none:
        keep = [p for p, s in enumerate(new_spec) if s != "n"]
        new_spec, new_keys, new_consumed = ([seq[p] for p in keep] for seq in (new_spec, new_keys, new_consumed))
    have = _result_axes(tuple(new_spec), new_keys, new_consumed, x.type.ndim, block)
    return x, new_ops, tuple(new_spec), have, want


def _arrange(x, have, want):
    """x with its axes, named `have`, in the order `want`."""
    from .shape import transpose

    perm = tuple(have.index(a) for a in want)
    return x if perm == tuple(range(len(perm))) else transpose(x, perm=perm)


def _getitem_batch(args, batched, size, spec):
    from ..transforms.batchutil import loop_rule

    x, *ops = args
    plan = None
    if not any(k == "m" and f for k, f in zip(_operand_kinds(spec), batched[1:])):
        plan = _batched_index(x, batched[0], ops, batched[1:], spec, size)
    if plan is None:
        # A batched mask selects a number of elements per member: the loop stacks the members'
        # results, which must then have the same length (checked as it runs).
        return loop_rule(getitem)(args, batched, size, spec=spec)
    x, ops, new_spec, have, want = plan
    return [(_arrange(getitem(x, *ops, spec=new_spec), have, want), True)]


def _update_batch(prim):
    """setitem and scatter_add: x[index'] = v with v laid out like the batched region. None
    entries are dropped from the index (their axes have length 1), which the native backend
    and scatter_add's implementation prefer."""

    def rule(args, batched, size, spec):
        from ..transforms.batchutil import as_batched, dims, loop_rule, to_rank
        from .shape import reshape, squeeze

        x, v, *ops = args
        xb, vb, flags = batched[0], batched[1], batched[2:]
        if any(k == "m" and f for k, f in zip(_operand_kinds(spec), flags)):
            out = _masked_update(prim, x, xb, v, vb, ops, spec, size)
        else:
            plan = _batched_index(as_batched(x, xb, size), True, ops, flags, spec, size, drop_none=True)
            out = None
            if plan is not None:
                x2, ops2, new_spec, have, want = plan
                rank, rv = len(want) - 1, v.type.ndim - vb
                if vb or rv and have[len(have) - rv:] != want[len(want) - rv:]:
                    # v with the batch axis, then the axes of the unbatched region it reaches
                    v = to_rank(v, rv, rank) if vb else reshape(v, *([lit(1)] * (rank + 1 - rv)), *dims(v))
                    nones = tuple(p for p, a in enumerate(want) if isinstance(a, int) and spec[a] == "n")
                    if nones:
                        v = squeeze(v, axes=nones)
                        want = [a for p, a in enumerate(want) if p not in nones]
                    v = _arrange(v, want, have)
                out = prim(x2, v, *ops2, spec=new_spec)
        if out is None:
            return loop_rule(prim)(args, batched, size, spec=spec)
        return [(out, True)]

    return rule


def _masked_update(prim, x, xb, v, vb, ops, spec, size):
    """x[..., m] = v with a batched mask m, as a select: where(m, v, x) (x + where(m, v, 0) for
    scatter_add), when the index is full slices, an ellipsis and the mask, and v does not reach
    the mask's axis (whose length differs between members). None otherwise."""
    from ..transforms.batchutil import as_batched, dims, to_rank
    from .elementwise import add, convert, select
    from .shape import reshape

    if len(ops) != 1 or any(s not in ("s000", "e", "m") for s in spec):
        return None
    m = ops[0]
    rx, km, rv = x.type.ndim - xb, m.type.ndim - 1, v.type.ndim - vb
    n_rest = rx - km - sum(1 for s in spec if s == "s000")
    pos = spec.index("m")
    offset = sum(n_rest if s == "e" else 1 if s == "s000" else 0 for s in spec[:pos])
    trailing = rx - offset - km
    if km == 0 or rv > trailing:
        return None
    d = dims(m)
    m = reshape(m, d[0], *([lit(1)] * offset), *d[1:], *([lit(1)] * trailing))
    x = as_batched(x, xb, size)
    v = to_rank(v, rv, rx) if vb else v
    if prim is setitem:
        out = select(m, v if v.type.dtype == x.type.dtype else convert(v, dtype=x.type.dtype), x)
    else:
        out = add(x, select(m, v, lit(0)))
    return out if out.type.dtype == x.type.dtype else convert(out, dtype=x.type.dtype)


def _list_view_batch(args, batched, size):
    """A batched list's buffer holds the batch on axis 0 and the list on axis 1: buf[:, :n]."""
    from ..transforms.batchutil import BatchingError

    buf, n = args
    if batched[1] or not batched[0]:
        raise BatchingError("vmap: a list whose length differs between batch members")
    return [(getitem(buf, n, spec=("s000", "s010")), True)]


getitem.batch = _getitem_batch
setitem.batch = _update_batch(setitem)
scatter_add.batch = _update_batch(scatter_add)
list_view.batch = _list_view_batch
list_new.batch = NOT_APPLICABLE("it takes no operands, so it is never batched")
