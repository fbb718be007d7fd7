"""labsim — the LPU Lab mini-simulator.

Modules (one job each):
  catalog    chips and models as sourced data files          precision  number formats and their bytes
  tsp        cycle-level Tensor Streaming Processor (ch. 1)   schedule   static list scheduler (ch. 2)
  gpu        dynamic GPU latency model (ch. 2)                multichip  RealScale hops and the cliff (ch. 2)
  capacity   chips needed, decode time, roofline (ch. 3)      tco        cost per token (ch. 4)
  latency    agentic latency budgets, tails, queues (ch. 5)   fleet      hybrid fleet optimizer (ch. 6)
  systolic   weight-stationary systolic array, TPU v1 (ch. 7) mesh       dynamic 2-D mesh NoC vs static (ch. 7)
  numerics   FP8/CFP8/BF16, accumulators, attention (ch. 7)   silicon    SRAM density, yield, next LPU (ch. 7)
  check      exercise checkers                                workspace  copy exercises for a learner
"""
from __future__ import annotations

from . import _numba_cache

_numba_cache.configure()  # registers labsim's cache locator before any kernel module is imported

import sys  # noqa: E402 — after configure(), so the cache locator is in place first
import time  # noqa: E402 — (same reason)

from .errors import LabsimError, TimingFault, UnknownNameError  # noqa: E402,F401 — (same reason); re-exported

__version__ = "0.1.0"

#: Modules that own numba kernels. Each defines ``_warmup()``, which calls every kernel once on tiny
#: inputs so that compiled code is cached to disk and the first slider move in a notebook is fast.
KERNEL_MODULES = (
    "labsim.tsp",
    "labsim.gpu",
    "labsim.multichip",
    "labsim.tco",
    "labsim.latency",
    "labsim.fleet",
    "labsim.systolic",
    "labsim.mesh",
    "labsim.numerics",
    "labsim.silicon",
)


def _import_kernel_module(name: str) -> None:
    """Import one of :data:`KERNEL_MODULES` by an ordinary import (the import is timed by :func:`warmup`)."""
    # Function-local on purpose: ``import labsim`` stays light, numba loads when a kernel module is first used.
    if name == "labsim.tsp":
        from . import tsp  # noqa: F401 — see above
    elif name == "labsim.gpu":
        from . import gpu  # noqa: F401 — see above
    elif name == "labsim.multichip":
        from . import multichip  # noqa: F401 — see above
    elif name == "labsim.tco":
        from . import tco  # noqa: F401 — see above
    elif name == "labsim.latency":
        from . import latency  # noqa: F401 — see above
    elif name == "labsim.fleet":
        from . import fleet  # noqa: F401 — see above
    elif name == "labsim.systolic":
        from . import systolic  # noqa: F401 — see above
    elif name == "labsim.mesh":
        from . import mesh  # noqa: F401 — see above
    elif name == "labsim.numerics":
        from . import numerics  # noqa: F401 — see above
    elif name == "labsim.silicon":
        from . import silicon  # noqa: F401 — see above
    else:
        raise LabsimError(f"name={name!r}: not one of labsim.KERNEL_MODULES {KERNEL_MODULES}")


def warmup(verbose: bool = False) -> dict[str, float]:
    """Load every numba kernel from the cache (or compile it once); returns seconds per module.

    ``make install`` runs this once, which compiles the kernels into the install's own cache; after that every
    user — also on a read-only class install — loads them from there in well under a second
    (``labsim/_numba_cache.py`` explains where kernels are kept and why that is safe).
    """
    timings: dict[str, float] = {}
    if verbose:
        print(_numba_cache.describe())
    for name in KERNEL_MODULES:
        t0 = time.perf_counter()
        _import_kernel_module(name)
        mod = sys.modules[name]
        fn = getattr(mod, "_warmup", None)
        if fn is not None:
            fn()
        timings[name] = time.perf_counter() - t0
        if verbose:
            print(f"  {name:<18} {timings[name]:6.2f} s")
    return timings
