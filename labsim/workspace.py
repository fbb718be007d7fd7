"""Give a learner their own copy of the exercise notebooks — never overwriting anything they wrote.

Where learners work: **their own copy**, by default ``learner/`` at the top of the course folder — inside what
``make lab`` serves (so JupyterLab opens it) and ignored by git. On the class hub each learner's copy is made at
first login in a folder of their own (the hub sets ``LPU_LAB_LEARNER_DIR``). The repository's ``exercises/``
folder is *generated* from ``solutions/`` (``make exercises``) and may be regenerated: do not work there.

    >>> from labsim.workspace import copy_exercises
    >>> copy_exercises()                   # → learner/  (existing files are kept)
    >>> copy_exercises("~/my-lpu-lab", chapters=[3])
"""
from __future__ import annotations

import os
import pwd
import re
from pathlib import Path

from .errors import LabsimError, check_int

__all__ = ["course_root", "exercises_dir", "learner_dir", "available_chapters", "copy_exercises"]

LEARNER_ENV = "LPU_LAB_LEARNER_DIR"
_NOTEBOOK = re.compile(r"^(\d\d)_[\w.-]+\.ipynb$")


def course_root() -> Path:
    """The course folder (a source checkout or editable install: the folder holding ``labsim/``)."""
    return Path(__file__).resolve().parent.parent


def exercises_dir() -> Path:
    """The course's generated ``exercises/`` folder (in a source checkout or editable install)."""
    here = course_root() / "exercises"
    if not here.is_dir():
        raise LabsimError(f"exercises folder not found at {here}; copy_exercises needs a checkout of LPU Lab")
    return here


def learner_dir() -> Path:
    """Where a learner's own copy goes by default: ``$LPU_LAB_LEARNER_DIR`` (set by the class hub), else
    ``learner/`` in the course folder (served by ``make lab``, ignored by git)."""
    env = os.environ.get(LEARNER_ENV)
    return Path(env) if env else course_root() / "learner"


def available_chapters(source=None) -> dict[int, Path]:
    """Chapter number → exercise notebook, for every ``NN_*.ipynb`` in ``source`` (default: ``exercises/``)."""
    src = _source_dir(source)
    return {int(m.group(1)): p for p in sorted(src.iterdir())
            if (m := _NOTEBOOK.match(p.name)) and p.is_file()}


def _source_dir(source) -> Path:
    if source is None:
        return exercises_dir()
    src = _as_path("source", source)
    if not src.is_dir():
        raise LabsimError(f"source = {str(source)!r} is not a folder of exercise notebooks")
    return src


def _as_path(name: str, value) -> Path:
    if not isinstance(value, (str, os.PathLike)):
        raise LabsimError(f"{name} must be a folder path (str or Path), got {value!r} ({type(value).__name__})")
    text = os.fspath(value)
    if not isinstance(text, str) or not text.strip():
        raise LabsimError(f"{name} = {text!r} is empty; give a folder path, e.g. 'learner'")
    if "\x00" in text:
        raise LabsimError(f"{name} = {text!r} contains a NUL character")
    if text.startswith("~"):
        head = text[1:].split(os.sep, 1)[0]
        if head:  # ~name: only your own home
            try:
                me = pwd.getpwuid(os.geteuid()).pw_name
            except KeyError:
                me = None
            if head != me:
                raise LabsimError(f"{name} = {text!r} names the home of user {head!r}; allowed: a path of your own "
                                  "('~/…', a relative or an absolute path)")
        expanded = os.path.expanduser(text)
        if expanded.startswith("~") or not os.path.isabs(expanded):
            raise LabsimError(f"{name} = {text!r}: your home folder is unknown (HOME unset); give a full path")
        text = expanded
    return Path(text)


def _chapter_list(chapters, available: dict[int, Path]) -> list[int]:
    allowed = ", ".join(map(str, available)) or "none found"
    if chapters is None:
        return list(available)
    if isinstance(chapters, (str, bytes)):
        raise LabsimError(f"chapters = {chapters!r} must be chapter numbers, e.g. [1, 3]; available: {allowed}")
    items = [chapters] if isinstance(chapters, int) and not isinstance(chapters, bool) else chapters
    try:
        items = list(items)
    except TypeError:
        raise LabsimError(f"chapters = {chapters!r} must be a list of chapter numbers, e.g. [1, 3]; "
                          f"available: {allowed}") from None
    if not items:
        raise LabsimError(f"chapters = {chapters!r} is empty; available: {allowed} (or None for all)")
    out = []
    for c in items:
        n = check_int("chapters[…]", c, lo=0, hi=99)
        if n not in available:
            raise LabsimError(f"chapters: there is no exercise notebook for chapter {n}; available: {allowed}")
        out.append(n)
    return sorted(set(out))


def copy_exercises(dest=None, *, chapters=None, source=None) -> dict[str, list[Path]]:
    """Copy the exercise notebooks ``NN_*.ipynb`` into ``dest`` (default: ``learner_dir()``).

    A file that already exists in ``dest`` — or any link there, even a dangling one — is never overwritten or
    followed: it is listed under ``skipped``. ``chapters``: chapter numbers to copy (default: all). Missing
    folders of ``dest`` are created (0700 if new). Returns ``{"copied": [...], "skipped": [...]}`` and prints one
    line per file. Bad arguments raise ``LabsimError`` naming the argument and what is allowed.
    """
    target = learner_dir() if dest is None else _as_path("dest", dest)
    available = available_chapters(source)
    if not available:
        raise LabsimError(f"source = {str(_source_dir(source))!r} holds no exercise notebooks (NN_*.ipynb)")
    wanted = _chapter_list(chapters, available)
    target = _prepare_dest(target, dest)
    result: dict[str, list[Path]] = {"copied": [], "skipped": []}
    for n in wanted:
        nb = available[n]
        out = target / nb.name
        try:
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        except FileExistsError:
            what = "a link, not followed" if out.is_symlink() else "already exists"
            result["skipped"].append(out)
            print(f"kept your {out} ({what}; not overwritten)")
            continue
        except PermissionError:
            raise LabsimError(f"dest = {str(target)!r} is not writable by you; choose a folder of your own") from None
        with os.fdopen(fd, "wb") as f:
            f.write(nb.read_bytes())
        result["copied"].append(out)
        print(f"copied {nb.name} → {out}")
    return result


def _prepare_dest(target: Path, given) -> Path:
    label = "dest" if given is not None else f"dest (default {LEARNER_ENV} / learner/)"
    if target.is_symlink() and not target.exists():
        raise LabsimError(f"{label} = {str(target)!r} is a link to {os.readlink(target)!r}, which does not exist; "
                          "give a real folder")
    if target.exists() and not target.is_dir():
        raise LabsimError(f"{label} = {str(target)!r} exists and is not a folder; give a folder path")
    try:
        target.mkdir(mode=0o700, parents=True, exist_ok=True)
    except PermissionError:
        raise LabsimError(f"{label} = {str(target)!r} cannot be created: permission denied; "
                          "choose a folder of your own") from None
    except OSError as exc:
        raise LabsimError(f"{label} = {str(target)!r} cannot be created: {exc.strerror}") from None
    if not os.access(target, os.W_OK | os.X_OK):
        raise LabsimError(f"{label} = {str(target)!r} is not writable by you; choose a folder of your own")
    return target
