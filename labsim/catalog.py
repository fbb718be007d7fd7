"""Sourced catalog of chips and LLMs, loaded from ``labsim/data/{chips,models}/*.toml``.

One entry per file. Every number in a shipped file is an inline table ``{ value = …, source = "…" }``;
``source`` is a citation string: keys of the bibliography ``labsim/data/sources.toml`` in square brackets plus a
locator (``"[isca20] §II-B Eq. 2"``), or ``[A]`` for an unpublished value. The loader rejects a shipped file whose
source names an unknown key (``labsim.sources.check_citation``); user entries may omit sources.
``chip.sources[field]`` is the raw string, ``chip.citation(field)`` the readable form. A top-level ``notes`` string
records where sources disagree. Design: ``docs/design/catalog.md``.

Model parameter counts are **derived from the architecture fields** (see :meth:`Model.param_breakdown`);
no parameter total is typed into a data file.

Public API (names fixed, see docs/CONVENTIONS.md)::

    chips() -> list[str]; chip(name) -> Chip; models() -> list[str]; model(name) -> Model
    add_chip(path_or_dict) / add_model(path_or_dict)   # register a user's own entry
    load_chip(path_or_dict) / load_model(path_or_dict) # parse and validate without registering
"""
from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np

from . import limits as _L
from .errors import (
    LabsimError,
    UnknownNameError,
    check_array,
    check_bool,
    check_choice,
    check_int,
    check_name,
    check_number,
    check_text,
)
from .precision import PRECISIONS, bytes_per_element
from .sources import check_citation, cite

__all__ = [
    "Chip", "Model", "chips", "chip", "models", "model", "add_chip", "add_model", "load_chip", "load_model",
    "DATA_DIR",
]

DATA_DIR = Path(__file__).resolve().parent / "data"
_USER_SOURCE = "user entry (no source given)"

# ----------------------------------------------------------------------------------------------------------
# Field specifications: name -> (kind, required, default). kinds: "int", "float", "bool", "str".
# ----------------------------------------------------------------------------------------------------------

_CHIP_STR = {
    "name": (True, None), "display_name": (False, None), "vendor": (False, ""), "memory_kind": (True, None),
    "notes": (False, ""), "packaging": (False, "die"),
}
_CHIP_NUM: dict[str, tuple[str, bool]] = {  # name -> (kind, required); absent optional numbers are None
    "memory_bytes": ("float", True),
    "memory_bandwidth_bytes_per_s": ("float", True),
    "clock_hz": ("float", False),
    "power_w": ("float", False),
    "price_usd": ("float", False),
    "chips_per_node": ("int", False),
    "chips_per_rack": ("int", False),
    "sync_domain_chips": ("int", False),
    "link_bandwidth_bytes_per_s": ("float", False),
    "link_latency_s": ("float", False),
    "dies_per_package": ("int", False),
}
#: where the weights live: on-die/on-wafer SRAM, stacked HBM next to the die, or ordinary off-chip DRAM (DDR).
_MEMORY_KINDS = ("sram", "hbm", "dram")
#: what one catalog "chip" is: a die in its own package, a die that only ships inside a multi-die tile
#: (``dies_per_package`` dies per tile), or a whole wafer. See docs/design/catalog.md §1.
_PACKAGINGS = ("die", "tile", "wafer")

#: Upper bound of every number field (docs/contract.md; reasons in labsim/limits.py). Model dimensions not listed
#: here are bounded by ``MAX_MODEL_DIM``; peak ops/s by ``MAX_OPS_PER_S``.
_MAX: dict[str, float] = {
    "memory_bytes": _L.MAX_BYTES, "memory_bandwidth_bytes_per_s": _L.MAX_BYTES_PER_S, "clock_hz": _L.MAX_CLOCK_HZ,
    "power_w": _L.MAX_POWER_W, "price_usd": _L.MAX_USD, "chips_per_node": _L.MAX_CHIPS,
    "chips_per_rack": _L.MAX_CHIPS, "sync_domain_chips": _L.MAX_CHIPS,
    "link_bandwidth_bytes_per_s": _L.MAX_BYTES_PER_S, "link_latency_s": 1.0,
    "num_layers": _L.MAX_LAYERS, "num_heads": _L.MAX_HEADS, "num_kv_heads": _L.MAX_HEADS,
    "max_context_tokens": _L.MAX_TOKENS, "local_window_tokens": _L.MAX_TOKENS, "num_experts": _L.MAX_EXPERTS,
    "experts_per_token": _L.MAX_EXPERTS, "num_shared_experts": _L.MAX_EXPERTS, "num_dense_layers": _L.MAX_LAYERS,
    "moe_layer_step": _L.MAX_LAYERS, "full_attention_period": _L.MAX_LAYERS, "num_mtp_layers": _L.MAX_LAYERS,
}

_MODEL_STR = {"name": (True, None), "display_name": (False, None), "vendor": (False, ""),
              "hf_id": (False, ""), "notes": (False, ""), "qk_norm": (False, "none"),
              "local_attention_kind": (False, "none")}
_QK_NORMS = ("none", "rmsnorm", "l2")
_LOCAL_KINDS = ("none", "sliding", "chunked")
# name -> (kind, required, default)
_MODEL_NUM: dict[str, tuple[str, bool, Any]] = {
    "num_layers": ("int", True, None),
    "hidden_size": ("int", True, None),
    "num_heads": ("int", True, None),
    "num_kv_heads": ("int", True, None),
    "head_dim": ("int", True, None),
    "intermediate_size": ("int", True, None),      # dense-layer FFN width (unused if every layer is MoE)
    "vocab_size": ("int", True, None),
    "tie_word_embeddings": ("bool", True, None),
    "max_context_tokens": ("int", False, 0),
    # MoE
    "num_experts": ("int", False, 0),               # routed experts per MoE layer (0 = dense model)
    "experts_per_token": ("int", False, 0),         # routed experts each token uses
    "num_shared_experts": ("int", False, 0),        # always-on experts per MoE layer
    "moe_intermediate_size": ("int", False, 0),     # FFN width of one routed expert
    "shared_expert_intermediate_size": ("int", False, 0),  # 0 -> same as moe_intermediate_size
    "num_dense_layers": ("int", False, 0),          # first-k layers with a dense FFN (DeepSeek first_k_dense)
    "moe_layer_step": ("int", False, 1),            # after those, layer i is MoE iff (i+1) % step == 0
    "router_bias": ("bool", False, False),          # router Linear has a bias (gpt-oss)
    "router_score_bias": ("bool", False, False),    # per-expert routing-bias vector (DeepSeek noaux_tc)
    # attention
    "attention_bias": ("bool", False, False),       # q/k/v/o biases (gpt-oss)
    "mlp_bias": ("bool", False, False),             # FFN / expert biases (gpt-oss)
    "attention_sinks": ("bool", False, False),      # one learned sink logit per head per layer (gpt-oss)
    "local_window_tokens": ("int", False, 0),       # sliding window / attention chunk size (0 = none)
    "full_attention_period": ("int", False, 1),     # layer i is full attention iff (i+1) % period == 0
    # MLA (DeepSeek-V3 / Kimi K2); kv_lora_rank > 0 switches attention to MLA
    "q_lora_rank": ("int", False, 0),
    "kv_lora_rank": ("int", False, 0),
    "qk_nope_head_dim": ("int", False, 0),
    "qk_rope_head_dim": ("int", False, 0),
    "v_head_dim": ("int", False, 0),
    # excluded from counts, recorded for the notes
    "num_mtp_layers": ("int", False, 0),
}


def _unwrap(where: str, key: str, raw, sources: dict[str, str], *, require_source: bool):
    """Return the value of a field given as ``{value, source}`` or (for user dicts) a bare value."""
    if isinstance(raw, Mapping):
        extra = set(raw) - {"value", "source"}
        if "value" not in raw:
            raise LabsimError(f"{where}: field {key!r} is a table without 'value'; write {key} = "
                              "{ value = …, source = \"…\" }")
        if extra:
            raise LabsimError(f"{where}: field {key!r} has unknown keys {sorted(extra)}; allowed: value, source")
        src = raw.get("source", "")
        if not isinstance(src, str) or (require_source and not src.strip()):
            raise LabsimError(f"{where}: field {key!r} needs a non-empty source string, got {src!r}")
        if require_source:   # shipped files cite the bibliography; an unknown key is an error
            check_citation(f"{where}: field {key!r}", src)
        sources[key] = src.strip() or _USER_SOURCE
        return raw["value"]
    if require_source:
        raise LabsimError(f"{where}: field {key!r} = {raw!r} has no source; write {key} = "
                          "{ value = …, source = \"…\" }")
    sources[key] = _USER_SOURCE
    return raw


def _coerce(where: str, key: str, kind: str, v, *, allow_zero: bool):
    label = f"{where}: {key}"
    if kind == "bool":
        if not isinstance(v, bool):
            raise LabsimError(f"{label} must be true or false, got {v!r}")
        return v
    if kind == "str":
        return check_text(label, v, max_chars=20_000)
    field = key.split(".", 1)[0]
    hi = _L.MAX_OPS_PER_S if field == "peak_ops_per_s" else _MAX.get(key, _L.MAX_MODEL_DIM if kind == "int" else None)
    if kind == "int":
        if isinstance(v, (float, np.floating)) and np.isfinite(v) and not float(v).is_integer():
            raise LabsimError(f"{label} must be an integer, got {v!r}")
        return check_int(label, v, lo=0 if allow_zero else 1, hi=int(hi))
    return check_number(label, v, lo=0.0, lo_open=not allow_zero, hi=hi)


def _read(path_or_dict, what: str) -> tuple[dict, str]:
    if isinstance(path_or_dict, Mapping):
        name = path_or_dict.get("name", "?")
        shown = repr(name) if isinstance(name, str) and len(name) <= 80 else "(unnamed)"
        for k in path_or_dict:
            if not isinstance(k, str):
                raise LabsimError(f"{what} dict {shown}: field names must be strings, got {k!r}")
        return dict(path_or_dict), f"{what} dict {shown}"
    if isinstance(path_or_dict, (str, Path)):
        if isinstance(path_or_dict, str):
            check_text("path_or_dict", path_or_dict, allow_empty=False, max_chars=4096)
        p = Path(path_or_dict).expanduser()
        try:
            if not p.is_file():
                raise LabsimError(f"path_or_dict: {what} file {str(p)!r} not found; give a .toml path or a dict")
            with p.open("rb") as fh:
                return tomllib.load(fh), str(p)
        except tomllib.TOMLDecodeError as exc:
            raise LabsimError(f"{what} file {str(p)!r} is not valid TOML: {exc}") from None
        except UnicodeDecodeError as exc:
            raise LabsimError(f"{what} file {str(p)!r} is not UTF-8 text (TOML files are UTF-8): byte "
                              f"{exc.object[exc.start:exc.start + 1]!r} at position {exc.start}") from None
        except OSError as exc:
            raise LabsimError(f"cannot read {what} file {str(p)!r}: {exc.strerror or exc}") from None
    raise LabsimError(f"path_or_dict must be a path to a .toml file or a dict ({what} entry), "
                      f"got {type(path_or_dict).__name__}")


def _unknown_key_error(where: str, key: str, allowed) -> LabsimError:
    close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return LabsimError(f"{where}: unknown field {key!r}{hint}; put extra sourced numbers under [extra]")


def _parse_extra(where: str, raw, sources: dict[str, str], require_source: bool, cls) -> dict[str, Any]:
    """[extra] numbers; each reads as an attribute and its source is ``sources[name]``."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise LabsimError(f"{where}: [extra] must be a table, got {raw!r}")
    taken = {f.name for f in fields(cls)} | set(dir(cls))
    out = {}
    for k, r in raw.items():
        if k in taken:
            raise LabsimError(f"{where}: extra.{k} clashes with the standard attribute {k!r}; rename it")
        v = _unwrap(where, k, r, sources, require_source=require_source)
        if isinstance(v, bool) or not isinstance(v, (int, float, str)):
            raise LabsimError(f"{where}: extra.{k} must be a number or string, got {v!r}")
        out[k] = v
    return out


class _Frozen:
    """Mixin: wrap mapping fields read-only after init; extras read as attributes; picklable."""

    _MAPPINGS: tuple[str, ...] = ()

    def __post_init__(self):
        for f in self._MAPPINGS:
            v = getattr(self, f)
            if not isinstance(v, MappingProxyType):
                object.__setattr__(self, f, MappingProxyType(dict(v)))

    def citation(self, field_name: str) -> str:
        """The source of ``field_name`` (a key of ``sources``, e.g. ``"memory_bytes"`` or
        ``"peak_ops_per_s.int8"``) made readable: bibliography keys become author/venue/year
        (``labsim.sources.cite``)."""
        srcs = object.__getattribute__(self, "sources")
        if field_name not in srcs:
            raise UnknownNameError(f"{type(self).__name__.lower()} {self.name!r} has no source for "
                                   f"field_name={field_name!r}; fields with a source: {', '.join(sorted(srcs))}")
        return cite(srcs[field_name])

    def __getattr__(self, item):  # only called for attributes not found normally
        try:
            extra = object.__getattribute__(self, "extra")
        except AttributeError:
            raise AttributeError(item) from None
        if item in extra:
            return extra[item]
        raise AttributeError(f"{type(self).__name__} {object.__getattribute__(self, 'name')!r} "
                             f"has no attribute {item!r}")

    def __reduce__(self):
        kw = {f.name: (dict(v) if isinstance(v := getattr(self, f.name), MappingProxyType) else v)
              for f in fields(self)}
        return (_rebuild, (type(self), kw))


def _rebuild(cls, kw):
    return cls(**kw)

# ----------------------------------------------------------------------------------------------------------
# Chip
# ----------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Chip(_Frozen):
    """One accelerator. Bandwidths in bytes/s; ``peak_ops_per_s`` = dense ops/s per precision name.

    ``link_bandwidth_bytes_per_s`` is the chip's total scale-up (chip-to-chip) bandwidth **per direction**;
    ``link_latency_s`` the latency of one hop. Optional numbers are ``None`` where no source publishes them.
    ``memory_kind``: ``"sram"`` (weights on the die or wafer), ``"hbm"`` (stacked DRAM beside the die) or
    ``"dram"`` (ordinary off-chip DDR, e.g. TPU v1's weight memory). ``packaging``: ``"die"`` (default),
    ``"tile"`` (a die sold only inside a tile of ``dies_per_package`` dies, e.g. Dojo D1) or ``"wafer"``
    (one chip = one wafer, e.g. Cerebras WSE-3); every per-chip number then refers to that die or wafer.
    Extra sourced numbers (e.g. ``memory_bytes_geometry``) live in ``extra`` and read as attributes.
    """

    name: str
    display_name: str
    vendor: str
    memory_kind: str
    memory_bytes: float
    memory_bandwidth_bytes_per_s: float
    peak_ops_per_s: Mapping[str, float] = field(hash=False)
    clock_hz: float | None = None
    power_w: float | None = None
    price_usd: float | None = None
    chips_per_node: int | None = None
    chips_per_rack: int | None = None
    sync_domain_chips: int | None = None
    link_bandwidth_bytes_per_s: float | None = None
    link_latency_s: float | None = None
    packaging: str = "die"
    dies_per_package: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False, repr=False)
    sources: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False, repr=False)
    notes: str = field(default="", compare=False, repr=False)
    origin: str = field(default="", compare=False, repr=False)

    _MAPPINGS = ("peak_ops_per_s", "extra", "sources")

    @property
    def dies_per_unit(self) -> int:
        """Dies in the smallest unit that can be bought or replaced: ``dies_per_package`` for a tile, else 1."""
        return self.dies_per_package if self.packaging == "tile" and self.dies_per_package else 1

    def peak_ops(self, precision: str) -> float:
        """Dense peak ops/s at ``precision``; the error lists the precisions this chip publishes."""
        check_choice("precision", precision, PRECISIONS, what="precision")
        if precision not in self.peak_ops_per_s:
            have = ", ".join(sorted(self.peak_ops_per_s)) or "none"
            raise LabsimError(f"chip {self.name!r} publishes no dense peak for precision={precision!r}; "
                              f"available: {have}")
        return self.peak_ops_per_s[precision]


def load_chip(path_or_dict) -> Chip:
    """Parse and validate one chip entry (TOML path or dict) without registering it."""
    raw, where = _read(path_or_dict, "chip")
    from_file = not isinstance(path_or_dict, Mapping)
    require_source = from_file and _is_builtin_path(path_or_dict)
    sources: dict[str, str] = {}
    allowed = set(_CHIP_STR) | set(_CHIP_NUM) | {"peak_ops_per_s", "extra"}
    for k in raw:
        if k not in allowed:
            raise _unknown_key_error(where, k, allowed)
    kw: dict[str, Any] = {}
    for k, (req, default) in _CHIP_STR.items():
        if k not in raw:
            if req:
                raise LabsimError(f"{where}: missing field {k!r}")
            kw[k] = default
            continue
        kw[k] = _coerce(where, k, "str", _unwrap(where, k, raw[k], {}, require_source=False), allow_zero=True)
    check_name(f"{where}: name", kw["name"])
    kw["display_name"] = kw["display_name"] or kw["name"]
    kw["memory_kind"] = check_choice(f"{where}: memory_kind", kw["memory_kind"], _MEMORY_KINDS,
                                     what="memory kind")
    kw["packaging"] = check_choice(f"{where}: packaging", kw["packaging"], _PACKAGINGS, what="packaging")
    for k, (kind, req) in _CHIP_NUM.items():
        if k not in raw:
            if req:
                raise LabsimError(f"{where}: missing field {k!r}")
            kw[k] = None
            continue
        v = _unwrap(where, k, raw[k], sources, require_source=require_source)
        kw[k] = _coerce(where, k, kind, v, allow_zero=False)
    if kw["chips_per_node"] and kw["chips_per_rack"] and kw["chips_per_rack"] < kw["chips_per_node"]:
        raise LabsimError(f"{where}: chips_per_rack = {kw['chips_per_rack']} is smaller than chips_per_node = "
                          f"{kw['chips_per_node']}; allowed: chips_per_rack ≥ chips_per_node")
    if kw["packaging"] == "tile" and not kw["dies_per_package"]:
        raise LabsimError(f"{where}: packaging = 'tile' needs dies_per_package (dies per tile, ≥ 1)")
    if kw["packaging"] != "tile" and kw["dies_per_package"] not in (None, 1):
        raise LabsimError(f"{where}: dies_per_package = {kw['dies_per_package']} is only meaningful with "
                          f"packaging = 'tile' (got packaging = {kw['packaging']!r})")
    peaks_raw = raw.get("peak_ops_per_s", {})
    if not isinstance(peaks_raw, Mapping):
        raise LabsimError(f"{where}: peak_ops_per_s must be a table precision -> {{value, source}}")
    peaks: dict[str, float] = {}
    for p, r in peaks_raw.items():
        check_choice(f"{where}: peak_ops_per_s key", p, PRECISIONS, what="precision")
        v = _unwrap(where, f"peak_ops_per_s.{p}", r, sources, require_source=require_source)
        peaks[p] = _coerce(where, f"peak_ops_per_s.{p}", "float", v, allow_zero=False)
    kw["peak_ops_per_s"] = MappingProxyType(peaks)
    kw["extra"] = MappingProxyType(_parse_extra(where, raw.get("extra"), sources, require_source, Chip))
    kw["sources"] = MappingProxyType(sources)
    kw["origin"] = where
    return Chip(**kw)


# ----------------------------------------------------------------------------------------------------------
# Model
# ----------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Model(_Frozen):
    """An LLM's architecture (Hugging Face config fields, renamed with units-free names).

    All parameter counts are derived by :meth:`param_breakdown` from these fields. Layer pattern:
    layer ``i`` has a MoE FFN iff ``num_experts > 0``, ``i >= num_dense_layers`` and
    ``(i + 1) % moe_layer_step == 0``; otherwise a dense FFN of width ``intermediate_size``.
    Attention: layer ``i`` is full attention iff ``local_window_tokens == 0`` or
    ``(i + 1) % full_attention_period == 0``; other layers attend to at most ``local_window_tokens``.
    """

    name: str
    display_name: str
    vendor: str
    hf_id: str
    num_layers: int
    hidden_size: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    intermediate_size: int
    vocab_size: int
    tie_word_embeddings: bool
    max_context_tokens: int = 0
    num_experts: int = 0
    experts_per_token: int = 0
    num_shared_experts: int = 0
    moe_intermediate_size: int = 0
    shared_expert_intermediate_size: int = 0
    num_dense_layers: int = 0
    moe_layer_step: int = 1
    router_bias: bool = False
    router_score_bias: bool = False
    attention_bias: bool = False
    mlp_bias: bool = False
    attention_sinks: bool = False
    qk_norm: str = "none"
    local_attention_kind: str = "none"
    local_window_tokens: int = 0
    full_attention_period: int = 1
    q_lora_rank: int = 0
    kv_lora_rank: int = 0
    qk_nope_head_dim: int = 0
    qk_rope_head_dim: int = 0
    v_head_dim: int = 0
    num_mtp_layers: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False, repr=False)
    sources: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False, repr=False)
    notes: str = field(default="", compare=False, repr=False)
    origin: str = field(default="", compare=False, repr=False)

    _MAPPINGS = ("extra", "sources")

    # ---- structure ------------------------------------------------------------------------------------
    @property
    def is_moe(self) -> bool:
        return self.num_experts > 0

    @property
    def is_mla(self) -> bool:
        return self.kv_lora_rank > 0

    def is_moe_layer(self, i: int) -> bool:
        i = check_int("i", i, lo=0, hi=self.num_layers - 1)
        return self.is_moe and i >= self.num_dense_layers and (i + 1) % self.moe_layer_step == 0

    @property
    def num_moe_layers(self) -> int:
        """Layers i ≥ num_dense_layers with (i + 1) divisible by moe_layer_step (closed form, O(1))."""
        if not self.is_moe:
            return 0
        s = self.moe_layer_step
        return max(0, self.num_layers // s - self.num_dense_layers // s)

    @property
    def num_dense_ffn_layers(self) -> int:
        return self.num_layers - self.num_moe_layers

    def is_full_attention_layer(self, i: int) -> bool:
        i = check_int("i", i, lo=0, hi=self.num_layers - 1)
        return self.local_window_tokens == 0 or (i + 1) % self.full_attention_period == 0

    @property
    def num_full_attention_layers(self) -> int:
        """Layers with (i + 1) divisible by full_attention_period, or all of them without a local window (O(1))."""
        if self.local_window_tokens == 0:
            return self.num_layers
        return self.num_layers // self.full_attention_period

    @property
    def num_local_attention_layers(self) -> int:
        return self.num_layers - self.num_full_attention_layers

    @property
    def _shared_ff(self) -> int:
        return self.shared_expert_intermediate_size or self.moe_intermediate_size

    @property
    def _qk_head_dim(self) -> int:
        return self.qk_nope_head_dim + self.qk_rope_head_dim if self.is_mla else self.head_dim

    @property
    def _v_head_dim(self) -> int:
        return self.v_head_dim if self.is_mla else self.head_dim

    # ---- per-layer pieces (weights = matmul matrices; biases/norms counted apart) -------------------------
    def _attn_matmul(self) -> int:
        d, H = self.hidden_size, self.num_heads
        if self.is_mla:
            qk = self.qk_nope_head_dim + self.qk_rope_head_dim
            q = (d * self.q_lora_rank + self.q_lora_rank * H * qk) if self.q_lora_rank else d * H * qk
            kv = d * (self.kv_lora_rank + self.qk_rope_head_dim) \
                + self.kv_lora_rank * H * (self.qk_nope_head_dim + self.v_head_dim)
            o = H * self.v_head_dim * d
            return q + kv + o
        hd, kv_h = self.head_dim, self.num_kv_heads
        return d * H * hd + 2 * d * kv_h * hd + H * hd * d

    def _attn_other(self) -> int:
        """Attention biases and sink logits (not matmul weights)."""
        n = 0
        if self.attention_bias:
            n += self.num_heads * self.head_dim + 2 * self.num_kv_heads * self.head_dim + self.hidden_size
        if self.attention_sinks:
            n += self.num_heads
        return n

    def _layer_norms(self) -> int:
        n = 2 * self.hidden_size  # pre-attention and pre-FFN RMSNorm
        if self.qk_norm == "rmsnorm":
            n += 2 * self.head_dim
        if self.is_mla:
            n += self.kv_lora_rank + (self.q_lora_rank or 0)
        return n

    @staticmethod
    def _ffn(d: int, ff: int, bias: bool) -> tuple[int, int]:
        """(matmul weights, biases) of one SwiGLU FFN: gate, up (d×ff each) and down (ff×d)."""
        return 3 * d * ff, (2 * ff + d) if bias else 0

    # ---- public counts --------------------------------------------------------------------------------
    def param_breakdown(self) -> dict[str, int]:
        """Parameters by component (see :func:`_param_breakdown`); computed once per model."""
        return dict(_param_breakdown(self))

    def _param_breakdown_uncached(self) -> dict[str, int]:
        """Parameters by component, derived from the architecture fields.

        Keys: ``embedding``, ``lm_head`` (0 if tied), ``attention`` (q/k/v/o or MLA projections, biases,
        sinks), ``dense_mlp``, ``routed_experts``, ``shared_experts``, ``router`` (gate matrix + biases),
        ``norms`` (RMSNorm weights incl. q/k-norm and MLA latent norms, final norm), ``total``.
        SwiGLU FFNs (3 matrices) throughout; MTP layers are excluded (see ``num_mtp_layers``).
        """
        d, L = self.hidden_size, self.num_layers
        n_moe = self.num_moe_layers
        n_dense = L - n_moe
        emb = self.vocab_size * d
        dense_w, dense_b = self._ffn(d, self.intermediate_size, self.mlp_bias)
        exp_w, exp_b = self._ffn(d, self.moe_intermediate_size, self.mlp_bias)
        sh_w, sh_b = self._ffn(d, self._shared_ff, False)
        router = d * self.num_experts + (self.num_experts if self.router_bias else 0) \
            + (self.num_experts if self.router_score_bias else 0)
        out = {
            "embedding": emb,
            "lm_head": 0 if self.tie_word_embeddings else emb,
            "attention": L * (self._attn_matmul() + self._attn_other()),
            "dense_mlp": n_dense * (dense_w + dense_b),
            "routed_experts": n_moe * self.num_experts * (exp_w + exp_b),
            "shared_experts": n_moe * self.num_shared_experts * (sh_w + sh_b),
            "router": n_moe * router,
            "norms": L * self._layer_norms() + d,
        }
        out["total"] = sum(out.values())
        return out

    def params_total(self) -> int:
        """All parameters (embedding + layers + head; MTP layers excluded). Derived, never typed in."""
        return self.param_breakdown()["total"]

    def params_active(self, *, include_embedding: bool = True) -> int:
        """Parameters one token touches: everything except the routed experts it does not use.

        = total − (num_experts − experts_per_token) × (one routed expert) × MoE layers; for a dense model
        = total. Embedding and lm_head are included by default (the convention of Mixtral's 12.9B and Llama 4's
        17B); ``include_embedding=False`` drops the input embedding table (OpenAI's convention for gpt-oss:
        5.1B / 3.6B active). Shared experts and dense-FFN layers always count.
        """
        check_bool("include_embedding", include_embedding)
        idle = 0
        if self.is_moe:
            exp_w, exp_b = self._ffn(self.hidden_size, self.moe_intermediate_size, self.mlp_bias)
            idle = (self.num_experts - self.experts_per_token) * (exp_w + exp_b) * self.num_moe_layers
        emb = 0 if include_embedding or self.tie_word_embeddings else self.vocab_size * self.hidden_size
        return self.params_total() - idle - emb

    def _expert_matmul_params(self) -> int:
        """Matmul weights of all routed + shared experts (the part ``expert_precision`` applies to)."""
        d = self.hidden_size
        return self.num_moe_layers * (self.num_experts * 3 * d * self.moe_intermediate_size
                                      + self.num_shared_experts * 3 * d * self._shared_ff)

    def weight_bytes(self, precision: str, expert_precision: str | None = None) -> float:
        """Bytes to store all weights.

        Everything is stored at ``precision`` except, if ``expert_precision`` is given, the routed and
        shared expert matrices (e.g. gpt-oss ships experts in ``"mxfp4"``, the rest in bf16; Groq's report says
        MoE weights use block floating point, ``"bfp8"``). Block formats include their shared-exponent overhead.
        """
        b = bytes_per_element(precision)
        total = self.params_total()
        if expert_precision is None:
            return total * b
        be = bytes_per_element(expert_precision)
        ex = self._expert_matmul_params()
        return (total - ex) * b + ex * be

    def _kv_elems_per_token_per_layer(self) -> int:
        if self.is_mla:
            return self.kv_lora_rank + self.qk_rope_head_dim
        return 2 * self.num_kv_heads * self.head_dim

    def kv_cache_bytes_per_token(self, precision: str = "bf16") -> float:
        """KV-cache bytes per token summed over **all** layers (window caps ignored; see kv_cache_bytes).

        GQA/MHA: 2 · num_kv_heads · head_dim per layer; MLA: kv_lora_rank + qk_rope_head_dim per layer
        (the compressed latent that absorbed-MLA kernels cache). × bytes per element.
        """
        return self.num_layers * self._kv_elems_per_token_per_layer() * bytes_per_element(precision)

    def kv_cache_bytes(self, context_tokens, precision: str = "bf16", batch=1, *, cap_local: bool = True):
        """KV-cache bytes for ``batch`` sequences of ``context_tokens`` each (scalar or array).

        Full-attention layers keep every token; local layers (gpt-oss sliding window 128, Llama 4 chunked
        attention 8192) keep min(context, window) tokens when ``cap_local`` (the runtime must exploit it).
        """
        ctx = check_array("context_tokens", context_tokens, lo=0, hi=_L.MAX_TOKENS)
        batch = check_array("batch", batch, lo=0, hi=_L.MAX_BATCH)
        check_bool("cap_local", cap_local)
        per_layer = self._kv_elems_per_token_per_layer() * bytes_per_element(precision)
        full = self.num_full_attention_layers if cap_local else self.num_layers
        local = self.num_layers - full
        tokens = full * ctx + local * np.minimum(ctx, self.local_window_tokens)
        out = batch * per_layer * tokens
        return float(out) if out.ndim == 0 else out

    def _matmul_params_active(self) -> int:
        """Matmul weights a token multiplies: attention projections, dense FFNs, k routed + shared experts,
        router, and lm_head (vocab × hidden, also when tied). Embedding lookup, biases and norms excluded."""
        d = self.hidden_size
        n_moe = self.num_moe_layers
        per_moe = (self.experts_per_token * 3 * d * self.moe_intermediate_size
                   + self.num_shared_experts * 3 * d * self._shared_ff + d * self.num_experts)
        return (self.num_layers * self._attn_matmul()
                + (self.num_layers - n_moe) * 3 * d * self.intermediate_size
                + n_moe * per_moe + self.vocab_size * d)

    def flops_per_token(self, context_tokens):
        """FLOPs to produce one token with ``context_tokens`` tokens in context (scalar or array).

        F = 2·P_mm + Σ_layers 2·n_ℓ·H·(d_qk + d_v), where P_mm = active matmul parameters (attention
        projections, dense FFN, routed experts_per_token + shared experts, router, lm_head; not the embedding
        lookup), n_ℓ = context for full-attention layers and min(context, window) for local layers,
        d_qk/d_v = head_dim (GQA) or qk_nope+qk_rope / v_head_dim (MLA, non-absorbed form). One multiply-add
        = 2 FLOPs; softmax, norms and activations are ignored.
        """
        ctx = check_array("context_tokens", context_tokens, lo=0, hi=_L.MAX_TOKENS)
        attended = (self.num_full_attention_layers * ctx
                    + self.num_local_attention_layers * np.minimum(ctx, self.local_window_tokens))
        attn = 2.0 * attended * self.num_heads * (self._qk_head_dim + self._v_head_dim)
        out = 2.0 * self._matmul_params_active() + attn
        return float(out) if np.ndim(out) == 0 else out


@lru_cache(maxsize=1024)
def _param_breakdown(m: Model) -> Mapping[str, int]:
    """Cached :meth:`Model.param_breakdown` (models are frozen, so the cache cannot go stale)."""
    return MappingProxyType(m._param_breakdown_uncached())


def load_model(path_or_dict) -> Model:
    """Parse and validate one model entry (TOML path or dict) without registering it."""
    raw, where = _read(path_or_dict, "model")
    from_file = not isinstance(path_or_dict, Mapping)
    require_source = from_file and _is_builtin_path(path_or_dict)
    sources: dict[str, str] = {}
    allowed = set(_MODEL_STR) | set(_MODEL_NUM) | {"extra"}
    for k in raw:
        if k not in allowed:
            raise _unknown_key_error(where, k, allowed)
    kw: dict[str, Any] = {}
    for k, (req, default) in _MODEL_STR.items():
        if k not in raw:
            if req:
                raise LabsimError(f"{where}: missing field {k!r}")
            kw[k] = default
            continue
        kw[k] = _coerce(where, k, "str", _unwrap(where, k, raw[k], sources if k in ("qk_norm",
                        "local_attention_kind") else {}, require_source=False), allow_zero=True)
    check_name(f"{where}: name", kw["name"])
    kw["display_name"] = kw["display_name"] or kw["name"]
    kw["qk_norm"] = check_choice(f"{where}: qk_norm", kw["qk_norm"], _QK_NORMS, what="option")
    kw["local_attention_kind"] = check_choice(f"{where}: local_attention_kind", kw["local_attention_kind"],
                                              _LOCAL_KINDS, what="option")
    positive = {"num_layers", "hidden_size", "num_heads", "num_kv_heads", "head_dim", "vocab_size",
                "moe_layer_step", "full_attention_period"}
    for k, (kind, req, default) in _MODEL_NUM.items():
        if k not in raw:
            if req:
                raise LabsimError(f"{where}: missing field {k!r}")
            kw[k] = default
            continue
        v = _unwrap(where, k, raw[k], sources, require_source=require_source)
        kw[k] = _coerce(where, k, kind, v, allow_zero=k not in positive)
    # cross-field checks
    if kw["num_experts"]:
        for k in ("experts_per_token", "moe_intermediate_size"):
            if kw[k] <= 0:
                raise LabsimError(f"{where}: {k} = {kw[k]} must be > 0 for a MoE model (num_experts = "
                                  f"{kw['num_experts']})")
        if kw["experts_per_token"] > kw["num_experts"]:
            raise LabsimError(f"{where}: experts_per_token = {kw['experts_per_token']} exceeds num_experts = "
                              f"{kw['num_experts']}")
    elif kw["experts_per_token"] or kw["num_shared_experts"]:
        raise LabsimError(f"{where}: experts_per_token/num_shared_experts set but num_experts = 0")
    if kw["num_dense_layers"] > kw["num_layers"]:
        raise LabsimError(f"{where}: num_dense_layers = {kw['num_dense_layers']} exceeds num_layers = "
                          f"{kw['num_layers']}")
    if kw["num_heads"] % kw["num_kv_heads"]:
        raise LabsimError(f"{where}: num_heads = {kw['num_heads']} is not a multiple of num_kv_heads = "
                          f"{kw['num_kv_heads']}")
    if kw["kv_lora_rank"] and not (kw["qk_rope_head_dim"] and kw["qk_nope_head_dim"] and kw["v_head_dim"]):
        raise LabsimError(f"{where}: MLA (kv_lora_rank > 0) needs qk_nope_head_dim, qk_rope_head_dim and "
                          "v_head_dim > 0")
    if (kw["local_window_tokens"] > 0) != (kw["local_attention_kind"] != "none"):
        raise LabsimError(f"{where}: local_window_tokens = {kw['local_window_tokens']} and "
                          f"local_attention_kind = {kw['local_attention_kind']!r} disagree "
                          "(both set or neither)")
    dense_layers_needed = kw["num_experts"] == 0 or kw["num_dense_layers"] > 0 or kw["moe_layer_step"] > 1
    if dense_layers_needed and kw["intermediate_size"] <= 0:
        raise LabsimError(f"{where}: intermediate_size = {kw['intermediate_size']} must be > 0 "
                          "(the model has dense FFN layers)")
    kw["extra"] = MappingProxyType(_parse_extra(where, raw.get("extra"), sources, require_source, Model))
    kw["sources"] = MappingProxyType(sources)
    kw["origin"] = where
    return Model(**kw)


# ----------------------------------------------------------------------------------------------------------
# Registry (built-ins loaded lazily and cached; user entries added on top)
# ----------------------------------------------------------------------------------------------------------

def _is_builtin_path(p) -> bool:
    try:
        return Path(p).resolve().is_relative_to(DATA_DIR)
    except (OSError, ValueError):
        return False


def _load_dir(sub: str, loader) -> dict:
    out = {}
    for p in sorted((DATA_DIR / sub).glob("*.toml")):
        entry = loader(p)
        if entry.name != p.stem:
            raise LabsimError(f"{p}: name = {entry.name!r} must equal the file name {p.stem!r}")
        out[entry.name] = entry
    return out


@lru_cache(maxsize=None)
def _builtin_chips() -> Mapping[str, Chip]:
    return MappingProxyType(_load_dir("chips", load_chip))


@lru_cache(maxsize=None)
def _builtin_models() -> Mapping[str, Model]:
    return MappingProxyType(_load_dir("models", load_model))


_USER_CHIPS: dict[str, Chip] = {}
_USER_MODELS: dict[str, Model] = {}


def chips() -> list[str]:
    """Sorted names of all chips (built-in and user-added)."""
    return sorted({**_builtin_chips(), **_USER_CHIPS})


def models() -> list[str]:
    """Sorted names of all models (built-in and user-added)."""
    return sorted({**_builtin_models(), **_USER_MODELS})


def _lookup(what: str, name, table: Mapping):
    """check_choice, but a name that is the unique prefix of a valid one suggests that one.

    (difflib alone would answer "nvidia-h100" with "did you mean 'nvidia-h200'?".)
    """
    if not isinstance(name, str):
        check_choice("name", name, table, what=what)   # raises, listing the valid names
    if name not in table:
        starts = [k for k in table if k.startswith(name.lower())]
        if len(starts) == 1:
            raise UnknownNameError(f"unknown {what} name={name!r}; valid: {', '.join(sorted(table))} "
                                   f"(did you mean {starts[0]!r}?)")
    return table[check_choice("name", name, table, what=what)]


def chip(name: str) -> Chip:
    """Look up a chip by name; an unknown name raises UnknownNameError listing the valid ones."""
    return _lookup("chip", name, {**_builtin_chips(), **_USER_CHIPS})


def model(name: str) -> Model:
    """Look up a model by name; an unknown name raises UnknownNameError listing the valid ones."""
    return _lookup("model", name, {**_builtin_models(), **_USER_MODELS})


def add_chip(path_or_dict, *, replace: bool = False) -> Chip:
    """Validate and register a user's chip (TOML path or dict; bare numbers allowed, source optional).

    A name that already exists raises LabsimError unless ``replace=True``. Returns the Chip.
    """
    check_bool("replace", replace)
    c = load_chip(path_or_dict)
    if not replace and (c.name in _builtin_chips() or c.name in _USER_CHIPS):
        raise LabsimError(f"chip name {c.name!r} already exists; choose another name or pass replace=True")
    _USER_CHIPS[c.name] = c
    return c


def add_model(path_or_dict, *, replace: bool = False) -> Model:
    """Validate and register a user's model (TOML path or dict; bare numbers allowed, source optional).

    A name that already exists raises LabsimError unless ``replace=True``. Returns the Model.
    """
    check_bool("replace", replace)
    m = load_model(path_or_dict)
    if not replace and (m.name in _builtin_models() or m.name in _USER_MODELS):
        raise LabsimError(f"model name {m.name!r} already exists; choose another name or pass replace=True")
    _USER_MODELS[m.name] = m
    return m


def _remove_user_entries() -> None:
    """Forget every user-added chip and model (for tests)."""
    _USER_CHIPS.clear()
    _USER_MODELS.clear()

