"""Sources a reader can follow (issue 14 §1): every citation names a bibliography key, the bibliography page is in
sync with its data file, and nothing that ships points outside the repository.

* every source string in ``labsim/data`` (``source = …``, ``*_source = …``, ``[… .sources]`` tables) passes
  ``labsim.sources.check_citation``, and every ``[key]`` anywhere in those files is a known key;
* every named assumption of every labsim model (``Assumption`` registries) cites a key or is tagged [A];
* every notebook link into ``docs/sources.md#key`` names a known key and every ``docs/glossary.md#anchor`` exists;
* ``docs/sources.md`` equals ``labsim.sources.render_markdown()``;
* no tracked text file refers to a machine path or to the research notes the project does not ship.
"""
from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

from labsim import capacity, catalog, fleet, sources
from labsim.assumptions import Assumption
from labsim.errors import LabsimError, UnknownNameError

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "labsim" / "data"
NOTEBOOK_DIRS = ("notebooks", "solutions", "exercises")
KEY_TOKEN = re.compile(r"\[([a-z][a-z0-9_.-]{1,40})\]")
BARE_KEY = re.compile(r"\[([a-z][a-z0-9_.-]{1,40})\](?!\()")



# --------------------------------------------------------------------------------------------------------------
# the bibliography itself

def test_docs_sources_md_is_in_sync():
    page = (ROOT / "docs" / "sources.md").read_text(encoding="utf-8")
    assert page == sources.render_markdown(), \
        "docs/sources.md is stale: run `python -m labsim.sources > docs/sources.md`"


def test_every_entry_has_a_link_and_an_anchor():
    page = sources.render_markdown()
    for key, s in sources.bibliography().items():
        assert s.link.startswith(("https://", "http://")), key
        assert f'<a id="{key}"></a>' in page, key


def test_cite_and_check_citation_behave():
    assert sources.cite("[isca20] §II-B Eq. 2") == "Abts et al., ISCA 2020, §II-B Eq. 2"
    assert sources.cite("[groq-brief] (750 TOPS)") == "Groq, GroqChip product brief (750 TOPS)"
    with pytest.raises(LabsimError, match=r"unknown source key \[isca21\]; did you mean"):
        sources.check_citation("x", "[isca21] §2")
    with pytest.raises(LabsimError, match="cites no bibliography key"):
        sources.check_citation("x", "ISCA 2020 §2, via some notes")
    assert sources.check_citation("x", "[A] unpublished") == "[A] unpublished"


# --------------------------------------------------------------------------------------------------------------
# data files

def _data_files() -> list[Path]:
    return sorted(p for p in DATA.rglob("*.toml") if p.name != "sources.toml")


def _walk(node, path=()):
    """Yield (path, key, value) for every string leaf."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, (*path, str(i)))
    elif isinstance(node, str):
        yield path, (path[-1] if path else ""), node


def _is_citation(path: tuple[str, ...], key: str) -> bool:
    return key == "source" or key.endswith("_source") or (len(path) >= 2 and path[-2] == "sources") \
        or (path[:1] == ("meta",) and key in ("report", "source"))


@pytest.mark.parametrize("path", _data_files(), ids=lambda p: str(p.relative_to(DATA)))
def test_data_file_citations_resolve(path: Path):
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    bib = sources.bibliography()
    n = 0
    for where, key, text in _walk(data):
        loc = f"{path.relative_to(ROOT)}: {'.'.join(where)}"
        if _is_citation(where, key):
            n += 1
            sources.check_citation(loc, text)
        for tok in KEY_TOKEN.findall(text):       # notes and labels may cite too: every key must exist
            assert tok in bib, f"{loc}: unknown source key [{tok}]"
    assert n, f"{path.name}: no citation found"


def test_thresholds_cite_with_their_tag():
    from labsim import latency

    for t in latency.thresholds().values():
        sources.check_citation(f"threshold {t.name}", f"[{t.tag}] {t.source}")


def test_catalog_loader_rejects_an_unknown_key(monkeypatch, tmp_path):
    folder = tmp_path / "chips"
    folder.mkdir()
    good = '[groq-brief] "230 MB"'
    (folder / "x.toml").write_text(
        'name = "x"\nmemory_kind = "sram"\n'
        f"memory_bytes = {{ value = 1e9, source = '{good}' }}\n"
        "memory_bandwidth_bytes_per_s = { value = 1e12, source = '[groq-brif] 80 TB/s' }\n", encoding="utf-8")
    monkeypatch.setattr(catalog, "DATA_DIR", tmp_path)
    with pytest.raises(LabsimError, match=r"x\.toml.*memory_bandwidth_bytes_per_s.*unknown source key "
                                          r"\[groq-brif\]; did you mean 'groq-brief'"):
        catalog.load_chip(folder / "x.toml")
    # the same entry as a user's dict (or a file outside the data folder) may cite anything, or nothing
    user = catalog.load_chip({"name": "u", "memory_kind": "sram", "memory_bytes": 1e9,
                              "memory_bandwidth_bytes_per_s": {"value": 1e12, "source": "my notebook"}})
    assert user.sources["memory_bandwidth_bytes_per_s"] == "my notebook"
    assert user.citation("memory_bandwidth_bytes_per_s") == "my notebook"


def test_chip_and_model_citations_are_readable():
    lpu = catalog.chip("groq-lpu-v1")
    assert lpu.sources["memory_bytes"].startswith("[groq-brief]")
    assert "GroqChip product brief" in lpu.citation("memory_bytes") and "[" not in lpu.citation("clock_hz")
    assert catalog.model("llama-3.3-70b").citation("num_layers").startswith("Meta, Llama-3.3-70B config")
    with pytest.raises(UnknownNameError, match=r"field_name='memory_byte'.*memory_bytes"):
        lpu.citation("memory_byte")
    for name in catalog.chips():
        c = catalog.chip(name)
        for f in c.sources:
            assert c.citation(f) and not KEY_TOKEN.search(c.citation(f)), (name, f)


# --------------------------------------------------------------------------------------------------------------
# named assumptions of the models

def _assumption_registries():
    for mod_name, mod in (("capacity", capacity), ("fleet", fleet)):  # the modules that keep Assumption tables
        for attr in dir(mod):
            reg = getattr(mod, attr)
            if hasattr(reg, "values") and not isinstance(reg, type):
                try:
                    vals = list(reg.values())
                except TypeError:
                    continue
                if vals and all(isinstance(v, Assumption) for v in vals):
                    yield f"labsim.{mod_name}", attr, vals


def test_assumption_rows_cite_a_key_or_are_tagged():
    found = set()
    for mod, attr, rows in _assumption_registries():
        found.add(mod)
        bad = []
        for a in rows:
            try:
                sources.check_citation(f"{mod}.{attr}[{a.name!r}]", f"{a.status} {a.source}")
            except LabsimError as exc:
                bad.append(str(exc))
        assert not bad, "\n".join(bad)
    assert "labsim.fleet" in found


# --------------------------------------------------------------------------------------------------------------
# notebooks: links into the bibliography and the glossary

def _glossary_anchors() -> set[str]:
    text = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
    return set(re.findall(r'<a id="([^"]+)"></a>', text))


def _markdown_cells():
    for d in NOTEBOOK_DIRS:
        for nb in sorted((ROOT / d).glob("*.ipynb")):
            cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
            for i, c in enumerate(cells):
                if c["cell_type"] == "markdown":
                    yield f"{d}/{nb.name} cell {i}", "".join(c["source"])


def test_notebook_links_resolve():
    bib, anchors = sources.bibliography(), _glossary_anchors()
    n_src = n_glo = 0
    for where, text in _markdown_cells():
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if target.startswith(("http://", "https://", "#", "mailto:")):
                continue
            path, _, frag = target.partition("#")
            if path:
                assert (ROOT / "notebooks" / path).resolve().is_file(), f"{where}: link to a missing file {target}"
            if path.endswith("docs/sources.md") and frag:
                n_src += 1
                assert frag in bib, f"{where}: unknown source key #{frag}"
            if path.endswith("docs/glossary.md") and frag:
                n_glo += 1
                assert frag in anchors, f"{where}: no glossary entry #{frag}"
        prose = re.sub(r"`[^`\n]*`", "", re.sub(r"```[\s\S]*?```", "", text))   # code is not prose
        for tok in BARE_KEY.findall(prose):       # a bare [key] in prose (not a link's text) must be a known key
            assert tok in bib or tok.upper() in sources.TAGS, f"{where}: unknown source key [{tok}]"
    assert n_src >= 20 and n_glo >= 40, (n_src, n_glo)


def test_glossary_has_the_terms_the_course_uses():
    anchors = _glossary_anchors()
    need = {"all-reduce", "tensor-parallel", "pipeline-parallel", "gqa", "mla", "moe", "kv-cache", "ttft", "tpot",
            "slo", "percentile", "hbm", "sram", "pue", "capex-opex", "roofline", "arithmetic-intensity", "batch"}
    assert need <= anchors, need - anchors
    text = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
    for target in re.findall(r"\]\(#([^)]+)\)", text):
        assert target in anchors, f"glossary cross-reference #{target} has no entry"


def test_chapter_zero_introduces_the_report_before_chapters_cite_it():
    nb = json.loads((ROOT / "notebooks" / "00_start_here.ipynb").read_text(encoding="utf-8"))
    text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    for fact in ("Huatai Research", "12 January 2026", "Pam Ho", "ten questions", "576", "80 TB/s", "P99",
                 "determinism cliff", "1–3 J", "Fig 11", "claim to audit", "docs/sources.md#huatai26"):
        assert fact in text, fact


# --------------------------------------------------------------------------------------------------------------
# nothing that ships points outside the repository

# assembled from pieces so that this file does not match itself
_OUTSIDE = re.compile("|".join([
    "/" + "work/", r"\.\./" + "shared", "shared/" + "facts", r"\bfacts/[A-Za-z_-]+(?:\.md)?", "facts " + "§",
    r"(?<![\w.])/" + "home/", r"(?<![\w.])/" + "root/", r"\bseeds" + r"\.md",
    r"\b(?:seed|report|Huatai)\s+00\d\b", r"\b00[0-4]\s+(?:Q\d|Fig\b|§)",
]))


def _tracked_text_files() -> list[str]:
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=30)
        files = [f for f in out.stdout.decode().split("\0") if f]
    except (OSError, subprocess.SubprocessError):   # not a git checkout (e.g. an unpacked archive): walk the tree
        skip = {".venv", ".git", "test-artifacts", "learner", "__pycache__", ".pytest_cache"}
        files = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
                 if p.is_file() and not skip & set(p.relative_to(ROOT).parts)]
    return [f for f in files if (ROOT / f).is_file()]


def test_nothing_that_ships_refers_outside_the_repository():
    me = str(Path(__file__).relative_to(ROOT))
    offenders = []
    for rel in _tracked_text_files():
        if rel == me:
            continue
        try:
            text = (ROOT / rel).read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        hits = [(n, m.group(0)) for n, line in enumerate(text.splitlines(), 1) for m in _OUTSIDE.finditer(line)]
        if not hits:
            continue
        offenders += [f"{rel}:{n}: {hit!r}" for n, hit in hits[:5]]
    assert not offenders, ("references to files the project does not ship, or to machine paths — cite the original "
                           "through labsim/data/sources.toml instead:\n" + "\n".join(offenders))
