"""Checkers for the start notebook (a warm-up showing how checks behave)."""
from __future__ import annotations

import math

from .. import catalog
from ._core import check_number


def weight_gb(answer, model: str = "llama-3.1-8b", precision: str = "int8") -> bool:
    """Weights of ``model`` at ``precision``, in GB (10⁹ bytes)."""
    expected = catalog.model(model).weight_bytes(precision) / 1e9
    return check_number(answer, expected, rtol=0.02,
                        hint="parameters × bytes per parameter, divided by 10⁹ (use model.params_total()).")


def chips_to_hold(answer, model: str = "llama-3.3-70b", chip: str = "groq-lpu-v1",
                  precision: str = "int8") -> bool:
    """Chips needed just to hold the weights (rounded up)."""
    m, c = catalog.model(model), catalog.chip(chip)
    expected = math.ceil(m.weight_bytes(precision) / c.memory_bytes)
    return check_number(answer, expected, rtol=0, atol=0.5,
                        hint="weight bytes ÷ memory bytes per chip, rounded *up* — a partial chip is a chip.")
