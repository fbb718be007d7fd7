"""Demo mode for lecturers: the course notebooks as Voilà dashboards — outputs and widgets, no code cells.

    make demo                                  # = .venv/bin/python tools/demo.py
    .venv/bin/python tools/demo.py --port 8866 --no-token

Serves ``notebooks/`` with Voilà on 127.0.0.1 only (tree view: every chapter is one click away) and prints the
two URLs a lecturer usually wants: the start notebook's tour and one chapter's main widget. Each page runs its
notebook top to bottom in a fresh kernel, then shows only the rendered markdown, outputs and live widgets.

The pages use the course's Voilà template ``lpu-demo`` (``tools/jupyter/voila/templates/lpu-demo``, found through
``JUPYTER_PATH``): it hides cells tagged ``demo-hide`` — learner instructions such as "press Shift+Enter" and
exercise checks, which make no sense without their code — and sets widget text tables in a fixed-width font.
Stop with Ctrl-C. The same dashboards on Binder: see docs/demo.md.
"""
from __future__ import annotations

import argparse
import os
import secrets
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Jupyter data directory holding the course's Voilà template (voila/templates/<TEMPLATE>)
TEMPLATE_ROOT = ROOT / "tools" / "jupyter"
TEMPLATE = "lpu-demo"
START = "00_start_here.ipynb"
CHAPTER = "03_sram_capacity_tax.ipynb"
CHAPTER7 = "07_other_roads.ipynb"      # the next-LPU widget


def voila_argv(notebooks: Path, port: int, token: str | None, show_tracebacks: bool) -> list[str]:
    voila = shutil.which("voila", path=str(Path(sys.executable).parent)) or shutil.which("voila")
    if voila is None:
        raise SystemExit("error: voila not found; run `make install` (voila is pinned in pyproject.toml)")
    argv = [voila, str(notebooks), "--no-browser", "--Voila.ip=127.0.0.1", f"--port={port}",
            "--Voila.port_retries=0", "--strip_sources=True", "--theme=light", f"--template={TEMPLATE}",
            f"--show_tracebacks={show_tracebacks}"]
    if token:
        argv.append(f"--token={token}")
    return argv


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="tools/demo.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=int(os.environ.get("DEMO_PORT", "8866")))
    ap.add_argument("--notebooks", type=Path, default=ROOT / "notebooks", help="folder to serve (default: notebooks/)")
    tok = ap.add_mutually_exclusive_group()
    tok.add_argument("--token", default=None, help="access token (default: a random one, printed in the URLs)")
    tok.add_argument("--no-token", action="store_true", help="no token (the server still listens on 127.0.0.1 only)")
    ap.add_argument("--show-tracebacks", action="store_true", help="show Python tracebacks in the page (debugging)")
    args = ap.parse_args(argv)

    nb_dir = args.notebooks.resolve()
    if not (nb_dir / START).is_file():
        print(f"error: {nb_dir / START} not found", file=sys.stderr)
        return 2
    token = None if args.no_token else (args.token or secrets.token_hex(16))
    q = f"?token={token}" if token else ""
    base = f"http://127.0.0.1:{args.port}"
    print("LPU Lab demo mode (Voilà: outputs and widgets, no code). Open:")
    print(f"  start-here tour : {base}/voila/render/{START}{q}")
    chapter = CHAPTER if (nb_dir / CHAPTER).is_file() else None
    if chapter:
        print(f"  chapter 3 widget: {base}/voila/render/{chapter}{q}")
    if (nb_dir / CHAPTER7).is_file():
        print(f"  chapter 7 widget: {base}/voila/render/{CHAPTER7}{q}")
    print(f"  all chapters    : {base}/{q}")
    print("Each page runs its notebook first (a few seconds). Ctrl-C stops the server.", flush=True)
    cmd = voila_argv(nb_dir, args.port, token, args.show_tracebacks)
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        p for p in (str(TEMPLATE_ROOT), os.environ.get("JUPYTER_PATH", "")) if p)
    os.execv(cmd[0], cmd)  # replace this process: signals (Ctrl-C, SIGTERM) go straight to Voilà


if __name__ == "__main__":
    raise SystemExit(main())
