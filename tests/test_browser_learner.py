"""Two learners on the class hub at the same time, in headless Chromium (Debian's, driven by Playwright).

Both sign up, log in at once and land on the start notebook; each opens *their own copy* of chapter 3's exercises
(``learner/03_…`` in their home), answers exercise 1 in their own words, runs the whole notebook and sees ✓, and
saves. Then one learner's edit is in their file only — never in the other's copy. Screenshots:
``test-artifacts/browser-learner/``.
"""
from __future__ import annotations

import contextlib
import json
import os
import pwd
import re
from pathlib import Path

import pytest
from classroom_fixtures import ROOT, class_install, hubtool, running_hub  # noqa: F401 — pytest fixtures

pytestmark = [pytest.mark.classroom, pytest.mark.browser]

CHROMIUM = os.environ.get("LABSIM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
SHOTS = ROOT / "test-artifacts" / "browser-learner"
CHAPTER = "03_sram_capacity_tax.ipynb"
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
# Two different correct answers to exercise 1, one per learner.
ANSWERS = [
    'qwen = catalog.model("qwen3-32b")\nanswer_weight_bytes = qwen.params_total() * bytes_per_element("fp8")  # ann',
    'answer_weight_bytes = catalog.model("qwen3-32b").weight_bytes("fp8")  # bob',
]


@pytest.fixture(scope="module")
def chromium():
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        msg = f"Chromium not found at {CHROMIUM} (apt-get install chromium; .ci/run does this)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _wait_notebook_done(page, timeout_s=240):
    page.wait_for_function(
        """(panel) => {
            const root = document.querySelector(panel);
            if (!root) return false;
            const prompts = Array.from(root.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt'))
                                 .map(p => p.textContent.trim());
            if (!prompts.length || prompts.some(t => t.includes('*') || !/\\[\\d+\\]/.test(t))) return false;
            const ind = root.querySelector('.jp-Notebook-ExecutionIndicator');
            return !!ind && ind.getAttribute('data-status') === 'idle';
        }""", arg=PANEL, timeout=timeout_s * 1000, polling=300)


def _run_all(page) -> None:
    """Run → Run All Cells, as a learner would; again if the kernel was not listening yet (nothing started)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _ in range(4):
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        try:
            page.wait_for_function(
                """(p) => Array.from(document.querySelectorAll(p + ' .jp-CodeCell .jp-InputArea-prompt'))
                             .some(e => /\\*|\\d/.test(e.textContent))""", arg=PANEL, timeout=20_000, polling=300)
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError("Run All Cells never started a cell")


def _cell_with(page, text: str):
    return page.locator(f"{PANEL} .jp-Cell").filter(has=page.locator(".jp-InputArea", has_text=text)).first


def test_two_learners_at_once_each_in_their_own_copy(class_install, chromium):  # noqa: F811 — the fixture imported above
    SHOTS.mkdir(parents=True, exist_ok=True)
    with running_hub(class_install, "web", open_signup=True) as h:
        names = [h.learner_name("ann"), h.learner_name("bob")]
        for n in names:
            assert hubtool.signup(h.hub, n, "correct-horse-9")[0] == "ok"
        contexts = [chromium.new_context(viewport={"width": 1400, "height": 1000}) for _ in names]
        pages = [c.new_page() for c in contexts]
        try:
            # both log in at the same time: submit both forms before waiting for either server
            for page, n in zip(pages, names, strict=False):
                page.goto(f"{h.hub.url}/hub/login", wait_until="domcontentloaded")
                page.fill("#username_input", n)
                page.fill("#password_input", "correct-horse-9")
            for page in pages:
                page.click("#login_submit", no_wait_after=True)
            for page, n in zip(pages, names, strict=False):
                page.wait_for_url(re.compile(rf"/user/{n}/lab"), timeout=240_000)
                page.locator(f"{PANEL} .jp-Notebook").first.wait_for(state="visible", timeout=120_000)
                assert "00_start_here.ipynb" in page.url
                page.screenshot(path=str(SHOTS / f"{n[:3]}-start.png"))

            # each opens their own copy, answers exercise 1, runs everything
            for page, n, answer in zip(pages, names, ANSWERS, strict=False):
                page.goto(f"{h.hub.url}/user/{n}/lab/tree/learner/{CHAPTER}?reset", wait_until="domcontentloaded")
                page.locator(f"{PANEL} .jp-Notebook").first.wait_for(state="visible", timeout=120_000)
                page.wait_for_function("(p) => { const i = "
                                       "document.querySelector(p + ' .jp-Notebook-ExecutionIndicator');"
                                       " return i && i.getAttribute('data-status') === 'idle'; }", arg=PANEL,
                                       timeout=120_000)
                cell = _cell_with(page, "answer_weight_bytes = ...")
                cell.locator(".cm-content").click()
                page.keyboard.press("Control+A")
                page.keyboard.insert_text(answer)
                _run_all(page)
            for page, n in zip(pages, names, strict=False):
                try:
                    _wait_notebook_done(page)
                except Exception:
                    for pg, nm in zip(pages, names, strict=False):
                        pg.screenshot(path=str(SHOTS / f"{nm[:3]}-timeout.png"))
                        print(nm, pg.evaluate("(panel) => Array.from(document.querySelector(panel).querySelectorAll("
                                              "'.jp-CodeCell .jp-InputArea-prompt')).map(p => p.textContent.trim())",
                                              PANEL))
                    raise
                check = _cell_with(page, "ch03.weight_bytes(")
                out = check.locator(".jp-OutputArea-output").first.text_content()
                check.scroll_into_view_if_needed()
                page.screenshot(path=str(SHOTS / f"{n[:3]}-ran.png"))
                assert out.strip().startswith("✓"), f"{n} saw {out!r}"
                errors = page.locator(f'{PANEL} .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
                assert not any("Traceback" in (errors.nth(i).text_content() or "") for i in range(errors.count()))
            # File → Save Notebook; wait until it is on disk
            for page, n, answer in zip(pages, names, ANSWERS, strict=False):
                page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^File$")).click()
                page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Save( Notebook)?$")).first.click()
                path = Path(pwd.getpwnam(f"lpu-{n}").pw_dir) / "learner" / CHAPTER
                for _ in range(60):
                    if answer.splitlines()[-1] in path.read_text():
                        break
                    page.wait_for_timeout(500)
        finally:
            for c in contexts:
                with contextlib.suppress(Exception):
                    c.close()

        # on disk: each learner's file holds their own answer only, owned by them; the course copy is untouched
        course_ex = (class_install / "course" / "exercises" / CHAPTER).read_text()
        for n, answer, other in zip(names, ANSWERS, reversed(ANSWERS), strict=False):
            path = Path(pwd.getpwnam(f"lpu-{n}").pw_dir) / "learner" / CHAPTER
            text = "".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"])
            assert answer.splitlines()[-1] in text, f"{n}'s answer was not saved in their copy"
            assert other.splitlines()[-1] not in text, f"the other learner's edit appears in {n}'s copy"
            assert os.stat(path).st_uid == pwd.getpwnam(f"lpu-{n}").pw_uid
        assert "# ann" not in course_ex and "# bob" not in course_ex
