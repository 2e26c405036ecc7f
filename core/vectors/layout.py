"""Layout: 2-D and 3-D map coordinates of a whole vector set, and their files in a prepared folder.

Does:
- `pca_layout`: PCA of every row, streamed in blocks (the D x D scatter matrix is accumulated one
  block at a time, so 1,000,000 x 300 needs a few MB beside the mapped rows, never the (V, D)
  float64 copy a full SVD would make). Three components; the first two are the 2-D map (PCA axes
  are nested, so one file serves both).
- `umap_layout`: UMAP (cosine) of the `max_words` most frequent rows; rows past that get NaN
  coordinates ("no UMAP position"), stated by `Layout.placed`.
- `save_layout` / `load_layout`: `layout-<method>.npy` ((V, k) float32, written atomically) plus
  `layout-<method>.json` (format, method, number of rows, the vector set's content key and the
  SHA-256 of the .npy). `load_layout` raises `LayoutError` (one line, no path) when the file is
  missing, damaged (hash, shape, dtype, not finite where it should be) or stale (the vectors or
  words changed since: `content_key` differs); the caller says so in one line and falls back.
- `content_key`: SHA-256 over the shape, every word, and up to FINGERPRINT_ROWS evenly spaced
  rows of the unit vectors (the whole array when small).
Does not: draw (core/plots.py), read vector files (vector_io.py), run in a page request for large
sets (the CLI `prepare --layout` and the page's background thread call it), unpickle anything
(np.load(allow_pickle=False), JSON metadata).
Shapes: unit rows (V, D) float32; coordinates (V, k) float32, k = 2 or 3, row i is words[i].
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FORMAT = 1
METHODS = ("pca", "umap")
STORED = ("pca", "umap", "umap3d")  # file names: layout-<name>.npy ("pca" holds 3 columns: 2-D and 3-D)
FINGERPRINT_ROWS = 4096  # rows of the unit vectors hashed into the content key of a large set
BLOCK_ROWS = 65_536      # rows per block of the streamed PCA
UMAP_MAX_WORDS = 200_000  # UMAP lays out at most this many (most frequent) words by default

Progress = Callable[[str, float], None]  # (what, fraction done 0..1)


class LayoutError(ValueError):
    """A coordinates file that cannot be used; the message is one line for the page (no path)."""


@dataclass(frozen=True)
class Layout:
    """Coordinates of a vector set. `coords` (V, k) float32; rows without a position are NaN."""

    method: str
    coords: np.ndarray
    key: str
    placed: int  # rows with a finite position (the first `placed` rows)

    @property
    def dims(self) -> int:
        return int(self.coords.shape[1])


def content_key(words: Sequence[str], unit: np.ndarray) -> str:
    """SHA-256 of the set's shape, all its words and a fingerprint of its unit rows (V, D)."""
    h = hashlib.sha256(f"{FORMAT} {unit.shape} {unit.dtype.str}".encode())
    h.update("\n".join(words).encode("utf-8", "surrogatepass"))
    n = unit.shape[0]
    rows = np.arange(n) if n <= FINGERPRINT_ROWS else \
        np.unique(np.linspace(0, n - 1, FINGERPRINT_ROWS).astype(np.int64))
    h.update(np.ascontiguousarray(unit[rows], dtype=np.float32).data)
    return h.hexdigest()


def _blocks(n: int, block: int = BLOCK_ROWS):
    for start in range(0, n, block):
        yield start, min(n, start + block)


def pca_layout(X: np.ndarray, n_components: int = 3, progress: Progress | None = None) -> np.ndarray:
    """First `n_components` principal coordinates of the rows of X (V, D) -> (V, k) float32.

    Two streamed passes: mean and scatter matrix S = sum (x - m)(x - m)^T in float64 blocks, then
    the eigenvectors of S (the right singular vectors of the centred X) project each block.
    subtle: signs follow projection.pca_basis (largest loading positive), so the same vectors give
    the same picture in the page's PCA and in a prepared file.
    """
    n, d = X.shape
    out = np.zeros((n, n_components), np.float32)
    if n == 0:
        return out
    total = np.zeros(d)
    for a, b in _blocks(n):
        total += np.asarray(X[a:b], np.float64).sum(axis=0)
    mean = total / n
    scatter = np.zeros((d, d))
    for a, b in _blocks(n):
        block = np.asarray(X[a:b], np.float64) - mean
        scatter += block.T @ block
        if progress:
            progress("PCA: scatter matrix", 0.5 * b / n)
    vals, vecs = np.linalg.eigh(scatter)
    order = np.argsort(vals)[::-1][:n_components]
    basis = np.zeros((d, n_components))
    basis[:, : len(order)] = vecs[:, order] * (vals[order] > 1e-12 * max(vals.max(), 1e-300))
    for j in range(n_components):
        col = basis[:, j]
        if col.any() and col[np.argmax(np.abs(col))] < 0:
            basis[:, j] = -col
    for a, b in _blocks(n):
        out[a:b] = (np.asarray(X[a:b], np.float64) - mean) @ basis
        if progress:
            progress("PCA: projecting", 0.5 + 0.5 * b / n)
    return out


def umap_layout(X: np.ndarray, n_components: int = 2, max_words: int = UMAP_MAX_WORDS,
                n_neighbors: int = 15, progress: Progress | None = None) -> np.ndarray:
    """UMAP of the first `max_words` rows of X (V, D) -> (V, k) float32, NaN past max_words."""
    from .projection import umap_project  # deferred: umap-learn costs seconds to import

    n = X.shape[0]
    m = min(n, max_words)
    out = np.full((n, n_components), np.nan, np.float32)
    if progress:
        progress(f"UMAP of {m:,} words (minutes for 100,000)", 0.0)
    out[:m] = umap_project(np.asarray(X[:m], np.float32), n_components, n_neighbors=n_neighbors)
    if progress:
        progress("UMAP done", 1.0)
    return out


def compute(words: Sequence[str], unit: np.ndarray, method: str, *, dims: int | None = None,
            max_words: int = UMAP_MAX_WORDS, key: str | None = None,
            progress: Progress | None = None) -> Layout:
    """The layout of a set by `method` ("pca": 3 columns; "umap": `dims`, default 2)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS} (got {method!r})")
    key = key or content_key(words, unit)
    if method == "pca":
        coords = pca_layout(unit, dims or 3, progress)
        placed = len(words)
    else:
        coords = umap_layout(unit, dims or 2, max_words, progress=progress)
        placed = min(len(words), max_words)
    return Layout(method, coords, key, placed)


def _paths(folder: Path, method: str) -> tuple[Path, Path]:
    return folder / f"layout-{method}.npy", folder / f"layout-{method}.json"


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_layout(folder: str | os.PathLike, layout: Layout) -> Path:
    """Write layout-<method>.npy and its .json into `folder` (each atomically); returns the .npy."""
    folder = Path(folder)
    npy, meta = _paths(folder, layout.method)
    tmp = npy.with_suffix(".npy.tmp")
    with open(tmp, "wb") as f:
        np.save(f, np.ascontiguousarray(layout.coords, np.float32), allow_pickle=False)
    os.replace(tmp, npy)
    info = {"format": FORMAT, "method": layout.method, "rows": int(layout.coords.shape[0]),
            "dims": layout.dims, "placed": layout.placed, "key": layout.key, "sha256": _sha256_file(npy)}
    tmp = meta.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(info, indent=1))
    os.replace(tmp, meta)
    return npy


def stored_methods(folder: str | os.PathLike) -> list[str]:
    """Methods with a coordinates file in `folder` (not yet checked)."""
    return [m for m in STORED if all(p.is_file() for p in _paths(Path(folder), m))]


def load_layout(folder: str | os.PathLike, method: str, key: str, *, verify_hash: bool = True) -> Layout:
    """The stored layout of `method` for the set whose content key is `key`; LayoutError when it
    is missing, damaged or was made for other vectors."""
    npy, meta = _paths(Path(folder), method)
    label = f"stored {method.upper()} coordinates"
    try:
        info = json.loads(meta.read_text(encoding="utf-8"))
        if not isinstance(info, dict) or info.get("format") != FORMAT or info.get("method") != method:
            raise LayoutError(f"{label}: unknown format")
        if info.get("key") != key:
            raise LayoutError(f"{label} are stale (made for other vectors): run prepare --layout again")
        if verify_hash and info.get("sha256") != _sha256_file(npy):
            raise LayoutError(f"{label} are damaged (checksum differs): run prepare --layout again")
        coords = np.load(npy, mmap_mode="r", allow_pickle=False)
    except FileNotFoundError:
        raise LayoutError(f"no {label}") from None
    except LayoutError:
        raise
    except (OSError, ValueError, UnicodeDecodeError) as e:
        raise LayoutError(f"{label} cannot be read ({type(e).__name__})") from None
    rows, placed = info.get("rows"), info.get("placed")
    if (coords.dtype != np.float32 or coords.ndim != 2 or coords.shape[0] != rows
            or coords.shape[1] not in (2, 3) or not isinstance(placed, int) or not 0 <= placed <= rows):
        raise LayoutError(f"{label} are damaged (shape {coords.shape}, {coords.dtype})")
    return Layout(method, coords, key, placed)
