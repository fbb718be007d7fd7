"""Sourced data of chapter 5: human response-time thresholds, serving-platform archetypes and the stages of a
voice turn (``labsim/data/latency/*.toml``, each entry with its source)."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..errors import check_choice

__all__ = ["Threshold", "thresholds", "threshold_s", "Platform", "platforms", "platform", "voice_stages"]

_DATA = Path(__file__).resolve().parent.parent / "data" / "latency"


@dataclass(frozen=True)
class Threshold:
    name: str
    seconds: float
    label: str
    source: str
    tag: str


@cache
def _load(name: str) -> dict:
    with open(_DATA / name, "rb") as fh:
        return tomllib.load(fh)


def thresholds() -> dict[str, Threshold]:
    """Human response-time thresholds (``data/latency/thresholds.toml``), shortest first, each with its source."""
    rows = [Threshold(k, float(v["seconds"]), v["label"], v["source"], v["tag"])
            for k, v in _load("thresholds.toml").items()]
    return {t.name: t for t in sorted(rows, key=lambda t: t.seconds)}


def threshold_s(name: str) -> float:
    """Seconds of one named threshold, e.g. ``threshold_s("voice_turn") -> 0.5``."""
    table = thresholds()
    return table[check_choice("name", name, table, what="threshold")].seconds


@dataclass(frozen=True)
class Platform:
    """A serving-platform archetype for the LLM part of a step (``data/latency/platforms.toml``; all [A] modeling
    choices)."""
    name: str
    display_name: str
    ttft_p50_s: float
    ttft_sigma: float
    decode_sigma: float
    p_stall: float
    stall_lo_s: float
    stall_hi_s: float
    source: str


def platforms() -> dict[str, Platform]:
    """Platform archetypes from ``data/latency/platforms.toml``."""
    return {k: Platform(name=k, **v) for k, v in _load("platforms.toml").items()}


def platform(name: str) -> Platform:
    """One platform archetype by name."""
    return _platform(name, "name")


def _platform(name, param: str) -> Platform:
    """``platform`` with the caller's parameter name in the error message."""
    table = platforms()
    return table[check_choice(param, name, table, what="platform")]


def voice_stages() -> list[dict]:
    """The stages of one cascaded voice turn (``data/latency/voice_turn.toml``), in order."""
    return [dict(s) for s in _load("voice_turn.toml")["stage"]]
