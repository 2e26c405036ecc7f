"""Numba process settings, applied before any kernel is compiled.

Does: pick a writable on-disk cache directory for `cache=True` kernels when the package folder is
read-only (e.g. a site-packages install or a hosted container) and ask for a thread-safe
threading layer (TBB, else OpenMP) for any `parallel=True` code, because the default workqueue
layer aborts the process when two threads enter parallel regions at once.
Does not: compile anything. The trainer's own parallelism is Python threads running `nogil`
kernels, which needs no threading layer at all.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _writable(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write_probe"
        probe.write_text("")
        probe.unlink()
        return True
    except OSError:
        return False


def cache_dir() -> str | None:
    """The directory Numba should cache to, or None to keep Numba's default (__pycache__)."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return os.environ["NUMBA_CACHE_DIR"]
    if _writable(Path(__file__).resolve().parent / "__pycache__"):
        return None
    for candidate in (
        Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "w2v-explorer" / "numba",
        Path(tempfile.gettempdir()) / "w2v-explorer-numba",
    ):
        if _writable(candidate):
            return str(candidate)
    return None


_dir = cache_dir()
if _dir is not None:
    os.environ.setdefault("NUMBA_CACHE_DIR", _dir)

import numba  # noqa: E402  (must follow the environment set-up above)

if _dir is not None:
    numba.config.CACHE_DIR = _dir
numba.config.THREADING_LAYER = "threadsafe"
