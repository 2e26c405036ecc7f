"""Reading one text file as several byte ranges, each on its own thread.

Does: cut a plain file into ranges that each end just after a b" " or b"\\n" byte (so no token,
no line break and no multi-byte UTF-8 character spans a cut: those bytes never occur inside one),
open a range as text decoded exactly as the whole file would be (UTF-8 with replacement,
universal newlines), and run one function per range on a thread of its own, calling a progress
function from the caller's thread while they run. A failure in one range stops the others and is
raised once all have stopped.
Does not: tokenise, encode or merge anything (corpus.read_corpus does, range by range in file
order), or split gzip files and streams (they cannot be entered in the middle; read as one range).

Why: half of reading a corpus is the compiled encode, which releases the GIL, so two ranges read
in ~0.6 of one range's time (bench/README.md, "Reading on two threads": 0.61-0.62 on two cores).
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TypeVar

MIN_RANGE_BYTES = 4 << 20  # a file is cut only into ranges of at least this many bytes
MAX_RANGES = 4  # the GIL-held half of reading does not scale; more threads only add tables
_SEARCH = 1 << 16

T = TypeVar("T")


def range_count(size: int, threads: int | None = None) -> int:
    """How many ranges to read a file of `size` bytes in: one per thread (default: the CPUs, at
    most MAX_RANGES), and none smaller than MIN_RANGE_BYTES."""
    threads = threads if threads is not None else min(os.cpu_count() or 1, MAX_RANGES)
    return max(1, min(threads, size // MIN_RANGE_BYTES))


def split_points(path: str | Path, ranges: int) -> list[int]:
    """Byte offsets 0 = c_0 < c_1 < ... < c_m = size (m <= ranges): c_k is the first position
    after a b" " or b"\\n" at or beyond k * size / ranges. Fewer ranges when there is no such byte
    (a file without whitespace after some point is one range from there)."""
    size = os.path.getsize(path)
    cuts = [0]
    with open(path, "rb") as f:
        for k in range(1, ranges):
            pos = max(size * k // ranges, cuts[-1])
            f.seek(pos)
            cut = None
            while cut is None:
                chunk = f.read(_SEARCH)
                if not chunk:
                    break
                hits = [i for i in (chunk.find(b" "), chunk.find(b"\n")) if i >= 0]
                if hits:
                    cut = pos + min(hits) + 1
                pos += len(chunk)
            if cut is None:
                break
            if cut < size and cut > cuts[-1]:
                cuts.append(cut)
    cuts.append(size)
    return cuts


class _ByteRange(io.RawIOBase):
    """Bytes [a, b) of a file as a raw stream."""

    def __init__(self, path: str | Path, a: int, b: int):
        self._f = open(path, "rb", buffering=0)  # noqa: SIM115 (closed by close())
        self._f.seek(a)
        self._left = b - a

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        if self._left <= 0:
            return 0
        n = self._f.readinto(memoryview(buf)[: self._left])
        self._left -= n
        return n

    def close(self) -> None:
        self._f.close()
        super().close()


def open_range(path: str | Path, a: int, b: int) -> io.TextIOWrapper:
    """Bytes [a, b) of `path` as text, decoded as the whole file is (see corpus._open_text)."""
    return io.TextIOWrapper(io.BufferedReader(_ByteRange(path, a, b), 1 << 20), encoding="utf-8",
                            errors="replace", newline=None)


def run_ranges(sources: list, work: Callable[[object, threading.Event], T],
               poll: Callable[[], None] | None = None, poll_seconds: float = 0.25) -> list[T]:
    """[work(source, stop) for each source], one thread each, in order; `poll()` runs on the
    calling thread every poll_seconds while they work. A work function should return soon after
    `stop` is set: it is set when any of them raises (that exception is raised here once all
    have returned) or when the calling thread is interrupted (Ctrl-C)."""
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=len(sources), thread_name_prefix="w2v-read") as pool:
        futures = [pool.submit(work, s, stop) for s in sources]
        try:
            while True:
                done, pending = wait(futures, timeout=poll_seconds, return_when=FIRST_EXCEPTION)
                if not pending or any(f.exception() for f in done):
                    break
                if poll is not None:
                    poll()
        finally:
            stop.set()  # a failed range, or the caller interrupted: the others stop at their next block
    for f in futures:
        if f.exception() is not None:
            raise f.exception()
    return [f.result() for f in futures]
