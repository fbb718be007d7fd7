"""The numba kernels of :mod:`labsim.latency` (private): an exact ziggurat normal, a gamma sampler that agrees with
``NUMBA_DISABLE_JIT=1``, the task sampler, the planner's split sampler, the Lindley queue and the batching server.
Every kernel seeds numba's generator from ``seed`` before its first draw. Distribution kind codes (``_KINDS``) are
what ``_draw`` switches on."""
from __future__ import annotations

import math

import numba
import numpy as np

_KINDS = {"const": 0, "lognormal": 1, "exponential": 2, "uniform": 3, "gamma": 4, "two_point": 5, "stall": 6,
          "empirical": 7}


def _ziggurat_tables(layers: int = 256, r: float = 3.6541528853610088, v: float = 0.00492867323399,
                     bits: int = 44):
    """Tables of the ziggurat method for N(0, 1) (Marsaglia & Tsang, J. Stat. Softw. 5(8), 2000), 256 layers of
    equal area ``v``, base strip + exact tail beyond ``r``. ``k[i]``: accept threshold on the ``bits``-bit integer;
    ``w[i]``: integer → x scale; ``f[i]``: density e^{−x²/2} at layer edge i."""
    m = 2.0 ** bits

    def dens(x: float) -> float:
        return math.exp(-0.5 * x * x)

    k, w, f = np.zeros(layers), np.zeros(layers), np.zeros(layers)
    dn = tn = r
    q = v / dens(r)
    k[0] = math.floor(r / q * m)
    w[0], w[-1] = q / m, r / m
    f[0], f[-1] = 1.0, dens(r)
    for i in range(layers - 2, 0, -1):
        dn = math.sqrt(-2.0 * math.log(v / dn + dens(dn)))
        k[i + 1] = math.floor(dn / tn * m)
        tn = dn
        f[i] = dens(dn)
        w[i] = dn / m
    return k, w, f


_ZIG_K, _ZIG_W, _ZIG_F = _ziggurat_tables()
_ZIG_R = 3.6541528853610088


@numba.njit(cache=True)
def _std_normal():
    """One N(0, 1) draw by the ziggurat method: one 53-bit uniform gives the layer (8 bits), the sign (1 bit) and
    the abscissa (44 bits), independent bits as in Doornik (2005); ≈ 99 % of draws take that one uniform, the rest
    take the exact wedge test or the exact tail (Marsaglia 1964). Exact — no clipping — and ≈ 2× faster than
    numba's polar-method ``np.random.standard_normal`` (one log and one sqrt per pair)."""
    while True:
        j = np.int64(np.random.random() * 9007199254740992.0)   # random() = k / 2^53, so j = k exactly
        i = j & 255
        neg = (j >> 8) & 1
        rabs = j >> 9
        x = rabs * _ZIG_W[i]
        if rabs < _ZIG_K[i]:
            return -x if neg else x
        if i == 0:  # the tail beyond r
            while True:
                xx = -math.log1p(-np.random.random()) / _ZIG_R
                yy = -math.log1p(-np.random.random())
                if yy + yy > xx * xx:
                    return -(_ZIG_R + xx) if neg else _ZIG_R + xx
        if _ZIG_F[i] + np.random.random() * (_ZIG_F[i - 1] - _ZIG_F[i]) < math.exp(-0.5 * x * x):
            return -x if neg else x


@numba.njit(cache=True)
def _normals(n, seed):
    np.random.seed(seed)
    out = np.empty(n)
    for i in range(n):
        out[i] = _std_normal()
    return out


_SG_MAGICCONST = 1.0 + math.log(4.5)


@numba.njit(cache=True)
def _gamma_draw(alpha, beta):
    """One Gamma(shape ``alpha``, scale ``beta``) draw from ``np.random.random()`` only — CPython's
    ``random.gammavariate`` (Cheng 1977 for alpha > 1, the exponential for alpha = 1, Kennedy & Gentle's GS
    algorithm below 1), which is also what numba compiles ``np.random.gamma(shape, scale)`` into. Written out
    here so that NumPy under ``NUMBA_DISABLE_JIT=1`` draws exactly the same numbers as the compiled kernel (NumPy's
    own ``np.random.gamma`` uses another algorithm)."""
    if alpha > 1.0:
        ainv = math.sqrt(2.0 * alpha - 1.0)
        bbb = alpha - math.log(4.0)
        ccc = alpha + ainv
        while True:
            u1 = np.random.random()
            if not 1e-7 < u1 < 0.9999999:
                continue
            u2 = 1.0 - np.random.random()
            v = math.log(u1 / (1.0 - u1)) / ainv
            x = alpha * math.exp(v)
            z = u1 * u1 * u2
            r = bbb + ccc * v - x
            if r + _SG_MAGICCONST - 4.5 * z >= 0.0 or r >= math.log(z):
                return x * beta
    elif alpha == 1.0:
        return -math.log(1.0 - np.random.random()) * beta
    while True:
        u = np.random.random()
        b = (math.e + alpha) / math.e
        p = b * u
        if p <= 1.0:
            x = p ** (1.0 / alpha)
        else:
            x = -math.log((b - p) / alpha)
        u1 = np.random.random()
        if p > 1.0:
            if u1 <= x ** (alpha - 1.0):
                break
        elif u1 <= math.exp(-x):
            break
    return x * beta


@numba.njit(cache=True, inline="always")
def _draw(kind, a, b, c, emp):
    if kind == 0:
        return a
    elif kind == 1:
        if b == 0.0:
            return a
        return a * math.exp(b * _std_normal())
    elif kind == 2:
        if a == 0.0:
            return 0.0
        return np.random.exponential(a)
    elif kind == 3:
        return a + (b - a) * np.random.random()
    elif kind == 4:
        if b == 0.0 or a == 0.0:
            return a
        shape = 1.0 / (b * b)
        return _gamma_draw(shape, a / shape)
    elif kind == 5:
        if np.random.random() < c:
            return b
        return a
    elif kind == 6:
        if np.random.random() < a:
            return b + (c - b) * np.random.random()
        return 0.0
    else:
        return emp[int(a) + np.random.randint(0, int(b))]


@numba.njit(cache=True)
def _sample_tasks(kind, pa, pb, pc, scale, comp_start, fan_out, emp, n_tasks, seed, corr, session, base_plain,
                  base_corr):
    """Task latency = Σ_stages max_{fan_out copies} (base + Σ_components scale·draw); components with ``corr`` set
    are also multiplied by one per-task draw of ``session`` = (kind, a, b, c), kind < 0 meaning none. The fixed
    components of stage s are folded into ``base_plain[s] + m·base_corr[s]`` (they draw nothing)."""
    np.random.seed(seed)
    out = np.empty(n_tasks)
    n_stages = fan_out.shape[0]
    s_kind = int(session[0])
    for i in range(n_tasks):
        m = 1.0
        if s_kind >= 0:
            m = _draw(s_kind, session[1], session[2], session[3], emp)
        total = 0.0
        for s in range(n_stages):
            base = base_plain[s] + m * base_corr[s]
            c0, c1 = comp_start[s], comp_start[s + 1]
            if c0 == c1:            # nothing random in this stage: every copy takes ``base``
                total += base
                continue
            slowest = 0.0
            for _ in range(fan_out[s]):
                t = base
                for c in range(c0, c1):
                    d = scale[c] * _draw(kind[c], pa[c], pb[c], pc[c], emp)
                    if corr[c]:
                        d *= m
                    t += d
                if t > slowest:
                    slowest = t
            total += slowest
        out[i] = total
    return out


def _sample_folded(kinds, pa, pb, pc, scale, start, fan, emp, n, seed, corr, session) -> np.ndarray:
    """``n`` task latencies from per-component arrays (stage s holds components ``start[s]:start[s + 1]``).

    Fixed components (const, lognormal with σ = 0) draw no random number: they are folded into one constant per
    stage so the kernel loops only over the random ones. The draws, and so the samples, are unchanged."""
    fixed = (kinds == _KINDS["const"]) | ((kinds == _KINDS["lognormal"]) & (pb == 0.0))
    stage_of = np.repeat(np.arange(fan.size), np.diff(start))
    value = scale * pa * fixed
    base_plain = np.bincount(stage_of, weights=value * ~corr, minlength=fan.size)
    base_corr = np.bincount(stage_of, weights=value * corr, minlength=fan.size)
    keep = ~fixed
    kept_per_stage = np.bincount(stage_of[keep], minlength=fan.size)
    start_kept = np.concatenate(([0], np.cumsum(kept_per_stage))).astype(np.int64)
    return _sample_tasks(kinds[keep], pa[keep], pb[keep], pc[keep], scale[keep], start_kept, fan, emp, n, seed,
                         corr[keep], session, base_plain, base_corr)


@numba.njit(cache=True)
def _sample_ab(kind, pa, pb, pc, scale, reasoning, comp_start, fan_out, emp, n_tasks, seed):
    """Per task and per branch: A = Σ non-reasoning components, B = seconds per reasoning token."""
    np.random.seed(seed)
    n_branches = 0
    for s in range(fan_out.shape[0]):
        n_branches += fan_out[s]
    a_s = np.empty((n_tasks, n_branches))
    b_s = np.empty((n_tasks, n_branches))
    for i in range(n_tasks):
        j = 0
        for s in range(fan_out.shape[0]):
            for _ in range(fan_out[s]):
                a = 0.0
                b = 0.0
                for c in range(comp_start[s], comp_start[s + 1]):
                    d = _draw(kind[c], pa[c], pb[c], pc[c], emp)
                    if reasoning[c]:
                        b += d
                    else:
                        a += scale[c] * d
                a_s[i, j] = a
                b_s[i, j] = b
                j += 1
    return a_s, b_s


@numba.njit(cache=True)
def _totals_at(a_s, b_s, fan_out, tokens):
    n = a_s.shape[0]
    out = np.empty(n)
    for i in range(n):
        total = 0.0
        j = 0
        for s in range(fan_out.shape[0]):
            slowest = 0.0
            for _ in range(fan_out[s]):
                t = a_s[i, j] + tokens * b_s[i, j]
                if t > slowest:
                    slowest = t
                j += 1
            total += slowest
        out[i] = total
    return out


@numba.njit(cache=True)
def _lindley(lam_mean_gap, arrival_cv, s_kind, sa, sb, sc, emp, n, warmup, seed):
    """FIFO single server: W_{n+1} = max(0, W_n + S_n − A_{n+1}); returns waits and service times."""
    np.random.seed(seed)
    waits = np.empty(n)
    services = np.empty(n)
    w = 0.0
    for i in range(warmup + n):
        s = _draw(s_kind, sa, sb, sc, emp)
        if arrival_cv == 1.0:
            gap = np.random.exponential(lam_mean_gap)
        elif arrival_cv == 0.0:
            gap = lam_mean_gap
        else:
            shape = 1.0 / (arrival_cv * arrival_cv)
            gap = _gamma_draw(shape, lam_mean_gap / shape)
        if i >= warmup:
            waits[i - warmup] = w
            services[i - warmup] = s
        w = w + s - gap
        if w < 0.0:
            w = 0.0
    return waits, services


@numba.njit(cache=True)
def _batch_server(mean_gap, batch, service_by_size, max_wait, n, warmup, seed):
    """Poisson arrivals; one server starts a batch when it is free and either ``batch`` requests wait or the
    oldest has waited ``max_wait``; it takes every waiting request up to ``batch``; a batch of m lasts
    service_by_size[m-1]. Returns per-request latency (arrival -> batch done), batch sizes and busy time."""
    np.random.seed(seed)
    total = n + warmup
    arr = np.empty(total)
    t = 0.0
    for i in range(total):
        t += np.random.exponential(mean_gap)
        arr[i] = t
    lat = np.empty(total)
    sizes = np.zeros(batch + 1, dtype=np.int64)
    free = 0.0
    busy = 0.0
    i = 0
    while i < total:
        j_full = i + batch - 1
        t_full = arr[j_full] if j_full < total else arr[total - 1]
        t_ready = min(t_full, arr[i] + max_wait)
        start = max(free, t_ready)
        m = 1
        while m < batch and i + m < total and arr[i + m] <= start:
            m += 1
        done = start + service_by_size[m - 1]
        for r in range(i, i + m):
            lat[r] = done - arr[r]
        if i >= warmup:
            sizes[m] += 1
            busy += service_by_size[m - 1]
        free = done
        i += m
    return lat[warmup:], sizes, busy, arr[total - 1] - arr[warmup] if warmup < total else arr[total - 1]

