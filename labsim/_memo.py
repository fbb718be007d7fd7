"""labsim's one memo mechanism: :func:`functools.lru_cache` on keys that are values, so a result cannot go stale.

``@memo(maxsize, group=...)`` caches a function on its arguments, exactly like ``lru_cache``: use it where every
argument is an immutable value that names everything the result depends on (a frozen catalog ``Chip`` or ``Model``
compares every field, extras included, so an entry re-registered under the same name with other numbers is a new
key). ``@memo(maxsize, group=..., key=f)`` caches on ``f(*args, **kwargs)`` instead, while the function still
receives the original arguments: ``f`` returns a hashable tuple of values, or None for a call that cannot be keyed
(then it is computed and not stored). Nothing is ever keyed on a name or an object's identity.

Every memo belongs to a ``group`` (e.g. ``"fleet.search"``): :func:`clear` empties a group (to free memory or to time
a computation from scratch; never needed for correctness), :func:`info` reports hits and misses.
"""
from __future__ import annotations

import functools
from collections.abc import Callable

__all__ = ["memo", "clear", "info"]

_GROUPS: dict[str, list] = {}


class _Call:
    """A call's arguments, hashed and compared by its key only (the arguments ride along to compute a miss)."""

    __slots__ = ("key", "args", "kwargs", "_hash")

    def __init__(self, key, args, kwargs):
        self.key, self.args, self.kwargs = key, args, kwargs
        self._hash = hash(key)          # TypeError for an unhashable key: the caller computes without storing

    def __hash__(self):
        return self._hash

    def __eq__(self, other):
        return isinstance(other, _Call) and self.key == other.key


def memo(maxsize: int | None, *, group: str, key: Callable | None = None):
    """Decorator: an LRU memo of at most ``maxsize`` results in ``group`` (see the module docstring)."""
    def decorate(fn):
        if key is None:
            cached = functools.lru_cache(maxsize=maxsize)(fn)
        else:
            @functools.lru_cache(maxsize=maxsize)
            def by_key(call: _Call):
                return fn(*call.args, **call.kwargs)

            @functools.wraps(fn)
            def cached(*args, **kwargs):
                k = key(*args, **kwargs)
                if k is None:
                    return fn(*args, **kwargs)
                try:
                    call = _Call(k, args, kwargs)
                except TypeError:       # a key part without a value hash (e.g. an empirical distribution)
                    return fn(*args, **kwargs)
                return by_key(call)

            cached.cache_clear = by_key.cache_clear
            cached.cache_info = by_key.cache_info
        _GROUPS.setdefault(group, []).append(cached)
        return cached
    return decorate


def clear(*groups: str) -> None:
    """Empty every memo of ``groups`` (all groups when none is named)."""
    for g in groups or tuple(_GROUPS):
        for cached in _GROUPS.get(g, ()):
            cached.cache_clear()


def info(group: str) -> dict[str, tuple]:
    """{function name: lru_cache statistics} for the memos of ``group``."""
    return {c.__qualname__: c.cache_info() for c in _GROUPS.get(group, ())}
