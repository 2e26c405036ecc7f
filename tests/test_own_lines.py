"""Per-worker arrays alone on their cache lines (core/train/lowlevel.py, own_lines): the helper,
and every array the trainer makes per worker."""

from __future__ import annotations

import numpy as np
import pytest

from core.config import Architecture, Loss
from core.train.hot_rows import buffered, most_used_rows
from core.train.kernels import make_tally, make_work
from core.train.losses import make_scratch, make_targets
from core.train.lowlevel import LINE_BYTES, own_lines


def _lines(a: np.ndarray) -> range:
    """The LINE_BYTES-sized lines a buffer's first to last byte touch (a (0,) array: its start)."""
    start = a.ctypes.data
    return range(start // LINE_BYTES, (start + max(a.nbytes, 1) - 1) // LINE_BYTES + 1)


def _arrays(x, name="") -> list[tuple[str, np.ndarray]]:
    if isinstance(x, np.ndarray):
        return [(name, x)]
    if hasattr(x, "_fields"):
        return [item for f in x._fields for item in _arrays(getattr(x, f), f"{name}.{f}")]
    return []


@pytest.mark.parametrize("shape,dtype,fill", [(1, np.float64, 1.0), (3, np.int32, 0), ((6, 100), np.float32, 0),
                                              ((2, 13), np.int64, 7), (0, np.int64, 0), (32, np.float32, 0)])
def test_own_lines_is_an_aligned_whole_line_buffer_with_the_asked_contents(shape, dtype, fill):
    a = own_lines(shape, dtype, fill)
    want = np.full(shape, fill, dtype)
    assert a.shape == want.shape and a.dtype == want.dtype and a.flags.c_contiguous and a.flags.writeable
    assert np.array_equal(a, want)
    if a.size:
        assert a.ctypes.data % LINE_BYTES == 0
        # the padding up to the next line boundary belongs to this array's own buffer
        base = a.base
        while base.base is not None:
            base = base.base
        end = a.ctypes.data + a.nbytes
        pad_end = -(-end // LINE_BYTES) * LINE_BYTES
        assert base.ctypes.data <= a.ctypes.data and pad_end <= base.ctypes.data + base.nbytes


def test_arrays_made_one_after_another_never_share_a_line():
    made = [own_lines(n, np.float64) for n in (1, 1, 3, 1, 17, 1, 2, 1) * 8]
    seen = {}
    for i, a in enumerate(made):
        for line in _lines(a):
            assert seen.setdefault(line, i) == i, "two arrays share a cache line"


@pytest.mark.parametrize("arch,loss", [(Architecture.SKIPGRAM, Loss.NS), (Architecture.CBOW, Loss.NS),
                                       (Architecture.SKIPGRAM, Loss.HS)])
def test_two_workers_scratch_counters_and_row_copies_share_no_line(arch, loss):
    """What each worker writes as it trains (Work, Tally, its copies of the hot output rows), made
    the way Trainer.train makes them, one worker after the other: no line holds two workers' data.
    (Before own_lines, numpy put the two workers' deferred loss products 32 bytes apart.)"""
    W = np.zeros((5000, 100), np.float32)
    hot = most_used_rows(loss, W.shape[0], 1024)
    workers = []
    for _ in range(2):
        work = make_work(10_000, 5, 6, 100, W.shape[0], False, 0)
        tally = make_tally(np.ones(1, np.uint64), 300)
        out = buffered(W, hot)
        workers.append(_arrays(work, "work") + _arrays(tally, "tally")
                       + [("out.local", out.local), ("out.base", out.base)])
    owner = {}
    for t, arrays in enumerate(workers):
        for name, a in arrays:
            if name == "tally.rng":  # the caller's array, read and written once per chunk
                continue
            for line in _lines(a):
                assert owner.setdefault(line, (t, name))[0] == t, (name, owner[line])
    # the step's own scratch and targets too, when made on their own (the teaching pages' step)
    a, b = make_scratch(6, 100, defer_log=True), make_scratch(6, 100, defer_log=True)
    assert not set(_lines(a.pending)) & set(_lines(b.pending))
    ta, tb = make_targets(4, 6), make_targets(4, 6)
    assert not set(_lines(ta.n)) & set(_lines(tb.n))
