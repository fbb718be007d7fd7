"""pytest plugin for the browser tests (tests/test_browser.py): registers the ``browser`` marker and keeps each
test's call report on its item so a fixture can screenshot the page when the test failed.

Loaded from tests/conftest.py with ``pytest_plugins = ["conftest_browser"]``.
"""
from __future__ import annotations

import pytest


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "browser: drives JupyterLab / Voilà in headless Chromium (slow; deselect with -m 'not browser')")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call":
        item.rep_call = rep
