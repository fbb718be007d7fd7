"""A read-only install must fall back to a writable numba cache directory (labsim/_numba_cache.py)."""
from __future__ import annotations

import os
import subprocess
import sys

from labsim import _numba_cache


def test_explicit_env_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert _numba_cache.configure() == str(tmp_path)


def test_read_only_package_falls_back(monkeypatch, tmp_path):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    real_access = os.access
    monkeypatch.setattr(_numba_cache.os, "access",
                        lambda p, mode: False if str(p).endswith("labsim") else real_access(p, mode))
    chosen = _numba_cache.configure()
    assert chosen == str(tmp_path / "labsim" / "numba")
    assert os.environ["NUMBA_CACHE_DIR"] == chosen and os.path.isdir(chosen)


def test_writable_checkout_uses_numba_default(monkeypatch):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    assert _numba_cache.configure() is None


def test_warmup_in_a_fresh_process_with_empty_cache(tmp_path):
    """Every kernel compiles from scratch into a new cache dir, and a second process loads it from there."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    code = "import labsim; t = labsim.warmup(); print(len(t))"
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr
    assert int(first.stdout.strip()) == len(__import__("labsim").KERNEL_MODULES)
    cached = [f for _, _, files in os.walk(tmp_path) for f in files if f.endswith((".nbi", ".nbc"))]
    assert cached, "warmup() wrote no numba cache files"
