"""The course in a real browser: JupyterLab and the Voilà demo, driven by headless Debian Chromium.

What a learner does on day one, checked end to end: JupyterLab starts (127.0.0.1, a random token, a throw-away
copy of ``notebooks/`` and ``docs/``), **every chapter** opens and Run → Run All Cells finishes without an error
output; in the start notebook and one chapter the ipywidgets front end really renders a slider, and moving it
changes what is displayed; a glossary link opens the glossary at its entry. The lecturer's demo mode
(``tools/demo.py``, i.e. ``make demo``) renders every chapter without code cells and without the cells tagged
``demo-hide``; the Binder URL path ``/voila/render/…`` is opened too. Every chapter is photographed at 1,400 px
in both, page by page: ``test-artifacts/browser/lab-<chapter>-NN.png`` and ``voila-<chapter>-NN.png``. A chapter
listed in ``CHAPTERS`` that does not exist is a failure, not a skip.

Uses Playwright's Python package with ``executable_path=/usr/bin/chromium`` — never a downloaded browser.
If Chromium is missing the tests are skipped, except under CI (env ``CI`` set), where that is a failure.
Every server started here is shut down in a ``finally`` (its whole process group and any kernels), even on failure.
Marked ``browser``: ``pytest -m "not browser"`` leaves them out.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CHROMIUM = os.environ.get("LABSIM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
# Where the notebooks under test come from (overridable so the test can be developed against scratch notebooks).
NOTEBOOK_SRC = Path(os.environ.get("LABSIM_BROWSER_NOTEBOOKS", ROOT / "notebooks"))
START_NOTEBOOK = "00_start_here.ipynb"
PREFERRED_CHAPTER = "03_sram_capacity_tax.ipynb"
#: every chapter of the course, one per line (a chapter added to the course is added here)
CHAPTERS = [
    "00_start_here.ipynb",
    "01_tsp_slices.ipynb",
    "02_compiler_scheduling.ipynb",
    "03_sram_capacity_tax.ipynb",
    "04_tco.ipynb",
    "05_agentic_latency_budget.ipynb",
    "06_capstone_hybrid_fleet.ipynb",
    "07_other_roads.ipynb",
]
#: chapters whose first slider is also moved (the widget round trip is the same everywhere; two are enough)
SLIDER_CHAPTERS = (START_NOTEBOOK, PREFERRED_CHAPTER)
#: text that must render literally (an escaped currency sign, not TeX) somewhere in a chapter's Markdown
LITERAL_TEXT = {"03_sram_capacity_tax.ipynb": "USD 30 M", "06_capstone_hybrid_fleet.ipynb": "USD 43,750 = Fig 11's"}
SHOT_STEP_PX = 900        # page-by-page screenshots: scroll by this much between shots
ARTIFACTS = ROOT / "test-artifacts" / "browser"
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"   # the notebook tab on show

SERVER_START_S = 90       # JupyterLab / Voilà answering /api/status (cold start on 2 busy cores)
RUN_ALL_S = 120           # a notebook's Run All Cells (chapters run "in seconds"; this is a generous ceiling)
WIDGET_S = 30             # a slider appearing / the output reacting to it

# Text that means a cell failed, wherever it shows up in an output area.
ERROR_PATTERNS = [
    re.compile(r"Traceback \(most recent call last\)"),
    re.compile(r"^\s*-{20,}\s*\n\s*\w+(Error|Exception)\b", re.M),   # IPython's error header
    re.compile(r"^[A-Z]\w*(Error|Exception): ", re.M),                # ValueError: message (not "Error: 3 %")
    re.compile(r"Error displaying widget|Failed to load model class|Could not create a view"),
    re.compile(r"There was an error when executing cell"),           # Voilà
]


# --------------------------------------------------------------------------------------------- environment

def _chromium_or_skip() -> str:
    if Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    reason = (f"Chromium not found at {CHROMIUM}; the browser test drives Debian's chromium "
              "(apt-get install chromium — .ci/run does this), never a downloaded browser")
    if os.environ.get("CI"):
        pytest.fail(reason + " [CI is set, so this is a failure]")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pick_chapter(nb_dir: Path) -> str | None:
    """03_sram_capacity_tax if present, else the first chapter notebook that builds a widget."""
    if (nb_dir / PREFERRED_CHAPTER).is_file():
        return PREFERRED_CHAPTER
    for nb in sorted(nb_dir.glob("[0-9][0-9]_*.ipynb")):
        if nb.name == START_NOTEBOOK:
            continue
        text = nb.read_text(encoding="utf-8")
        if "widget" in text or "interact" in text:
            return nb.name
    return None


def _code_cells(nb_path: Path) -> list[str]:
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in nb["cells"] if c["cell_type"] == "code"]


def _descendants(pid: int) -> list[int]:
    """All live descendant pids of ``pid`` (Linux /proc); kernels run in their own session, so killpg misses them."""
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(d.name))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def _own_group_dies_with_parent() -> None:
    """In the child before exec: its own process group (so stop() can kill the whole group), and on Linux a
    SIGTERM if pytest itself dies (killed, timed out), so no server outlives the test run."""
    os.setsid()
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


class Server:
    """A Jupyter-based server process (JupyterLab or Voilà) in its own process group; always stopped by ``stop``."""

    def __init__(self, name: str, argv: list[str], port: int, token: str, env: dict, log_path: Path):
        self.name, self.port, self.token = name, port, token
        self.base = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=env, preexec_fn=_own_group_dies_with_parent)

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def wait_ready(self, path: str, timeout_s: float = SERVER_START_S) -> None:
        deadline = time.monotonic() + timeout_s
        url = f"{self.base}{path}"
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with code {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.status == 200:
                        return
            except urllib.error.HTTPError as exc:  # it answers, but not with 200: no point waiting
                raise RuntimeError(f"{self.name}: GET {path} -> HTTP {exc.code}:\n{self.log_tail()}") from None
            except (urllib.error.URLError, OSError) as exc:
                last = exc
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} not ready after {timeout_s} s ({last}):\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM the process group (the server shuts its kernels down), then SIGKILL whatever is left."""
        try:
            if self.proc.poll() is None:
                kids = _descendants(self.proc.pid)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGTERM)
                try:
                    self.proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(self.proc.pid, signal.SIGKILL)
                    self.proc.wait(timeout=10)
                for pid in kids:  # kernels live in their own sessions; they should be gone already
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(pid, signal.SIGKILL)
            else:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
        finally:
            self._log.close()


def _jupyter_env(tmp: Path) -> dict:
    """Isolate the servers from the user's Jupyter config, settings and workspaces (all in ``tmp``)."""
    env = dict(os.environ)
    settings = tmp / "lab-settings"
    (settings / "@jupyterlab" / "notebook-extension").mkdir(parents=True, exist_ok=True)
    (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True, exist_ok=True)
    # Render every cell (no virtual scrolling), so the error checks see the whole notebook.
    (settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings").write_text(
        json.dumps({"windowingMode": "none"}))
    (settings / "@jupyterlab" / "docmanager-extension").mkdir(parents=True, exist_ok=True)
    (settings / "@jupyterlab" / "docmanager-extension" / "plugin.jupyterlab-settings").write_text(
        json.dumps({"autosave": False}))
    # No "news" / update prompt covering the page.
    (settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    for sub in ("config", "runtime", "workspaces"):
        (tmp / sub).mkdir(exist_ok=True)
    env.update({
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
        "JUPYTER_CONFIG_DIR": str(tmp / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
        "PYTHONUNBUFFERED": "1",
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    })
    env.pop("JUPYTER_TOKEN", None)
    return env


# --------------------------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def chromium_path() -> str:
    return _chromium_or_skip()


@pytest.fixture(scope="module")
def course_copy(tmp_path_factory) -> Path:
    """A throw-away server root holding a copy of the course notebooks and docs (the learner's tree is never
    written); ``docs/`` makes the notebooks' glossary and bibliography links resolve as in a checkout."""
    assert (NOTEBOOK_SRC / START_NOTEBOOK).is_file(), f"{NOTEBOOK_SRC / START_NOTEBOOK} is missing"
    tmp = tmp_path_factory.mktemp("browser")
    root = tmp / "root"
    shutil.copytree(NOTEBOOK_SRC, root / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    if (ROOT / "docs").is_dir():
        shutil.copytree(ROOT / "docs", root / "docs")
    return root


@pytest.fixture(scope="module")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def lab(chromium_path, course_copy, artifacts):
    """JupyterLab on 127.0.0.1, a free port, a random token, root = the throw-away copy."""
    tmp = course_copy.parent
    port, token = _free_port(), secrets.token_hex(24)
    argv = [str(BIN / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
            "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={course_copy}", "--ServerApp.open_browser=False",
            "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI containers often run as root
        argv.append("--allow-root")
    server = Server("JupyterLab", argv, port, token, _jupyter_env(tmp), artifacts / "jupyterlab.log")
    try:
        server.wait_ready(f"/api/status?token={token}")
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def demo(chromium_path, course_copy, artifacts):
    """The lecturer's demo mode exactly as ``make demo`` starts it (tools/demo.py → Voilà), on the throw-away copy."""
    tmp = course_copy.parent
    port, token = _free_port(), secrets.token_hex(24)
    argv = [sys.executable, str(ROOT / "tools" / "demo.py"), "--port", str(port), "--token", token,
            "--show-tracebacks", "--notebooks", str(course_copy / "notebooks")]
    server = Server("Voila demo", argv, port, token, _jupyter_env(tmp), artifacts / "voila.log")
    try:
        server.wait_ready(f"/?token={token}")  # Voilà's tree page (it has no /api/status)
        yield server
    finally:
        server.stop()


@pytest.fixture
def page(browser, artifacts, request):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    console: list[str] = []
    pg.on("console", lambda m: console.append(f"[{m.type}] {m.text}") if m.type in ("error", "warning") else None)
    pg.on("pageerror", lambda e: console.append(f"[pageerror] {e}"))
    try:
        yield pg
    finally:
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        rep = getattr(request.node, "rep_call", None)  # set by tests/conftest_browser.py when it is loaded
        if rep is None or rep.failed:
            with contextlib.suppress(Exception):
                pg.screenshot(path=str(artifacts / f"{name}-last.png"))
        (artifacts / f"{name}-console.log").write_text("\n".join(console) + "\n")
        ctx.close()


# --------------------------------------------------------------------------------------------- page helpers

_OUTPUT_TEXT_JS = """
(scope) => Array.from((document.querySelector(scope) || document).querySelectorAll(
    '.jp-OutputArea-output, .jp-RenderedText, .jupyter-widgets-output-area'))
  .map(e => e.innerText || '').join('\\n----\\n')
"""

# A fingerprint of what a cell *displays*: its outputs' text and images, minus the slider's own readout.
_CELL_FINGERPRINT_JS = """
(slider) => {
  const cell = slider.closest('.jp-Cell, .jp-OutputArea, body');
  const clone = cell.cloneNode(true);
  clone.querySelectorAll('.widget-readout, .widget-slider, .jp-InputArea, .jp-InputPrompt, .jp-OutputPrompt')
       .forEach(e => e.remove());
  const imgs = Array.from(cell.querySelectorAll('img')).map(i => i.src.length + ':' + i.src.slice(-64));
  const svgs = Array.from(cell.querySelectorAll('svg')).map(s => s.outerHTML.length);
  return clone.innerText + '|img:' + imgs.join(',') + '|svg:' + svgs.join(',');
}
"""


def _playwright_timeout():
    from playwright.sync_api import TimeoutError as T

    return T


def _error_outputs(page, scope: str = "body") -> list[str]:
    """Texts of output areas that show an error (stderr tracebacks, error outputs, widget render failures)."""
    found = []
    stderr = page.locator(scope).locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
    for i in range(stderr.count()):
        txt = stderr.nth(i).inner_text()
        if any(p.search(txt) for p in ERROR_PATTERNS):
            found.append(txt[:2000])
    text = page.evaluate(_OUTPUT_TEXT_JS, scope)
    for p in ERROR_PATTERNS:
        for m in p.finditer(text):
            snippet = text[max(0, m.start() - 200): m.end() + 600]
            if not any(snippet[:80] in f for f in found):
                found.append(snippet)
    return found


def _wait_run_all_done(page, n_code: int, timeout_s: float = RUN_ALL_S) -> None:
    """Wait until no cell is queued/running ([*]), ``n_code`` prompts carry a number and the kernel is idle.

    A freshly started kernel session occasionally makes JupyterLab ask "Select Kernel" in the middle of Run All,
    which drops the cells still queued; a learner would press Select and run the rest again, and so does this wait
    (at most twice)."""
    deadline = time.monotonic() + timeout_s
    reruns = 0
    while True:
        dialog = page.locator(".jp-Dialog", has_text="Select Kernel")
        if dialog.count() and dialog.first.is_visible():
            dialog.first.locator(".jp-Dialog-button.jp-mod-accept").click()
        try:
            _wait_run_all_once(page, n_code, 5)
            return
        except _playwright_timeout():
            if time.monotonic() > deadline:
                raise
        if reruns < 2 and page.evaluate(_STALLED_JS, PANEL):
            reruns += 1
            page.wait_for_timeout(1000)
            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
            page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()


# Run All stopped half-way: nothing queued or running, the kernel idle, yet cells without an execution count.
_STALLED_JS = """(panel) => {
    const root = document.querySelector(panel);
    if (!root || document.querySelector('.jp-Dialog')) return false;
    const prompts = Array.from(root.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')).map(p => p.innerText.trim());
    const ind = root.querySelector('.jp-Notebook-ExecutionIndicator');
    return !prompts.some(t => t.includes('*')) && prompts.some(t => !/\\[\\d+\\]/.test(t))
           && !!ind && ind.getAttribute('data-status') === 'idle';
}"""


def _wait_run_all_once(page, n_code: int, timeout_s: float) -> None:
    page.wait_for_function(
        """([n, panel]) => {
            const root = document.querySelector(panel);
            if (!root) return false;
            const prompts = Array.from(root.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt'))
                                  .map(p => p.innerText.trim());
            if (prompts.some(t => t.includes('*'))) return false;
            if (prompts.filter(t => /\\[\\d+\\]/.test(t)).length < n) return false;
            const ind = root.querySelector('.jp-Notebook-ExecutionIndicator');
            return !!ind && ind.getAttribute('data-status') === 'idle';
        }""", arg=[n_code, PANEL], timeout=timeout_s * 1000, polling=250)


def _move_slider_and_check(page, scope, shot_prefix: Path) -> str:
    """Move the first slider whose cell output reacts (keyboard, then mouse drag); returns a description."""
    sliders = scope.locator(".widget-slider")
    sliders.first.wait_for(state="visible", timeout=WIDGET_S * 1000)
    tried = []
    for i in range(min(sliders.count(), 6)):
        slider = sliders.nth(i)
        slider.scroll_into_view_if_needed()
        handle = slider.locator(".noUi-handle").first
        readout = slider.locator(".widget-readout")
        before_readout = readout.first.inner_text() if readout.count() else ""
        before = slider.evaluate(_CELL_FINGERPRINT_JS)
        page.screenshot(path=str(shot_prefix.with_name(shot_prefix.name + "-slider-before.png")))
        # 1) keyboard: focus the handle and step it right (then left if it sits at its maximum)
        for key in ("ArrowRight", "ArrowRight", "ArrowLeft", "ArrowLeft", "ArrowLeft"):
            handle.focus()
            handle.press(key)
            try:
                page.wait_for_function(
                    f"([s, b]) => ({_CELL_FINGERPRINT_JS})(s) !== b", arg=[slider.element_handle(), before],
                    timeout=4000, polling=200)
                page.wait_for_timeout(500)  # let the new figure finish drawing for the screenshot
                page.screenshot(path=str(shot_prefix.with_name(shot_prefix.name + "-slider-after.png")))
                after_readout = readout.first.inner_text() if readout.count() else ""
                return f"slider #{i} {before_readout!r} -> {after_readout!r} (keyboard {key})"
            except _playwright_timeout():  # the output did not change: try the next key / the mouse
                continue
        # 2) mouse: drag the handle a quarter of the track
        box, track = handle.bounding_box(), slider.locator(".noUi-target, .slider").first.bounding_box()
        if box and track:
            x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            dx = track["width"] / 4 if x < track["x"] + track["width"] / 2 else -track["width"] / 4
            page.mouse.move(x, y)
            page.mouse.down()
            page.mouse.move(x + dx, y, steps=8)
            page.mouse.up()
            try:
                page.wait_for_function(
                    f"([s, b]) => ({_CELL_FINGERPRINT_JS})(s) !== b", arg=[slider.element_handle(), before],
                    timeout=WIDGET_S * 1000 / 3, polling=250)
                page.wait_for_timeout(500)
                page.screenshot(path=str(shot_prefix.with_name(shot_prefix.name + "-slider-after.png")))
                return f"slider #{i} {before_readout!r} -> drag"
            except _playwright_timeout():  # the drag did not change it either: try the next slider
                tried.append(f"slider #{i} drag timed out")
        tried.append(f"slider #{i} (readout {before_readout!r})")
    raise AssertionError(f"moving a slider did not change any displayed output; tried {tried}")


# --------------------------------------------------------------------------------------------- screenshots

_SCROLLER_JS = """
(panel) => {
  const root = panel ? document.querySelector(panel) : null;
  const cands = root ? [root.querySelector('.jp-WindowedPanel-outer'), root.querySelector('.jp-Notebook'), root]
                     : [document.scrollingElement, document.body, document.querySelector('#rendered_cells')];
  return cands.find(e => e && e.scrollHeight > e.clientHeight + 4) || cands.find(e => e) || null;
}
"""


def _shoot_pages(page, prefix: Path, panel: str | None = None, max_pages: int = 60) -> int:
    """Screenshot the whole notebook (JupyterLab: its scrolling panel; Voilà: the window) one viewport at a time,
    as ``<prefix>-01.png``, ``-02.png`` …; returns the number of pictures."""
    for old in prefix.parent.glob(prefix.name + "-[0-9][0-9].png"):
        old.unlink()
    height = page.evaluate(f"(p) => {{ const s = ({_SCROLLER_JS})(p); return s ? s.scrollHeight : 0; }}", panel)
    n, last = 0, None
    for y in range(0, max(int(height), 1), SHOT_STEP_PX):
        if n >= max_pages:
            break
        at = page.evaluate(f"([p, y]) => {{ const s = ({_SCROLLER_JS})(p); if (!s) return 0; s.scrollTop = y; "
                           "return s.scrollTop; }", [panel, y])
        if at == last:          # the bottom was reached by the previous picture
            break
        last = at
        page.wait_for_timeout(150)
        n += 1
        page.screenshot(path=str(prefix.with_name(f"{prefix.name}-{n:02d}.png")))
    return n


def _rendered_markdown_text(page, scope: str = "body") -> str:
    return page.evaluate("""(scope) => Array.from((document.querySelector(scope) || document)
        .querySelectorAll('.jp-RenderedMarkdown')).map(e => e.innerText).join('\\n')""", scope)


# --------------------------------------------------------------------------------------------- tests

def _open_notebook(page, lab, notebook: str) -> None:
    # ?reset: start from an empty workspace (only this notebook open)
    page.goto(f"{lab.base}/lab/tree/notebooks/{notebook}?reset&token={lab.token}", wait_until="domcontentloaded")
    page.locator(PANEL).locator(".jp-Notebook").first.wait_for(state="visible", timeout=SERVER_START_S * 1000)


@pytest.mark.parametrize("notebook", CHAPTERS)
def test_lab_chapter_runs_and_renders(lab, page, course_copy, artifacts, notebook):
    nb_path = course_copy / "notebooks" / notebook
    assert nb_path.is_file(), f"chapter {notebook} is listed in CHAPTERS but missing from notebooks/"
    n_code = sum(1 for src in _code_cells(nb_path) if src.strip())
    stem = nb_path.stem
    t0 = time.monotonic()

    _open_notebook(page, lab, notebook)
    panel = page.locator(PANEL)
    # kernel started and idle before we run anything
    page.wait_for_function(
        """(p) => { const i = document.querySelector(p + ' .jp-Notebook-ExecutionIndicator');
                    return i && i.getAttribute('data-status') === 'idle'; }""",
        arg=PANEL, timeout=SERVER_START_S * 1000, polling=250)
    panel.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})

    # Run → Run All Cells, as a learner would (once more if the first click came before the kernel was wired up)
    for attempt in range(3):
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        try:
            page.wait_for_function(
                """(p) => Array.from(document.querySelectorAll(p + ' .jp-CodeCell .jp-InputArea-prompt'))
                             .some(e => /\\*|\\d/.test(e.innerText))""", arg=PANEL, timeout=15_000, polling=200)
            break
        except _playwright_timeout():
            page.screenshot(path=str(artifacts / f"lab-{stem}-run-all-not-started-{attempt}.png"))
    _wait_run_all_done(page, n_code)
    run_s = time.monotonic() - t0
    page.wait_for_timeout(800)   # figures and widget views finish drawing
    shots = _shoot_pages(page, artifacts / f"lab-{stem}", panel=PANEL)

    errors = _error_outputs(page, PANEL)
    assert not errors, f"{notebook}: cell error output(s) after Run All:\n" + "\n=====\n".join(errors)
    if notebook in LITERAL_TEXT:
        assert LITERAL_TEXT[notebook] in _rendered_markdown_text(page, PANEL), \
            f"{notebook}: {LITERAL_TEXT[notebook]!r} does not render literally (currency typeset as maths?)"
    how = "no slider check"
    if notebook in SLIDER_CHAPTERS:
        # the ipywidgets front end really loaded: a rendered slider that changes the display
        panel.locator(".jupyter-widgets").first.wait_for(state="attached", timeout=WIDGET_S * 1000)
        how = _move_slider_and_check(page, panel, artifacts / f"lab-{stem}")
        errors = _error_outputs(page, PANEL)
        assert not errors, f"{notebook}: error output after moving the slider:\n" + "\n=====\n".join(errors)
    print(f"{notebook}: Run All {run_s:.1f} s; {shots} screenshots; {how}")


@pytest.mark.parametrize("target, entry", [("../docs/glossary.md#kv-cache", "KV cache"),
                                           ("../docs/sources.md#huatai26", "[huatai26]")])
def test_lab_links_open_their_entry(lab, page, artifacts, target, entry):
    """A glossary / bibliography link in the start notebook opens the Markdown file, rendered, at its entry."""
    _open_notebook(page, lab, START_NOTEBOOK)
    file, frag = target.rsplit("/", 1)[1].split("#", 1)
    link = page.locator(f'{PANEL} .jp-RenderedMarkdown a[href*="{file}"][href*="#{frag}"]').first
    try:
        link.wait_for(state="attached", timeout=WIDGET_S * 1000)
    except _playwright_timeout():
        hrefs = page.evaluate("(p) => Array.from(document.querySelectorAll(p + ' .jp-RenderedMarkdown a'))"
                              ".map(a => a.getAttribute('href'))", PANEL)
        raise AssertionError(f"no rendered link to {target}; links: {hrefs[:20]}") from None
    link.scroll_into_view_if_needed()
    link.click()
    # the entry (a heading or the bold key) sits near the top of the rendered file: JupyterLab followed the anchor
    entry_top = """(entry) => {
        const els = Array.from(document.querySelectorAll(
            '.jp-MainAreaWidget:not(.lm-mod-hidden) .jp-RenderedMarkdown :is(h1, h2, h3, h4, strong)'));
        const e = els.find(x => x.innerText.trim() === entry);
        return e ? e.getBoundingClientRect().top : null; }"""
    try:
        page.wait_for_function(f"(entry) => {{ const t = ({entry_top})(entry); return t !== null && t > 30 && "
                               "t < 400; }", arg=entry, timeout=WIDGET_S * 1000, polling=250)
    except _playwright_timeout():
        page.screenshot(path=str(artifacts / f"lab-link-{frag}-failed.png"))
        raise AssertionError(f"{target}: {entry!r} not scrolled into view (top = "
                             f"{page.evaluate(entry_top, entry)})") from None
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts / f"lab-link-{frag}.png"))


def _voila_check(page, url: str, shot: Path, stem: str) -> str:
    # Voilà streams the page while it runs the notebook: don't wait for the document, wait for the widgets.
    page.goto(url, wait_until="commit", timeout=RUN_ALL_S * 1000)
    # Voilà runs the whole notebook, then shows it; code cells are stripped.
    page.locator(".widget-slider").first.wait_for(state="visible", timeout=RUN_ALL_S * 1000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(shot.with_name(shot.name + "-rendered.png")))
    assert page.locator(".jp-InputArea-editor, .jp-CodeMirrorEditor, .cm-editor").count() == 0, \
        "Voilà page shows code cells (expected a dashboard without code)"
    errors = _error_outputs(page)
    assert not errors, f"{stem}: error output in Voilà:\n" + "\n=====\n".join(errors)
    how = _move_slider_and_check(page, page.locator("body"), shot)
    errors = _error_outputs(page)
    assert not errors, f"{stem}: error output after moving the slider in Voilà:\n" + "\n=====\n".join(errors)
    return how


def _refused_without_token(base: str, path: str) -> bool:
    """True if GET ``path`` without the token is refused (403) or sent to a login page."""
    try:
        with urllib.request.urlopen(f"{base}{path}", timeout=10) as r:
            return "login" in r.geturl()
    except urllib.error.HTTPError as exc:
        return exc.code in (401, 403)


def test_servers_need_the_token(lab, demo):
    assert _refused_without_token(lab.base, "/api/contents/notebooks"), "JupyterLab answered without its token"
    assert _refused_without_token(demo.base, f"/voila/render/{START_NOTEBOOK}"), "Voilà answered without its token"


@pytest.mark.parametrize("notebook", CHAPTERS)
def test_voila_chapter_renders(demo, page, course_copy, artifacts, notebook):
    """``make demo`` renders every chapter: no code, no error, learner-only cells hidden, widget text in a
    fixed-width font; photographed page by page. On the start notebook (the tour) a slider move must change the
    displayed output."""
    assert (course_copy / "notebooks" / notebook).is_file(), f"chapter {notebook} is listed but missing"
    stem = Path(notebook).stem
    t0 = time.monotonic()
    page.goto(f"{demo.base}/voila/render/{notebook}?token={demo.token}", wait_until="commit",
              timeout=RUN_ALL_S * 1000)
    page.locator("#rendered_cells").wait_for(state="visible", timeout=RUN_ALL_S * 1000)
    page.locator(".jupyter-widgets").first.wait_for(state="visible", timeout=WIDGET_S * 1000)
    page.wait_for_timeout(1000)
    run_s = time.monotonic() - t0
    shots = _shoot_pages(page, artifacts / f"voila-{stem}")
    page.evaluate("() => window.scrollTo(0, 0)")
    assert page.locator(".jp-InputArea-editor, .jp-CodeMirrorEditor, .cm-editor").count() == 0, \
        f"{notebook}: Voilà shows code cells"
    errors = _error_outputs(page)
    assert not errors, f"{notebook}: error output in Voilà:\n" + "\n=====\n".join(errors)
    hidden = page.locator(".celltag_demo-hide")
    assert all(not hidden.nth(i).is_visible() for i in range(hidden.count())), \
        f"{notebook}: a cell tagged demo-hide is visible in the demo"
    if notebook == START_NOTEBOOK:
        assert hidden.count() >= 4, "the start notebook's learner-only cells are not tagged demo-hide"
        assert "Shift" not in page.locator("#rendered_cells").inner_text(), "'press Shift+Enter' shown in the demo"
    fonts = page.evaluate("""() => Array.from(document.querySelectorAll('.jupyter-widgets pre'))
                                       .map(e => getComputedStyle(e).fontFamily)""")
    assert all("mono" in f.lower() or "courier" in f.lower() or "menlo" in f.lower() for f in fonts), fonts
    if notebook in LITERAL_TEXT:
        assert LITERAL_TEXT[notebook] in _rendered_markdown_text(page), \
            f"{notebook}: {LITERAL_TEXT[notebook]!r} does not render literally in Voilà"
    how = ""
    if notebook == START_NOTEBOOK:
        how = "; " + _move_slider_and_check(page, page.locator("body"), artifacts / f"voila-{stem}")
        errors = _error_outputs(page)
        assert not errors, f"{notebook}: error output after moving the slider in Voilà:\n" + "\n=====\n".join(errors)
    print(f"voila {notebook}: rendered in {run_s:.1f} s; {shots} screenshots; {hidden.count()} hidden cells{how}")


def test_voila_binder_path(lab, page, course_copy, artifacts):
    """The Binder URL pattern (``?urlpath=voila/render/notebooks/…``) served by Voilà's JupyterLab server extension,
    on the chapter notebook: its main widget as a dashboard."""
    chapter = _pick_chapter(course_copy / "notebooks")
    assert chapter is not None, "no chapter notebook with a widget"
    how = _voila_check(page, f"{lab.base}/voila/render/notebooks/{chapter}?token={lab.token}",
                       artifacts / f"voila-binder-{Path(chapter).stem}", chapter)
    print(f"voila (server extension) {chapter}: {how}")


def test_make_lab_serves_the_start_notebook(tmp_path):
    """`make lab` (one of the README's two commands) starts JupyterLab on 127.0.0.1 at the start notebook and
    prints its URL with a token. No browser needed; the install is already done, so this takes seconds."""
    port = _free_port()
    server = Server("make lab", ["make", "-s", "-C", str(ROOT), "lab", f"PORT={port}"], port, "",
                    _jupyter_env(tmp_path), tmp_path / "make-lab.log")
    try:
        pattern = re.compile(rf"http://127\.0\.0\.1:{port}/lab/tree/notebooks/00_start_here\.ipynb\?token=(\w+)")
        deadline, match = time.monotonic() + SERVER_START_S, None
        while time.monotonic() < deadline and match is None:
            assert server.proc.poll() is None, f"make lab exited:\n{server.log_tail()}"
            match = pattern.search(server.log_path.read_text(errors="replace"))
            time.sleep(0.3)
        assert match, f"make lab printed no start-notebook URL:\n{server.log_tail()}"
        with urllib.request.urlopen(match.group(0), timeout=10) as r:
            assert r.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents/notebooks/00_start_here.ipynb"
                                    f"?content=0&token={match.group(1)}", timeout=10) as r:
            assert json.loads(r.read())["type"] == "notebook"
    finally:
        server.stop()
