"""Plots and widgets, one module per chapter (``labsim.viz.ch01`` …).

Each widget is a thin ipywidgets wrapper around a plain callback function that takes numbers/names and
returns a figure, text or dict — the callbacks are what the unit tests and the benchmarks call.
"""
