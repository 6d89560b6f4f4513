"""Pytrees: nested tuples (named ones too), lists and dicts whose leaves are arrays, Tensors or numbers.

Transforms flatten their inputs and outputs to a list of leaves plus a :class:`TreeDef`
(the containers' shape), work on the leaves, and rebuild the same structure — as JAX does.
``None`` is an empty subtree (no leaves).  An ``OrderedDict`` (a ``state_dict``) comes back an ``OrderedDict``, as
torch's and JAX's pytrees rebuild it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TreeDef:
    """The containers of a pytree: ``kind`` is "leaf", "none", "tuple", "list", "dict" or "namedtuple"
    (``keys``: its fields, ``cls``: its class — rebuilt as such, as JAX and torch's pytrees do; for a dict, None
    or ``OrderedDict``)."""

    kind: str
    children: tuple[TreeDef, ...] = ()
    keys: tuple = ()
    cls: type | None = None

    @property
    def num_leaves(self) -> int:
        if self.kind == "leaf":
            return 1
        return sum(c.num_leaves for c in self.children)

    def __repr__(self) -> str:
        if self.kind in ("leaf", "none"):
            return "*" if self.kind == "leaf" else "None"
        inner = (
            ", ".join(f"{k!r}: {c!r}" for k, c in zip(self.keys, self.children))
            if self.kind == "dict"
            else ", ".join(repr(c) for c in self.children)
        )
        if self.kind == "namedtuple":
            return f"{self.cls.__name__}({inner})"
        shown = {"tuple": f"({inner})", "list": f"[{inner}]", "dict": f"{{{inner}}}"}[self.kind]
        return shown if self.cls is None else f"{self.cls.__name__}({shown})"


LEAF = TreeDef("leaf")


def tree_flatten(tree: Any) -> tuple[list, TreeDef]:
    """``(leaves, treedef)``: leaves in order (dict entries in insertion order)."""
    leaves: list = []
    return leaves, _flatten(tree, leaves)


def _flatten(tree: Any, leaves: list) -> TreeDef:
    if tree is None:
        return TreeDef("none")
    if isinstance(tree, tuple):
        children = tuple(_flatten(t, leaves) for t in tree)
        if hasattr(tree, "_fields"):  # a namedtuple (ng.max(x, dim=0)'s (values, indices) too): its fields are subtrees
            return TreeDef("namedtuple", children, tuple(tree._fields), type(tree))
        return TreeDef("tuple", children)
    if isinstance(tree, list):
        return TreeDef("list", tuple(_flatten(t, leaves) for t in tree))
    if isinstance(tree, dict):
        keys = tuple(tree)
        cls = type(tree) if isinstance(tree, OrderedDict) else None  # (other dict types are rebuilt as dicts)
        return TreeDef("dict", tuple(_flatten(tree[k], leaves) for k in keys), keys, cls)
    leaves.append(tree)
    return LEAF


def tree_unflatten(treedef: TreeDef, leaves: list) -> Any:
    """Rebuild the structure ``treedef`` with ``leaves`` in order."""
    it = iter(leaves)
    out = _unflatten(treedef, it)
    if next(it, _END) is not _END:
        raise ValueError(f"tree_unflatten: more leaves than the structure {treedef!r} holds")
    return out


_END = object()


def _unflatten(treedef: TreeDef, it) -> Any:
    if treedef.kind == "leaf":
        leaf = next(it, _END)
        if leaf is _END:
            raise ValueError("tree_unflatten: fewer leaves than the structure holds")
        return leaf
    if treedef.kind == "none":
        return None
    children = [_unflatten(c, it) for c in treedef.children]
    if treedef.kind == "tuple":
        return tuple(children)
    if treedef.kind == "namedtuple":
        return treedef.cls(*children)
    if treedef.kind == "list":
        return children
    return (treedef.cls or dict)(zip(treedef.keys, children))


def tree_map(fn: Callable, tree: Any) -> Any:
    """Apply ``fn`` to every leaf, keeping the structure."""
    leaves, treedef = tree_flatten(tree)
    return tree_unflatten(treedef, [fn(x) for x in leaves])
