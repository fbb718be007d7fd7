"""The one way labsim widgets are wired: controls → a plain callback → widgets that show the result.

``observe`` on each control, no ``ipywidgets.interactive``: ``interactive`` captures prints in an Output widget,
which clears and refills on every move and can stall Voilà's execution of a notebook (voila-dashboards/voila
#1322); setting an HTML/Image widget's value does neither.
"""
from __future__ import annotations

import html


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
    import ipywidgets as W

    def on_change(_=None):
        show(**{k: c.value for k, c in controls.items()})

    for c in controls.values():
        c.observe(on_change, names="value")
    on_change()
    box = W.VBox([*controls.values(), *outputs])
    box.show, box.controls = show, controls
    return box
