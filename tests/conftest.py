from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]

# the `browser` marker and failure screenshots for tests/test_browser.py
pytest_plugins = ["conftest_browser"]

# Property tests: modest example counts (the machine has 2 cores) and no per-example deadline, because the
# first call of a numba kernel may load it from the on-disk cache.
settings.register_profile("labsim", max_examples=int(os.environ.get("LABSIM_HYPOTHESIS_EXAMPLES", "40")),
                          deadline=None, derandomize=True)
settings.load_profile("labsim")


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT
