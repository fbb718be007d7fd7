"""Where labsim's numba kernels are cached (labsim/_numba_cache.py): trusted folders only, corrupted entries recover.

The attacks of issue 15 are reproduced as permission checks here (a folder or file owned by another uid is made
with ``os.chown`` when the tests run as root); tests/test_classroom_cache.py repeats them with real second users
on a read-only class install.
"""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import labsim
from labsim import _numba_cache as nc

ROOT = Path(__file__).resolve().parents[1]
OTHER_UID = 65534  # nobody
root_only = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create files owned by another uid")


# --------------------------------------------------------------------------------- choosing the private folder
def test_private_dir_from_xdg_home_or_passwd(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert nc._default_private_dir() == tmp_path / "xdg" / "labsim" / "numba"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert nc._default_private_dir() == tmp_path / "home" / ".cache" / "labsim" / "numba"


def test_no_home_and_no_passwd_entry_gives_no_relative_folder(monkeypatch):
    """HOME unset and no passwd entry: no private folder at all (never a literal ./~/.cache)."""
    monkeypatch.delenv("HOME", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)

    def no_entry(uid):
        raise KeyError(uid)

    monkeypatch.setattr(nc.pwd, "getpwuid", no_entry)
    assert nc._default_private_dir() is None
    monkeypatch.setenv("HOME", "relative/home")
    monkeypatch.setenv("XDG_CACHE_HOME", "also/relative")
    assert nc._default_private_dir() is None


def test_private_dir_created_0700_and_verified(tmp_path):
    real, why = nc._make_private(tmp_path / "a" / "b" / "numba")
    assert why is None and real == (tmp_path / "a" / "b" / "numba").resolve()
    for p in (real, real.parent, real.parent.parent):
        assert stat.S_IMODE(os.stat(p).st_mode) == 0o700


def test_loose_private_dir_is_refused_not_repaired(tmp_path):
    d = tmp_path / "cache"
    d.mkdir(mode=0o700)
    os.chmod(d, 0o777)
    real, why = nc._make_private(d)
    assert real is None and "mode 0777" in why
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o777  # left alone: labsim never "fixes" a folder it cannot trust


def test_folder_under_a_world_writable_parent_is_refused(tmp_path):
    parent = tmp_path / "open"
    parent.mkdir()
    os.chmod(parent, 0o777)  # no sticky bit: anyone could rename our folder away and put theirs in its place
    real, why = nc._make_private(parent / "numba")
    assert real is None and "writable by other users" in why
    os.chmod(parent, 0o1777)  # sticky, like /tmp: only the owner may rename its entries
    real, why = nc._make_private(parent / "numba2")
    assert why is None and real is not None


@root_only
def test_folder_owned_by_another_user_is_refused(tmp_path):
    """Issue 15: another user pre-creates the cache folder (0755 or 0777) — labsim must neither use nor fail on it."""
    for mode in (0o755, 0o777, 0o700):
        d = tmp_path / f"planted-{mode:o}"
        d.mkdir()
        os.chmod(d, mode)
        os.chown(d, OTHER_UID, OTHER_UID)
        real, why = nc._make_private(d)
        assert real is None and f"uid {OTHER_UID}" in why


# --------------------------------------------------------------------------------- whole processes
def _run(code: str, env_extra: dict, cwd=None, timeout=300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NUMBA_", "XDG_"))}
    env.update(env_extra)
    env = {k: v for k, v in env.items() if v is not None}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=timeout,
                          cwd=cwd, check=False)


@root_only
def test_planted_index_in_a_foreign_cache_dir_never_runs(tmp_path):
    """The demonstrated attack: a world-writable cache folder owned by someone else holding a pickled ``.nbi``
    that runs code when unpickled. Named as NUMBA_CACHE_DIR and as XDG_CACHE_HOME, it is refused (one-line
    notice) and the planted pickle is never loaded."""
    evil = tmp_path / "evil"
    marker = tmp_path / "pwned"
    evil.mkdir()
    os.chmod(evil, 0o777)
    payload = (b"\x80\x04cposix\nsystem\n(V touch " + str(marker).encode() + b"\ntR.")
    for sub in (evil, evil / "labsim" / "numba"):
        sub.mkdir(parents=True, exist_ok=True)
        os.chmod(sub, 0o777)
        for name in ("multichip._pipeline_samples-256.py311.nbi", "x.nbi"):
            (sub / name).write_bytes(payload)
    for p in [evil, *evil.rglob("*")]:
        os.chown(p, OTHER_UID, OTHER_UID)
    code = ("import labsim, labsim._numba_cache as c; from labsim import multichip; multichip._warmup(); "
            "print('PRIVATE', c.policy().private_dir)")
    r = _run(code, {"NUMBA_CACHE_DIR": str(evil), "HOME": str(tmp_path / "home")})
    assert r.returncode == 0, r.stderr
    assert "ignoring NUMBA_CACHE_DIR" in r.stderr and f"uid {OTHER_UID}" in r.stderr
    r2 = _run(code, {"XDG_CACHE_HOME": str(evil), "HOME": None})
    assert r2.returncode == 0, r2.stderr
    assert "no private numba cache" in r2.stderr and len(r2.stderr.strip().splitlines()) == 1
    assert not marker.exists(), "a planted pickle was executed"


def test_explicit_cache_dir_is_used_when_private(tmp_path):
    d = tmp_path / "mine"
    r = _run("import labsim._numba_cache as c, labsim; print(c.policy().private_dir)", {"NUMBA_CACHE_DIR": str(d)})
    assert r.returncode == 0 and r.stdout.strip() == str(d.resolve()) and r.stderr == ""
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700


def test_other_numba_functions_keep_numbas_own_locators():
    from numba.core import caching

    assert caching.CacheImpl._locator_classes[0] is nc._LabsimLocator
    assert nc._LabsimLocator.from_function(len, __file__) is None  # not a labsim file: numba decides


# --------------------------------------------------------------------------------- the shipped cache
def test_this_checkout_is_its_own_shipped_cache():
    """A developer's (or the installer's) checkout: the package's __pycache__ is trusted and written in place."""
    labsim.warmup()
    folder = nc.PACKAGE_DIR / "__pycache__"
    trusted, writable, why = nc.policy().shipped(folder)
    assert trusted and writable, why
    assert sorted(folder.glob("multichip.*.nbi")), "warmup() wrote no index into the shipped cache"


@pytest.fixture
def package_copy(tmp_path):
    """labsim copied with its compiled kernels (as a read-only install would ship them), importable from tmp."""
    labsim.warmup()
    dest = tmp_path / "site" / "labsim"
    shutil.copytree(nc.PACKAGE_DIR, dest, ignore=shutil.ignore_patterns("*.pyc"))
    return dest


def _kernel_files(folder: Path, stem: str) -> list[Path]:
    return sorted(folder.glob(f"{stem}*.nbi")) + sorted(folder.glob(f"{stem}*.nbc"))


LOAD_MULTICHIP = ("import labsim, labsim._numba_cache as c; from labsim import multichip as m; m._warmup(); "
                  "d = m._pipeline_samples.stats; print('HITS', sum(d.cache_hits.values()), "
                  "'MISSES', sum(d.cache_misses.values())); print('REPAIRED', len(c.policy().repaired))")


@pytest.mark.parametrize("victim", ["nbi", "nbc"])
@pytest.mark.parametrize("how", ["truncate", "garbage"])
def test_corrupted_shipped_entry_is_discarded_and_recompiled(package_copy, victim, how):
    """Issue 15: a truncated .nbc/.nbi gave EOFError/UnpicklingError on every later run. Now the damaged entry is
    discarded, the kernel recompiles once, and the next process loads it from the cache again."""
    folder = package_copy / "__pycache__"
    files = [f for f in _kernel_files(folder, "multichip._pipeline_samples") if f.suffix == f".{victim}"]
    assert files
    data = files[0].read_bytes()
    files[0].write_bytes(data[: len(data) // 2] if how == "truncate" else b"\x80\x04garbage" + data[-7:])
    env = {"PYTHONPATH": str(package_copy.parent), "HOME": str(package_copy.parent.parent / "home")}
    first = _run(LOAD_MULTICHIP, env, cwd=package_copy.parent)
    assert first.returncode == 0, first.stderr
    assert "MISSES 1" in first.stdout and "REPAIRED 1" in first.stdout, first.stdout
    second = _run(LOAD_MULTICHIP, env, cwd=package_copy.parent)
    assert second.returncode == 0, second.stderr
    assert "HITS 1" in second.stdout and "MISSES 0" in second.stdout and "REPAIRED 0" in second.stdout


def test_private_cache_corruption_recovers(package_copy, tmp_path):
    """Same for the private cache (the shipped folder made untrusted, so kernels compile into NUMBA_CACHE_DIR)."""
    os.chmod(package_copy / "__pycache__", 0o777)  # writable by others -> never trusted, never loaded
    private = tmp_path / "private"
    env = {"PYTHONPATH": str(package_copy.parent), "NUMBA_CACHE_DIR": str(private)}
    first = _run(LOAD_MULTICHIP, env, cwd=package_copy.parent)
    assert first.returncode == 0 and "MISSES 1" in first.stdout, first.stdout + first.stderr
    files = [f for f in private.rglob("multichip._pipeline_samples*") if f.suffix in (".nbi", ".nbc")]
    assert len(files) == 2
    for f in files:
        f.write_bytes(f.read_bytes()[:10])
    again = _run(LOAD_MULTICHIP, env, cwd=package_copy.parent)
    assert again.returncode == 0 and "MISSES 1" in again.stdout and "REPAIRED 1" in again.stdout, again.stdout
    third = _run(LOAD_MULTICHIP, env, cwd=package_copy.parent)
    assert "HITS 1" in third.stdout and "MISSES 0" in third.stdout


def test_warmup_in_a_fresh_process_with_empty_cache(package_copy):
    """A fresh install (no __pycache__ at all, and Python told not to write bytecode, as in CI): every kernel
    compiles from scratch into the package's own (shipped) cache, which warmup creates."""
    for d in list(package_copy.rglob("__pycache__")):
        shutil.rmtree(d)
    env = {"PYTHONPATH": str(package_copy.parent), "HOME": str(package_copy.parent.parent / "home"),
           "PYTHONDONTWRITEBYTECODE": "1"}
    code = "import labsim; t = labsim.warmup(); print(len(t))"
    first = _run(code, env, cwd=package_copy.parent, timeout=600)
    assert first.returncode == 0, first.stderr
    assert int(first.stdout.strip()) == len(labsim.KERNEL_MODULES)
    assert len(list((package_copy / "__pycache__").glob("*.nbi"))) >= 10
    assert list((package_copy / "tsp" / "__pycache__").glob("*.nbi"))
