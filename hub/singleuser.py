"""Start a learner's server on the class hub, *as the learner* (the hub's spawner runs this file).

1. ``~/course`` becomes a link to the shared, read-only course (``$LPU_LAB_COURSE``) unless something by that name
   is already there (the learner's own file or folder is never touched).
2. ``copy_exercises()`` copies any exercise notebook the learner does not have yet into ``$LPU_LAB_LEARNER_DIR``
   (``~/learner``); existing files — their work — are never overwritten, so this is safe at every start.
3. Then it becomes ``jupyterhub-singleuser`` with the hub's arguments.
"""
from __future__ import annotations

import contextlib
import io
import os
import shutil
import sys
from pathlib import Path


def prepare_home() -> None:
    os.environ.setdefault("LPU_LAB_LEARNER_DIR", str(Path.home() / "learner"))
    course = Path(os.environ["LPU_LAB_COURSE"])
    link = Path.home() / "course"
    if not link.exists() and not link.is_symlink():
        link.symlink_to(course, target_is_directory=True)
    from labsim.workspace import copy_exercises

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = copy_exercises()  # dest: $LPU_LAB_LEARNER_DIR
    print(f"lpu-lab: {len(result['copied'])} exercise notebook(s) copied, {len(result['skipped'])} kept",
          file=sys.stderr)


def main() -> None:
    try:
        prepare_home()
    except Exception as exc:  # noqa: BLE001 — the learner still gets a server; the log says what went wrong
        print(f"lpu-lab: could not prepare the learner's folder: {exc}", file=sys.stderr)
    os.chdir(Path.home())  # the server's folder is the learner's home (also in a container whose WORKDIR is not)
    exe = shutil.which("jupyterhub-singleuser", path=str(Path(sys.executable).parent))
    os.execv(exe, [exe, *sys.argv[1:]])


if __name__ == "__main__":
    main()
