"""The catalog's schema machinery: number bounds, ``{value, source}`` fields, reading TOML or dicts, [extra]
numbers, and the read-only, picklable base of Chip and Model."""
from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from .. import limits as _L
from ..errors import (
    LabsimError,
    UnknownNameError,
    check_int,
    check_number,
    check_text,
)
from ..sources import check_citation, cite

_USER_SOURCE = "user entry (no source given)"

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
