"""Benchmarks for labsim.tco: configurations priced per second (vectorised), Monte Carlo samples per second, and
the chapter-4 widget's answer time per slider move."""
from __future__ import annotations

import contextlib
import io
import time

import numpy as np
from _timing import best_of

from labsim import tco

N_CONFIGS = 1_000_000
N_MC = 1_000_000


def widget_move_times_ms(n_per_control: int = 8) -> np.ndarray:
    """Move every control of ``viz.ch04.make_tco_widget()`` across its range (ipywidgets, no browser) and time
    each move with ``time.perf_counter``: ``explore`` + the table print + the bar picture rendered to PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import ipywidgets as W

    from labsim.viz import ch04

    sink = io.StringIO()
    with contextlib.redirect_stdout(sink):
        w = ch04.make_tco_widget()
    times = []
    for ctrl in w.children:
        if isinstance(ctrl, W.Checkbox):
            values = [not ctrl.value, ctrl.value] * (n_per_control // 2)
        elif isinstance(ctrl, (W.FloatSlider, W.IntSlider)):
            values = list(np.linspace(ctrl.min, ctrl.max, n_per_control)) + [ctrl.value]
            if isinstance(ctrl, W.IntSlider):
                values = [int(round(v)) for v in values]
        else:
            continue
        for v in values:
            if v == ctrl.value:
                continue
            t0 = time.perf_counter()
            with contextlib.redirect_stdout(sink):
                ctrl.value = v
            times.append(time.perf_counter() - t0)
    return np.array(times) * 1e3



def run() -> list[dict]:
    rng = np.random.default_rng(0)
    base = tco.REPORT_FIG11["groq-cost"]
    # every numeric input an independent array of N_CONFIGS values (validation included in the timing)
    arrays = dict(
        capex_usd=rng.uniform(1e5, 1e7, N_CONFIGS), life_years=rng.uniform(3, 7, N_CONFIGS),
        cost_of_capital=rng.uniform(0.05, 0.25, N_CONFIGS), electricity_usd_per_kwh=rng.uniform(0.03, 0.2, N_CONFIGS),
        hours_per_month=np.full(N_CONFIGS, 730.0), utilization=rng.uniform(0.3, 1.0, N_CONFIGS),
        pue=rng.uniform(1.05, 1.6, N_CONFIGS), colocation_usd_per_kw_month=rng.uniform(100, 300, N_CONFIGS),
        system_power_kw=rng.uniform(5, 300, N_CONFIGS), chips_per_system=np.full(N_CONFIGS, 576.0),
        chips_per_unit=np.full(N_CONFIGS, 576.0), tokens_per_s_per_user=rng.uniform(20, 1000, N_CONFIGS),
        batch=rng.uniform(1, 64, N_CONFIGS), pipeline_depth=np.full(N_CONFIGS, 16.0),
    )
    inputs = base.replace(**arrays)
    tco.evaluate(inputs)  # warm caches
    t_eval = best_of(lambda: tco.evaluate(inputs))
    dists = {"utilization": tco.Uniform(0.5, 1.0), "capex_usd": tco.LogNormal(2.52e6, 0.3),
             "electricity_usd_per_kwh": tco.Triangular(0.05, 0.087, 0.15), "pue": tco.Uniform(1.1, 1.5)}
    t_mc = best_of(lambda: tco.monte_carlo(base, dists, n_samples=N_MC, seed=0, progress=False))
    scalar = tco.REPORT_FIG11["gpu-latency"]
    n_scalar = 2000
    t_scalar = best_of(lambda: [tco.evaluate(scalar) for _ in range(n_scalar)]) / n_scalar
    moves = widget_move_times_ms()
    return [
        {"name": "tco.evaluate vectorised", "value": N_CONFIGS / t_eval, "unit": "configs/s",
         "note": f"{N_CONFIGS:.0e} configs, all 14 inputs arrays, validation included; {t_eval * 1e3:.0f} ms; "
                 "goal ≥ 1e6/s"},
        {"name": "tco.monte_carlo", "value": N_MC / t_mc, "unit": "samples/s",
         "note": f"{N_MC:.0e} samples, 4 sampled inputs, seed 0; {t_mc:.2f} s"},
        {"name": "tco.evaluate scalar call", "value": t_scalar * 1e6, "unit": "µs/call",
         "note": "one system (Fig 11 gpu-latency column)"},
        {"name": "ch04 widget move p50", "value": float(np.percentile(moves, 50)), "unit": "ms",
         "note": f"{moves.size} moves over 8 controls, p95 {np.percentile(moves, 95):.1f} ms, "
                 f"max {moves.max():.1f} ms; explore + table + PNG of the bars; goal < 100 ms"},
    ]


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']:<28} {row['value']:>14,.1f} {row['unit']:<10} {row['note']}")
