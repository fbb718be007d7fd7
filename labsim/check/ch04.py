"""Exercise checkers for chapter 4 (TCO). Expected values are computed with ``labsim.tco`` from the Fig 11 inputs
and the exercise constants below (the exercise text states the same constants); nothing is typed in."""
from __future__ import annotations

import math

from .. import tco
from ._core import check_bool, check_choice, check_number, checker

__all__ = ["EX_ANNUITY", "EX_SYSTEM", "annuity_payment", "usd_per_mtok_system", "break_even_batch",
           "implied_capex", "energy_per_token", "energy_claim", "most_efficient_system", "api_margin"]

#: Exercise 1: a $1.2 M system, 12 %/year cost of capital, 4-year life.
EX_ANNUITY = {"capex_usd": 1_200_000.0, "cost_of_capital": 0.12, "life_years": 4.0}

#: Exercise 2: an 8-GPU server node at $400 k ([huatai26] Q4 §2: "a full 8-GPU server node ≈ US$400 k"), one
#: inference unit of 8 GPUs; power, batch and per-user speed are [A] assumptions for the exercise; every other
#: input is Fig 11's shared value (the TcoInputs defaults).
EX_SYSTEM = {"capex_usd": 400_000.0, "system_power_kw": 14.3, "chips_per_system": 8, "chips_per_unit": 8,
             "tokens_per_s_per_user": 60.0, "batch": 32, "pipeline_depth": 1}


@checker
def annuity_payment(answer_usd_per_month) -> bool:
    """Exercise 1: the level monthly payment on EX_ANNUITY (rate per month = annual / 12)."""
    e = EX_ANNUITY
    expected = tco.annuity_payment(e["capex_usd"], e["cost_of_capital"], e["life_years"])
    n = 12 * e["life_years"]
    r = e["cost_of_capital"] / 12
    traps = [
        (e["capex_usd"] / n, "that is straight-line capex C/n — the annuity also pays the cost of capital."),
        (e["capex_usd"] / n + e["capex_usd"] * r,
         "that charges interest on the full capex every month (C/n + C·r); the annuity's interest falls as the "
         "balance is repaid."),
        (e["capex_usd"] * e["cost_of_capital"] / (1 - (1 + e["cost_of_capital"]) ** -e["life_years"]),
         "that is the YEARLY payment — use the monthly rate r = k/12 and n = 12 × years."),
        (e["capex_usd"] * e["cost_of_capital"] / (1 - (1 + e["cost_of_capital"]) ** -n),
         "you used the annual rate with monthly periods — divide the rate by 12."),
    ]
    return check_number(answer_usd_per_month, expected, traps=traps, rtol=2e-3,
                              hint="use payment = C·r / (1 − (1+r)^−n) with r = k/12, n = 12·years.")


def _ex_system_inputs() -> tco.TcoInputs:
    return tco.TcoInputs(**EX_SYSTEM, label="exercise 2 system")


@checker
def usd_per_mtok_system(answer_usd_per_mtok) -> bool:
    """Exercise 2: $/M tokens of the EX_SYSTEM server with Fig 11's shared inputs."""
    inp = _ex_system_inputs()
    expected = tco.evaluate(inp).usd_per_mtok
    traps = [
        (tco.evaluate(inp.replace(utilization_derates_tokens=True)).usd_per_mtok,
         "you derated the token output by utilization too; Fig 11 applies utilization to power only."),
        (tco.evaluate(inp.replace(life_years=5.0 * 12)).usd_per_mtok,
         "it looks like the life went in as months where years are expected."),
    ]
    return check_number(answer_usd_per_mtok, expected, traps=traps, rtol=5e-3,
                        hint="monthly capital (annuity) + hosting, per hour, per unit, over tokens per hour / 10⁶.")


@checker
def break_even_batch(answer_batch) -> bool:
    """Exercise 3: the batch at which Fig 11's latency-optimized 8×H100 (per-user speed held at its 420 tok/s, an
    assumption) costs as much per M tokens as the Groq racks at cost. A real number, not rounded."""
    gpu = tco.REPORT_FIG11["gpu-latency"]
    target = tco.evaluate(tco.REPORT_FIG11["groq-cost"]).usd_per_mtok
    # $/M tokens ∝ 1/batch with everything else fixed, so the break-even batch is exact:
    expected = float(gpu.batch) * tco.evaluate(gpu).usd_per_mtok / target
    traps = [(math.ceil(expected), "that is the rounded-up batch; give the exact (real) break-even value."),
             (math.floor(expected), "that is rounded down; give the exact (real) break-even value.")]
    return check_number(answer_batch, expected, traps=traps, rtol=1e-2,
                              hint="$/M tokens is inversely proportional to batch here: solve cost(b) = Groq's cost.")


@checker
def implied_capex(answer_usd) -> bool:
    """Exercise 4: the price of the at-cost Groq system (Fig 11, $2.52 M) that earns a 60 % gross margin."""
    cost = float(tco.REPORT_FIG11["groq-cost"].capex_usd)
    expected = tco.implied_price_for_margin(cost, 0.60)
    traps = [(cost * 1.6, "that is a 60 % markup on cost; a 60 % gross margin means (price − cost)/price = 0.6."),
             (cost * 0.4, "that is below cost — margin is measured on the price: price = cost / (1 − margin)."),
             (float(tco.REPORT_FIG11["groq-60gpm"].capex_usd),
              "that is the report's printed 6.35 M; compute it from the at-cost price and the margin.")]
    return check_number(answer_usd, expected, traps=traps, rtol=1e-3)


@checker
def energy_per_token(answer_j_per_token, column: str = "groq-cost") -> bool:
    """Exercise 5a: J/token of a Fig 11 column from its nameplate system power and total tokens/s (IT power, no PUE)."""
    res = tco.evaluate(tco.REPORT_FIG11[column])
    expected = res.j_per_token
    traps = [(res.j_per_token_with_pue, "that includes PUE; the exercise asks for IT (nameplate) power only."),
             (res.j_per_token * float(tco.REPORT_FIG11[column].utilization),
              "you scaled the power by utilization; use the nameplate power at the table's token rate.")]
    return check_number(answer_j_per_token, expected, traps=traps, rtol=5e-3,
                              hint="J/token = W / (tokens/s) = system kW × 1000 / (tokens/s per unit × units).")


@checker
def most_efficient_system(answer) -> bool:
    """Exercise 5b: which Fig 11 column uses the fewest joules per token?"""
    js = {c: tco.evaluate(tco.REPORT_FIG11[c]).j_per_token for c in tco.COLUMNS}
    best = min(js, key=js.get)
    return check_choice(answer, best, list(tco.COLUMNS),
                        hint="compute J/token for every column before choosing.")


@checker
def energy_claim(answer_bool) -> bool:
    """Exercise 5c: do Fig 11's own numbers support "Groq ≈ 1–3 J/token vs GPU 10–30 J/token" ([huatai26] Q4 §3)?
    True only if every Groq column lies in 1–3 J and every GPU column in 10–30 J (with or without PUE)."""
    def in_range(x, lo, hi):
        return lo <= x <= hi

    ok = True
    for c in tco.COLUMNS:
        r = tco.evaluate(tco.REPORT_FIG11[c])
        lo, hi = (1.0, 3.0) if c.startswith("groq") else (10.0, 30.0)
        ok &= in_range(r.j_per_token, lo, hi) or in_range(r.j_per_token_with_pue, lo, hi)
    return check_bool(answer_bool, bool(ok), hint="compare each column's J/token with the claimed ranges.")


@checker
def api_margin(answer_gross_margin) -> bool:
    """Exercise 6: gross margin (a fraction) of Groq's Llama 3.3 70B output price (Fig 10) over the at-cost
    $/M tokens of Fig 11's Groq system run at that model's listed speed — the [A] assumption of api_margin_table."""
    row = next(m for m in tco.api_prices() if m["name"].startswith("Llama 3.3 70B"))
    cost = tco.evaluate(tco.REPORT_FIG11["groq-cost"].replace(
        tokens_per_s_per_user=float(row["speed_tokens_per_s"]))).usd_per_mtok
    expected = tco.implied_margin(cost, row["output_usd_per_mtok"])
    traps = [(1 - row["output_usd_per_mtok"] / cost, "that is 1 − price/cost; gross margin is 1 − cost/price."),
             (tco.implied_margin(tco.evaluate(tco.REPORT_FIG11["groq-cost"]).usd_per_mtok,
                                 row["output_usd_per_mtok"]),
              "you used the table's 500 tok/s per user; use the model's listed speed.")]
    return check_number(answer_gross_margin, expected, traps=traps, rtol=5e-3,
                              hint="margin = 1 − cost/price, a fraction (negative if the price is below cost).")
