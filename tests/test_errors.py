from __future__ import annotations

import math

import numpy as np
import pytest

from labsim.errors import (
    MAX_INT,
    LabsimError,
    UnknownNameError,
    check_array,
    check_bool,
    check_choice,
    check_fraction,
    check_int,
    check_ints,
    check_mapping,
    check_name,
    check_number,
    check_positive,
    check_text,
    ensure_finite,
)
from labsim.precision import PRECISIONS, bytes_per_element


def test_error_family_is_valueerror():
    assert issubclass(LabsimError, ValueError)
    assert issubclass(UnknownNameError, LabsimError)


@pytest.mark.parametrize("value", [0, -1, math.nan, math.inf, "3", None, True])
def test_check_positive_rejects(value):
    with pytest.raises(LabsimError) as e:
        check_positive("batch_size", value)
    assert "batch_size" in str(e.value)


def test_message_names_parameter_value_and_range():
    with pytest.raises(LabsimError) as e:
        check_fraction("utilization", 1.5)
    msg = str(e.value)
    assert "utilization" in msg and "1.5" in msg and "[0, 1]" in msg


def test_check_int():
    assert check_int("batch", 8.0, lo=1) == 8
    with pytest.raises(LabsimError, match=r"batch = 0 .*\[1, inf\]"):
        check_int("batch", 0, lo=1)
    with pytest.raises(LabsimError, match="integer"):
        check_int("batch", 2.5)


def test_check_choice_suggests_closest():
    with pytest.raises(UnknownNameError) as e:
        check_choice("precision", "int9", ["int8", "fp16"])
    assert "did you mean 'int8'" in str(e.value)
    assert "fp16" in str(e.value)


def test_check_array_names_index():
    with pytest.raises(LabsimError, match=r"pue\[2\]"):
        check_array("pue", [1.2, 1.3, 0.5], lo=1.0)
    np.testing.assert_array_equal(check_array("x", [1, 2]), [1.0, 2.0])


def test_check_number_open_bounds():
    assert check_number("load", 0.5, lo=0, hi=1, hi_open=True) == 0.5
    with pytest.raises(LabsimError, match=r"\[0, 1\)"):
        check_number("load", 1.0, lo=0, hi=1, hi_open=True)


def test_precision_bytes():
    assert bytes_per_element("fp32") == 4
    assert bytes_per_element("bf16") == 2
    assert bytes_per_element("int8") == 1
    assert bytes_per_element("int4") == 0.5
    # MXFP4: 4 bits + one 8-bit scale per 32 elements = 4.25 bits = 0.53125 bytes
    assert bytes_per_element("mxfp4") == pytest.approx(4.25 / 8)
    assert all(p.source for p in PRECISIONS.values())
    with pytest.raises(UnknownNameError, match="did you mean 'int8'"):
        bytes_per_element("int 8")


def test_unique_prefix_beats_edit_distance():
    with pytest.raises(UnknownNameError, match="did you mean 'nvidia-h100-sxm'"):
        check_choice("chip", "nvidia-h100", ["nvidia-h100-sxm", "nvidia-h200"])


def test_nvfp4_block_overhead():
    # 4-bit elements + one 8-bit scale per 16 elements = 4.5 bits
    assert bytes_per_element("nvfp4") == pytest.approx(4.5 / 8)


# ---------------------------------------------------------------------------------------------- the contract's classes


@pytest.mark.parametrize("value", [10**400, -10**400])
def test_huge_python_ints_are_an_error_not_an_overflow(value):
    with pytest.raises(LabsimError, match="too large"):
        check_number("x", value)
    with pytest.raises(LabsimError, match="too large"):
        check_int("x", value, lo=0)
    with pytest.raises(LabsimError, match="too large"):
        check_array("x", [1, value])


def test_check_int_caps_at_2_to_53_without_an_upper_bound():
    assert check_int("n", MAX_INT, lo=0) == 2**53
    with pytest.raises(LabsimError, match=r"n = .* is too large; allowed: integers in \[0, 2\*\*53\]"):
        check_int("n", MAX_INT + 1, lo=0)


@pytest.mark.parametrize("value", ["8", True, np.bool_(True), None, {"a": 1}, ["1", 2], np.array(["a"]),
                                   np.array([None], dtype=object), np.array([True, False]), b"8"])
def test_check_array_rejects_what_numpy_would_convert(value):
    with pytest.raises(LabsimError, match="must be a number or an array of numbers"):
        check_array("capex_usd", value)


def test_check_array_accepts_mixed_int_float_lists():
    np.testing.assert_array_equal(check_array("x", [1, 2.5, np.int64(3)]), [1.0, 2.5, 3.0])


def test_check_choice_names_the_parameter_once():
    with pytest.raises(UnknownNameError) as e:
        check_choice("precision", "int9", ["int8", "fp16"], what="precision")
    assert "precision precision" not in str(e.value) and "unknown precision 'int9'" in str(e.value)
    with pytest.raises(UnknownNameError, match=r"unknown preset --preset='x'"):
        check_choice("--preset", "x", ["a"], what="preset")
    with pytest.raises(LabsimError, match="choices must be"):
        check_choice("x", "a", 5)


def test_validators_reject_bad_bounds():
    with pytest.raises(LabsimError, match="bound lo"):
        check_number("x", 1.0, lo="0")
    with pytest.raises(LabsimError, match="is empty"):
        check_number("x", 1.0, lo=2.0, hi=1.0)
    with pytest.raises(LabsimError, match="lo_open must be True or False"):
        check_number("x", 1.0, lo=0.0, lo_open=np.array([]))


def test_check_bool_name_text():
    assert check_bool("flag", np.bool_(False)) is False
    for bad in (0, 1, "yes", None, np.array([True])):
        with pytest.raises(LabsimError, match="flag must be True or False"):
            check_bool("flag", bad)
    assert check_name("name", "groq-lpu-v1") == "groq-lpu-v1"
    for bad in ("", "\x00", "a\nb", " a", "x" * 201, 5):
        with pytest.raises(LabsimError, match="name"):
            check_name("name", bad)
    assert check_text("label", "two\nlines") == "two\nlines"
    with pytest.raises(LabsimError, match="control character"):
        check_text("label", "bell\x07")


def test_check_ints_and_mapping():
    assert check_ints("batches", (1, 2.0, np.int64(4)), lo=1) == (1, 2, 4)
    for bad, frag in ((5, "sequence"), ("12", "sequence"), ([1, 2.5], r"batches\[1\]"), ([], "at least 1"),
                      ([0], r"batches\[0\] = 0")):
        with pytest.raises(LabsimError, match=frag):
            check_ints("batches", bad, lo=1)
    assert check_mapping("prices", None, allow_none=True) == {}
    with pytest.raises(LabsimError, match="prices must be a dict"):
        check_mapping("prices", [("a", 1)])


def test_ensure_finite_names_result_and_inputs():
    ensure_finite("model", {"y": np.array([1.0, 2.0])}, {"x": 3.0})
    with pytest.raises(LabsimError, match=r"model: y is not a finite number at index \[1\] from x=1e\+308"):
        ensure_finite("model", {"y": np.array([1.0, np.inf])}, {"x": 1e308})
