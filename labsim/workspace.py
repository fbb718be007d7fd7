"""Give a learner their own copy of the exercise notebooks — never overwriting anything they wrote."""
from __future__ import annotations

import shutil
from pathlib import Path

from .errors import LabsimError

__all__ = ["exercises_dir", "copy_exercises"]


def exercises_dir() -> Path:
    """The course's ``exercises/`` folder (in a source checkout or editable install)."""
    here = Path(__file__).resolve().parent.parent / "exercises"
    if not here.is_dir():
        raise LabsimError(f"exercises folder not found at {here}; copy_exercises needs a checkout of LPU Lab")
    return here


def copy_exercises(dest, *, chapters=None, source=None) -> dict[str, list[Path]]:
    """Copy ``exercises/NN_*.ipynb`` into ``dest`` (created if needed). Existing files are never overwritten.

    ``chapters``: optional iterable of chapter numbers (e.g. ``[1, 3]``) to copy only those.
    Returns ``{"copied": [...], "skipped": [...]}`` and prints one line per file.
    """
    src = Path(source) if source is not None else exercises_dir()
    dest = Path(dest).expanduser()
    if dest.exists() and not dest.is_dir():
        raise LabsimError(f"dest = {str(dest)!r} exists and is not a folder; give a folder path")
    wanted = None if chapters is None else {int(c) for c in chapters}
    dest.mkdir(parents=True, exist_ok=True)
    result: dict[str, list[Path]] = {"copied": [], "skipped": []}
    for nb in sorted(src.glob("[0-9][0-9]_*.ipynb")):
        if wanted is not None and int(nb.name[:2]) not in wanted:
            continue
        target = dest / nb.name
        if target.exists():
            result["skipped"].append(target)
            print(f"kept your {target} (already exists; not overwritten)")
            continue
        shutil.copyfile(nb, target)
        result["copied"].append(target)
        print(f"copied {nb.name} → {target}")
    return result
