"""The project's own bibliography (``labsim/data/sources.toml``) and the citation strings that point into it.

Every sourced number in labsim — a catalog field ``{ value, source }``, an :class:`~labsim.assumptions.Assumption`,
a preset — carries a *citation string*: free text in which each source appears as its key in square brackets,
followed by a locator, plus optional status tags::

    "[isca20] §II-B Eq. 2"          "[huatai26] Fig 11; 2,520,000 / 576 [D]"          "[A] unpublished"

Tags: [P] primary, [S] secondary (a copy or summary quoting the primary), [W] weak (a vendor blog or a single
measurement), [D] derived by the arithmetic shown, [A] an assumption (unpublished, overridable). A citation must
name at least one known key, or be tagged [A]. :func:`check_citation` enforces that (the catalog loader calls it);
:func:`cite` turns a citation string into readable text; :func:`render_markdown` writes ``docs/sources.md``.
"""
from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from .errors import LabsimError, UnknownNameError, check_bool, check_text

__all__ = ["Source", "TAGS", "bibliography", "source", "keys_in", "check_citation", "check_keys", "cite", "reference",
           "render_markdown", "SOURCES_FILE"]

SOURCES_FILE = Path(__file__).resolve().parent / "data" / "sources.toml"

#: status tags a citation may carry, and what each means (shown once in docs/sources.md).
TAGS: Mapping[str, str] = MappingProxyType({
    "P": "primary: read in the author's own text (paper, datasheet, model card, vendor page)",
    "S": "secondary: a copy or summary that quotes the primary; re-check before quoting as the author's words",
    "W": "weak: a vendor blog, a forum post or a single measurement",
    "D": "derived: computed by the arithmetic shown next to it from cited numbers",
    "A": "assumption: not published; a named, documented, overridable parameter",
})

_BRACKET = re.compile(r"\[([^\[\]\s]+)\]")
_KEY = re.compile(r"^[a-z][a-z0-9_.-]{1,40}$")
_TAG = re.compile(r"^(P|S|W|D|A)(?:/(P|S|W|D|A))*$")
_REQUIRED = ("short", "authors", "title", "publisher", "date")
_OPTIONAL = ("url", "doi", "note")
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


@dataclass(frozen=True)
class Source:
    """One bibliography entry."""
    key: str
    short: str
    authors: str
    title: str
    publisher: str
    date: str
    url: str = ""
    doi: str = ""
    note: str = ""

    @property
    def link(self) -> str:
        """The DOI resolver address if there is a DOI, else the URL."""
        return f"https://doi.org/{self.doi}" if self.doi else self.url

    def reference(self) -> str:
        """A full reference line: authors, title, publisher, date, link."""
        return f"{self.authors.rstrip('.')}. “{self.title}”. {self.publisher}, {self.date}. {self.link}".strip()


def _load(path: Path) -> dict[str, Source]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise LabsimError(f"bibliography {path.name} cannot be read: {exc}") from None
    out: dict[str, Source] = {}
    for key, entry in raw.items():
        where = f"{path.name} [{key}]"
        if not _KEY.match(key):
            raise LabsimError(f"{where}: key must be lowercase letters, digits, '-', '_' or '.', starting with a "
                              "letter (2-41 characters)")
        if not isinstance(entry, dict):
            raise LabsimError(f"{where}: must be a table")
        unknown = set(entry) - set(_REQUIRED) - set(_OPTIONAL)
        if unknown:
            raise LabsimError(f"{where}: unknown fields {sorted(unknown)}; allowed: {', '.join(_REQUIRED + _OPTIONAL)}")
        for f in _REQUIRED:
            if not isinstance(entry.get(f), str) or not entry[f].strip():
                raise LabsimError(f"{where}: field {f!r} is required (a non-empty string)")
        if not _DATE.match(entry["date"]):
            raise LabsimError(f"{where}: date = {entry['date']!r}; allowed: YYYY, YYYY-MM or YYYY-MM-DD")
        if not (entry.get("url") or entry.get("doi")):
            raise LabsimError(f"{where}: needs a url or a doi")
        out[key] = Source(key=key, **{k: str(v).strip() for k, v in entry.items()})
    return out


@lru_cache(maxsize=1)
def bibliography() -> Mapping[str, Source]:
    """All sources, ``key -> Source`` (read-only)."""
    return MappingProxyType(_load(SOURCES_FILE))


def source(key: str) -> Source:
    """The bibliography entry for ``key``; an unknown key lists the closest known ones."""
    bib = bibliography()
    if not isinstance(key, str) or key not in bib:
        if not isinstance(key, str):
            raise LabsimError(f"key must be a source key such as 'isca20' (a string), got {key!r}")
        raise UnknownNameError(_unknown(key, bib))
    return bib[key]


def _unknown(key: str, bib) -> str:
    close = difflib.get_close_matches(key, list(bib), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return f"unknown source key [{key}]{hint} (keys are defined in labsim/data/sources.toml)"


def _text(name: str, text) -> str:
    """A citation's text: a string (None reads as empty)."""
    return "" if text is None else check_text(name, text)


def keys_in(text: str) -> list[str]:
    """The source keys a citation string names, in order of first appearance (tags excluded)."""
    seen: list[str] = []
    for tok in _BRACKET.findall(_text("text", text)):
        if _TAG.match(tok) or tok in seen:
            continue
        seen.append(tok)
    return seen


def check_citation(where: str, text, *, allow_assumption: bool = True) -> str:
    """Validate a citation string; returns it stripped.

    Every ``[token]`` must be a known key or a status tag; the string must name at least one key, or carry the
    [A] tag when ``allow_assumption``. ``where`` names the field in the error message.
    """
    where = check_text("where", where)
    check_bool("allow_assumption", allow_assumption)
    if not isinstance(text, str) or not text.strip():
        raise LabsimError(f"{where}: text (the source) must be a non-empty citation such as \"[isca20] §II\", "
                          f"got {text!r}")
    bib = bibliography()
    toks = _BRACKET.findall(text)
    keys = [t for t in toks if not _TAG.match(t)]
    for k in keys:
        if k not in bib:
            raise LabsimError(f"{where}: {_unknown(k, bib)}")
    if not keys and not (allow_assumption and any("A" in t.split("/") for t in toks if _TAG.match(t))):
        raise LabsimError(f"{where}: text (the source) {text.strip()!r} cites no bibliography key; write e.g. "
                          "\"[isca20] §II-B\" (keys in labsim/data/sources.toml) or tag an assumption \"[A] …\"")
    return text.strip()


def check_keys(where: str, text) -> str:
    """Validate that every ``[key]`` in free text (a note, a mechanism) is a known source; no key is required."""
    if not isinstance(text, str):
        raise LabsimError(f"{where}: must be text, got {type(text).__name__}")
    bib = bibliography()
    for k in keys_in(text):
        if k not in bib:
            raise LabsimError(f"{where}: {_unknown(k, bib)}")
    return text


def cite(text: str) -> str:
    """A citation string made readable: each ``[key]`` becomes the source's short form; tags stay as they are.

    ``cite("[isca20] §V; [huatai26] Fig 11 [D]")`` → ``"Abts et al., ISCA 2020, §V; Huatai Research 2026, Fig 11 [D]"``.
    Unknown keys are left in brackets (the loaders reject them earlier).
    """
    bib = bibliography()

    def sub(m: re.Match) -> str:
        tok = m.group(1)
        if tok in bib:
            return bib[tok].short + ","
        return m.group(0)

    out = _BRACKET.sub(sub, _text("text", text))
    # the comma added after a short form goes where punctuation or the end follows: "X;", "X (…)", "X: …", "X."
    return re.sub(r",(\s*(?:[;:,.)(]|$))", r"\1", out).strip()


def reference(key: str) -> str:
    """The full reference line of one key."""
    return source(key).reference()


def render_markdown() -> str:
    """``docs/sources.md``: the tags, then every source (anchor, key, reference, note), sorted by key."""
    lines = ["# Sources", "",
             "Every number LPU Lab shows is computed by `labsim` from inputs, or printed with a citation such as",
             "`[isca20] §II-B` — a key from this list plus a locator (section, figure, table, page). The list is",
             "generated from `labsim/data/sources.toml` by `python -m labsim.sources > docs/sources.md`; a test keeps",
             "the two in sync.", "", "## Status tags", "", "| tag | meaning |", "|---|---|"]
    lines += [f"| [{t}] | {m} |" for t, m in TAGS.items()]
    lines += ["", "## Bibliography", ""]
    for key in sorted(bibliography()):
        s = bibliography()[key]
        # an explicit anchor per key, so notebooks can link ``../docs/sources.md#key`` (JupyterLab and GitHub alike)
        lines.append(f"- <a id=\"{key}\"></a>**[{key}]** {s.reference()}" + (f" — {s.note}" if s.note else ""))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(render_markdown(), end="")
