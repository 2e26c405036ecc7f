"""Numba process settings, applied before any kernel is compiled.

Does: pick a writable on-disk cache directory for `cache=True` kernels (the package's __pycache__,
else a user cache folder when the package folder is read-only, e.g. a site-packages install or a
hosted container; or $NUMBA_CACHE_DIR), inside it a subfolder named by a digest of the package's
source files that hold compiled code, and ask for a thread-safe threading layer (TBB, else OpenMP) for any
`parallel=True` code, because the default workqueue layer aborts the process when two threads
enter parallel regions at once.

subtle: Numba keys a cached kernel on its own file's timestamp only. The training kernel inlines
functions from other modules (train/losses.py, train/hot_rows.py, ...); after editing one of those (or
upgrading the package) Numba would load the stale machine code. The digest subfolder makes any
source change a cache miss; older subfolders are removed.
`load_registries_lean()` is for short-lived processes (the CLI's train command): it does Numba's
one-time set-up of its own implementations now, leaving out SciPy's BLAS bindings and cffi.
Does not: compile anything. The trainer's own parallelism is Python threads running `nogil`
kernels, which needs no threading layer at all.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
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


COMPILED_SOURCES = ("config.py",)  # read by compiled code as constants, without a Numba decorator


def source_digest(package: Path | None = None) -> str:
    """A digest of the files under `package` (default: core/, every subfolder included) that
    compiled code comes from: every .py file that uses njit or an intrinsic, and COMPILED_SOURCES.
    Editing the CLI or the app recompiles nothing; editing an inlined helper anywhere does."""
    package = package or Path(__file__).resolve().parent
    h = hashlib.sha256()
    for f in sorted(package.rglob("*.py")):
        data = f.read_bytes()
        if f.name in COMPILED_SOURCES or b"njit" in data or b"intrinsic" in data:
            h.update(f.relative_to(package).as_posix().encode())
            h.update(data)
    return h.hexdigest()[:16]


def versioned_cache_dir(base: str, digest: str | None = None) -> str:
    """`base/numba-<digest>` (default: source_digest()), removing the subfolders of other digests."""
    name = "numba-" + (digest or source_digest())
    for old in Path(base).glob("numba-*"):
        if old.name != name and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
    return str(Path(base) / name)


_digest = source_digest()  # read the sources once per process
_env = os.environ.get("NUMBA_CACHE_DIR", "")
if Path(_env).name == "numba-" + _digest:
    _dir = _env  # set by a parent process of the same version: already versioned
else:
    _dir = versioned_cache_dir(cache_dir() or str(Path(__file__).resolve().parent / "__pycache__"), _digest)
os.environ["NUMBA_CACHE_DIR"] = _dir  # child processes (the CLI from the app, tests) share it

import numba  # noqa: E402  (must follow the environment set-up above)

numba.config.CACHE_DIR = _dir
numba.config.THREADING_LAYER = "threadsafe"


# Imported by Numba's registries only to offer features our kernels never use: scipy.linalg for
# np.dot's BLAS check (numba.np.arraymath), cffi for calling CFFI functions (typing.cffi_utils).
OPTIONAL_MODULES = ("scipy.linalg.cython_blas", "cffi")


def load_registries_lean() -> None:
    """Load Numba's CPU implementation registries now, without scipy.linalg and cffi.

    subtle: the first call of any compiled function, cached or not, makes Numba import its ~250
    modules of implementations (numba.core.cpu's load_additional_registries); numba.np.arraymath
    imports scipy.linalg there only to learn whether np.dot-style inner products may call BLAS
    (0.15 of that call's 0.28 CPU s here), and typing.cffi_utils imports cffi (0.025 s). With those
    imports blocked for that moment (None in sys.modules makes `import` raise ImportError),
    arraymath records "no BLAS" (such products compiled later in this process become plain
    loops; np.dot and np.linalg ask for BLAS again when they are typed, after the block is
    lifted) and Numba's CFFI support is off for the process. A module already imported (e.g.
    by the app) is left alone."""
    from numba.core.registry import cpu_target

    blocked = [m for m in OPTIONAL_MODULES if m not in sys.modules]
    for m in blocked:
        sys.modules[m] = None  # type: ignore[assignment]
    try:
        cpu_target.target_context.refresh()
    finally:
        for m in blocked:
            if m in sys.modules and sys.modules[m] is None:
                del sys.modules[m]
