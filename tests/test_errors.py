from __future__ import annotations

import math

import numpy as np
import pytest

from labsim.errors import (LabsimError, UnknownNameError, check_array, check_choice, check_fraction, check_int,
                           check_number, check_positive)
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
