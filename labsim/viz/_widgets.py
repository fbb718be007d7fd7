"""The one way labsim widgets are wired: controls → a plain callback → widgets that show the result.

``observe`` on each control, no ``ipywidgets.interactive``: ``interactive`` captures prints in an Output widget,
which clears and refills on every move and can stall Voilà's execution of a notebook (voila-dashboards/voila
#1322); setting an HTML/Image widget's value does neither.
"""
from __future__ import annotations

import html
from collections.abc import Mapping

import ipywidgets as W
import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from ..errors import LabsimError, check_choice, check_int, check_number, check_text

#: the code font of JupyterLab's theme, with a monospace fallback: Voilà's page styles do not give ``<pre>`` inside a
#: widget a fixed-width font, and the text tables need one to line up.
MONO = "font-family:var(--jp-code-font-family, monospace), monospace;font-size:12px;line-height:1.35"


def pre(text: str) -> str:
    """Plain text as a compact fixed-width ``<pre>`` block for an ``ipywidgets.HTML`` (columns line up in
    JupyterLab and in Voilà alike)."""
    return f"<pre style='margin:0;{MONO}'>{html.escape(text)}</pre>"


def wire(controls: dict, show, outputs):
    """Call ``show(**values)`` now and whenever a control changes; return a VBox of controls + ``outputs``.

    The box carries ``show`` (the callback) and ``controls`` (name → widget) for tests and benchmarks.
    """
    def on_change(_=None):
        show(**{k: c.value for k, c in controls.items()})

    for c in controls.values():
        c.observe(on_change, names="value")
    on_change()
    box = W.VBox([*controls.values(), *outputs])
    box.show, box.controls = show, controls
    return box


# ------------------------------------------------------------------------------------------------------------------
# Input checks shared by the chapter plots (docs/contract.md): a bad argument raises LabsimError naming it, before
# matplotlib sees it.
def check_ax(ax, name: str = "ax"):
    """None (a new figure) or a matplotlib Axes."""
    if ax is not None and not isinstance(ax, Axes):
        raise LabsimError(f"{name} must be None or a matplotlib Axes, got {ax!r}")
    return ax


def figure_and_ax(ax, figsize=(8, 4)):
    """``(figure, ax)`` for a chapter plot: the given Axes and its figure, or a new figure of ``figsize`` when
    ``ax`` is None (checked with :func:`check_ax`). The one copy of the helper every ``viz`` module uses."""
    if check_ax(ax) is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax.figure, ax


def check_axes(axes, n: int, name: str = "axes"):
    """None or a sequence of ``n`` matplotlib Axes."""
    if axes is None:
        return None
    try:
        items = list(axes.ravel() if hasattr(axes, "ravel") else axes)
    except TypeError:
        items = None
    if items is None or len(items) != n or not all(isinstance(a, Axes) for a in items):
        raise LabsimError(f"{name} must be None or {n} matplotlib Axes, got {axes!r}")
    return items


def check_title(title, name: str = "title"):
    """None or one line of text."""
    return None if title is None else check_text(name, title, max_chars=500)


def check_figsize(figsize, name: str = "figsize") -> tuple[float, float]:
    """(width, height) in inches, each in [1, 50]."""
    if isinstance(figsize, (str, bytes, dict)) or not hasattr(figsize, "__len__") or len(figsize) != 2:
        raise LabsimError(f"{name} must be (width, height) in inches, got {figsize!r}")
    return tuple(check_number(f"{name}[{i}]", v, lo=1.0, hi=50.0, unit="in") for i, v in enumerate(figsize))


def check_dpi(dpi, name: str = "dpi") -> int:
    return check_int(name, dpi, lo=40, hi=400)


def check_bins(bins, name: str = "bins") -> int:
    return check_int(name, bins, lo=1, hi=10_000)


def check_names(name: str, values, valid, what: str) -> list[str]:
    """A sequence (list/tuple) of names, each one of ``valid``; one name alone is accepted as a 1-list."""
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, (list, tuple)) or not values:
        raise LabsimError(f"{name} must be a non-empty list of {what} names, got {values!r}")
    return [check_choice(f"{name}[{i}]", v, valid, what=what) for i, v in enumerate(values)]


def check_result(r, keys, name: str = "r", made_by: str = "explore()") -> dict:
    """The dict a callback returned (``made_by``), with every key the formatter reads."""
    if not isinstance(r, Mapping) or any(k not in r for k in keys):
        missing = [k for k in keys if not isinstance(r, Mapping) or k not in r]
        raise LabsimError(f"{name} must be the dict {made_by} returns (missing {', '.join(missing)}), got "
                          f"{type(r).__name__}")
    return r
