"""Read-only shared kernels with real second users (issue 15's multi-user check, issue 16's read-only install).

Every process here runs as a non-root uid on the class install (root-owned, read-only; kernels compiled once at
install). They load every kernel from the shipped cache, write nothing there, and keep whatever they write in a
folder only they can open. The cache attack of issue 15 is replayed with two real uids.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from classroom_fixtures import ARTIFACTS, as_user, class_install  # noqa: F401 — pytest fixtures

pytestmark = pytest.mark.classroom

ATTACKER, VICTIM, NO_PASSWD = "65534:65534", "45678:45678", "45679:45679"  # nobody; two uids without passwd entries

LOAD_ALL = """
import json, labsim, labsim._numba_cache as c, importlib
labsim.warmup()
hits = misses = 0
for name in labsim.KERNEL_MODULES:
    mod = importlib.import_module(name)
    for obj in vars(mod).values():
        st = getattr(obj, "stats", None)
        if st is not None and hasattr(st, "cache_hits"):
            hits += sum(st.cache_hits.values()); misses += sum(st.cache_misses.values())
pol = c.policy()
print(json.dumps({"hits": hits, "misses": misses, "private": str(pol.private_dir), "root": str(pol.root),
                  "notices": pol.notices}))
"""


def _snapshot(folder: Path) -> dict[str, tuple[int, float]]:
    return {str(p): (p.stat().st_size, p.stat().st_mtime) for p in folder.rglob("*") if p.is_file()}


def _run(install: Path, user: str, home, env=None, code=LOAD_ALL):
    import json

    r = as_user(user, [str(install / "venv" / "bin" / "python"), "-c", code], home=home, env=env, cwd="/",
                timeout=300)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1]), r.stderr


def test_install_is_read_only_for_learners(class_install):  # noqa: F811 — the fixture imported above
    shipped = class_install / "course" / "labsim" / "__pycache__"
    assert list(shipped.glob("*.nbi")), "make install compiles the kernels into the shipped cache"
    for p in [class_install / "course", class_install / "venv", shipped, *shipped.iterdir()]:
        st = os.stat(p)
        assert st.st_uid == 0 and not st.st_mode & 0o022, f"{p} is writable by learners"


def test_user_with_unwritable_home_loads_every_kernel_from_the_read_only_install(class_install, tmp_path):  # noqa: F811 — the fixture imported above
    """No per-user compile: all kernels are cache hits from the shipped cache; nothing is written there; the
    session folder is private (0700, owned by that uid) and goes away at exit."""
    shipped = [class_install / "course" / "labsim" / "__pycache__",
               class_install / "course" / "labsim" / "tsp" / "__pycache__"]
    before = {str(d): _snapshot(d) for d in shipped}
    out, err = _run(class_install, VICTIM, home="/nonexistent")
    assert out["misses"] == 0 and out["hits"] >= 10, out
    assert out["private"] == "None" and out["root"].startswith("/tmp/labsim-numba-")
    assert not Path(out["root"]).exists(), "the session folder outlived the process"
    assert "no private numba cache" in err and len(err.strip().splitlines()) == 1
    assert {str(d): _snapshot(d) for d in shipped} == before, "a learner wrote into the shipped cache"


def test_two_learners_share_nothing_writable(class_install):  # noqa: F811 — the fixture imported above
    """Two users with writable homes: each gets a private cache (0700, their own), pointing at the same
    read-only kernels; neither can read or write the other's."""
    homes = {}
    for user in (VICTIM, NO_PASSWD):
        uid = int(user.split(":")[0])
        home = ARTIFACTS / "homes" / str(uid)
        home.mkdir(parents=True, exist_ok=True)
        os.chmod(home.parent, 0o755)
        os.chown(home, uid, uid)
        os.chmod(home, 0o700)
        out, err = _run(class_install, user, home=home)
        assert out["misses"] == 0 and err == "", err
        private = Path(out["private"])
        assert private == home / ".cache" / "labsim" / "numba"
        for p in [private, *private.rglob("*")]:
            st = os.lstat(p)
            assert st.st_uid == uid, p
            assert not st.st_mode & 0o022, f"{p} is writable by others"
            if stat.S_ISDIR(st.st_mode):
                assert stat.S_IMODE(st.st_mode) == 0o700, p
        homes[uid] = private
    a, b = homes.values()
    r = as_user(VICTIM, ["ls", str(b)], home=None)
    assert r.returncode != 0
    r = as_user(NO_PASSWD, ["touch", str(a / "planted.nbi")], home=None)
    assert r.returncode != 0


def test_cache_attack_with_two_uids(class_install, tmp_path):  # noqa: F811 — the fixture imported above
    """Issue 15, replayed: uid A (nobody) pre-creates the old fallback folder and a world-writable cache with a
    pickled .nbi that runs a command when loaded; uid B (HOME unset, no passwd entry) then imports labsim and
    warms up. Nothing of A's is loaded, B's import works, and B's cache is not in A's folder."""
    drop = ARTIFACTS / "attack"
    drop.mkdir(parents=True, exist_ok=True)
    os.chmod(drop, 0o1777)
    marker = drop / "pwned"
    marker.unlink(missing_ok=True)
    payload = (f"import os, pickle\nclass P:\n    def __reduce__(self):\n"
               f"        return (os.system, ('touch {marker}',))\n")
    planted = drop / "shared-cache"
    r = as_user(ATTACKER, ["/usr/bin/python3", "-c", payload + f"""
import pathlib, pickle
for d in [pathlib.Path('{planted}'), pathlib.Path('/tmp/labsim-numba'), pathlib.Path('{planted}/labsim/numba')]:
    d.mkdir(parents=True, exist_ok=True); d.chmod(0o777)
    for n in ('multichip._pipeline_samples-256.py311.nbi', 'gpu._simulate-306.py311.nbi'):
        (d / n).write_bytes(pickle.dumps(P()))
"""], home=None)
    assert r.returncode == 0, r.stderr
    for env in ({"NUMBA_CACHE_DIR": str(planted)}, {"XDG_CACHE_HOME": str(planted)}, {}):
        out, err = _run(class_install, NO_PASSWD, home=None, env=env)
        assert out["misses"] == 0, out
        assert not out["root"].startswith(str(planted)) and not out["root"].startswith("/tmp/labsim-numba/")
        assert not marker.exists(), f"planted pickle executed (env {env})"
    # a 0755 folder another user created first no longer breaks the import ("no locator available")
    os.chmod(planted, 0o755)
    out, _ = _run(class_install, NO_PASSWD, home=None, env={"XDG_CACHE_HOME": str(planted)},
                  code="import labsim.tsp; " + LOAD_ALL)
    assert out["misses"] == 0
