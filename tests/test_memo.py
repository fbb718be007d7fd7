"""labsim._memo: the one memo mechanism (lru_cache on value keys; None or unhashable keys compute without storing)."""
from __future__ import annotations

import numpy as np

from labsim import _memo


def test_memo_on_arguments_caches_and_clears_by_group():
    calls = []

    @_memo.memo(4, group="test.plain")
    def square(x):
        calls.append(x)
        return x * x

    assert [square(3), square(3), square(4)] == [9, 9, 16] and calls == [3, 4]
    assert _memo.info("test.plain")[square.__qualname__].hits == 1
    _memo.clear("test.plain")
    assert square(3) == 9 and calls == [3, 4, 3]


def test_memo_with_a_key_function_passes_the_original_arguments():
    calls = []

    def key(d, scale):
        return None if "skip" in d else (tuple(sorted(d.items())), scale)

    @_memo.memo(8, group="test.keyed", key=key)
    def total(d, scale):
        calls.append(dict(d))
        return sum(d.values()) * scale

    a = {"x": 1, "y": 2}
    assert total(a, 2) == 6 and total({"y": 2, "x": 1}, 2) == 6 and len(calls) == 1    # equal values: one call
    a["x"] = 10                                                                          # edited: a new key
    assert total(a, 2) == 24 and len(calls) == 2
    assert total({"skip": 1}, 1) == 1 and total({"skip": 1}, 1) == 1 and len(calls) == 4   # None: never stored
    assert total.cache_info().currsize == 2


def test_an_unhashable_key_computes_without_storing():
    calls = []

    @_memo.memo(8, group="test.unhashable", key=lambda arr: (arr,))
    def mean(arr):
        calls.append(1)
        return float(np.mean(arr))

    x = np.array([1.0, 3.0])
    assert mean(x) == 2.0
    x[:] = 5.0
    assert mean(x) == 5.0 and len(calls) == 2 and mean.cache_info().currsize == 0
