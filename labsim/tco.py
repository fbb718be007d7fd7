"""Total cost of ownership: what one token costs (chapter 4).

The model is the one behind the cost table of the report ([huatai26] Huatai Research, 12 Jan 2026, Fig 11; every
derived row recomputed in ``docs/design/tco.md``): the system price is paid off as a monthly **annuity** at the hurdle rate,
power is charged at utilization × PUE, colocation per kW, and the monthly total is spread over the tokens one
inference unit produces in an hour. ``evaluate`` is pure NumPy: every input may be a scalar or an array, arrays
broadcast, and one call prices millions of configurations. Equations and assumptions: ``docs/design/tco.md``.

    >>> from labsim import tco
    >>> r = tco.evaluate(tco.REPORT_FIG11["groq-cost"])
    >>> round(r.usd_per_mtok, 2)
    1.94
"""
from __future__ import annotations

import dataclasses
import math
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import limits as _L
from .errors import (
    LabsimError,
    check_array,
    check_bool,
    check_choice,
    check_int,
    check_mapping,
    check_number,
    check_text,
    ensure_finite,
)

__all__ = [
    "TcoInputs", "TcoResult", "evaluate", "validate", "REPORT_FIG11", "COLUMNS", "FIELDS",
    "annuity_factor", "annuity_payment", "annuity_schedule", "cost_breakdown",
    "implied_price_for_margin", "implied_margin", "api_prices", "api_margin_table", "inputs_from_plan",
    "Fig11Check", "compare_fig11", "print_fig11", "fig11_table", "fig11_printed",
    "Uniform", "Triangular", "LogNormal", "MonteCarloResult", "monte_carlo",
    "TornadoBar", "tornado", "default_ranges",
]

DATA_DIR = Path(__file__).resolve().parent / "data" / "tco"
SECONDS_PER_HOUR = 3600.0
MONTHS_PER_YEAR = 12.0
TOKENS_PER_MTOK = 1e6

#: The numeric inputs, in order, with their allowed ranges (used by validation, Monte Carlo and tornado).
#: ``integer`` inputs must hold whole numbers; ``batch`` may be fractional (an average batch in a sweep).
#: Every range is closed and finite (docs/contract.md): the upper ends are far beyond any real system
#: (labsim/limits.py), the lower ends of divisors (life, hours, utilization, speed, batch) keep every output finite.
FIELDS: dict[str, dict[str, Any]] = {
    "capex_usd": dict(lo=0.0, hi=_L.MAX_USD, unit="USD"),
    "life_years": dict(lo=1.0 / 12.0, hi=100.0, unit="years"),
    "cost_of_capital": dict(lo=0.0, hi=10.0, unit="per year"),
    "electricity_usd_per_kwh": dict(lo=0.0, hi=100.0, unit="USD/kWh"),
    "hours_per_month": dict(lo=1.0, hi=744.0, unit="hours"),
    "utilization": dict(lo=1e-6, hi=1.0),
    "pue": dict(lo=1.0, hi=10.0),
    "colocation_usd_per_kw_month": dict(lo=0.0, hi=1e6, unit="USD/kW/month"),
    "system_power_kw": dict(lo=0.0, hi=_L.MAX_POWER_KW, unit="kW"),
    "chips_per_system": dict(lo=1.0, hi=float(_L.MAX_CHIPS), integer=True, unit="chips"),
    "chips_per_unit": dict(lo=1.0, hi=float(_L.MAX_CHIPS), integer=True, unit="chips"),
    "tokens_per_s_per_user": dict(lo=1e-6, hi=_L.MAX_TOKENS_PER_S, unit="tokens/s"),
    "batch": dict(lo=1e-6, hi=float(_L.MAX_BATCH)),
    "pipeline_depth": dict(lo=1.0, hi=1e6, integer=True),
}


@dataclass(frozen=True)
class TcoInputs:
    """Inputs of the cost model. Every numeric field is a scalar or a NumPy array (arrays broadcast).

    Defaults are the shared inputs of Fig 11 ([huatai26] Fig 11): 5-year life, 18 %/year hurdle
    rate, $0.087/kWh, 730 h/month, 80 % utilization, PUE 1.25, $190 per kW per month colocation (printed as
    "USD/mth"; the table's arithmetic makes it per kW). The system fields have no default.
    ``utilization_derates_tokens=False`` is the report's choice: utilization scales the power bill only, tokens
    are produced for all ``hours_per_month``; ``True`` also scales token output by utilization.
    ``sources`` maps a field name to where its value comes from (filled for ``REPORT_FIG11``).
    """

    capex_usd: Any
    system_power_kw: Any
    chips_per_system: Any
    chips_per_unit: Any
    tokens_per_s_per_user: Any
    batch: Any
    pipeline_depth: Any = 1
    life_years: Any = 5.0
    cost_of_capital: Any = 0.18
    electricity_usd_per_kwh: Any = 0.087
    hours_per_month: Any = 730.0
    utilization: Any = 0.80
    pue: Any = 1.25
    colocation_usd_per_kw_month: Any = 190.0
    utilization_derates_tokens: bool = False
    label: str = ""
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        """Every TcoInputs that exists is valid: each field is checked here, element-wise (``validate``)."""
        validate(self)

    def replace(self, **changes) -> TcoInputs:
        """A copy with some fields changed (``dataclasses.replace``); unknown names raise a LabsimError, and so
        does a bad value (the copy is validated)."""
        valid = {f.name for f in dataclasses.fields(self)}
        for name in changes:
            check_choice("field", name, valid, what="TcoInputs field")
        return dataclasses.replace(self, **changes)

    def validate(self) -> dict[str, np.ndarray]:
        return validate(self)


@dataclass(frozen=True)
class TcoResult:
    """Every derived row of Fig 11, plus energy per token. Floats for scalar inputs, arrays otherwise.

    The split of the annuity into ``monthly_interest_usd`` (C·r) and ``monthly_principal_usd`` (annuity − C·r) is the
    report's: it is exact for month 1 only (later months pay less interest and more principal); the sum
    ``monthly_capital_usd`` is right every month.
    """

    inputs: TcoInputs
    monthly_rate: Any                      # cost_of_capital / 12
    n_months: Any                          # life_years × 12
    monthly_capital_usd: Any               # annuity payment ("Total monthly system capital cost")
    monthly_interest_usd: Any              # month-1 interest C·r ("Monthly cost of capital")
    monthly_principal_usd: Any             # month-1 principal ("Monthly amortised capex")
    straight_line_usd_per_month: Any       # C / n, for comparison (not in the table)
    effective_power_usd_per_kw_month: Any  # electricity × hours × utilization × PUE
    hosting_usd_per_kw_month: Any          # effective power + colocation
    monthly_power_usd: Any                 # kW × effective power
    monthly_colocation_usd: Any            # kW × colocation
    monthly_hosting_usd: Any
    capital_share: Any                     # fraction (the table prints %)
    monthly_total_usd: Any
    usd_per_hour: Any
    units_per_system: Any
    usd_per_hour_per_unit: Any
    concurrent_users_per_unit: Any
    tokens_per_s_per_unit: Any
    tokens_per_hour_per_unit: Any
    usd_per_mtok: Any
    j_per_token: Any                       # nameplate system power ÷ system tokens/s (IT power, no PUE)
    j_per_token_with_pue: Any              # the same × PUE (facility power)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "inputs"}


# --------------------------------------------------------------------------------------------------------------
# validation
def _broadcast_shape(arrays: dict[str, np.ndarray]) -> tuple[int, ...]:
    try:
        return np.broadcast_shapes(*(a.shape for a in arrays.values()))
    except ValueError:
        shapes = ", ".join(f"{k}{list(a.shape)}" for k, a in arrays.items() if a.ndim)
        raise LabsimError(f"TcoInputs arrays do not broadcast together: {shapes}") from None


def validate(inputs: TcoInputs) -> dict[str, np.ndarray]:
    """Check every input element-wise; return them as float64 arrays. Errors name the field and the index."""
    if not isinstance(inputs, TcoInputs):
        raise LabsimError(f"inputs must be a labsim.tco.TcoInputs, got {type(inputs).__name__}")
    out: dict[str, np.ndarray] = {}
    check_text("label", inputs.label, max_chars=1000)
    srcs = check_mapping("sources", inputs.sources)
    for k, v in srcs.items():
        check_choice("sources key", k, [*FIELDS, "utilization_derates_tokens"], what="input")
        check_text(f"sources[{k!r}]", v)
    for name, rule in FIELDS.items():
        arr = check_array(name, getattr(inputs, name), lo=rule.get("lo"), hi=rule.get("hi"),
                          lo_open=rule.get("lo_open", False), hi_open=rule.get("hi_open", False),
                          unit=rule.get("unit", ""))
        if rule.get("integer"):
            frac = arr != np.floor(arr)
            if frac.any():
                idx = np.unravel_index(int(np.argmax(frac)), arr.shape) if arr.ndim else ()
                where = f"[{', '.join(map(str, idx))}]" if arr.ndim else ""
                raise LabsimError(f"{name}{where} must be a whole number, got {float(arr[idx]):g}")
        out[name] = arr
    if not isinstance(inputs.utilization_derates_tokens, (bool, np.bool_)):
        raise LabsimError("utilization_derates_tokens must be True or False, "
                          f"got {inputs.utilization_derates_tokens!r}")
    shape = _broadcast_shape(out)
    too_big = out["chips_per_unit"] > out["chips_per_system"]
    if too_big.any():
        full = np.broadcast_to(too_big, shape)
        idx = np.unravel_index(int(np.argmax(full)), shape) if full.ndim else ()
        where = f" at index [{', '.join(map(str, idx))}]" if full.ndim else ""
        cu = float(np.broadcast_to(out["chips_per_unit"], shape)[idx])
        cs = float(np.broadcast_to(out["chips_per_system"], shape)[idx])
        raise LabsimError(f"chips_per_unit = {cu:g} exceeds chips_per_system = {cs:g}{where}; "
                          "an inference unit must fit in one system")
    return out


# --------------------------------------------------------------------------------------------------------------
# the model
def annuity_factor(monthly_rate, n_months):
    """Payment per dollar borrowed: r / (1 − (1+r)^−n); 1/n when r = 0. Vectorised.

    ``monthly_rate`` in [0, 10/12] (FIELDS' cost of capital ÷ 12); ``n_months`` in [1, 1200] (1 month to 100 years)."""
    r = check_array("monthly_rate", monthly_rate, lo=0.0, hi=FIELDS["cost_of_capital"]["hi"] / MONTHS_PER_YEAR,
                    unit="per month")
    n = check_array("n_months", n_months, lo=1.0, hi=FIELDS["life_years"]["hi"] * MONTHS_PER_YEAR, unit="months")
    with np.errstate(divide="ignore", invalid="ignore"):
        f = r / -np.expm1(-n * np.log1p(r))
    return np.where(r > 0.0, f, 1.0 / n)


def annuity_payment(capex_usd, cost_of_capital=0.18, life_years=5.0):
    """Level monthly payment that repays ``capex_usd`` over ``life_years`` at an annual ``cost_of_capital``
    compounded monthly (r = cost_of_capital / 12, as in Fig 11: 18 %/year → 1.5 %/month). Vectorised."""
    c = check_array("capex_usd", capex_usd, **_rule("capex_usd"))
    k = check_array("cost_of_capital", cost_of_capital, **_rule("cost_of_capital"))
    life = check_array("life_years", life_years, **_rule("life_years"))
    out = c * annuity_factor(k / MONTHS_PER_YEAR, life * MONTHS_PER_YEAR)
    return float(out) if out.ndim == 0 else out


def _rule(name: str) -> dict:
    r = FIELDS[name]
    return {k: r[k] for k in ("lo", "hi", "lo_open", "hi_open", "unit") if k in r}


def evaluate(inputs: TcoInputs) -> TcoResult:
    """Price a system (or an array of systems): every derived row of Fig 11 plus J/token.

    Equations (the ones that reproduce every derived row of [huatai26] Fig 11, docs/design/tco.md): r = k/12, n = 12·life, capital = C·r/(1−(1+r)^−n);
    power $/kW/month = price × hours × utilization × PUE; hosting = kW × (power + colocation);
    $/hour = (capital + hosting)/hours; units = ⌊chips_per_system / chips_per_unit⌋;
    tokens/hour/unit = tok/s/user × batch × pipeline_depth × 3600 (× utilization if the switch is on);
    $/M tokens = ($/hour / units) / (tokens/hour/unit / 10⁶).
    """
    v = validate(inputs)
    scalar = all(a.ndim == 0 for a in v.values())
    C = v["capex_usd"]
    r = v["cost_of_capital"] / MONTHS_PER_YEAR
    n = v["life_years"] * MONTHS_PER_YEAR
    capital = C * annuity_factor(r, n)
    interest = C * r
    principal = capital - interest
    straight = C / n
    power_per_kw = v["electricity_usd_per_kwh"] * v["hours_per_month"] * v["utilization"] * v["pue"]
    hosting_per_kw = power_per_kw + v["colocation_usd_per_kw_month"]
    kw = v["system_power_kw"]
    monthly_power = kw * power_per_kw
    monthly_coloc = kw * v["colocation_usd_per_kw_month"]
    hosting = kw * hosting_per_kw
    total = capital + hosting
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total > 0, capital / total, 0.0)
    per_hour = total / v["hours_per_month"]
    units = np.floor(v["chips_per_system"] / v["chips_per_unit"])
    per_hour_unit = per_hour / units
    users = v["batch"] * v["pipeline_depth"]
    tps_unit = v["tokens_per_s_per_user"] * users
    duty = v["utilization"] if inputs.utilization_derates_tokens else 1.0
    tph_unit = tps_unit * SECONDS_PER_HOUR * duty
    usd_per_mtok = per_hour_unit / (tph_unit / TOKENS_PER_MTOK)
    j_tok = kw * 1e3 / (tps_unit * units)
    j_tok_pue = j_tok * v["pue"]
    vals = dict(
        monthly_rate=r, n_months=n, monthly_capital_usd=capital, monthly_interest_usd=interest,
        monthly_principal_usd=principal, straight_line_usd_per_month=straight,
        effective_power_usd_per_kw_month=power_per_kw, hosting_usd_per_kw_month=hosting_per_kw,
        monthly_power_usd=monthly_power, monthly_colocation_usd=monthly_coloc, monthly_hosting_usd=hosting,
        capital_share=share, monthly_total_usd=total, usd_per_hour=per_hour, units_per_system=units,
        usd_per_hour_per_unit=per_hour_unit, concurrent_users_per_unit=users, tokens_per_s_per_unit=tps_unit,
        tokens_per_hour_per_unit=tph_unit, usd_per_mtok=usd_per_mtok, j_per_token=j_tok,
        j_per_token_with_pue=j_tok_pue,
    )
    ensure_finite("tco.evaluate", vals, v)   # a guard: the ranges in FIELDS keep every output finite
    if scalar:
        vals = {k: float(x) for k, x in vals.items()}
    else:
        shape = _broadcast_shape(v)
        vals = {k: np.broadcast_to(np.asarray(x, dtype=np.float64), shape) for k, x in vals.items()}
    return TcoResult(inputs=inputs, **vals)


def cost_breakdown(inputs_or_result) -> dict[str, Any]:
    """$/M tokens split into its four sources (sums to ``usd_per_mtok``): month-1 principal, month-1 interest,
    electricity (with utilization and PUE) and colocation. Used by the waterfall plot."""
    if not isinstance(inputs_or_result, (TcoInputs, TcoResult)):
        raise LabsimError(f"inputs_or_result must be a labsim.tco.TcoInputs or TcoResult, "
                          f"got {type(inputs_or_result).__name__}")
    res = inputs_or_result if isinstance(inputs_or_result, TcoResult) else evaluate(inputs_or_result)
    inp = res.inputs
    hours = np.asarray(inp.hours_per_month, dtype=np.float64)
    to_mtok = 1.0 / (hours * res.units_per_system) / (np.asarray(res.tokens_per_hour_per_unit) / TOKENS_PER_MTOK)
    parts = {
        "capital: principal (month 1)": res.monthly_principal_usd * to_mtok,
        "capital: interest (month 1)": res.monthly_interest_usd * to_mtok,
        "electricity × utilization × PUE": res.monthly_power_usd * to_mtok,
        "colocation": res.monthly_colocation_usd * to_mtok,
    }
    return {k: (float(x) if np.ndim(x) == 0 else x) for k, x in parts.items()}


def annuity_schedule(capex_usd: float, cost_of_capital: float = 0.18, life_years: float = 5.0) -> dict[str, np.ndarray]:
    """Month-by-month split of a level annuity: payment, interest on the remaining balance, principal, balance.

    Month 1's principal is the report's "Monthly amortised capex" row; month 1's interest is its "Monthly cost of
    capital" row. Also returns ``straight_line`` (C/n per month) for comparison. Scalars only.
    """
    C = check_number("capex_usd", capex_usd, **_rule("capex_usd"))
    k = check_number("cost_of_capital", cost_of_capital, **_rule("cost_of_capital"))
    life = check_number("life_years", life_years, **_rule("life_years"))
    n = check_int("life_years × 12", life * MONTHS_PER_YEAR, lo=1)
    r = k / MONTHS_PER_YEAR
    pay = float(C * annuity_factor(r, n))
    month = np.arange(1, n + 1)
    # closed form of the remaining balance after m payments
    growth = (1.0 + r) ** (month - 1)
    balance_before = C * growth - (pay * (growth - 1.0) / r if r > 0 else pay * (month - 1))
    interest = balance_before * r
    principal = pay - interest
    out = {"month": month, "payment_usd": np.full(n, pay), "interest_usd": interest, "principal_usd": principal,
           "balance_usd": balance_before - principal, "straight_line_usd": np.full(n, C / n)}
    ensure_finite("tco.annuity_schedule", out, {"capex_usd": C, "cost_of_capital": k, "life_years": life})
    return out


# --------------------------------------------------------------------------------------------------------------
# margins and prices
def implied_price_for_margin(cost_usd, gross_margin):
    """Price that earns ``gross_margin`` on ``cost_usd``: cost / (1 − margin). E.g. the 60 %-GPM column of Fig 11:
    2.52 M / 0.4 = 6.30 M (the report prints 6.35 M). Vectorised."""
    c = check_array("cost_usd", cost_usd, lo=0.0, hi=_L.MAX_USD, unit="USD")
    m = check_array("gross_margin", gross_margin, lo=0.0, hi=1.0, hi_open=True)
    out = c / (1.0 - m)
    return float(out) if out.ndim == 0 else out


def implied_margin(cost, price):
    """Gross margin 1 − cost/price (negative when the price is below cost). Vectorised."""
    c = check_array("cost", cost, lo=0.0, hi=_L.MAX_USD)
    p = check_array("price", price, lo=1e-9, hi=_L.MAX_USD)
    out = 1.0 - c / p
    return float(out) if out.ndim == 0 else out


def api_prices() -> list[dict[str, Any]]:
    """Groq API LLM list prices, Fig 10 of the report ([huatai26] Fig 10). Each dict carries ``source``."""
    data = tomllib.loads((DATA_DIR / "groq_api_prices.toml").read_text(encoding="utf-8"))
    src = data["meta"]["source"]
    return [dict(m, source=src) for m in data["models"]]


def api_margin_table(system: TcoInputs | None = None) -> list[dict[str, Any]]:
    """Inferred gross margin of each Fig 10 output price over the at-cost $/M tokens of ``system``.

    **[A] model assumption:** every model is served by one copy of ``system`` (default: Fig 11's Groq rack at cost,
    576 chips, 48 concurrent streams) with ``tokens_per_s_per_user`` set to the model's listed speed; the output
    price is compared with that at-cost $/M. Small models need far fewer chips and the 1T model needs more than one
    576-chip domain, so the margins are illustrative, not Groq's.
    """
    base = REPORT_FIG11["groq-cost"] if system is None else system
    if not isinstance(base, TcoInputs):
        raise LabsimError(f"system must be a labsim.tco.TcoInputs (e.g. tco.REPORT_FIG11['groq-cost']), "
                          f"got {type(base).__name__}")
    validate(base)
    rows = []
    for m in api_prices():
        cost = evaluate(base.replace(tokens_per_s_per_user=float(m["speed_tokens_per_s"]))).usd_per_mtok
        rows.append({"model": m["name"], "speed_tokens_per_s": m["speed_tokens_per_s"],
                     "output_usd_per_mtok": m["output_usd_per_mtok"], "at_cost_usd_per_mtok": cost,
                     "gross_margin": implied_margin(cost, m["output_usd_per_mtok"])})
    return rows


def inputs_from_plan(plan, *, tokens_per_s_per_user, batch, pipeline_depth=1, system_power_kw=None,
                     capex_usd=None, label: str | None = None, **shared) -> TcoInputs:
    """Cost-model inputs for a deployment sized by chapter 3's ``labsim.capacity.plan`` — price any model on any chip.

    The system is the plan's ``chips`` chips, run as one inference unit, bought for ``plan.capex_usd`` (chips ×
    catalog price) unless ``capex_usd`` is given. ``system_power_kw`` defaults to chips × the catalog chip power
    (**[A]**: chip power only — hosts, network and cooling fans are not counted; Fig 11's Groq rack works out at
    230.4 kW / 576 = 0.4 kW per chip against the chip's 0.3 kW, so pass the system figure where one is known).
    ``tokens_per_s_per_user``, ``batch`` and ``pipeline_depth`` are the serving point (chapter 3's
    ``capacity.decode_time`` estimates the speed); ``shared`` overrides Fig 11's shared inputs (life, prices, …).
    """
    if label is not None:
        check_text("label", label, max_chars=1000)
    for attr in ("chips", "capex_usd", "chip", "model"):
        if not hasattr(plan, attr):
            raise LabsimError(f"plan must be a labsim.capacity.Plan (from capacity.plan), got {type(plan).__name__}")
    chips = check_int("plan.chips", plan.chips, lo=1)
    if capex_usd is None:
        if plan.capex_usd is None:
            raise LabsimError(f"the plan for {plan.chip} has no capex (the catalog has no published price for "
                              "this chip); pass capex_usd=… here or price_usd_per_chip=… to capacity.plan")
        capex_usd = plan.capex_usd
    if system_power_kw is None:
        from . import catalog

        power_w = catalog.chip(plan.chip).power_w
        if power_w is None:
            raise LabsimError(f"the catalog has no published power for {plan.chip}; pass system_power_kw=…")
        system_power_kw = chips * power_w / 1e3
    inputs = TcoInputs(capex_usd=capex_usd, system_power_kw=system_power_kw, chips_per_system=chips,
                       chips_per_unit=chips, tokens_per_s_per_user=tokens_per_s_per_user, batch=batch,
                       pipeline_depth=pipeline_depth,
                       label=label or f"{plan.model} on {chips} × {plan.chip} (capacity.plan)")
    try:
        inputs = inputs.replace(**shared)
    except TypeError as exc:            # e.g. a shared value for a field that is not an input
        raise LabsimError(str(exc)) from None
    validate(inputs)
    return inputs


# --------------------------------------------------------------------------------------------------------------
# the report's table
def _load_fig11() -> tuple[dict[str, TcoInputs], dict[str, str]]:
    data = tomllib.loads((DATA_DIR / "fig11_inputs.toml").read_text(encoding="utf-8"))
    meta = data["meta"]
    cols: dict[str, TcoInputs] = {}
    labels = {}
    for col, info in data["columns"].items():
        labels[col] = info["label"]
        kwargs: dict[str, Any] = {}
        sources: dict[str, str] = {}
        for name, spec in data["inputs"].items():
            val = spec["values"][col]
            kwargs[name] = val if isinstance(val, bool) else float(val)
            sources[name] = (f"{meta['report']} {meta['figure']}, row '{spec['row']}' ({spec['unit']}), "
                             f"column '{info['label']}'")
        cols[col] = TcoInputs(**kwargs, label=f"{info['label']} ({info['system']})", sources=sources)
    return cols, labels


#: The four columns of Fig 11 ([huatai26]) as model inputs; ``REPORT_FIG11[col].sources[field]`` cites each value.
REPORT_FIG11, COLUMN_LABELS = _load_fig11()
COLUMNS: tuple[str, ...] = tuple(REPORT_FIG11)


def fig11_printed() -> list[dict[str, Any]]:
    """The printed derived rows of Fig 11 (strings as printed), in the report's order."""
    data = tomllib.loads((DATA_DIR / "fig11_printed.toml").read_text(encoding="utf-8"))
    return data["rows"]


def _parse_printed(text: str) -> tuple[float, float]:
    """'5.20' → (5.2, 0.005); '77%' → (0.77, 0.005): value and half a unit of the last printed digit."""
    s = text.strip()
    pct = s.endswith("%")
    s = s.rstrip("%").replace(",", "")
    decimals = len(s.split(".")[1]) if "." in s else 0
    half = 0.5 * 10.0 ** (-decimals)
    if pct:
        return float(s) / 100.0, half / 100.0
    return float(s), half


@dataclass(frozen=True)
class Fig11Check:
    """One cell of Fig 11: printed string, its value, our computation, the rounding tolerance, match or not."""

    field: str
    row: str
    unit: str
    column: str
    printed: str
    printed_value: float
    computed: float
    tolerance: float
    ok: bool


def _columns(columns) -> list[str]:
    """None (all), one column name, or a list of them."""
    if columns is None:
        return list(COLUMNS)
    if isinstance(columns, str):
        columns = [columns]
    if isinstance(columns, (bytes, Mapping)) or not isinstance(columns, (list, tuple)):
        raise LabsimError(f"columns must be None, a Fig 11 column name or a list of them, got {columns!r}")
    for c in columns:
        check_choice("columns", c, COLUMNS, what="Fig 11 column")
    return list(columns)


def compare_fig11(columns=None) -> list[Fig11Check]:
    """Recompute every printed derived cell of Fig 11 and compare it within half a unit of its last printed digit
    (plus 1e-9 relative for floating point). Nothing is tuned: the inputs are the printed input rows."""
    cols = _columns(columns)
    results = {c: evaluate(REPORT_FIG11[c]) for c in cols}
    checks = []
    for row in fig11_printed():
        for c in cols:
            text = row["printed"][c]
            value, tol = _parse_printed(text)
            got = float(getattr(results[c], row["field"]))
            ok = abs(got - value) <= tol + 1e-9 * max(abs(value), 1.0)
            checks.append(Fig11Check(row["field"], row["row"], row["unit"], c, text, value, got, tol, ok))
    return checks


def _fmt_like(printed: str, value: float) -> str:
    s = printed.strip()
    if s.endswith("%"):
        return f"{100 * value:.1f}%"
    decimals = len(s.split(".")[1]) if "." in s else 0
    return f"{value:,.{decimals + 1}f}" if abs(value) < 1e4 else f"{value:,.1f}"


def fig11_table(columns=None):
    """Fig 11 side by side as a :class:`~labsim.table.Table` — each cell "printed | ours ✓" (✗ outside the printed
    rounding): aligned text when printed, an HTML table in a notebook."""
    from .table import Table

    cols = _columns(columns)
    by = {(ch.field, ch.column): ch for ch in compare_fig11(cols)}
    body = []
    for row in fig11_printed():
        cells = []
        for c in cols:
            ch = by[(row["field"], c)]
            cells.append(f"{ch.printed} | {_fmt_like(ch.printed, ch.computed)} {'✓' if ch.ok else '✗'}")
        body.append((row["row"], *cells))
    return Table(("Fig 11 row (printed | labsim.tco)", *cols), body, align="l" + "r" * len(cols), wide=(0,))


def print_fig11(columns=None, file=None) -> list[Fig11Check]:
    """Print Fig 11 side by side — printed value | our value — and flag every cell that does not match.
    Returns the list of mismatching cells (empty if the whole table reproduces)."""
    if file is not None and not callable(getattr(file, "write", None)):
        raise LabsimError(f"file must be a writable text file (an object with write()), got {file!r}")
    out = file or sys.stdout
    cols = _columns(columns)
    checks = compare_fig11(cols)
    print("Fig 11 of the report ([huatai26]): printed | labsim.tco   (✗ = outside the printed rounding)", file=out)
    print(fig11_table(cols), file=out)
    bad = [ch for ch in checks if not ch.ok]
    if bad:
        print(f"\n{len(bad)} mismatching cell(s):", file=out)
        for ch in bad:
            print(f"  ✗ {ch.row} [{COLUMN_LABELS[ch.column]}]: printed {ch.printed}, "
                  f"computed {_fmt_like(ch.printed, ch.computed)} from the same column's inputs", file=out)
    else:
        print("\nevery printed cell reproduces within its rounding", file=out)
    return bad


# --------------------------------------------------------------------------------------------------------------
# sensitivity: tornado and Monte Carlo
def default_ranges(base: TcoInputs) -> dict[str, tuple[float, float]]:
    """[A] Teaching ranges from ``data/tco/sensitivity.toml`` (assumptions, not published), made absolute for ``base``."""
    if not isinstance(base, TcoInputs):
        raise LabsimError(f"base must be a labsim.tco.TcoInputs, got {type(base).__name__}")
    data = tomllib.loads((DATA_DIR / "sensitivity.toml").read_text(encoding="utf-8"))
    out = {k: (float(lo), float(hi)) for k, (lo, hi) in data["absolute"].items()}
    for k, (lo, hi) in data["relative"].items():
        b = float(getattr(base, k))
        out[k] = (b * lo, b * hi)
    return out


@dataclass(frozen=True)
class TornadoBar:
    field: str
    low_input: float
    high_input: float
    output_at_low: float
    output_at_high: float
    base_output: float

    @property
    def swing(self) -> float:
        return abs(self.output_at_high - self.output_at_low)


def tornado(base: TcoInputs, ranges: Mapping[str, tuple[float, float]] | None = None,
            output: str = "usd_per_mtok") -> list[TornadoBar]:
    """One-at-a-time sensitivity: move each input to the ends of its range with all others at ``base``; bars sorted
    by swing (largest first). ``base`` must be scalar. Default ranges: ``default_ranges(base)`` [A]."""
    valid_out = [f.name for f in dataclasses.fields(TcoResult) if f.name != "inputs"]
    check_choice("output", output, valid_out, what="TcoResult field")
    if not isinstance(base, TcoInputs):
        raise LabsimError(f"base must be a labsim.tco.TcoInputs, got {type(base).__name__}")
    v = validate(base)
    if any(a.ndim for a in v.values()):
        raise LabsimError("tornado needs a scalar base (one system); got array inputs")
    ranges = default_ranges(base) if ranges is None else check_mapping("ranges", ranges)
    for name, rng in list(ranges.items()):
        check_choice("ranges key", name, FIELDS, what="input")
        if isinstance(rng, (str, bytes, Mapping)) or not isinstance(rng, (tuple, list, np.ndarray)) or len(rng) != 2:
            raise LabsimError(f"ranges[{name!r}] must be a pair (low, high), got {rng!r}")
        ranges[name] = tuple(check_number(f"ranges[{name!r}][{i}]", x, **_rule(name)) for i, x in enumerate(rng))
    names = list(ranges)
    m = 2 * len(names)
    arrays = {k: np.full(m, float(v[k])) for k in FIELDS}
    for i, name in enumerate(names):
        arrays[name][2 * i], arrays[name][2 * i + 1] = ranges[name]
    res = evaluate(base.replace(**arrays))
    y = np.asarray(getattr(res, output))
    y0 = float(getattr(evaluate(base), output))
    bars = [TornadoBar(name, float(ranges[name][0]), float(ranges[name][1]), float(y[2 * i]), float(y[2 * i + 1]), y0)
            for i, name in enumerate(names)]
    return sorted(bars, key=lambda b: b.swing, reverse=True)


def _draws(rng, n) -> int:
    if not isinstance(rng, np.random.Generator):
        raise LabsimError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {rng!r}")
    return check_int("n", n, lo=0, hi=_L.MAX_SAMPLES)


@dataclass(frozen=True)
class Uniform:
    """Uniform on [lo, hi]."""
    lo: float
    hi: float

    def __post_init__(self):
        check_number("Uniform.lo", self.lo)
        check_number("Uniform.hi", self.hi, lo=self.lo, lo_open=True)

    def support(self):
        return self.lo, self.hi

    def draw(self, rng, n):
        return rng.uniform(self.lo, self.hi, _draws(rng, n))


@dataclass(frozen=True)
class Triangular:
    """Triangular on [lo, hi] with peak at ``mode``."""
    lo: float
    mode: float
    hi: float

    def __post_init__(self):
        check_number("Triangular.lo", self.lo)
        check_number("Triangular.hi", self.hi, lo=self.lo, lo_open=True)
        check_number("Triangular.mode", self.mode, lo=self.lo, hi=self.hi)

    def support(self):
        return self.lo, self.hi

    def draw(self, rng, n):
        return rng.triangular(self.lo, self.mode, self.hi, _draws(rng, n))


@dataclass(frozen=True)
class LogNormal:
    """Log-normal with the given median and ``sigma`` (standard deviation of ln x). Its tail is unbounded and never
    clipped, so ``monte_carlo`` accepts it only where the input's allowed range lies beyond median·e^(±9σ)
    (a draw outside is a < 1e-18 event)."""
    median: float
    sigma: float

    def __post_init__(self):
        check_number("LogNormal.median", self.median, lo=0.0, lo_open=True)
        check_number("LogNormal.sigma", self.sigma, lo=0.0, lo_open=True, hi=5.0)

    def support(self):
        return 0.0, math.inf

    def draw(self, rng, n):
        return rng.lognormal(math.log(self.median), self.sigma, _draws(rng, n))


def _check_distribution(name: str, dist) -> None:
    check_choice("distributions key", name, FIELDS, what="input")
    rule = FIELDS[name]
    if isinstance(dist, Uniform):
        check_number(f"{name}: Uniform.lo", dist.lo)
        check_number(f"{name}: Uniform.hi", dist.hi, lo=dist.lo, lo_open=True)
    elif isinstance(dist, Triangular):
        check_number(f"{name}: Triangular.lo", dist.lo)
        check_number(f"{name}: Triangular.hi", dist.hi, lo=dist.lo, lo_open=True)
        check_number(f"{name}: Triangular.mode", dist.mode, lo=dist.lo, hi=dist.hi)
    elif isinstance(dist, LogNormal):
        check_number(f"{name}: LogNormal.median", dist.median, lo=0.0, lo_open=True)
        check_number(f"{name}: LogNormal.sigma", dist.sigma, lo=0.0, lo_open=True)
    else:
        raise LabsimError(f"distribution for {name} must be Uniform, Triangular or LogNormal, got {dist!r}")
    if rule.get("integer"):
        raise LabsimError(f"{name} holds whole numbers; sample it outside monte_carlo or keep it fixed")
    lo, hi = dist.support()
    if isinstance(dist, LogNormal):
        # an unbounded tail: accepted when a draw beyond the range is a 9-sigma event (P < 1e-18 per draw, so
        # none in MAX_SAMPLES draws); the tail is never clipped — a draw outside would raise in evaluate()
        lo, hi = dist.median * math.exp(-9.0 * dist.sigma), dist.median * math.exp(9.0 * dist.sigma)
    a_lo, a_hi = rule.get("lo"), rule.get("hi")
    if (a_lo is not None and (lo < a_lo or (lo == a_lo and rule.get("lo_open")))) \
            or (a_hi is not None and hi > a_hi):
        raise LabsimError(f"{name}: {dist!r} reaches [{lo:g}, {hi:g}], outside the allowed "
                          f"range [{a_lo}, {a_hi}]; pick a distribution whose whole support is valid "
                          "(tails are never clipped)")


@dataclass(frozen=True)
class MonteCarloResult:
    """Samples of one output (default $/M tokens) and of every sampled input, with the seed that made them."""

    output: str
    samples: np.ndarray
    inputs: dict[str, np.ndarray]
    seed: int

    def percentiles(self, q=(5, 50, 95)) -> dict[float, float]:
        qs = check_array("q", q, lo=0.0, hi=100.0).ravel()
        return {float(p): float(v) for p, v in zip(qs, np.percentile(self.samples, qs))}

    @property
    def mean(self) -> float:
        return float(self.samples.mean())


def monte_carlo(base: TcoInputs, distributions: Mapping[str, Any], n_samples: int = 1_000_000, seed: int = 0,
                output: str = "usd_per_mtok", progress: bool = True, chunk: int = 1 << 18) -> MonteCarloResult:
    """Seeded Monte Carlo: draw each input in ``distributions`` (Uniform / Triangular / LogNormal) independently,
    keep the others at ``base``, and evaluate ``output`` for every sample (vectorised, in chunks).

    Same ``seed`` (and ``chunk``) → identical samples. A tqdm bar appears if a run takes over a second.
    Independence between inputs is an assumption of this function.
    """
    n = check_int("n_samples", n_samples, lo=1, hi=_L.MAX_SAMPLES)
    seed = check_int("seed", seed, lo=0)
    chunk = check_int("chunk", chunk, lo=1, hi=_L.MAX_SAMPLES)
    progress = check_bool("progress", progress)
    valid_out = [f.name for f in dataclasses.fields(TcoResult) if f.name != "inputs"]
    check_choice("output", output, valid_out, what="TcoResult field")
    if not isinstance(base, TcoInputs):
        raise LabsimError(f"base must be a labsim.tco.TcoInputs, got {type(base).__name__}")
    distributions = check_mapping("distributions", distributions)
    if not distributions:
        raise LabsimError("distributions is empty; give at least one input a distribution")
    for name, dist in distributions.items():
        _check_distribution(name, dist)
    v = validate(base)
    if any(a.ndim for a in v.values()):
        raise LabsimError("monte_carlo needs a scalar base (one system); got array inputs")
    names = sorted(distributions)
    rng = np.random.default_rng(seed)
    samples = np.empty(n)
    drawn = {k: np.empty(n) for k in names}
    from tqdm.auto import tqdm
    with tqdm(total=n, delay=1.0, disable=not progress, unit="sample", desc="Monte Carlo") as bar:
        for start in range(0, n, chunk):
            m = min(chunk, n - start)
            changes = {}
            for k in names:
                x = distributions[k].draw(rng, m)
                drawn[k][start:start + m] = x
                changes[k] = x
            res = evaluate(base.replace(**changes))
            samples[start:start + m] = getattr(res, output)
            bar.update(m)
    return MonteCarloResult(output=output, samples=samples, inputs=drawn, seed=seed)


def _warmup() -> None:
    """No numba kernels here (pure NumPy); evaluate the report's columns once so imports and data are loaded."""
    for col in COLUMNS:
        evaluate(REPORT_FIG11[col])
