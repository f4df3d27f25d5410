"""Pytrees at the API boundary: a thin adapter over optree.

Tuples, lists, dicts, NamedTuples and None are optree's own nodes; dataclass types are
registered the first time they are seen.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import optree

NAMESPACE = "morphism"
_registered: set[type] = set()


def _is_atom(x: Any) -> bool:
    from .ir.core import Lit, Var

    return isinstance(x, (Var, Lit))


def _register_dataclasses(tree: Any) -> None:
    stack = [tree]
    while stack:
        x = stack.pop()
        if _is_atom(x):
            continue  # IR values are leaves, although they are dataclasses
        if dataclasses.is_dataclass(x) and not isinstance(x, type):
            cls = type(x)
            if cls not in _registered:
                names = tuple(f.name for f in dataclasses.fields(cls))

                def flat(obj, names=names):
                    return [getattr(obj, n) for n in names], names, names

                def unflat(names, children, cls=cls):
                    obj = object.__new__(cls)
                    for n, c in zip(names, children):
                        object.__setattr__(obj, n, c)
                    return obj

                optree.register_pytree_node(cls, flat, unflat, namespace=NAMESPACE)
                _registered.add(cls)
            stack.extend(getattr(x, f.name) for f in dataclasses.fields(x))
        elif isinstance(x, (tuple, list)):
            stack.extend(x)
        elif isinstance(x, dict):
            stack.extend(x.values())


def flatten(tree: Any, is_leaf: Any = None) -> tuple[list[Any], Any]:
    _register_dataclasses(tree)
    leaf = (lambda x: _is_atom(x) or is_leaf(x)) if is_leaf is not None else _is_atom
    leaves, treedef = optree.tree_flatten(tree, is_leaf=leaf, namespace=NAMESPACE)
    return leaves, treedef


def unflatten(treedef: Any, leaves: list[Any]) -> Any:
    return optree.tree_unflatten(treedef, leaves)


def paths(tree: Any) -> list[str]:
    """A readable path for each leaf, e.g. "params['w']" or "x[0]"."""
    _register_dataclasses(tree)
    ps = optree.tree_paths(tree, is_leaf=_is_atom, namespace=NAMESPACE)
    return ["".join(f"[{p!r}]" if not isinstance(p, str) or True else f".{p}" for p in path) for path in ps]


def tree_map(f: Any, tree: Any, *rest: Any) -> Any:
    _register_dataclasses(tree)
    return optree.tree_map(f, tree, *rest, is_leaf=_is_atom, namespace=NAMESPACE)
