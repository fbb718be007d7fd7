"""Number formats, bit for bit: what narrow storage, accumulator width and logit precision do to a result (ch. 7).

* **Floating-point formats** — IEEE binary32/binary16 ([ieee754]), bfloat16 ([kalamkar19]), the OCP FP8 pair E4M3
  (bias 7, no infinity, max 448) and E5M2 (bias 15, max 57,344) ([micikevicius22]), and Tesla's configurable CFP8
  (1-4-3 or 1-5-2 with a 6-bit exponent bias 0 … 63, no Infinity/NaN; [tesla-cfloat21]). :func:`quantize` rounds
  float64 values to any of them: round to nearest, ties to even, gradual underflow, overflow saturating at the
  largest finite value (``overflow="inf"`` gives IEEE infinities where the format has them).
* **Integer accumulation** — :func:`int_gemv` multiplies INT8 weights by INT8 activations and accumulates in a
  two's-complement register of 16, 24, 32 or ≥ 64 bits (wrap-around or saturating); ≥ 64 bits is exact for any
  realistic length (TruePoint's "100 bits of intermediate accumulation", [groq-lpu-blog25]).
* **Float accumulation** — :func:`float_dot` rounds the running sum to a format after every addition, or keeps it
  exact (compensated summation: what a ≥ 100-bit fixed-point accumulator gives for these inputs).
* **Attention over a long context** — :func:`attention` computes one query against ``n`` keys/values with
  chosen storage, logit and accumulator formats and compares with an FP64 reference: output error and the shift
  of the softmax distribution (total-variation distance).
* :func:`bytes_moved_per_token` prices the choices in bytes moved per generated token (catalog models).

Kernels are numba, private; public functions validate their inputs. Design: ``docs/design/numerics.md``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from . import catalog
from .errors import LabsimError, check_array, check_bool, check_choice, check_int, check_name, check_number, check_text
from .precision import PRECISIONS, bytes_per_element

__all__ = ["FloatFormat", "FORMATS", "fmt", "quantize", "representable_values", "quantize_int8", "int_gemv",
           "float_dot", "float_gemv", "attention", "AttentionResult", "attention_sweep", "bytes_moved_per_token",
           "ACC_FORMATS"]


@dataclass(frozen=True)
class FloatFormat:
    """A binary floating-point format: sign + ``exp_bits`` + ``man_bits`` (stored fraction bits), ``bias``.

    ``ieee_special``: the top exponent code is reserved for Inf/NaN (IEEE, E5M2). E4M3 keeps the top code for
    numbers except S.1111.111 (NaN), so its max is 1.75 × 2⁸ = 448. CFP8 has no Inf/NaN encodings at all.
    """
    name: str
    exp_bits: int
    man_bits: int
    bias: int
    ieee_special: bool = True
    e4m3_nan_only: bool = False
    source: str = ""

    def __post_init__(self):
        # what the rounding kernel needs to be exact: the smallest normal exponent inside float64's normal range
        # (≥ −1022, so every spacing 2^(e − man_bits) ≥ 2^−1074 is a float64 and float64 subnormal inputs take
        # the format's smallest exponent), and the largest exponent ≤ 960 (inputs far beyond the format's range
        # are clipped before rounding)
        set_ = object.__setattr__          # frozen: store the validated (normalized) values
        set_(self, "name", check_name("name", self.name))
        set_(self, "exp_bits", check_int("exp_bits", self.exp_bits, lo=1, hi=11))
        set_(self, "man_bits", check_int("man_bits", self.man_bits, lo=0, hi=52))
        set_(self, "bias", check_int("bias", self.bias, lo=-1100, hi=2100))
        set_(self, "ieee_special", check_bool("ieee_special", self.ieee_special))
        set_(self, "e4m3_nan_only", check_bool("e4m3_nan_only", self.e4m3_nan_only))
        set_(self, "source", check_text("source", self.source, max_chars=1000))
        if self.ieee_special and self.e4m3_nan_only:
            raise LabsimError("ieee_special = True and e4m3_nan_only = True exclude each other (the top exponent "
                              "code is either reserved for Inf/NaN or holds numbers but S.1…1.1…1)")
        if self.e4m3_nan_only and self.man_bits < 1:
            raise LabsimError("e4m3_nan_only = True needs man_bits ≥ 1 (S.1…1.1…1 is the NaN code)")
        if self.emax < self.emin:
            raise LabsimError(f"exp_bits = {self.exp_bits} with ieee_special = {self.ieee_special} leaves no normal "
                              "exponent; allowed: exp_bits ≥ 2 when the top code is reserved")
        if self.emin < -1022:
            raise LabsimError(f"bias = {self.bias}: the smallest normal exponent {self.emin} is below float64's "
                              "-1022 (the kernel reads exponents from float64 bits); allowed: bias ≤ 1023")
        if self.emax > 960:
            raise LabsimError(f"bias = {self.bias} with exp_bits = {self.exp_bits}: the largest exponent "
                              f"{self.emax} exceeds 960; allowed: bias ≥ {self.emax - 960 + self.bias}")

    @property
    def bits(self) -> int:
        return 1 + self.exp_bits + self.man_bits

    @property
    def emin(self) -> int:
        """Exponent of the smallest normal number (subnormals are spaced 2^(emin − man_bits) below it)."""
        return 1 - self.bias

    @property
    def emax(self) -> int:
        top = (1 << self.exp_bits) - 1
        return (top - 1 if self.ieee_special else top) - self.bias

    @property
    def max_finite(self) -> float:
        frac = 2.0 - 2.0 ** -self.man_bits
        if self.e4m3_nan_only:               # S.1111.111 is NaN → largest mantissa at the top exponent is 1.110
            frac = 2.0 - 2.0 ** (1 - self.man_bits)
        return frac * 2.0 ** self.emax

    @property
    def min_subnormal(self) -> float:
        return 2.0 ** (self.emin - self.man_bits)

    @property
    def epsilon(self) -> float:
        """Unit roundoff: half the gap between 1 and the next number (2^−(man_bits+1))."""
        return 2.0 ** -(self.man_bits + 1)


def _cfp8(layout: str, bias: int) -> FloatFormat:
    e, m = (4, 3) if layout == "143" else (5, 2)
    return FloatFormat(f"cfp8_{layout}_b{bias}", e, m, bias, ieee_special=False,
                       source="[tesla-cfloat21] CFloat8_1_4_3 / CFloat8_1_5_2, configurable bias, no Inf/NaN; "
                              "subnormals spaced as IEEE 2^(1-bias-m) [A]")


#: the named formats (CFP8 with its default bias; any bias via :func:`fmt`)
FORMATS: dict[str, FloatFormat] = {
    "fp32": FloatFormat("fp32", 8, 23, 127, source="[ieee754] binary32"),
    "fp16": FloatFormat("fp16", 5, 10, 15, source="[ieee754] binary16"),
    "bf16": FloatFormat("bf16", 8, 7, 127, source="[kalamkar19] bfloat16"),
    "fp8_e4m3": FloatFormat("fp8_e4m3", 4, 3, 7, ieee_special=False, e4m3_nan_only=True,
                            source="[micikevicius22] E4M3: bias 7, max 448, NaN = S.1111.111, no Inf"),
    "fp8_e5m2": FloatFormat("fp8_e5m2", 5, 2, 15, source="[micikevicius22] E5M2: IEEE-like, max 57,344"),
    "cfp8_143": _cfp8("143", 7),
    "cfp8_152": _cfp8("152", 15),
}
#: accumulator choices for :func:`float_dot` / :func:`attention`
ACC_FORMATS = ("fp16", "bf16", "fp32", "exact")


def fmt(name, *, bias: int | None = None) -> FloatFormat:
    """A format by name (``FORMATS``), or a FloatFormat; ``bias=`` re-biases a CFP8 format (0 … 63)."""
    return _format("name", name, bias)


def _format(param: str, name, bias: int | None = None) -> FloatFormat:
    """:func:`fmt` with the caller's parameter name in the error."""
    if isinstance(name, FloatFormat):
        f = name
    else:
        f = FORMATS[check_choice(param, name, FORMATS, what="number format")]
    if bias is not None:
        if not f.name.startswith("cfp8"):
            raise LabsimError(f"bias = {bias} applies only to the configurable CFP8 formats, not {f.name!r}")
        b = check_int("bias", bias, lo=0, hi=63)
        f = _cfp8("143" if f.exp_bits == 4 else "152", b)
    return f


# ----------------------------------------------------------------------------------------------------------
# rounding kernel
# ----------------------------------------------------------------------------------------------------------

#: 2^k for k = −1100 … 1023 (clipped above: no format here needs more); a lookup is cheaper than ldexp
_POW2 = np.ldexp(1.0, np.arange(-1100, 1100).clip(max=1023))
_ROUND_C = 6755399441055744.0        # 1.5 · 2^52: (a + q·C) − q·C rounds a to a multiple of q, ties to even


@numba.njit(cache=True)
def _round1(x, man_bits, emin, max_finite, to_inf):  # pragma: no cover - compiled
    """Round one float64 to the format: nearest, ties to even; subnormals below 2^emin; overflow saturates.

    With q = the spacing of the format's numbers at |x|'s exponent (a power of two), (|x| + 1.5·2^52·q) − 1.5·2^52·q
    is |x| rounded to a multiple of q by the FPU's own round-to-nearest-even (|x| < 2^(man_bits+1)·q ≪ 2^51·q)."""
    a = abs(x)
    if a == 0.0 or x != x:
        return x
    m, e = math.frexp(a)                 # a = m · 2^e, m in [0.5, 1)  →  leading bit at 2^(e−1)
    exp = e - 1
    if exp < emin:
        exp = emin
    C = _POW2[exp - man_bits + 1100] * _ROUND_C
    r = (a + C) - C
    if r > max_finite:
        r = math.inf if to_inf else max_finite
    return -r if x < 0 else r


@numba.njit(cache=True)
def _round_bits(x, b, man_bits, emin, max_finite, to_inf):  # pragma: no cover - compiled
    """:func:`_round1` with the exponent read from the float64's raw bits ``b`` instead of frexp (no libm call)."""
    if x == 0.0 or x != x:
        return x
    exp = ((b >> 52) & 0x7FF) - 1023
    if exp < emin:
        exp = emin
    C = _POW2[exp - man_bits + 1100] * _ROUND_C
    a = abs(x)
    r = (a + C) - C
    if r > max_finite:
        r = math.inf if to_inf else max_finite
    return -r if x < 0 else r


@numba.njit(cache=True)
def _round_array(x, out, man_bits, emin, max_finite, to_inf):  # pragma: no cover - compiled
    xb = x.view(np.int64)
    for i in range(x.size):
        out[i] = _round_bits(x[i], xb[i], man_bits, emin, max_finite, to_inf)


def _finite_array(name, x) -> np.ndarray:
    """Finite real numbers (a scalar or an array of any shape) as float64; strings, None, bools are rejected."""
    return check_array(name, x)


def _round(arr: np.ndarray, f: FloatFormat, to_inf: bool) -> np.ndarray:
    """Round a float64 array to ``f`` (1-D result). Inputs beyond 4 × the largest finite value are clipped to it
    first: they round to the same saturated (or infinite) value, and the kernel's rounding constant stays finite."""
    x = np.ascontiguousarray(arr, dtype=np.float64).ravel()
    edge = 4.0 * f.max_finite
    if x.size and float(np.max(np.abs(x))) > edge:
        x = np.clip(x, -edge, edge)
    out = np.empty(x.size)
    _round_array(x, out, f.man_bits, f.emin, f.max_finite, to_inf)
    return out


def quantize(x, format="bf16", *, bias: int | None = None, overflow: str = "saturate") -> np.ndarray:
    """Round ``x`` (any shape, finite) to ``format``; returns float64 values exactly representable in it.

    Values beyond the format's range saturate at its largest finite value (``overflow="inf"``: become ±inf
    where the format has Infinity — the one documented way to get inf out of labsim; the default never does)."""
    f = _format("format", format, bias)
    overflow = check_choice("overflow", overflow, ("saturate", "inf"), what="overflow policy")
    if overflow == "inf" and not f.ieee_special:
        raise LabsimError(f"overflow='inf': {f.name} has no Infinity encoding; allowed here: 'saturate'")
    arr = _finite_array("x", x)
    out = _round(arr, f, overflow == "inf")
    return out.reshape(arr.shape) if arr.ndim else float(out[0])


def representable_values(format="fp8_e4m3", *, bias: int | None = None) -> np.ndarray:
    """Every finite non-negative value of an 8-bit format (or any format with ≤ 12 bits), ascending."""
    f = _format("format", format, bias)
    if f.bits > 12:
        raise LabsimError(f"format {f.name!r} has {f.bits} bits; representable_values lists formats of ≤ 12 bits")
    vals = [0.0]
    top = (1 << f.exp_bits) - 1
    for ec in range(0, top + 1):
        for mc in range(1 << f.man_bits):
            if ec == 0:
                if mc == 0:
                    continue
                v = mc * 2.0 ** (f.emin - f.man_bits)
            else:
                if f.ieee_special and ec == top:
                    continue
                if f.e4m3_nan_only and ec == top and mc == (1 << f.man_bits) - 1:
                    continue
                v = (1 + mc / 2 ** f.man_bits) * 2.0 ** (ec - f.bias)
            vals.append(v)
    return np.array(sorted(vals))


# ----------------------------------------------------------------------------------------------------------
# integer GEMV with a finite accumulator
# ----------------------------------------------------------------------------------------------------------

@numba.njit(cache=True)
def _int_gemv(W, x, bits, saturate, out, overflowed):  # pragma: no cover - compiled
    """Row-by-row sums in order. Wrap-around is modular, so wrapping every partial sum equals wrapping the exact
    sum once; the overflow flag still checks every partial sum. Saturation must clamp step by step."""
    lo = -(1 << (bits - 1)) if bits < 64 else 0
    hi = (1 << (bits - 1)) - 1 if bits < 64 else 0
    span = 1 << bits if bits < 63 else 0
    for r in range(W.shape[0]):
        acc = 0
        flag = False
        if bits >= 64:
            for k in range(W.shape[1]):
                acc += W[r, k] * x[k]
        elif saturate:
            for k in range(W.shape[1]):
                acc += W[r, k] * x[k]
                if acc > hi:
                    acc = hi
                    flag = True
                elif acc < lo:
                    acc = lo
                    flag = True
        else:
            for k in range(W.shape[1]):
                acc += W[r, k] * x[k]
                flag |= (acc > hi) | (acc < lo)
            acc = (acc - lo) % span + lo
        out[r] = acc
        overflowed[r] = flag


def _int8(name, x, ndim):
    arr = np.asarray(x)
    if arr.ndim != ndim or arr.size == 0 or not np.issubdtype(arr.dtype, np.integer):
        raise LabsimError(f"{name} must be a non-empty {ndim}-D integer array (int8 values), got shape {arr.shape} "
                          f"and dtype {arr.dtype}")
    lo, hi = int(arr.min()), int(arr.max())
    if lo < -128 or hi > 127:
        raise LabsimError(f"{name} holds {lo if lo < -128 else hi}, out of range; allowed: int8 values -128 … 127")
    return arr.astype(np.int64)


def int_gemv(W, x, accumulator_bits: int = 32, *, overflow: str = "wrap") -> dict:
    """``W @ x`` for INT8 ``W`` (M × K) and ``x`` (K), summing k = 0 … K−1 in a ``accumulator_bits`` register.

    ``overflow="wrap"``: two's-complement wrap-around (what an adder that is too narrow does);
    ``"saturate"``: clamp at the register's range. ``accumulator_bits ≥ 64`` is exact (equals NumPy's int64 for
    every K ≤ 2^40). Returns ``output`` (int64), ``overflowed`` (bool per row) and ``exact`` (NumPy int64).
    """
    bits = check_int("accumulator_bits", accumulator_bits, lo=8, hi=128)
    if 62 < bits < 64:
        raise LabsimError(f"accumulator_bits = {bits} is out of range; allowed: 8 … 62, or ≥ 64 (exact)")
    overflow = check_choice("overflow", overflow, ("wrap", "saturate"), what="overflow policy")
    Wi, xi = _int8("W", W, 2), _int8("x", x, 1)
    if Wi.shape[1] != xi.size:
        raise LabsimError(f"W has {Wi.shape[1]} columns but x has {xi.size} elements; they must match")
    if Wi.shape[1] > 2**40:  # pragma: no cover - memory would run out first
        raise LabsimError("K must be ≤ 2^40 for exact int64 accumulation")
    out = np.zeros(Wi.shape[0], np.int64)
    flags = np.zeros(Wi.shape[0], np.bool_)
    _int_gemv(Wi, xi, min(bits, 64), overflow == "saturate", out, flags)
    return {"output": out, "overflowed": flags, "exact": Wi @ xi, "accumulator_bits": bits}


def quantize_int8(W) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric per-row INT8 quantization: ``q = round(W / s)``, ``s = max|row| / 127``. Returns (q, s)."""
    A = check_array("W", W, lo=-1e300, hi=1e300)     # |W| / 127 and W / s stay finite
    if A.ndim != 2 or A.size == 0:
        raise LabsimError(f"W must be a non-empty 2-D array, got shape {A.shape}")
    s = np.max(np.abs(A), axis=1) / 127.0
    s = np.where(s == 0, 1.0, s)
    q = np.clip(np.rint(A / s[:, None]), -127, 127).astype(np.int8)
    return q, s


# ----------------------------------------------------------------------------------------------------------
# float accumulation
# ----------------------------------------------------------------------------------------------------------

@numba.njit(cache=True)
def _dot(a, b, man_bits, emin, max_finite, exact):  # pragma: no cover - compiled
    """Σ a[k]·b[k] in order; products exact in float64 (inputs ≤ 24-bit significands); the running sum is rounded
    to the accumulator format after every addition, or kept exact (Neumaier compensated sum) when ``exact``."""
    s = 0.0
    c = 0.0
    for k in range(a.size):
        p = a[k] * b[k]
        if exact:
            t = s + p
            if abs(s) >= abs(p):
                c += (s - t) + p
            else:
                c += (p - t) + s
            s = t
        else:
            s = _round1(s + p, man_bits, emin, max_finite, False)
    return s + c


def _acc(acc: str):
    acc = check_choice("accumulator", acc, ACC_FORMATS, what="accumulator")
    if acc == "exact":
        return acc, 52, -1022, 1.7976931348623157e308, True
    f = FORMATS[acc]
    return acc, f.man_bits, f.emin, f.max_finite, False


#: largest |element| of a dot product's inputs: products (≤ 10²⁰⁰) and their sums stay far inside float64
MAX_ABS = 1e100


def float_dot(a, b, accumulator: str = "fp32") -> float:
    """Dot product of two equal-length vectors with the running sum held in ``accumulator`` (or ``"exact"``)."""
    x = check_array("a", a, lo=-MAX_ABS, hi=MAX_ABS).ravel()
    y = check_array("b", b, lo=-MAX_ABS, hi=MAX_ABS).ravel()
    if x.size != y.size or x.size == 0:
        raise LabsimError(f"a and b must be non-empty and of equal length, got {x.size} and {y.size}")
    _, mb, emin, mx, exact = _acc(accumulator)
    return float(_dot(x, y, mb, emin, mx, exact))


#: most rows one float_gemv call takes (a kernel call per row)
MAX_GEMV_ROWS = 100_000


def _stored(param: str, value, arr: np.ndarray) -> np.ndarray:
    """``arr`` rounded to the storage format named by ``param`` (``"fp64"``: unchanged)."""
    f = _fmt_or_fp64(param, value)
    return arr if f is None else _round(arr, f, False).reshape(arr.shape)


def float_gemv(W, x, *, weights="bf16", activations="bf16", accumulator="fp32", output="fp32") -> np.ndarray:
    """``W @ x`` with W and x stored in the given formats, accumulated in ``accumulator``, output rounded."""
    Wa, xa = check_array("W", W, lo=-MAX_ABS, hi=MAX_ABS), check_array("x", x, lo=-MAX_ABS, hi=MAX_ABS)
    if Wa.ndim > 2 or Wa.size == 0 or xa.size == 0:
        raise LabsimError(f"W must be a non-empty 1-D or 2-D array and x non-empty, got shapes {Wa.shape} and "
                          f"{xa.shape}")
    Wq = np.atleast_2d(_stored("weights", weights, Wa))
    xq = np.ravel(_stored("activations", activations, xa))
    out_f = _fmt_or_fp64("output", output)
    _, mb, emin, mx, exact = _acc(accumulator)
    if Wq.shape[1] != xq.size:
        raise LabsimError(f"W has {Wq.shape[1]} columns but x has {xq.size} elements; they must match")
    if Wq.shape[0] > MAX_GEMV_ROWS:
        raise LabsimError(f"W has {Wq.shape[0]:,} rows; allowed: at most {MAX_GEMV_ROWS:,}")
    y = np.array([_dot(Wq[r], xq, mb, emin, mx, exact) for r in range(Wq.shape[0])])
    if out_f is None:
        return y
    return _round(y, out_f, False)


# ----------------------------------------------------------------------------------------------------------
# attention over a long context
# ----------------------------------------------------------------------------------------------------------

@numba.njit(cache=True)
def _acc_add(s, c, p, mb, emin, mx, exact):  # pragma: no cover - compiled
    """One accumulator step: returns (sum, compensation)."""
    if exact:
        t = s + p
        if abs(s) >= abs(p):
            c += (s - t) + p
        else:
            c += (p - t) + s
        return t, c
    return _round1(s + p, mb, emin, mx, False), c


@numba.njit(cache=True)
def _attention(q, Kt, V, scale, lg_mb, lg_emin, lg_max, lg_q, ac_mb, ac_emin, ac_max, ac_exact,
               out, probs):  # pragma: no cover - compiled
    """Kt (d × n) and V (n × d) already rounded to their storage format. Logits rounded to the logit format (if
    lg_q); the three sums (q·k, softmax denominator, Σ p·v) use the accumulator, each summed in index order; max
    and exp in float64. Loops are ordered so that independent sums sit in the inner loop."""
    d, n = Kt.shape
    s = np.zeros(n)
    c = np.zeros(n)
    sb = s.view(np.int64)
    for k in range(d):
        qk = q[k]
        if ac_exact:
            for i in range(n):
                s[i], c[i] = _acc_add(s[i], c[i], qk * Kt[k, i], ac_mb, ac_emin, ac_max, True)
        else:
            for i in range(n):
                s[i] = s[i] + qk * Kt[k, i]
                s[i] = _round_bits(s[i], sb[i], ac_mb, ac_emin, ac_max, False)
    logits = np.empty(n)
    for i in range(n):
        v = (s[i] + c[i]) * scale
        logits[i] = _round1(v, lg_mb, lg_emin, lg_max, False) if lg_q else v
    m = logits[0]
    for i in range(1, n):
        if logits[i] > m:
            m = logits[i]
    den = 0.0
    cd = 0.0
    for i in range(n):
        e = math.exp(logits[i] - m)
        probs[i] = e
        den, cd = _acc_add(den, cd, e, ac_mb, ac_emin, ac_max, ac_exact)
    den = den + cd
    for i in range(n):
        probs[i] = probs[i] / den
    acc = np.zeros(d)
    comp = np.zeros(d)
    ab = acc.view(np.int64)
    for i in range(n):
        p = probs[i]
        if ac_exact:
            for k in range(d):
                acc[k], comp[k] = _acc_add(acc[k], comp[k], p * V[i, k], ac_mb, ac_emin, ac_max, True)
        else:
            for k in range(d):
                acc[k] = acc[k] + p * V[i, k]
                acc[k] = _round_bits(acc[k], ab[k], ac_mb, ac_emin, ac_max, False)
    for k in range(d):
        out[k] = acc[k] + comp[k]


#: longest context :func:`attention` takes (memory: a few context × head_dim float64 copies)
MAX_CONTEXT = 131_072
#: widest head
MAX_HEAD_DIM = 1024
#: largest |value| in a user's q, K, V (logits stay far below float64's range)
MAX_DATA = 1e6
#: most context tokens × head_dim one attention call takes (≈ 130 MB per float64 copy, a few seconds; the
#: chapter's longest is 32,768 × 128 = 4.2 × 10⁶)
MAX_ATTENTION_CELLS = 2**24
#: most context tokens × head_dim × configs one attention_sweep computes (the chapter's sweep: 2.2 × 10⁷)
MAX_SWEEP_WORK = 40_000_000


def _attention_cells(n: int, d: int) -> None:
    if n * d > MAX_ATTENTION_CELLS:
        raise LabsimError(f"context_tokens × head_dim = {n:,} × {d:,} = {n * d:,}; allowed ≤ {MAX_ATTENTION_CELLS:,} "
                          "(memory and time) — a shorter context or a narrower head")


@dataclass(frozen=True)
class AttentionResult:
    """One query over ``context_tokens`` keys: output, softmax, and their distance from the FP64 reference."""
    context_tokens: int
    output: np.ndarray
    reference: np.ndarray
    probs: np.ndarray
    probs_reference: np.ndarray
    kv_format: str
    logits_format: str
    accumulator: str

    @property
    def output_rel_error(self) -> float:
        """‖out − ref‖₂ / ‖ref‖₂ (0 when both are zero; a zero reference with a non-zero output has no relative
        error and raises)."""
        diff, ref = float(np.linalg.norm(self.output - self.reference)), float(np.linalg.norm(self.reference))
        if ref == 0.0:
            if diff == 0.0:
                return 0.0
            raise LabsimError("output_rel_error: the FP64 reference output is zero (V averages to 0), so a relative "
                              "error is undefined; compare output with reference directly")
        return diff / ref

    @property
    def softmax_shift(self) -> float:
        """Total-variation distance ½ Σ |p − p_ref| between the two attention distributions (0 … 1)."""
        return float(0.5 * np.abs(self.probs - self.probs_reference).sum())

    @property
    def top_weight_rel_error(self) -> float:
        """Relative error of the largest attention weight."""
        i = int(np.argmax(self.probs_reference))
        return float(abs(self.probs[i] - self.probs_reference[i]) / self.probs_reference[i])


def _fmt_or_fp64(name, value):
    """A storage format by name (or a FloatFormat), ``None`` for ``"fp64"`` (not rounded)."""
    if isinstance(value, str) and value == "fp64":
        return None
    if not isinstance(value, FloatFormat):
        check_choice(name, value, (*FORMATS, "fp64"), what="number format")
    return _format(name, value)


def attention(context_tokens: int = 4096, *, head_dim: int = 128, kv_format: str = "bf16",
              logits_format: str = "fp32", accumulator: str = "fp32", logit_std: float = 3.0, seed: int = 0,
              data: tuple | None = None) -> AttentionResult:
    """Single-head attention of one query over ``context_tokens`` cached keys/values.

    Inputs [A]: q, K, V drawn N(0, 1) (seeded), q rescaled so the logits q·k/√d have standard deviation
    ``logit_std`` (peaked, LLM-like attention). Keys and values are stored in ``kv_format``; dot products and the
    softmax denominator and the weighted sum accumulate in ``accumulator``; logits are stored in ``logits_format``
    (``"fp64"`` = not rounded); exp and the max are computed in float64. Reference: everything in float64 on the
    unrounded inputs. ``data=(q, K, V)`` supplies your own arrays instead.
    """
    n = check_int("context_tokens", context_tokens, lo=1, hi=MAX_CONTEXT)   # memory: a few n × d float64 copies
    d = check_int("head_dim", head_dim, lo=1, hi=MAX_HEAD_DIM)
    logit_std = check_number("logit_std", logit_std, lo=0.0, hi=100.0)
    kvf, lgf = _fmt_or_fp64("kv_format", kv_format), _fmt_or_fp64("logits_format", logits_format)
    acc, ac_mb, ac_emin, ac_max, ac_exact = _acc(accumulator)
    seed = check_int("seed", seed, lo=0)
    if data is None:
        _attention_cells(n, d)
        rng = np.random.default_rng(seed)
        q = rng.standard_normal(d)
        K = rng.standard_normal((n, d))
        V = rng.standard_normal((n, d))
        q = q / np.linalg.norm(q) * logit_std * math.sqrt(d)   # q·k/√d ~ N(0, logit_std²) for unit-variance k
    else:
        if not isinstance(data, (tuple, list)) or len(data) != 3:
            raise LabsimError(f"data must be None or a tuple (q, K, V) of three arrays, got {type(data).__name__}")
        q, K, V = (check_array(f"data {nm}", a, lo=-MAX_DATA, hi=MAX_DATA) for nm, a in zip("qKV", data, strict=True))
        if q.ndim != 1 or K.ndim != 2 or V.shape != K.shape or K.shape[1] != q.size or K.size == 0:
            raise LabsimError(f"data must be (q (d,), K (n, d), V (n, d)); got {q.shape}, {K.shape}, {V.shape}")
        n, d = K.shape
        check_int("data: context tokens (rows of K)", n, lo=1, hi=MAX_CONTEXT)
        check_int("data: head_dim (columns of K)", d, lo=1, hi=MAX_HEAD_DIM)
        _attention_cells(n, d)
    scale = 1.0 / math.sqrt(d)
    out, probs = np.empty(d), np.empty(n)
    ref, pref = np.empty(d), np.empty(n)
    big = 1.7976931348623157e308
    lg = (lgf.man_bits, lgf.emin, lgf.max_finite, True) if lgf else (52, -1022, big, False)
    qc = np.ascontiguousarray(q, dtype=np.float64)
    Kc, Vc = np.ascontiguousarray(K, dtype=np.float64), np.ascontiguousarray(V, dtype=np.float64)
    Kq = quantize(Kc, kvf) if kvf else Kc
    Vq = quantize(Vc, kvf) if kvf else Vc
    _attention(qc, np.ascontiguousarray(Kq.T), Vq, scale, *lg, ac_mb, ac_emin, ac_max, ac_exact, out, probs)
    _attention(qc, np.ascontiguousarray(Kc.T), Vc, scale, 52, -1022, big, False, 52, -1022, big, True, ref, pref)
    return AttentionResult(context_tokens=n, output=out, reference=ref, probs=probs, probs_reference=pref,
                           kv_format=kv_format, logits_format=logits_format, accumulator=acc)


def attention_sweep(contexts, configs: dict, *, head_dim: int = 128, logit_std: float = 3.0, seed: int = 0) -> dict:
    """For each named config ``{label: dict(kv_format=…, logits_format=…, accumulator=…)}`` and each context
    length: ``{label: {"output_rel_error": array, "softmax_shift": array}}`` plus ``"contexts"``. Same seed and
    data for every config at a given length."""
    ctx = np.atleast_1d(check_array("contexts", contexts, lo=1, hi=MAX_CONTEXT))
    if ctx.ndim != 1 or ctx.size == 0 or not np.all(ctx == np.floor(ctx)):
        raise LabsimError(f"contexts must be a non-empty 1-D list of whole numbers of tokens in [1, {MAX_CONTEXT:,}]")
    if not isinstance(configs, dict) or not configs:
        raise LabsimError("configs must be a non-empty dict label -> dict(kv_format=…, logits_format=…, accumulator=…)")
    allowed = ("kv_format", "logits_format", "accumulator")
    for label, kw in configs.items():
        check_name("configs label", label)
        if not isinstance(kw, dict):
            raise LabsimError(f"configs[{label!r}] must be a dict of {', '.join(allowed)}, got {type(kw).__name__}")
        for key in kw:
            check_choice(f"configs[{label!r}] key", key, allowed, what="attention setting")
    d = check_int("head_dim", head_dim, lo=1, hi=MAX_HEAD_DIM)
    work = float(ctx.sum()) * d * len(configs)
    if work > MAX_SWEEP_WORK:
        raise LabsimError(f"contexts: Σ context × head_dim × configs = {work:,.0f}; allowed: at most "
                          f"{MAX_SWEEP_WORK:,} — sweep fewer or shorter contexts, or fewer configs")
    out = {"contexts": ctx.astype(np.int64)}
    for label, kw in configs.items():
        errs, shifts = np.empty(ctx.size), np.empty(ctx.size)
        for i, n in enumerate(ctx):
            r = attention(int(n), head_dim=head_dim, logit_std=logit_std, seed=seed, **kw)
            errs[i], shifts[i] = r.output_rel_error, r.softmax_shift
        out[label] = {"output_rel_error": errs, "softmax_shift": shifts}
    return out


# ----------------------------------------------------------------------------------------------------------
# what the choices cost in bytes moved
# ----------------------------------------------------------------------------------------------------------

def bytes_moved_per_token(model, context_tokens: int, *, weight_precision: str = "int8", kv_precision: str = "fp16",
                          logits_precision: str = "fp32", accumulator_bits: int = 32) -> dict:
    """Bytes one decode step moves between memory and the compute units, by kind (batch 1, dense layers).

    ``weights`` = every matmul weight once; ``kv_cache`` = K and V of the whole context; ``logits`` = the attention
    scores of every head over the context written and read once (2 ×); ``accumulators`` = every matmul output
    element leaving the array at ``accumulator_bits`` before it is rounded. MoE is counted as active weights.
    """
    m = model if isinstance(model, catalog.Model) else catalog.model(model)
    ctx = check_int("context_tokens", context_tokens, lo=0, hi=100_000_000)
    bits = check_int("accumulator_bits", accumulator_bits, lo=8, hi=128)
    for param, value in (("weight_precision", weight_precision), ("kv_precision", kv_precision),
                         ("logits_precision", logits_precision)):
        check_choice(param, value, PRECISIONS, what="precision")
    w = m.weight_bytes(weight_precision) * m.params_active() / m.params_total()
    kv = float(m.kv_cache_bytes(ctx, precision=kv_precision))
    attended = m.num_full_attention_layers * ctx + m.num_local_attention_layers * min(ctx, m.local_window_tokens)
    logits = 2.0 * m.num_heads * attended * bytes_per_element(logits_precision)
    ffn = m.intermediate_size if not m.is_moe else m.experts_per_token * m.moe_intermediate_size
    outs_per_layer = (m.num_heads * m.head_dim + 2 * m.num_kv_heads * m.head_dim + m.hidden_size + 2 * ffn
                      + m.hidden_size)
    acc = m.num_layers * outs_per_layer * bits / 8 + m.vocab_size * bits / 8
    total = w + kv + logits + acc
    return {"weights": float(w), "kv_cache": kv, "logits": float(logits), "accumulators": float(acc),
            "total": float(total)}


def _warmup() -> None:
    """Compile (or load from the cache) every kernel on tiny inputs."""
    quantize(np.array([1.0, -3.5]), "fp8_e4m3")
    int_gemv(np.ones((2, 3), np.int8), np.ones(3, np.int8), 16)
    float_dot(np.ones(3), np.ones(3), "bf16")
    float_dot(np.ones(3), np.ones(3), "exact")
    attention(8, head_dim=4, kv_format="fp8_e4m3", logits_format="bf16", accumulator="bf16")
