"""Reservation bookkeeping of the layer scheduler (private): MEM banks per cycle, issue slots, stream diagonals
and the MEM address allocation of weights and activations.

Everything here is exact bookkeeping of the rules the simulator enforces (one access per bank per cycle, issue
slots per slice and cycle, one value per stream slot), so a program the scheduler emits runs without a fault; the
simulator checks that independently.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from ..tsp import Geometry


class BankTimeline:
    """busy[bank, cycle] for every MEM bank of the chip (grows in time as needed)."""

    def __init__(self, n_banks: int, horizon: int = 4096):
        self.busy = np.zeros((n_banks, horizon), dtype=bool)

    def _grow(self, t: int) -> None:
        if t >= self.busy.shape[1]:
            new = max(t + 1, 2 * self.busy.shape[1])
            b = np.zeros((self.busy.shape[0], new), dtype=bool)
            b[:, : self.busy.shape[1]] = self.busy
            self.busy = b

    def free(self, bank: int, t: int) -> bool:
        return t >= 0 and (t >= self.busy.shape[1] or not self.busy[bank, t])

    def free_range(self, bank: int, t0: int, n: int) -> bool:
        if t0 < 0:
            return False
        if t0 >= self.busy.shape[1]:
            return True
        return not self.busy[bank, t0: t0 + n].any()

    def free_run(self, bank: int, t0: int, n: int) -> int:
        """How many consecutive cycles from t0 (at most n) the bank is free."""
        if t0 < 0:
            return 0
        if t0 >= self.busy.shape[1]:
            return n
        seg = self.busy[bank, t0: t0 + n]
        hit = np.flatnonzero(seg)
        return int(hit[0]) if hit.size else n

    def take(self, bank: int, t: int, n: int = 1) -> None:
        self._grow(t + n)
        if self.busy[bank, t: t + n].any():          # pragma: no cover - callers check first
            raise AssertionError("bank taken twice")
        self.busy[bank, t: t + n] = True


class SlotTable:
    """Issue slots used per (slice, cycle)."""

    def __init__(self, g: Geometry):
        self.cap = [g.issue_slots(t) for t in g.slice_types]
        self.used = defaultdict(int)

    def free(self, sl: int, t: int, n: int = 1) -> bool:
        return t >= 0 and self.used[(sl, t)] + n <= self.cap[sl]

    def take(self, sl: int, t: int) -> None:
        self.used[(sl, t)] += 1


class StreamTable:
    """Owned intervals of slice positions on each stream diagonal: a value written at slice p on cycle t in
    direction E sits on diagonal t − p·hop (W: t + p·hop) and owns the positions from p to its farthest reader.
    Two values' intervals on one (direction, stream, diagonal) must be disjoint (no collision, no overwrite)."""

    def __init__(self, g: Geometry):
        self.h = g.stream_hop_cycles
        self.lines: dict = defaultdict(list)

    def diag(self, d: str, p: int, t: int) -> int:
        return t - p * self.h if d == "E" else t + p * self.h

    def free(self, d: str, s: int, p: int, t: int, q: int) -> bool:
        """May a value written at slice p on cycle t on stream (d, s) own the positions p … q?"""
        lo, hi = min(p, q), max(p, q)
        for a, b in self.lines.get((d, s, self.diag(d, p, t)), ()):
            if not (hi < a or lo > b):
                return False
        return True

    def take(self, d: str, s: int, p: int, t: int, q: int) -> None:
        self.lines[(d, s, self.diag(d, p, t))].append((min(p, q), max(p, q)))

    def pick(self, d: str, streams, p: int, t: int, q: int):
        """The first stream of ``streams`` on which a value written at (p, t) may own p … q, or None."""
        for s in streams:
            if self.free(d, s, p, t, q):
                return s
        return None


class MemoryMap:
    """MEM addresses. Every bank keeps its top ``act_words`` addresses for activations (values a pass or a VXM
    operation keeps; the scheduler takes the bank nearest the VXM whose port is free), the rest for weight rows:
    consecutive addresses per stream and tile (one repeated read), in whichever bank the scheduler picks — the
    emptiest first, so that all banks fill evenly and none is streamed much more than the others. Who reads which
    bank when is the :class:`BankTimeline`'s business."""

    def __init__(self, g: Geometry, act_words: int):
        self.g = g
        self.words = g.mem_words_per_bank
        self.banks_per_slice = g.mem_banks_per_slice
        names = g.slice_names
        self.mem_index = {nm: k for k, nm in enumerate(n for n in names if n.startswith("MEM_"))}
        self.banks_of = {}                    # side -> banks (far end first)
        self.act = {}                         # side -> banks (nearest the VXM first)
        self.weight_limit = {}
        self.act_next = {}
        for side in ("W", "E"):
            near_first = [(f"MEM_{side}{i}", b) for i in range(g.mem_slices_per_hemisphere)
                          for b in range(self.banks_per_slice)]
            self.act[side] = near_first
            self.banks_of[side] = near_first[::-1]
            for key in near_first:
                self.weight_limit[key] = self.words - act_words
                self.act_next[key] = self.words - act_words
        self.used = defaultdict(int)          # (slice, bank) -> weight rows allocated
        self.recycled = defaultdict(list)     # (slice, bank) -> [(address, last read cycle of its dead value)]

    def banks_with_room(self, side: str) -> int:
        return sum(1 for b in self.banks_of[side] if self.weight_limit[b] > self.used[b])

    def room(self, key) -> int:
        """Weight rows bank ``key`` can still take."""
        return self.weight_limit[key] - self.used[key]

    def bank_id(self, slice_name: str, bank: int) -> int:
        return self.mem_index[slice_name] * self.banks_per_slice + bank

    def weight_rows(self, key, n: int) -> int:
        """Allocate n consecutive rows in bank ``key``; returns the first address (None if it has no room)."""
        a = self.used[key]
        if a + n > self.weight_limit[key]:
            return None
        self.used[key] = a + n
        return a

    def act_banks(self, side: str):
        return self.act[side]

    def act_free(self, key, t: int, pending: int = 0) -> bool:
        """Can bank ``key`` take one more activation written on cycle t (``pending`` already planned)?"""
        n = sum(1 for _a, after in self.recycled[key] if after < t)
        return n + (self.words - self.act_next[key]) > pending

    def act_address(self, key, t: int | None = None):
        """An activation address in bank ``key`` for a value written on cycle t: a recycled one whose old value
        was last read before t, else a fresh one (None if the bank has none)."""
        if t is not None:
            rec = self.recycled[key]
            for i, (a, after) in enumerate(rec):
                if after < t:
                    rec.pop(i)
                    return a
        a = self.act_next[key]
        if a >= self.words:
            return None
        self.act_next[key] = a + 1
        return a

    def weight_bytes_capacity(self) -> int:
        return sum(self.weight_limit.values()) * self.g.vector_len
