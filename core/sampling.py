"""Noise distribution for negative sampling / NCE, and subsampling of frequent words.

Does: Pn(w) = U(w)^p / Z (paper section 2.2, p = 3/4), an alias table (Walker 1977, Vose 1991)
so the kernels draw a noise word in O(1) with one random number and one memory read (the table
packed into one 64-bit word per entry, `packed_alias`), and the per-word keep probabilities of
subsampling (paper section 2.3 and word2vec.c).
Does not: draw anything itself (kernels do, with their own seeded generators).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from . import _numba_setup  # noqa: F401
from .config import SubsampleFormula


def noise_distribution(counts: np.ndarray, exponent: float = 0.75) -> np.ndarray:
    """Pn(w) = count(w)^p / sum_v count(v)^p, (V,) float64. p=0 is uniform, p=1 the unigram."""
    c = np.asarray(counts, dtype=np.float64)
    w = np.power(c, exponent)
    return w / w.sum()


@dataclass(frozen=True)
class AliasTable:
    """prob (V,) float32 acceptance thresholds and alias (V,) int32 fallbacks.

    Draw: i uniform in [0, V); return i if u < prob[i] else alias[i]. Exact for float64 `prob`;
    float32 thresholds bias each word by at most ~1e-7 relative (far below sampling noise).
    """

    prob: np.ndarray
    alias: np.ndarray


@njit(cache=True, nogil=True)
def _vose(p: np.ndarray):
    n = p.shape[0]
    scaled = p * n
    prob = np.ones(n, dtype=np.float64)
    alias = np.arange(n).astype(np.int32)
    small = np.empty(n, dtype=np.int64)
    large = np.empty(n, dtype=np.int64)
    ns = 0
    nl = 0
    for i in range(n):
        if scaled[i] < 1.0:
            small[ns] = i
            ns += 1
        else:
            large[nl] = i
            nl += 1
    while ns > 0 and nl > 0:
        ns -= 1
        s = small[ns]
        nl -= 1
        g = large[nl]
        prob[s] = scaled[s]
        alias[s] = g
        scaled[g] = (scaled[g] + scaled[s]) - 1.0
        if scaled[g] < 1.0:
            small[ns] = g
            ns += 1
        else:
            large[nl] = g
            nl += 1
    # leftovers are 1 up to rounding
    return prob, alias


def alias_table(p: np.ndarray) -> AliasTable:
    """Build the alias table of a probability vector in O(V)."""
    p = np.ascontiguousarray(p, dtype=np.float64)
    prob, alias = _vose(p)
    return AliasTable(prob.astype(np.float32), alias)


TWO32 = float(1 << 32)


def packed_alias(table: AliasTable) -> np.ndarray:
    """The alias table as the kernels read it, (V,) uint64: the low 32 bits of entry i an integer
    threshold t_i, the high 32 bits alias[i]. A draw takes 64 random bits r, i from the top 32
    and x = r mod 2^32, and returns i if x < t_i else alias[i] (losses.alias_pick).

    t_i is the number of 32-bit x with float32(x) 2^-32 < prob[i], so the integer comparison makes
    exactly the decisions the float32 one made before (tests/test_tables.py checks the
    boundaries). Why: one load of one 8-byte entry instead of two arrays' entries, and no
    conversion to float; the kernel picks i or alias[i] without a branch (measured in
    bench/README.md, "The noise draw").
    """
    prob = np.asarray(table.prob, dtype=np.float32).astype(np.float64) * TWO32  # exact: a power of 2
    # the smallest x in [0, 2^32] with float32(x) >= prob * 2^32 (float32 rounding is monotone);
    # float32 spacing below 2^32 is at most 256, so it lies within 256 of prob * 2^32
    lo = np.clip(np.floor(prob) - 257, 0, TWO32).astype(np.int64)
    hi = np.clip(np.ceil(prob) + 1, 0, TWO32).astype(np.int64)
    while np.any(lo < hi):  # invariant: the answer lies in [lo, hi]
        mid = (lo + hi) // 2
        up = mid.astype(np.float32).astype(np.float64) >= prob
        hi = np.where(up, mid, hi)
        lo = np.where(up, lo, mid + 1)
    if np.any(lo >= 1 << 32):
        raise ValueError("an alias threshold does not fit in 32 bits")
    return lo.astype(np.uint64) | (np.asarray(table.alias, dtype=np.uint64) << np.uint64(32))


def unpack_alias(packed: np.ndarray) -> AliasTable:
    """The AliasTable a packed one samples: prob the exact acceptance t_i / 2^32 (float64)."""
    packed = np.asarray(packed, dtype=np.uint64)
    return AliasTable((packed & np.uint64(0xFFFFFFFF)).astype(np.float64) / TWO32,
                      (packed >> np.uint64(32)).astype(np.int32))


def alias_probabilities(table: AliasTable) -> np.ndarray:
    """The distribution an alias table actually samples (V,) float64: for tests and the app."""
    v = table.prob.shape[0]
    p = table.prob.astype(np.float64) / v
    np.add.at(p, table.alias, (1.0 - table.prob.astype(np.float64)) / v)
    return p


def keep_probabilities(counts: np.ndarray, sample: float,
                       formula: SubsampleFormula = SubsampleFormula.C) -> np.ndarray:
    """Probability of keeping each occurrence of word w, (V,) float64, clipped to [0, 1]:
    keep_at_frequency(count(w) / total, sample, formula). sample = 0 keeps everything."""
    c = np.asarray(counts, dtype=np.float64)
    if sample <= 0 or c.size == 0:
        return np.ones(c.shape[0], dtype=np.float64)
    return keep_at_frequency(c / c.sum(), sample, formula)


def keep_at_frequency(f: np.ndarray, sample: float, formula: SubsampleFormula = SubsampleFormula.C) -> np.ndarray:
    """The subsampling formula: P_keep for a word of frequency f (any shape), clipped to [0, 1].

    With t = `sample`:
      PAPER: P_keep = sqrt(t / f)          (paper eq. 5 writes P_drop = 1 - sqrt(t / f))
      C:     P_keep = sqrt(t / f) + t / f  (word2vec.c: (sqrt(cn / (t N)) + 1) (t N) / cn; gensim too)
    sample = 0 keeps everything. The one copy of the formula: the trainer's tables (tables.py) and
    the subsampling figure (plots.py) both come through here.
    """
    f = np.asarray(f, dtype=np.float64)
    if sample <= 0:
        return np.ones_like(f)
    ratio = sample / f
    keep = np.sqrt(ratio) if SubsampleFormula(formula) == SubsampleFormula.PAPER else np.sqrt(ratio) + ratio
    return np.minimum(keep, 1.0)
