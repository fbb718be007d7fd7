"""The CLI keeps the contract (docs/contract.md): exit status 0 or 2, never a traceback; on 2 exactly one line on
stderr that names the flag; on 0 every printed number is finite ("n/a" only for unpublished values, never in
``labsim tco``), and ``--json`` always parses.

Every flag of every subcommand meets every bad value below, with and without ``--json``; hypothesis adds random
numbers for every ``--set`` input of ``labsim tco``.
"""
from __future__ import annotations

import contextlib
import io
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labsim import tco
from labsim.cli import main

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

NUM_BAD = ["nan", "inf", "-inf", "1e308", "-1e308", "5e-324", "0", "-1", "-5", "2.5", "abc", "", "1e400",
           "10**400", "True", "99999999999999999999999999999999999999999"]
INT_BAD = ["-5", "0", "-1", "2.5", "abc", "", "nan", "1e3", "99999999999999999999999999999999999999999",
           "100000001"]
NAME_BAD = ["int9", "", "nan", "\x00", "x" * 300, "llama", "groq"]
M, C = "llama-3.3-70b", "groq-lpu-v1"

_NONFINITE = re.compile(r"(?<![A-Za-z_])-?(nan|inf)(?![A-Za-z_])", re.IGNORECASE)
COUNT = [0]


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(argv)
        except SystemExit as exc:       # argparse: usage errors and --help / --version
            rc = exc.code if isinstance(exc.code, int) else 1
    COUNT[0] += 1
    return rc, out.getvalue(), err.getvalue()


def _problem(argv, rc, out, err, flag: str | None) -> str | None:
    if rc not in (0, 2):
        return f"exit status {rc}"
    if "Traceback" in out + err:
        return "a traceback"
    if rc == 2:
        lines = err.rstrip("\n").split("\n")
        if out or len(lines) != 1 or "error" not in lines[0]:
            return f"exit 2 needs one error line on stderr and nothing on stdout, got {err!r} / {out[:80]!r}"
        if flag and flag.split()[-1] not in lines[0] and "usage" not in lines[0]:
            return f"the error does not name {flag}: {lines[0]}"
        return None
    if err:
        return f"exit 0 wrote to stderr: {err[:120]!r}"
    if "--help" not in argv and "--version" not in argv:
        if "--json" in argv:
            try:
                json.loads(out)
            except ValueError as exc:
                return f"--json output does not parse: {exc}"
        m = _NONFINITE.search(out)
        if m:
            return f"printed a non-finite number: {out[max(0, m.start() - 60):m.end() + 20]!r}"
        if argv[0] == "tco" and "n/a" in out:
            return "labsim tco printed n/a"
    return None


def _cases() -> list[tuple[list[str], str | None]]:
    cases: list[tuple[list[str], str | None]] = [([], None), (["--version"], None), (["--help"], None),
                                                  (["chips"], None), (["models"], None), (["frobnicate"], None)]
    plan = ["plan", M, C]
    for v in NAME_BAD:
        cases += [(["plan", v, C], None), (["plan", M, v], None)]
        for flag in ("--precision", "--expert-precision", "--kv-precision"):
            cases.append((plan + [flag, v], flag))
    for v in INT_BAD:
        for flag in ("--context", "--batch", "--chips"):
            cases.append((plan + [flag, v], flag))
    cases.append((plan + ["--chips", "3"], "--chips"))
    cases.append((plan + ["--chips", "3", "--allow-overflow"], None))
    for v in NAME_BAD:
        cases.append((["tco", "--preset", v], "--preset"))
    base = tco.REPORT_FIG11["groq-cost"]
    for field in tco.FIELDS:
        for v in NUM_BAD:
            cases.append((["tco", "--preset", "groq-cost", "--set", f"{field}={v}"], f"--set {field}"))
    for v in ("maybe", "", "2"):
        cases.append((["tco", "--preset", "groq-cost", "--set", f"utilization_derates_tokens={v}"], "--set"))
    cases += [(["tco", "--preset", "groq-cost", "--set", v], "--set") for v in ("=", "pue", "=1", "x=1", "label=")]
    assert base is not None
    budget = ["budget", "--slo", "1", "--speed", "500", "--samples", "2000"]
    for v in NUM_BAD + ["voice", "\x00"]:
        cases.append((["budget", "--slo", v, "--speed", "500", "--samples", "2000"], "--slo"))
    for flag in ("--speed", "--ttft", "--tool", "--network", "--quantile", "--usd-per-mtok"):
        for v in NUM_BAD:
            cases.append((budget + [flag, v], flag))
    for flag in ("--steps", "--fan-out", "--tokens", "--samples", "--seed"):
        for v in INT_BAD:
            cases.append((budget + [flag, v], flag))
    for v in NAME_BAD:
        cases += [(budget + ["--platform", v], "--platform"), (budget + ["--tco-preset", v], "--tco-preset"),
                  (["budget", "--slo", "1", "--model", v, "--chip", C, "--samples", "2000"], None),
                  (["budget", "--slo", "1", "--model", M, "--chip", C, "--precision", v, "--samples", "2000"],
                   "--precision")]
    cases.append((["budget", "--slo", "1"], "--speed"))
    cases.append((budget + ["--usd-per-mtok", "1", "--tco-preset", "groq-cost"], None))
    return cases


CASES = _cases()


@pytest.mark.parametrize("json_flag", [False, True])
def test_every_flag_meets_every_bad_value(json_flag):
    problems = []
    for argv, flag in CASES:
        argv = argv + (["--json"] if json_flag and argv and argv[0] in ("plan", "tco", "budget", "chips", "models")
                       else [])
        rc, out, err = _run(argv)
        why = _problem(argv, rc, out, err, flag)
        if why:
            problems.append(f"labsim {' '.join(argv)!r}: {why}")
    assert not problems, "\n".join(problems[:30])


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(field=st.sampled_from(sorted(tco.FIELDS)),
       value=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**40), 10**40)),
       as_json=st.booleans())
def test_random_tco_inputs(field, value, as_json):
    argv = ["tco", "--preset", "groq-cost", "--set", f"{field}={value!r}"] + (["--json"] if as_json else [])
    rc, out, err = _run(argv)
    assert _problem(argv, rc, out, err, f"--set {field}") is None, (argv, rc, out[-300:], err)


def test_issue_examples():
    """The three CLI wording items of issue 14 and the silent "n/a" of issue 15."""
    rc, _, err = _run(["plan", M, C, "--precision", "int9"])
    assert rc == 2 and "precision precision" not in err and "--precision" in err and "int8" in err
    rc, _, err = _run(["plan", M, C, "--context", "-5"])
    assert rc == 2 and "--context" in err and "context_tokens" not in err
    rc, _, err = _run(["plan", M, C, "--chips", "10"])
    assert rc == 2 and "allow_overflow" not in err and "--allow-overflow" in err
    rc, out, _ = _run(["plan", M, C, "--chips", "10", "--allow-overflow", "--json"])
    assert rc == 0 and json.loads(out)["decode"]["chips"] == 10
    rc, out, err = _run(["tco", "--preset", "groq-cost", "--set", "system_power_kw=1e308"])
    assert rc == 2 and out == "" and "system_power_kw" in err and "n/a" not in err


def test_zz_write_counts(root):
    out = root / "test-artifacts"
    out.mkdir(exist_ok=True)
    with contextlib.suppress(OSError):
        (out / "contract-counts-cli.json").write_text(json.dumps({"cli": COUNT[0]}))
