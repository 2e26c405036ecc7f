"""Evict a benchmark's own files from the OS page cache, for cold-open measurements (Linux).

Does: fsync each file, then posix_fadvise(DONTNEED) on it, so only our clean pages go.
Does not: need root, touch other files, or import anything heavy (benchmarks measure peak memory of
child processes that import this).
"""

from __future__ import annotations

import os
from pathlib import Path


def drop_from_page_cache(paths: list[Path]) -> None:
    """Evict only these files' clean pages, for a cold-cache measurement."""
    for p in paths:
        fd = os.open(p, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
