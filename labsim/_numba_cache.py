"""Where labsim's compiled numba kernels are cached — safely, for one user or a whole class.

numba caches a kernel as a pickled index (``.nbi``) and pickled code (``.nbc``); loading them *unpickles*, so a
cache folder is as trusted as the code next to it. labsim therefore picks the folder of every labsim kernel
itself, through a numba cache locator registered ahead of numba's own (kernels of other packages are left alone):

1. **The shipped cache** — the package's own ``__pycache__`` folders, filled once at install
   (``make install`` / the image build runs ``labsim.warmup()``). It is used only while it is *trusted*: the
   folder, its files and every folder above it are owned by root, by this user or by the owner of labsim's own
   source files (the installer), and writable by no one else. If this process may write there (the installer, a
   developer's checkout) it is simply the cache. If not (a learner on a read-only class install) it is only ever
   *read*: a small index in the private cache points at the shipped files, and anything compiled anew (another
   CPU, a new signature) goes to the private cache. The shipped folder is never written by such a user.
2. **The private cache** — ``$NUMBA_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/labsim/numba``, else
   ``<home>/.cache/labsim/numba`` (home from ``$HOME`` or the passwd entry; absolute paths only). Created 0700;
   on every use it must be a real folder owned by this user with no group/other access, and no folder above it
   may be writable by another user (a sticky ``/tmp``-style folder is fine). A folder that fails is never
   followed or repaired: labsim says so in one line and uses
3. **a session cache** — a fresh ``mkdtemp`` folder (0700) removed at exit: kernels still load from a trusted
   shipped cache; anything compiled is kept for this process only.

A truncated or otherwise unreadable cache entry (``.nbi`` or ``.nbc``) is detected when its function is first
used in a process — the pickle streams are walked with ``pickletools`` without executing anything — and is
discarded (private cache) or skipped (read-only shipped cache), so the kernel is recompiled instead of failing
on every later run. ``labsim.warmup(verbose=True)`` prints the decisions for the current user (``describe()``).
"""
from __future__ import annotations

import atexit
import io
import os
import pickle
import pickletools
import pwd
import shutil
import stat
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from numba.core import caching as _nc

__all__ = ["configure", "policy", "describe", "CachePolicy"]

PACKAGE_DIR = Path(__file__).resolve().parent
_NOTICE_PREFIX = "labsim: "


# ------------------------------------------------------------------------------------------------ trust checks

def _trusted_owners(extra: tuple[int, ...] = ()) -> frozenset[int]:
    return frozenset((0, os.geteuid(), *extra))


def _ancestors_problem(path: Path, owners: frozenset[int]) -> str | None:
    """Why a folder above ``path`` would let another user swap ``path`` out (None if none would)."""
    for parent in path.parents:
        st = os.lstat(parent)
        if st.st_uid not in owners:
            return f"{parent} is owned by uid {st.st_uid}"
        if st.st_mode & 0o022 and not st.st_mode & stat.S_ISVTX:
            return f"{parent} is writable by other users (mode {stat.S_IMODE(st.st_mode):04o})"
    return None


def dir_problem(path: Path, owners: frozenset[int], private: bool) -> str | None:
    """None if ``path`` (already resolved) is a folder we may trust, else the reason in a few words."""
    try:
        st = os.lstat(path)
    except OSError as exc:
        return f"{path}: {exc.strerror}"
    if not stat.S_ISDIR(st.st_mode):
        return f"{path} is not a folder"
    if st.st_uid not in owners:
        return f"{path} is owned by uid {st.st_uid}, not by this user"
    mode = stat.S_IMODE(st.st_mode)
    if mode & (0o077 if private else 0o022):
        return f"{path} has mode {mode:04o} ({'private folders need 0700' if private else 'writable by others'})"
    try:
        return _ancestors_problem(path, owners)
    except OSError as exc:
        return f"{path}: {exc.strerror}"


def _file_trusted(path: Path, owners: frozenset[int]) -> bool:
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and st.st_uid in owners and not st.st_mode & 0o022


# ------------------------------------------------------------------------------------------------ cache files

class _Corrupt(Exception):
    pass


def _walk_pickles(data: bytes, count: int) -> io.BytesIO:
    """Check that ``data`` is exactly ``count`` complete pickle streams, without executing any of them."""
    buf = io.BytesIO(data)
    try:
        for _ in range(count):
            for _op in pickletools.genops(buf):
                pass
    except Exception as exc:  # noqa: BLE001 — any parse failure means a damaged file
        raise _Corrupt(str(exc)) from None
    if buf.read(1):
        raise _Corrupt("trailing bytes")
    buf.seek(0)
    return buf


def _read_index(path: Path, stamp) -> dict | None:
    """The overloads of a fresh index; None if missing or stale (other numba version, other source)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    buf = _walk_pickles(data, 2)
    try:
        version = pickle.load(buf)
        if version != _nc.numba.__version__:
            return None
        stamp_found, overloads = pickle.loads(buf.read())
    except Exception as exc:  # noqa: BLE001 — whatever a damaged index raises, it is a damaged index
        raise _Corrupt(f"index does not load: {exc}") from None
    if stamp_found != stamp:
        return None
    if not isinstance(overloads, dict) or not all(isinstance(v, str) for v in overloads.values()):
        raise _Corrupt("index has no overload table")
    return overloads


def _data_ok(path: Path) -> bool:
    try:
        _walk_pickles(path.read_bytes(), 1)
    except (OSError, _Corrupt):
        return False
    return True


def _write_index(folder: Path, base: str, stamp, overloads: dict) -> None:
    """Write an index exactly as numba does (its own writer: temp file + atomic rename)."""
    _nc.IndexDataCacheFile(str(folder), base, stamp)._save_index(overloads)


def _filename_base(py_func, py_file: str) -> str:
    """numba's ``CacheImpl.get_filename_base`` for a plain function (the names numba gives the files)."""
    modname = os.path.splitext(os.path.basename(py_file))[0]
    qualname = getattr(py_func, "__qualname__", py_func.__name__)
    fullname = f"{modname}.{qualname}".replace("<", "").replace(">", "")
    v = sys.version_info
    return f"{fullname}-{py_func.__code__.co_firstlineno}.py{v[0]}{v[1]}{getattr(sys, 'abiflags', '')}"


def _discard(folder: Path, base: str) -> None:
    for f in folder.glob(f"{base}.*"):
        if f.name == f"{base}.nbi" or (f.name.endswith(".nbc") and f.name[len(base) + 1:-4].isdigit()):
            try:
                f.unlink()
            except OSError:
                pass


# ------------------------------------------------------------------------------------------------ the policy

@dataclass
class CachePolicy:
    """The decisions for this process (``policy()``); ``notices`` are the one-line messages already printed."""

    private_dir: Path | None = None          # verified private cache root, or None
    session_dir: Path | None = None          # per-process fallback (mkdtemp), or None
    notices: list[str] = field(default_factory=list)
    installer_uid: int = 0
    _shipped: dict[Path, tuple[bool, bool, str | None]] = field(default_factory=dict)  # dir -> (trusted, writable, why)
    repaired: list[str] = field(default_factory=list)

    @property
    def root(self) -> Path:
        """Where this user's own compilations go (private cache, else the session folder)."""
        if self.private_dir is not None:
            return self.private_dir
        if self.session_dir is None:
            self.session_dir = _session_dir()
        return self.session_dir

    def shipped(self, folder: Path) -> tuple[bool, bool, str | None]:
        """(trusted, writable by us, reason if not trusted) for a shipped ``__pycache__`` folder."""
        if folder not in self._shipped:
            owners = _trusted_owners((self.installer_uid,))
            if not folder.exists() and dir_problem(folder.parent, owners, private=False) is None \
                    and os.access(folder.parent, os.W_OK):
                try:  # the installer's first compile (Python may not have made __pycache__: PYTHONDONTWRITEBYTECODE)
                    folder.mkdir(mode=0o755)
                except OSError:
                    pass
            why = dir_problem(folder, owners, private=False) if folder.exists() else f"{folder} does not exist"
            writable = why is None and os.access(folder, os.W_OK)
            self._shipped[folder] = (why is None, writable, why)
        return self._shipped[folder]


def _notice(pol: CachePolicy, text: str) -> None:
    pol.notices.append(text)
    print(_NOTICE_PREFIX + text, file=sys.stderr)


def _home() -> Path | None:
    home = os.environ.get("HOME")
    if not home:
        try:
            home = pwd.getpwuid(os.geteuid()).pw_dir
        except KeyError:
            return None
    p = Path(home)
    return p if p.is_absolute() else None


def _default_private_dir() -> Path | None:
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "labsim" / "numba"
    home = _home()
    return None if home is None else home / ".cache" / "labsim" / "numba"


def _make_private(path: Path) -> tuple[Path | None, str | None]:
    """Create ``path`` (missing parts 0700), resolve it and verify it; (resolved path, None) or (None, why)."""
    try:
        missing = []
        p = path
        while not p.exists() and not p.is_symlink():
            missing.append(p)
            p = p.parent
        for d in reversed(missing):
            os.mkdir(d, 0o700)
        real = path.resolve(strict=True)
    except OSError as exc:
        return None, f"cannot create {path}: {exc.strerror}"
    why = dir_problem(real, _trusted_owners(), private=True)
    return (None, why) if why else (real, None)


def _session_dir() -> Path:
    d = Path(tempfile.mkdtemp(prefix="labsim-numba-"))  # mode 0700, a new name: nobody else can own it
    atexit.register(shutil.rmtree, d, ignore_errors=True)
    return d


_POLICY: CachePolicy | None = None


def configure(force: bool = False) -> CachePolicy:
    """Decide the private cache for this process and register labsim's locator with numba (idempotent)."""
    global _POLICY
    if _POLICY is not None and not force:
        return _POLICY
    pol = CachePolicy()
    try:
        pol.installer_uid = os.stat(PACKAGE_DIR / "__init__.py").st_uid
    except OSError:
        pol.installer_uid = 0
    explicit = os.environ.get("NUMBA_CACHE_DIR")
    candidates = []
    if explicit:
        candidates.append(("NUMBA_CACHE_DIR", Path(explicit)))
    default = _default_private_dir()
    if default is not None:
        candidates.append(("private cache", default))
    reasons = []
    for label, cand in candidates:
        if not cand.is_absolute():
            reasons.append(f"{label} {cand} is not an absolute path")
            continue
        real, why = _make_private(cand)
        if real is not None:
            pol.private_dir = real
            break
        reasons.append(why)
    if default is None:
        reasons.append("no home folder (HOME unset and no passwd entry)")
    if pol.private_dir is None:
        _notice(pol, "no private numba cache (" + "; ".join(reasons) + "); kernels not in the shipped cache are "
                     "compiled for this session only.")
    elif explicit and reasons:
        _notice(pol, f"ignoring NUMBA_CACHE_DIR ({reasons[0]}); using {pol.private_dir}.")
    _POLICY = pol
    if _LabsimLocator not in _nc.CacheImpl._locator_classes:
        _nc.CacheImpl._locator_classes.insert(0, _LabsimLocator)
    return pol


def policy() -> CachePolicy:
    return configure()


# ------------------------------------------------------------------------------------------------ the locator

class _LabsimLocator(_nc._SourceFileBackedLocatorMixin, _nc._CacheLocator):
    """numba cache locator for labsim's own kernels (see the module docstring); other functions: None."""

    def __init__(self, py_func, py_file, cache_path: Path, private: bool):
        self._py_func, self._py_file = py_func, py_file
        self._lineno = py_func.__code__.co_firstlineno
        self._cache_path = str(cache_path)
        self._private = private

    def get_cache_path(self) -> str:
        return self._cache_path

    def ensure_cache_path(self) -> None:
        path = Path(self._cache_path)
        if self._private:
            path.mkdir(mode=0o700, parents=False, exist_ok=True)
        else:
            path.mkdir(exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()

    @classmethod
    def from_function(cls, py_func, py_file):
        try:
            src = Path(py_file).resolve()
        except (OSError, RuntimeError):
            return None
        if not src.is_file() or PACKAGE_DIR not in src.parents:
            return None  # not one of labsim's kernels: numba's own locators decide
        pol = policy()
        base = _filename_base(py_func, py_file)
        shipped = src.parent / "__pycache__"
        trusted, writable, _why = pol.shipped(shipped)
        probe = cls(py_func, py_file, shipped, private=False)
        stamp = probe.get_source_stamp()
        if trusted and writable:  # the installer / a developer's own checkout: the shipped cache is our cache
            _repair(pol, shipped, base, stamp, owners=_trusted_owners((pol.installer_uid,)))
            return probe
        sub = pol.root / cls.get_suitable_cache_subpath(py_file)
        try:
            sub.mkdir(mode=0o700, exist_ok=True)
        except OSError:
            pol.private_dir = None
            sub = pol.root / cls.get_suitable_cache_subpath(py_file)
            sub.mkdir(mode=0o700, exist_ok=True)
        own = _repair(pol, sub, base, stamp, owners=_trusted_owners()) or {}
        merged = {k: v for k, v in own.items()
                  if not os.path.isabs(v) or (trusted and _shipped_entry_ok(pol, Path(v), shipped))}
        if trusted:
            ship = _shipped_overloads(pol, shipped, base, stamp)
            for key, name in ship.items():
                merged.setdefault(key, str(shipped / name))
        if merged != own:
            _write_index(sub, base, stamp, merged)
        return cls(py_func, py_file, sub, private=True)


def _repair(pol: CachePolicy, folder: Path, base: str, stamp, owners) -> dict | None:
    """Fresh overloads of ``folder``'s index for ``base`` (None if none); a damaged entry is discarded."""
    index = folder / f"{base}.nbi"
    try:
        if index.exists() and not _file_trusted(index, owners):
            raise _Corrupt("index file is not a regular file owned by a trusted user")
        overloads = _read_index(index, stamp)
        for name in (overloads or {}).values():
            if not os.path.isabs(name) and not _data_ok(folder / name):
                raise _Corrupt(f"{name} is damaged")
    except _Corrupt as exc:
        pol.repaired.append(f"{index}: {exc}")
        _discard(folder, base)
        return None
    return overloads


def _shipped_entry_ok(pol: CachePolicy, path: Path, shipped: Path) -> bool:
    return (path.parent == shipped and _file_trusted(path, _trusted_owners((pol.installer_uid,)))
            and _data_ok(path))


def _shipped_overloads(pol: CachePolicy, shipped: Path, base: str, stamp) -> dict:
    """Fresh, intact entries of the (read-only) shipped index for ``base``; {} if none or damaged."""
    index = shipped / f"{base}.nbi"
    if not _file_trusted(index, _trusted_owners((pol.installer_uid,))):
        return {}
    try:
        overloads = _read_index(index, stamp) or {}
    except _Corrupt as exc:
        pol.repaired.append(f"{index}: {exc} (shipped, skipped)")
        return {}
    good = {k: v for k, v in overloads.items()
            if not os.path.isabs(v) and _shipped_entry_ok(pol, shipped / v, shipped)}
    if len(good) != len(overloads):
        pol.repaired.append(f"{index}: damaged entries skipped (shipped)")
    return good


def describe() -> str:
    """Human-readable summary of where this process loads and stores labsim's kernels."""
    pol = policy()
    lines = [f"private cache : {pol.private_dir or 'none (session folder ' + str(pol.root) + ')'}"]
    for folder in sorted({p.parent for p in PACKAGE_DIR.rglob("__pycache__/*.nbi")}):
        trusted, writable, why = pol.shipped(folder)
        mode = "read-write (installer)" if writable else "read-only" if trusted else f"not used ({why})"
        lines.append(f"shipped cache : {folder} — {mode}")
    lines += [f"notice        : {n}" for n in pol.notices] + [f"discarded     : {r}" for r in pol.repaired]
    return "\n".join(lines)
