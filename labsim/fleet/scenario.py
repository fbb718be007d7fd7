"""Scenario files (``labsim/data/fleet/*.toml``): list and load them; every number needs a source."""
from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from .. import _memo, latency, tco
from ..errors import (
    LabsimError,
    check_choice,
    check_text,
)
from .workload import SLO, Scenario, Workload

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "fleet"


_WL_NUMERIC = ("arrival_rate_per_s", "prompt_tokens", "output_tokens", "steps", "tool_s", "network_s",
               "output_tokens_cv", "context_tokens", "active_hours_per_day")


#: old scenario names (British spelling), still accepted by :func:`load_scenario`
SCENARIO_ALIASES = {"batch_summarisation": "batch_summarization"}


def scenarios() -> list[str]:
    """Names of the bundled scenario files (``labsim/data/fleet/*.toml``)."""
    return sorted(p.stem for p in DATA_DIR.glob("*.toml"))


def load_scenario(name_or_path) -> Scenario:
    """Load a scenario TOML (a bundled name or a path). Every number needs a source (``[A]`` for assumptions):
    ``sources.<field>`` per workload and ``source`` per SLO; a missing source raises LabsimError. An old bundled
    name (:data:`SCENARIO_ALIASES`, e.g. ``"batch_summarisation"``) loads the renamed file."""
    if isinstance(name_or_path, (str, Path)) and str(name_or_path).endswith(".toml"):
        if isinstance(name_or_path, str):
            check_text("name_or_path", name_or_path, allow_empty=False, max_chars=4096)
        path = Path(name_or_path)
    else:
        if isinstance(name_or_path, str):
            name_or_path = SCENARIO_ALIASES.get(name_or_path, name_or_path)
        path = DATA_DIR / f"{check_choice('name_or_path', name_or_path, scenarios(), what='scenario')}.toml"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LabsimError(f"cannot read scenario {str(path)!r}: {exc}") from None
    return _parse_scenario(str(path.resolve()), text)   # keyed on the text: an edited file is parsed again


@_memo.memo(64, group="fleet.scenario")
def _parse_scenario(path_str: str, text: str) -> Scenario:
    """The scenario in ``text`` (read from ``path_str``); memoized on both, so an edited file is a new key."""
    path = Path(path_str)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LabsimError(f"cannot read scenario {str(path)!r}: {exc}") from None
    meta = data.get("meta", {})
    wls = []
    for i, raw in enumerate(data.get("workload", [])):
        raw = dict(raw)
        where = f"{path.name}: workload[{i}]"
        srcs = dict(raw.pop("sources", {}))
        for k in _WL_NUMERIC:
            if k in raw and k not in srcs:
                raise LabsimError(f"{where}: {k} has no source; add sources.{k} (use '[A] …' for an assumption)")
        slos = []
        for j, s in enumerate(raw.pop("slo", [])):
            s = dict(s)
            if not s.get("source"):
                raise LabsimError(f"{where}: slo[{j}] has no source")
            slos.append(SLO(**s))
        for k in ("tool_s", "network_s"):
            if isinstance(raw.get(k), Mapping):  # {p50_s, sigma} → lognormal
                d = raw[k]
                raw[k] = latency.lognormal(d["p50_s"], d["sigma"]) if d.get("sigma", 0) > 0 else d["p50_s"]
        try:
            wls.append(Workload(slos=tuple(slos), sources=srcs, **raw))
        except TypeError as exc:
            raise LabsimError(f"{where}: {exc}") from None
    if not wls:
        raise LabsimError(f"{path.name}: no [[workload]] entries")
    costs = dict(data.get("costs", {}))
    cost_src = costs.pop("sources", {})
    for k in costs:
        check_choice("costs key", k, tco.FIELDS, what="TcoInputs field")
        if k not in cost_src:
            raise LabsimError(f"{path.name}: costs.{k} has no source")
    return Scenario(path.stem, meta.get("title", path.stem), meta.get("description", ""), tuple(wls),
                    MappingProxyType(costs), MappingProxyType(dict(meta.get("sources", {}))))
