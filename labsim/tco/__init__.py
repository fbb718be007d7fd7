"""Total cost of ownership: what one token costs (chapter 4).

The model is the one behind the cost table of the report ([huatai26] Huatai Research, 12 Jan 2026, Fig 11; every
derived row recomputed in ``docs/design/tco.md``): the system price is paid off as a monthly **annuity** at the
hurdle rate, power is charged at utilization × PUE, colocation per kW, and the monthly total is spread over the
tokens one inference unit produces in an hour. ``evaluate`` is pure NumPy: every input may be a scalar or an
array, arrays broadcast, and one call prices millions of configurations. Equations and assumptions:
``docs/design/tco.md``.

    >>> from labsim import tco
    >>> r = tco.evaluate(tco.REPORT_FIG11["groq-cost"])
    >>> round(r.usd_per_mtok, 2)
    1.94

The package, one job per module (``from labsim import tco; tco.X`` reaches every public name):

* ``inputs``      — ``TcoInputs``, the allowed range of every field (``FIELDS``), ``validate``
* ``model``       — ``evaluate`` → ``TcoResult``, the annuity, ``cost_breakdown``
* ``fig11``       — the report's Fig 11 as inputs (``REPORT_FIG11``) and its printed rows recomputed
* ``prices``      — margins, Groq's API prices (Fig 10), ``inputs_from_plan`` (chapter 3 → chapter 4)
* ``sensitivity`` — ``tornado`` and its default ranges
* ``montecarlo``  — input distributions and the seeded ``monte_carlo``
"""
from __future__ import annotations

from . import fig11, inputs
from .fig11 import COLUMNS, REPORT_FIG11, Fig11Check, compare_fig11, fig11_printed, fig11_table, print_fig11
from .inputs import FIELDS, TcoInputs, validate
from .model import TcoResult, annuity_factor, annuity_payment, annuity_schedule, cost_breakdown, evaluate
from .montecarlo import LogNormal, MonteCarloResult, Triangular, Uniform, monte_carlo
from .prices import api_margin_table, api_prices, implied_margin, implied_price_for_margin, inputs_from_plan
from .sensitivity import TornadoBar, default_ranges, tornado

__all__ = [
    "TcoInputs", "TcoResult", "evaluate", "validate", "REPORT_FIG11", "COLUMNS", "FIELDS",
    "annuity_factor", "annuity_payment", "annuity_schedule", "cost_breakdown",
    "implied_price_for_margin", "implied_margin", "api_prices", "api_margin_table", "inputs_from_plan",
    "Fig11Check", "compare_fig11", "print_fig11", "fig11_table", "fig11_printed",
    "Uniform", "Triangular", "LogNormal", "MonteCarloResult", "monte_carlo",
    "TornadoBar", "tornado", "default_ranges",
]

# Outside ``__all__``, reachable as they were when ``labsim.tco`` was one file:
COLUMN_LABELS = fig11.COLUMN_LABELS          # Fig 11 column name → the report's column heading
DATA_DIR = inputs.DATA_DIR                   # labsim/data/tco
SECONDS_PER_HOUR = inputs.SECONDS_PER_HOUR
MONTHS_PER_YEAR = inputs.MONTHS_PER_YEAR
TOKENS_PER_MTOK = inputs.TOKENS_PER_MTOK

def _warmup() -> None:
    """No numba kernels here (pure NumPy); evaluate the report's columns once so imports and data are loaded."""
    for col in COLUMNS:
        evaluate(REPORT_FIG11[col])
