"""Choose a writable numba cache directory before numba is imported.

numba caches compiled kernels (``cache=True``) next to the module's source. On a read-only install
(a system site-packages, some Binder images) that fails, so we fall back to a per-user directory.
An explicit ``NUMBA_CACHE_DIR`` always wins.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def configure() -> str | None:
    if os.environ.get("NUMBA_CACHE_DIR"):
        return os.environ["NUMBA_CACHE_DIR"]
    pkg_dir = Path(__file__).resolve().parent
    if os.access(pkg_dir, os.W_OK):
        return None  # numba writes __pycache__ beside the sources
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    for candidate in (os.path.join(base, "labsim", "numba"), os.path.join(tempfile.gettempdir(), "labsim-numba")):
        try:
            os.makedirs(candidate, exist_ok=True)
            if os.access(candidate, os.W_OK):
                os.environ["NUMBA_CACHE_DIR"] = candidate
                return candidate
        except OSError:
            continue
    return None
