"""``labsim`` — the analyst's command line: the course's models without a notebook.

    labsim chips                                   # the chip catalog
    labsim models                                  # the model catalog
    labsim plan llama-3.3-70b groq-lpu-v1 --precision int8 --context 4096 --batch 1
    labsim tco --preset groq-cost --set utilization=0.6 --set batch=4
    labsim budget --slo voice_turn --model llama-3.1-8b --chip groq-lpu-v1 --tokens 100
    labsim <command> ... --json                    # the same numbers as JSON, for scripts

Every number comes from ``labsim`` (catalog, capacity, tco, latency) with the same defaults and named assumptions
as the notebooks. Bad input (an unknown name, a value out of range) prints ONE line on stderr naming the flag, the
value and the valid choices or range, and exits with status 2; a result is always a finite number (or "n/a" where
no source publishes a value). Guide: docs/cli.md.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from . import __version__, capacity, catalog, latency, limits, tco
from .errors import LabsimError, check_choice, check_int, check_number
from .precision import PRECISIONS

__all__ = ["main", "build_parser"]

EXIT_OK = 0
EXIT_USAGE = 2   # argparse's own code for bad usage; we use it for every bad input


class UsageError(LabsimError):
    """Bad command-line input detected by the CLI itself (not by a labsim model)."""


class _Parser(argparse.ArgumentParser):
    """argparse, but errors are one line (``labsim plan: error: …``) — ``--help`` still shows the usage."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {_one_line(message)} (see {self.prog} --help)\n")


def _one_line(msg: str) -> str:
    return " ".join(str(msg).split())


# -------------------------------------------------------------------------------------------------------- output

def _jsonable(x: Any) -> Any:
    """Plain JSON (no NaN/inf: they become null); NumPy scalars/arrays, mappings and dataclasses unwrapped."""
    if isinstance(x, (str, bool)) or x is None:
        return x
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(float(x)) else None
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {f.name: _jsonable(getattr(x, f.name)) for f in dataclasses.fields(x)}
    if isinstance(x, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in x]
    return str(x)


def _print_json(obj: Any) -> None:
    print(json.dumps(_jsonable(obj), indent=2, ensure_ascii=False, allow_nan=False))


def _table(rows: Sequence[Sequence[Any]], headers: Sequence[str], right: Sequence[bool] | None = None) -> str:
    """A plain-text table; ``right[i]`` right-aligns column i (numbers)."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    right = right or [False] * len(headers)

    def fmt(r):
        return "  ".join(c.rjust(w) if ra else c.ljust(w) for c, w, ra in zip(r, widths, right, strict=False)).rstrip()

    lines = [fmt(cells[0]), "  ".join("-" * w for w in widths)]
    lines += [fmt(r) for r in cells[1:]]
    return "\n".join(lines)


def _kv_table(rows: Sequence[tuple[str, Any, str]]) -> str:
    return _table(rows, ("quantity", "value", "unit"), right=(False, True, False))


def _g(x: float | None, digits: int = 4) -> str:
    """A number for a table: thousands separators, ``digits`` significant digits, 'n/a' for None (an unpublished
    value). A non-finite number is printed as it is ("nan", "inf") — labsim never returns one, and a test
    would catch it — rather than hidden behind "n/a"."""
    if x is None:
        return "n/a"
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    if x == 0:
        return "0"
    if x.is_integer() and abs(x) < 1e15:
        return f"{x:,.0f}"
    if abs(x) >= 10 ** digits and float(x).is_integer():
        return f"{x:,.0f}"
    mag = math.floor(math.log10(abs(x)))
    decimals = max(0, digits - 1 - mag)
    return f"{x:,.{decimals}f}"


def _si_bytes(b: float | None) -> str:
    if b is None:
        return "n/a"
    for unit, f in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(b) >= f:
            return f"{_g(b / f)} {unit}"
    return f"{_g(b)} B"


def _num(name: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise UsageError(f"{name} must be a number, got {text!r}") from None


def _check_flags(args, rules: dict) -> None:
    """Validate flags before any model sees them, so that an error names the flag (``--context``), not the
    library's parameter (``context_tokens``). ``rules``: attribute -> (kind, lo, hi) with kind "int", "num",
    or ("choice", names, what)."""
    for attr, rule in rules.items():
        value = getattr(args, attr, None)
        if value is None:
            continue
        flag = "--" + attr.replace("_", "-")
        if rule[0] == "int":
            check_int(flag, value, lo=rule[1], hi=rule[2])
        elif rule[0] == "num":
            check_number(flag, value, lo=rule[1], hi=rule[2])
        else:
            check_choice(flag, value, rule[1], what=rule[2])


# -------------------------------------------------------------------------------------------------------- commands

def _cmd_chips(args) -> int:
    chips = [catalog.chip(n) for n in catalog.chips()]
    if args.json:
        _print_json([{
            "name": c.name, "display_name": c.display_name, "vendor": c.vendor, "memory_kind": c.memory_kind,
            "memory_bytes": c.memory_bytes, "memory_bandwidth_bytes_per_s": c.memory_bandwidth_bytes_per_s,
            "peak_ops_per_s": dict(c.peak_ops_per_s), "clock_hz": c.clock_hz, "power_w": c.power_w,
            "price_usd": c.price_usd, "chips_per_node": c.chips_per_node, "chips_per_rack": c.chips_per_rack,
            "sync_domain_chips": c.sync_domain_chips, "link_bandwidth_bytes_per_s": c.link_bandwidth_bytes_per_s,
            "link_latency_s": c.link_latency_s} for c in chips])
        return EXIT_OK
    rows = []
    for c in chips:
        peak = {p: v for p, v in c.peak_ops_per_s.items()}
        best = max(peak.items(), key=lambda kv: kv[1]) if peak else None
        peak = "n/a" if best is None else f"{_g(best[1] / 1e12)} ({best[0]})"
        rows.append((c.name, c.vendor, c.memory_kind, _si_bytes(c.memory_bytes),
                     _g(c.memory_bandwidth_bytes_per_s / 1e12), peak,
                     "n/a" if c.power_w is None else _g(c.power_w),
                     "n/a" if c.price_usd is None else f"{c.price_usd:,.0f}"))
    print(_table(rows, ("chip", "vendor", "memory", "capacity", "bandwidth TB/s", "peak Tops/s (fmt)", "power W",
                        "price USD"), right=(False, False, False, True, True, True, True, True)))
    print("\nSources per field: labsim.catalog.chip(NAME).sources; 'n/a' = not published.")
    return EXIT_OK


def _cmd_models(args) -> int:
    models = [catalog.model(n) for n in catalog.models()]
    if args.json:
        _print_json([{
            "name": m.name, "display_name": m.display_name, "vendor": m.vendor, "params_total": m.params_total(),
            "params_active": m.params_active(), "num_layers": m.num_layers, "hidden_size": m.hidden_size,
            "num_heads": m.num_heads, "num_kv_heads": m.num_kv_heads, "head_dim": m.head_dim,
            "num_experts": m.num_experts, "experts_per_token": m.experts_per_token,
            "max_context_tokens": m.max_context_tokens,
            "kv_cache_bytes_per_token_bf16": m.kv_cache_bytes_per_token("bf16")} for m in models])
        return EXIT_OK
    rows = []
    for m in models:
        moe = f"{m.experts_per_token}/{m.num_experts}" if m.num_experts else "dense"
        rows.append((m.name, m.vendor, _g(m.params_total() / 1e9), _g(m.params_active() / 1e9), m.num_layers,
                     moe, f"{m.kv_cache_bytes_per_token('bf16') / 1e3:,.1f}",
                     f"{m.max_context_tokens:,}" if m.max_context_tokens else "n/a"))
    print(_table(rows, ("model", "vendor", "params B", "active B", "layers", "experts", "KV kB/token (bf16)",
                        "max context"), right=(False, False, True, True, True, True, True, True)))
    print("\nParameter counts are derived from the architecture fields (labsim.catalog.model(NAME).param_breakdown()).")
    return EXIT_OK


def _cmd_plan(args) -> int:
    _check_flags(args, {"precision": ("choice", PRECISIONS, "precision"),
                        "expert_precision": ("choice", PRECISIONS, "precision"),
                        "kv_precision": ("choice", PRECISIONS, "precision"),
                        "context": ("int", 0, 100_000_000), "batch": ("int", 1, 10_000_000),
                        "chips": ("int", 1, min(10_000_000, limits.MAX_CHIPS))})
    kw = dict(context_tokens=args.context, batch=args.batch, kv_precision=args.kv_precision)
    if args.expert_precision:
        kw["expert_precision"] = args.expert_precision
    p = capacity.plan(args.model, args.chip, args.precision, **kw)
    d_kw = dict(precision=args.precision, batch=args.batch, context_tokens=p.context_tokens,
                kv_precision=args.kv_precision, chips=args.chips)
    if args.expert_precision:
        d_kw["expert_precision"] = args.expert_precision
    if args.allow_overflow:
        d_kw["allow_overflow"] = True
    decode_error = None
    try:
        d = capacity.decode_time(args.model, args.chip, **d_kw)
    except LabsimError as exc:
        if args.chips is not None:  # the user's own --chips value is what is wrong: exit 2, in the CLI's words
            msg = str(exc).replace("chips = ", "--chips ", 1).replace("allow_overflow=True", "--allow-overflow")
            if "--allow-overflow" not in msg and "out of range" in msg:
                msg += " (or add --allow-overflow to time this many chips anyway)"
            raise UsageError(msg) from None
        d, decode_error = None, _one_line(exc)  # the plan stands; only the speed cannot be modeled
    if args.json:
        out = _jsonable(p)
        out["breakdown_bytes"] = _jsonable(p.breakdown)
        _print_json({"plan": out, "decode": None if d is None else _jsonable(d), "decode_error": decode_error})
        return EXIT_OK
    print(f"{p.model} on {p.chip} — weights {p.precision}"
          f"{'' if p.expert_precision is None else f' (experts {p.expert_precision})'}, KV cache {p.kv_precision}, "
          f"{p.context_tokens:,} tokens × batch {p.batch}\n")
    rows = [
        ("weights", _g(p.weight_bytes / 1e9), "GB"),
        ("KV cache", _g(p.kv_cache_bytes / 1e9), "GB"),
        ("activations / workspace", _g(p.activation_bytes / 1e9), "GB"),
        ("total to hold", _g(p.total_bytes / 1e9), "GB"),
        ("usable memory per chip", _g(p.usable_bytes_per_chip / 1e6), "MB"),
        ("chips by capacity", _g(p.chips_by_capacity), "chips"),
        ("chips (whole, " + p.layout + ("; power of two per replica" if p.memory_kind == "hbm" else "") + ")",
         f"{p.chips:,}", "chips"),
        ("nodes / racks / sync domains", f"{p.nodes:,} / {p.racks:,} / {p.domains:,}", ""),
        ("crosses the determinism cliff", "yes" if p.crosses_cliff else "no", ""),
        ("capex", "n/a (no published price)" if p.capex_usd is None else _g(p.capex_usd / 1e6),
         "" if p.capex_usd is None else "M USD"),
    ]
    if d is None:
        rows.append(("decode time per token", "n/a", "see note"))
    else:
        rows += [
            (f"decode time per token ({d.chips:,} chip{'s' if d.chips != 1 else ''})", _g(d.seconds_per_token * 1e3),
             "ms"),
            ("tokens/s per user", _g(d.tokens_per_s), "tokens/s"),
            ("throughput (all sequences)", _g(d.throughput_tokens_per_s), "tokens/s"),
            ("dominant bound", d.dominant_bound, ""),
        ]
        rows += [(f"  {k[:-2] if k.endswith('_s') else k}", _g(v * 1e3), "ms") for k, v in d.parts.items() if v > 0]
    print(_kv_table(rows))
    if decode_error:
        print(f"\nnote: decode time not modeled: {decode_error}")
    elif d.notes:
        print(f"\nnote: {d.notes}")
    print("Assumptions ([A] = unpublished, overridable): labsim.capacity.assumptions_table(); design: "
          "docs/design/capacity.md")
    return EXIT_OK


_TCO_ROWS: tuple[tuple[str, str, float, str], ...] = (
    # (result field, label, scale, unit)
    ("monthly_capital_usd", "monthly capital (annuity)", 1.0, "USD/month"),
    ("monthly_power_usd", "monthly power", 1.0, "USD/month"),
    ("monthly_colocation_usd", "monthly colocation", 1.0, "USD/month"),
    ("monthly_total_usd", "monthly total", 1.0, "USD/month"),
    ("capital_share", "capital share", 100.0, "%"),
    ("usd_per_hour", "cost per hour", 1.0, "USD/h"),
    ("units_per_system", "inference units per system", 1.0, "units"),
    ("concurrent_users_per_unit", "concurrent users per unit", 1.0, "users"),
    ("tokens_per_s_per_unit", "tokens/s per unit", 1.0, "tokens/s"),
    ("usd_per_mtok", "cost per million tokens", 1.0, "USD/Mtok"),
    ("j_per_token_with_pue", "energy per token (with PUE)", 1.0, "J/token"),
)


def _parse_sets(pairs: Sequence[str], fields: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for pair in pairs or ():
        if "=" not in pair:
            raise UsageError(f"--set needs name=value, got {pair!r}; names: {', '.join(sorted(fields))}")
        name, _, text = pair.partition("=")
        name, text = name.strip(), text.strip()
        check_choice("--set", name, fields, what="input")
        current = fields[name]
        if isinstance(current, bool):
            low = text.lower()
            if low not in ("true", "false", "1", "0", "yes", "no"):
                raise UsageError(f"--set {name} must be true or false, got {text!r}")
            changes[name] = low in ("true", "1", "yes")
        elif isinstance(current, str):
            changes[name] = text
        else:
            value = _num(f"--set {name}", text)
            rule = tco.FIELDS.get(name, {})
            check_number(f"--set {name}", value, lo=rule.get("lo"), hi=rule.get("hi"), unit=rule.get("unit", ""))
            if rule.get("integer") and not value.is_integer():
                raise UsageError(f"--set {name} must be a whole number, got {text!r}")
            changes[name] = value
    return changes


def _cmd_tco(args) -> int:
    preset = check_choice("--preset", args.preset, tco.COLUMNS, what="preset")
    base = tco.REPORT_FIG11[preset]
    fields = {f.name: getattr(base, f.name) for f in dataclasses.fields(base)
              if f.name not in ("sources", "label")}
    changes = _parse_sets(args.set, fields)
    inp = base.replace(**changes) if changes else base
    res = tco.evaluate(inp)
    if args.json:
        inputs = {f: getattr(inp, f) for f in tco.FIELDS}
        inputs["utilization_derates_tokens"] = inp.utilization_derates_tokens
        _print_json({"preset": preset, "label": inp.label, "changed": sorted(changes), "inputs": inputs,
                     "result": res.as_dict()})
        return EXIT_OK
    print(f"{inp.label} — the report's Fig 11, column {preset!r}"
          f"{'' if not changes else ' with ' + ', '.join(f'{k}={v}' for k, v in changes.items())}\n")
    in_rows = [(("* " if f in changes else "  ") + f, _g(getattr(inp, f)), spec.get("unit", ""))
               for f, spec in tco.FIELDS.items()]
    print(_table(in_rows, ("input", "value", "unit"), right=(False, True, False)))
    print()
    out_rows = [(label, _g(getattr(res, f) * scale), unit) for f, label, scale, unit in _TCO_ROWS]
    print(_table(out_rows, ("result", "value", "unit"), right=(False, True, False)))
    print("\n* = changed with --set. Inputs are the report's (Huatai Research 2026, Fig 11; docs/sources.md); "
          "equations: docs/design/tco.md")
    return EXIT_OK


def _cmd_budget(args) -> int:
    _check_flags(args, {"speed": ("num", 1e-6, limits.MAX_TOKENS_PER_S), "ttft": ("num", 0.0, limits.MAX_LATENCY_S),
                        "tool": ("num", 0.0, limits.MAX_LATENCY_S), "network": ("num", 0.0, limits.MAX_LATENCY_S),
                        "steps": ("int", 1, 10_000), "fan_out": ("int", 1, 10_000), "quantile": ("num", 0.0, 1.0),
                        "tokens": ("int", 0, limits.MAX_TOKENS), "usd_per_mtok": ("num", 0.0, limits.MAX_USD),
                        "samples": ("int", 1, 2_000_000), "seed": ("int", 0, 2**32 - 1)})
    # SLO: seconds, or a named human threshold
    try:
        slo_s = float(args.slo)
    except ValueError:
        name = check_choice("--slo", args.slo, latency.thresholds(), what="threshold (or give seconds)")
        slo_s = latency.threshold_s(name)
        slo_label = f"{name} = {slo_s:g} s"
    else:
        check_number("--slo", slo_s, lo=0.0, lo_open=True, hi=limits.MAX_LATENCY_S, unit="s")
        slo_label = f"{slo_s:g} s"
    # decode speed: given, or from chapter 3's model on a chip
    if args.speed is not None:
        speed = args.speed
        speed_label = "given"
    elif args.model and args.chip:
        _check_flags(args, {"precision": ("choice", PRECISIONS, "precision")})
        speed = latency.decode_speed(args.model, args.chip, precision=args.precision)
        speed_label = f"{args.model} on {args.chip} ({args.precision}), labsim.capacity.decode_time"
    else:
        raise UsageError("budget needs the decode speed: --speed TOKENS_PER_S, or --model NAME --chip NAME")
    kw: dict[str, Any] = dict(quantile=args.quantile, steps=args.steps, fan_out=args.fan_out,
                              reasoning_tokens=args.tokens, tool_s=args.tool, network_s=args.network,
                              n_samples=args.samples, seed=args.seed)
    plat_label = "none (deterministic, TTFT = --ttft)"
    if args.platform:
        p = latency.platforms()[check_choice("--platform", args.platform, latency.platforms(), what="platform")]
        kw["ttft_s"] = latency.lognormal(p.ttft_p50_s, p.ttft_sigma) if p.ttft_sigma > 0 else p.ttft_p50_s
        kw["decode_sigma"] = p.decode_sigma
        kw["queue_s"] = latency.stall(p.p_stall, p.stall_lo_s, p.stall_hi_s) if p.p_stall > 0 else 0.0
        plat_label = f"{p.name} ({p.display_name})"
        if args.ttft is not None:
            kw["ttft_s"] = args.ttft
    else:
        kw["ttft_s"] = 0.0 if args.ttft is None else args.ttft
    usd_label = "not priced"
    if args.usd_per_mtok is not None:
        kw["usd_per_mtok"] = args.usd_per_mtok
        usd_label = f"{args.usd_per_mtok:g} USD/Mtok (given)"
    elif args.tco_preset:
        col = check_choice("--tco-preset", args.tco_preset, tco.COLUMNS, what="preset")
        kw["usd_per_mtok"] = latency.usd_per_mtok(tco.REPORT_FIG11[col])
        usd_label = f"{kw['usd_per_mtok']:.3f} USD/Mtok (labsim tco --preset {col})"
    b = latency.plan_budget(slo_s, speed, **kw)
    if args.json:
        _print_json({"slo_s": slo_s, "decode_tokens_per_s": speed, "platform": args.platform,
                     "usd_per_mtok": kw.get("usd_per_mtok"), "budget": b})
        return EXIT_OK
    q = f"P{b.quantile * 100:g}"
    print(f"Reasoning budget for {b.steps} step(s) × fan-out {b.fan_out} at {q} against the SLO {slo_label}\n")
    rows = [
        ("decode speed per user", _g(speed), "tokens/s"),
        ("max reasoning tokens per step", f"{b.max_reasoning_tokens:,}" if b.feasible else "none fits", "tokens"),
        ("evaluated budget per step", f"{b.reasoning_tokens:,}", "tokens"),
        (f"task latency ({q})", _g(b.latency_s * 1e3), "ms"),
        ("meets the SLO", "yes" if b.meets_slo else "NO", ""),
        ("tokens per task", f"{b.tokens_per_task:,}", "tokens"),
        ("cost per task", "n/a" if b.cost_per_task_usd is None else _g(b.cost_per_task_usd), "USD"),
    ]
    print(_kv_table(rows))
    print(f"\ndecode speed: {speed_label}\nplatform: {plat_label}\nprice: {usd_label}")
    print(f"Monte Carlo: {args.samples:,} tasks, seed {args.seed} (labsim.latency.plan_budget); "
          "design: docs/design/latency.md")
    return EXIT_OK


# -------------------------------------------------------------------------------------------------------- parser

def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="labsim", description="LPU Lab models from the command line (guide: docs/cli.md).")
    ap.add_argument("--version", action="version", version=f"labsim {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def add(name: str, help_: str, fn: Callable) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument("--json", action="store_true", help="print JSON instead of a table")
        p.set_defaults(func=fn)
        return p

    add("chips", "list the chip catalog", _cmd_chips)
    add("models", "list the model catalog", _cmd_models)

    p = add("plan", "chips needed for MODEL on CHIP (memory breakdown, racks, capex) and its decode time", _cmd_plan)
    p.add_argument("model", metavar="MODEL", help="model name (labsim models)")
    p.add_argument("chip", metavar="CHIP", help="chip name (labsim chips)")
    p.add_argument("--precision", default="int8", help="weight precision (default int8)")
    p.add_argument("--expert-precision", default=None, help="MoE expert weight precision (default: --precision)")
    p.add_argument("--kv-precision", default="fp16", help="KV cache precision (default fp16)")
    p.add_argument("--context", type=int, default=None, metavar="TOKENS",
                   help="context tokens per sequence (default: the capacity model's [A] 4096)")
    p.add_argument("--batch", type=int, default=1, help="sequences held at once (default 1)")
    p.add_argument("--chips", type=int, default=None, help="decode on this many chips (default: the plan's count)")
    p.add_argument("--allow-overflow", action="store_true",
                   help="with --chips: time the decode even if the model does not fit that many chips")

    p = add("tco", "cost per token of a report Fig 11 column, with inputs changed by --set", _cmd_tco)
    p.add_argument("--preset", required=True, metavar="NAME",
                   help="gpu-latency | gpu-throughput | groq-cost | groq-60gpm")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="change one input, e.g. --set utilization=0.6 (repeatable)")

    p = add("budget", "largest reasoning budget per agent step that meets a latency SLO (chapter 5)", _cmd_budget)
    p.add_argument("--slo", required=True, metavar="SECONDS|THRESHOLD",
                   help="SLO in seconds, or a threshold name such as voice_turn, doherty, flow")
    p.add_argument("--speed", type=float, default=None, metavar="TOKENS_PER_S", help="decode speed per user")
    p.add_argument("--model", default=None, help="with --chip: take the decode speed from labsim.capacity")
    p.add_argument("--chip", default=None)
    p.add_argument("--precision", default="int8", help="weight precision for --model/--chip (default int8)")
    p.add_argument("--platform", default=None,
                   help="serving platform archetype: TTFT, decode jitter and stalls (e.g. hosted_gpu_api, lpu)")
    p.add_argument("--ttft", type=float, default=None, metavar="SECONDS", help="time to first token (fixed)")
    p.add_argument("--tool", type=float, default=0.0, metavar="SECONDS", help="tool-call time per step")
    p.add_argument("--network", type=float, default=0.0, metavar="SECONDS", help="network time per step")
    p.add_argument("--steps", type=int, default=1, help="sequential agent steps (default 1)")
    p.add_argument("--fan-out", type=int, default=1, help="parallel branches per step, slowest gates (default 1)")
    p.add_argument("--quantile", type=float, default=0.99, help="latency quantile to meet (default 0.99)")
    p.add_argument("--tokens", type=int, default=None, help="evaluate this budget instead of the largest that fits")
    price = p.add_mutually_exclusive_group()
    price.add_argument("--usd-per-mtok", type=float, default=None, help="price for the cost per task")
    price.add_argument("--tco-preset", default=None, metavar="NAME", help="price from labsim tco --preset NAME")
    p.add_argument("--samples", type=int, default=20_000, help="Monte Carlo tasks (default 20000)")
    p.add_argument("--seed", type=int, default=0)
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # bad usage exits 2 with one line (see _Parser.error)
    prog = f"labsim {args.command}"
    try:
        return int(args.func(args) or EXIT_OK)
    except LabsimError as exc:  # unknown names, values out of range: one line, valid choices named
        print(f"{prog}: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `labsim chips | head`
        try:
            sys.stdout = open("/dev/null", "w")
        except OSError:
            pass
        return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
