"""How a task's row changes travel back to the driver: float32, or float16 / int8 scaled per row.

Does: `encode` a partition's changed rows (ids (k,) and deltas (k, D) float32) into a compact,
picklable `Packed` (ids as int32; deltas as float32, or divided by each row's largest |value|
and stored as float16 or int8 beside that float32 scale), and `decode` it back to (ids int64,
deltas float32) for merge.py. NumPy and Numba only: tested without Spark.
Does not: choose rows (executor.py) or merge (merge.py); add error feedback (a task keeps no
state between rounds, so each round's rounding error is simply dropped).

Why scaled per row: shipping the deltas back (Python worker -> JVM -> driver) runs at about
100 MB/s on one machine and was a third of a round (README). Plain float16 would flush a late
round's small changes to zero (its smallest normal is 6e-5; alpha falls to 1e-4 of its start, so
late deltas reach 1e-8), while scaled to [-1, 1] every component keeps float16's relative error
(2^-11) against its row's largest component, at 4 extra bytes a row. int8 keeps 1/254 of the
row's largest component (round to nearest), a quarter of float32's bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .. import _numba_setup  # noqa: F401  (the cache folder, before anything compiles)

DELTA_FORMATS = ("float32", "float16", "int8")
DELTA_DEFAULT = "float16"


@dataclass
class Packed:
    """One matrix's changed rows as shipped: ids, the encoded deltas, and per-row scales (or None)."""

    ids: np.ndarray  # (k,) int32
    values: np.ndarray  # (k, D) float32 | float16 | int8
    scale: np.ndarray | None  # (k,) float32 for the scaled formats, None for float32

    @property
    def nbytes(self) -> int:
        return self.ids.nbytes + self.values.nbytes + (0 if self.scale is None else self.scale.nbytes)

    def __len__(self) -> int:
        return int(self.ids.shape[0])


@njit(cache=True, nogil=True)
def _half_bits(b):
    """The bits b (uint32) of a float32 in [-1, 1] (or not finite) -> float16 bits, rounding to
    nearest even; values under 2^-14 (float16's smallest normal) become zero: an error under
    2^-14 < 2^-11 of the row's largest component, within the format's bound (NumPy's cast keeps
    them as subnormals)."""
    sign = np.uint16((b >> np.uint32(16)) & np.uint32(0x8000))
    exp = b & np.uint32(0x7F800000)
    if exp == np.uint32(0x7F800000):  # inf or nan stays not finite
        return np.uint16(sign | np.uint16(0x7E00))
    if exp < np.uint32(0x38800000):  # below 2^-14
        return sign
    sig = b & np.uint32(0x007FFFFF)
    if (sig & np.uint32(0x3FFF)) != np.uint32(0x1000):  # not exactly half way with an even last bit
        sig += np.uint32(0x1000)
    h = ((exp - np.uint32(0x38000000)) >> np.uint32(13)) + (sig >> np.uint32(13))  # a carry bumps the exponent
    return np.uint16(sign | np.uint16(h))


@njit(cache=True, nogil=True)
def _pack_half(before, after, ids, bits, scale):
    """The rows where after != before: their ids, their change scaled by its largest |component|
    as float16 bits, and that scale; one pass, no (V, D) temporaries. Returns how many rows."""
    k = 0
    row = np.empty(before.shape[1], np.float32)
    row_bits = row.view(np.uint32)
    for i in range(before.shape[0]):
        changed = False
        for j in range(before.shape[1]):
            if after[i, j] != before[i, j]:  # a changed row usually differs at once
                changed = True
                break
        if not changed:
            continue
        m = np.float32(0.0)
        nan = False
        for j in range(before.shape[1]):
            d = after[i, j] - before[i, j]
            row[j] = d
            a = abs(d)
            m = max(m, a)
            nan |= a != a
        if nan:  # a nan stays (as in NumPy's max): a non-finite change stays non-finite
            m = np.float32(np.nan)
        div = m if m > 0 else np.float32(1.0)  # subtle: a division, as encode's, for the same bits
        for j in range(before.shape[1]):
            row[j] = row[j] / div
        for j in range(before.shape[1]):
            bits[k, j] = _half_bits(row_bits[j])
        ids[k] = i
        scale[k] = m
        k += 1
    return k


def pack_changes(before: np.ndarray, after: np.ndarray, fmt: str = DELTA_DEFAULT) -> Packed:
    """The rows of `after` that differ from `before` (both (R, D) float32), packed in `fmt`: what
    merge.changed_rows followed by encode give, with float16 in one compiled pass (measured: the
    two NumPy steps took 50-60 ms a matrix of 26k x 100 rows on the executors, every round)."""
    if fmt != "float16":
        from .merge import changed_rows

        return encode(*changed_rows(before, after), fmt)
    r, d = before.shape
    ids = np.empty(r, np.int32)
    bits = np.empty((r, d), np.uint16)
    scale = np.empty(r, np.float32)
    k = _pack_half(before, after, ids, bits, scale)
    return Packed(ids[:k].copy(), bits[:k].view(np.float16).copy(), scale[:k].copy())


def encode(ids: np.ndarray, deltas: np.ndarray, fmt: str = DELTA_DEFAULT) -> Packed:
    """Pack (ids, deltas (k, D) float32) in format `fmt` (one of DELTA_FORMATS)."""
    if fmt not in DELTA_FORMATS:
        raise ValueError(f"unknown delta format {fmt!r}; one of {', '.join(DELTA_FORMATS)}")
    ids32 = ids.astype(np.int32)
    if fmt == "float32":
        return Packed(ids32, np.ascontiguousarray(deltas, np.float32), None)
    scale = np.abs(deltas).max(axis=1, initial=0.0).astype(np.float32)
    # subtle: a row whose change is all zeros (or not finite) keeps scale as is; dividing by 1
    # leaves zeros zero, and a non-finite scale turns the row non-finite, which the driver's
    # divergence check sees as it would the float32 row
    safe = np.where(scale > 0, scale, np.float32(1.0))
    unit = deltas / safe[:, None]
    if fmt == "float16":
        values = unit.astype(np.float16)
    else:
        with np.errstate(invalid="ignore"):  # a non-finite row's values are moot: its scale is NaN
            values = np.rint(unit * 127.0).astype(np.int8)
        scale = scale / np.float32(127.0)
    return Packed(ids32, values, scale)


# every float16 bit pattern's float32 value: a table lookup decodes ~5x faster than NumPy's
# float16 -> float32 cast (measured: 3 ms against 14 ms for 53k rows of 100; the driver decodes
# every partition's rows every round)
_HALF = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.float16).astype(np.float32)


@njit(cache=True, nogil=True)
def _unscale_half(bits, scale, table, out):
    for i in range(bits.shape[0]):
        s = scale[i]
        for j in range(bits.shape[1]):
            out[i, j] = table[bits[i, j]] * s


@njit(cache=True, nogil=True)
def _unscale_int8(values, scale, out):
    for i in range(values.shape[0]):
        s = scale[i]
        for j in range(values.shape[1]):
            out[i, j] = np.float32(values[i, j]) * s


def decode(p: Packed) -> tuple[np.ndarray, np.ndarray]:
    """(ids int64, deltas float32) of a Packed."""
    ids = p.ids.astype(np.int64)
    if p.scale is None:
        return ids, p.values
    out = np.empty(p.values.shape, np.float32)
    if p.values.dtype == np.float16:
        _unscale_half(np.ascontiguousarray(p.values).view(np.uint16), p.scale, _HALF, out)
    else:
        _unscale_int8(p.values, p.scale, out)
    return ids, out


@njit(cache=True, nogil=True)
def _add_half(W, ids, bits, scale, table, mirror):
    for i in range(ids.shape[0]):
        r = ids[i]
        s = scale[i]
        for j in range(bits.shape[1]):
            x = W[r, j] + table[bits[i, j]] * s
            W[r, j] = x
            mirror[r, j] = x


@njit(cache=True, nogil=True)
def _add_int8(W, ids, values, scale, mirror):
    for i in range(ids.shape[0]):
        r = ids[i]
        s = scale[i]
        for j in range(values.shape[1]):
            x = W[r, j] + np.float32(values[i, j]) * s
            W[r, j] = x
            mirror[r, j] = x


@njit(cache=True, nogil=True)
def _add_plain(W, ids, values, mirror):
    for i in range(ids.shape[0]):
        r = ids[i]
        for j in range(values.shape[1]):
            x = W[r, j] + values[i, j]
            W[r, j] = x
            mirror[r, j] = x


def add_packed(W: np.ndarray, p: Packed, mirror: np.ndarray | None = None) -> None:
    """W[ids] += the decoded deltas, in one pass without decoding into a temporary: the same
    float32 operations as `W[ids] += decode(p)[1]` (so bit for bit the same; ids unique).
    With `mirror` (the same shape as W), mirror[ids] = the new W[ids] in the same pass."""
    ids = np.ascontiguousarray(p.ids)
    mirror = W if mirror is None else mirror
    if p.scale is None:
        _add_plain(W, ids, np.ascontiguousarray(p.values), mirror)
    elif p.values.dtype == np.float16:
        _add_half(W, ids, np.ascontiguousarray(p.values).view(np.uint16), np.ascontiguousarray(p.scale), _HALF,
                  mirror)
    else:
        _add_int8(W, ids, np.ascontiguousarray(p.values), np.ascontiguousarray(p.scale), mirror)


@njit(cache=True, nogil=True, inline="always")
def _add_half_row(W, r, bits, s, table, mirror):
    """W[r] += the float16 row `bits` times s; mirror[r] = the new W[r]."""
    for j in range(W.shape[1]):
        x = W[r, j] + table[bits[j]] * s
        W[r, j] = x
        mirror[r, j] = x


@njit(cache=True, nogil=True)
def _add_half_two(W, ids0, bits0, scale0, ids1, bits1, scale1, table, mirror):
    """_add_half of change 0 then change 1 in one pass over the rows (ids ascending in both): a
    row in both is read once, gets both changes in that order and is written once."""
    n0, n1 = ids0.shape[0], ids1.shape[0]
    i0 = i1 = 0
    d = W.shape[1]
    while i0 < n0 or i1 < n1:
        if i1 >= n1 or (i0 < n0 and ids0[i0] < ids1[i1]):
            _add_half_row(W, ids0[i0], bits0[i0], scale0[i0], table, mirror)
            i0 += 1
        elif i0 >= n0 or ids1[i1] < ids0[i0]:
            _add_half_row(W, ids1[i1], bits1[i1], scale1[i1], table, mirror)
            i1 += 1
        else:
            r, s0, s1 = ids0[i0], scale0[i0], scale1[i1]
            for j in range(d):
                x = (W[r, j] + table[bits0[i0, j]] * s0) + table[bits1[i1, j]] * s1
                W[r, j] = x
                mirror[r, j] = x
            i0 += 1
            i1 += 1


def add_packed_all(W: np.ndarray, changes: list[Packed], mirror: np.ndarray | None = None) -> None:
    """add_packed of every change in turn (bit for bit the same), two at a time in one pass over
    W's rows when they are float16 with ids ascending (as pack_changes and changed_rows give)."""
    mirror = W if mirror is None else mirror
    half = [p.scale is not None and p.values.dtype == np.float16 for p in changes]
    i = 0
    while i < len(changes):
        if i + 1 < len(changes) and half[i] and half[i + 1]:
            a, b = changes[i], changes[i + 1]
            _add_half_two(W, np.ascontiguousarray(a.ids), np.ascontiguousarray(a.values).view(np.uint16),
                          np.ascontiguousarray(a.scale), np.ascontiguousarray(b.ids),
                          np.ascontiguousarray(b.values).view(np.uint16), np.ascontiguousarray(b.scale), _HALF,
                          mirror)
            i += 2
        else:
            add_packed(W, changes[i], mirror)
            i += 1
