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

This module holds the registry (built-in entries loaded once from ``DATA_DIR``, user entries on top) and the two
loaders; the parts live beside it: ``schema`` (bounds, ``{value, source}`` fields, reading TOML or dicts),
``chip_entry`` (:class:`Chip` and its parser), ``model_entry`` (:class:`Model`, derived counts, and its parser).
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from .. import _memo
from ..errors import LabsimError, UnknownNameError, check_bool, check_choice
from .chip_entry import Chip, parse_chip
from .model_entry import Model, parse_model
from .schema import _read

__all__ = [
    "Chip", "Model", "chips", "chip", "models", "model", "add_chip", "add_model", "load_chip", "load_model",
    "DATA_DIR",
]

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def load_chip(path_or_dict) -> Chip:
    """Parse and validate one chip entry (TOML path or dict) without registering it."""
    raw, where = _read(path_or_dict, "chip")
    return parse_chip(raw, where, require_source=_from_builtin_file(path_or_dict))


def load_model(path_or_dict) -> Model:
    """Parse and validate one model entry (TOML path or dict) without registering it."""
    raw, where = _read(path_or_dict, "model")
    return parse_model(raw, where, require_source=_from_builtin_file(path_or_dict))


def _from_builtin_file(path_or_dict) -> bool:
    """A file inside the shipped data folder (``DATA_DIR``) must cite a source for every number."""
    return not isinstance(path_or_dict, Mapping) and _is_builtin_path(path_or_dict)


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


@_memo.memo(1, group="catalog")
def _builtin_chips() -> Mapping[str, Chip]:
    return MappingProxyType(_load_dir("chips", load_chip))


@_memo.memo(1, group="catalog")
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
