"""AnnIndex: an approximate nearest-neighbour index over unit-length word vectors, cached on disk.

Does: cosine top-k (the inner product of unit rows) for vector sets too large to scan on every
query, with usearch's HNSW graph (Malkov & Yashunin 2016; https://github.com/unum-cloud/usearch,
Apache-2.0). Chosen by bench/bench_ann.py (table in README.md): about the recall and latency of
faiss-cpu's IndexHNSWFlat (which built faster on the busy test machine), but its saved file opens
memory-mapped (Index.restore(view=True): pages are read as the search reaches them and shared by
every process) where faiss reads an HNSW index whole into each process's heap; pynndescent can only
be saved by pickling. The Numba beam search over a pynndescent graph that this module used to hold
found more true neighbours per candidate, but built ~4x slower at ~8x the peak memory and spent
~90 s compiling on its first query in a fresh process.

The index stores its own copy of the vectors in half precision (`dtype` "f16": half the disk and
page cache of f32); a query asks usearch for its whole candidate list (`ef` rows) and re-scores
those rows exactly from `unit`, so the scores returned are the exact cosines and the order among
candidates is exact; recall@10 against exact search is measured in tests/test_ann.py and
bench/bench_ann.py.

Cache: a folder `ann-<key>` under `cache_dir` holds `index.usearch` and `manifest.json`. Nothing
is ever pickled or unpickled (usearch's file is its own binary layout). The key is a SHA-256 of the
format version, the build parameters and the vectors' content key (`content_key`: shape, dtype and
all bytes up to FULL_HASH_BYTES; above that, FINGERPRINT_ROWS evenly spaced rows plus the backing
file's size and mtime when the rows are memory-mapped). Loading checks the manifest (format, key,
parameters, rows, dim, usearch's file version), the file's size and CRC-32, and usearch's own
header; subtle: the CRC is what stands between a damaged file and native code that trusts every
neighbour id in it (a flipped id can read outside the mapping). `lookup` says in one line, without
a path, why a folder's index cannot be used (stale: built for other vectors; damaged); `cached`
returns None then; `build` rebuilds.

Cost: see bench/bench_ann.py and README.md. Building is always explicit (AnnIndex.build,
Vectors.build_index), never a side effect of a query; AnnIndex.cached only reads a cached copy
(what a web request may do); it reads the whole file once to check its CRC (about 0.3 s per
100 MB warm). A prepared set (`python -m core prepare`) keeps its index in its own folder under
`ann/`, keyed by `prepared_key` (content without the file's mtime).

Does not: exact search (Vectors does that by matrix products; use it below ~300k words), other
metrics than cosine, adding or removing rows (a changed vector set is a new index). Queries are
serialised by a lock (usearch's single-thread search shares one search context per index).
Shapes: unit (N, D) float32 unit rows; ids int32, sims float32.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
import warnings
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from usearch.index import Index

__all__ = ["FORMAT", "AnnIndex", "AnnParams", "content_key", "prepared_key"]

FORMAT = 2                      # bump when the files or their meaning change: old caches rebuild
FULL_HASH_BYTES = 64 << 20      # vectors up to this size are hashed in full for the cache key
FINGERPRINT_ROWS = 4096         # rows hashed (evenly spaced) for larger vector sets
DEFAULT_EF = 256                # candidate list of a query (real word vectors: recall@10 0.97 at 128, 0.99 at 256)
FILE = "index.usearch"
_ADD_BLOCK = 65_536             # rows added per call while building (one progress line each)
_CRC_CHUNK = 16 << 20


@dataclass(frozen=True)
class AnnParams:
    """What a built index depends on besides the vectors; part of the cache key."""

    connectivity: int = 16      # HNSW's M: links per row per layer (usearch's default)
    expansion_add: int = 128    # candidate list length while inserting (HNSW's efConstruction)
    dtype: str = "f16"          # how the index stores its copy of the rows: f16, f32 or i8

    def checked(self) -> AnnParams:
        if not 2 <= self.connectivity <= 256 or self.expansion_add < self.connectivity:
            raise ValueError(f"need 2 <= connectivity <= 256 and expansion_add >= connectivity "
                             f"(got {self.connectivity}, {self.expansion_add})")
        if self.dtype not in ("f16", "f32", "i8"):
            raise ValueError(f"dtype must be f16, f32 or i8, got {self.dtype!r}")
        return self


# -- cache key -------------------------------------------------------------------------------
def _backing_file(a: np.ndarray) -> Path | None:
    """The file a memory-mapped array (or a view of one) reads from, else None."""
    while a is not None:
        if isinstance(a, np.memmap) and getattr(a, "filename", None):
            return Path(a.filename)
        a = getattr(a, "base", None)
        if not isinstance(a, np.ndarray):
            return None
    return None


def content_key(unit: np.ndarray, *, file_identity: bool = True) -> str:
    """A SHA-256 that changes when the vectors do. Arrays up to FULL_HASH_BYTES: every byte.
    Larger ones: shape, FINGERPRINT_ROWS evenly spaced rows (first and last included), and for a
    memory-mapped array its file's size and mtime, so reading stays well under a second; a change
    confined to unsampled rows of an in-memory array is not seen (pass `key=` to be exact).
    `file_identity=False` leaves the file's size and mtime out: the key of a file written once and
    then copied (`cp`, `scp` and `rsync` without -t give the copy a new mtime), see prepared_key."""
    h = hashlib.sha256(f"{unit.shape} {unit.dtype.str}".encode())
    if unit.nbytes <= FULL_HASH_BYTES:
        h.update(np.ascontiguousarray(unit).data)
    else:
        rows = np.unique(np.linspace(0, unit.shape[0] - 1, FINGERPRINT_ROWS).astype(np.int64))
        h.update(np.ascontiguousarray(unit[rows]).data)
        path = _backing_file(unit) if file_identity else None
        if path is not None:
            st = path.stat()
            h.update(f"file {st.st_size} {st.st_mtime_ns}".encode())
    return h.hexdigest()


def prepared_key(unit: np.ndarray) -> str:
    """The cache key of a prepared set's index (unit.npy of `python -m core prepare`, see
    core/cli/prepare.py): its content without the file's mtime, so the index stays valid when the
    prepared folder is copied to the server. Safe because a prepared unit.npy is written whole,
    once, by convert_to_npy and never edited in place; preparing other vectors rewrites every row."""
    return content_key(unit, file_identity=False)


def _index_key(content: str, params: AnnParams) -> str:
    text = json.dumps({"format": FORMAT, "content": content, "params": asdict(params)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _crc32(path: Path) -> int:
    crc = 0
    with open(path, "rb") as f:
        while chunk := f.read(_CRC_CHUNK):
            crc = zlib.crc32(chunk, crc)
    return crc


def _folder(cache_dir: str | os.PathLike, full_key: str) -> Path:
    return Path(cache_dir) / f"ann-{full_key[:24]}"


def _as_unit(unit: np.ndarray) -> np.ndarray:
    a = np.asarray(unit)
    if a.ndim != 2 or a.dtype != np.float32 or a.shape[0] < 1 or a.shape[1] < 1:
        raise ValueError(f"expected (N, D) float32 unit rows, got {a.dtype} {a.shape}")
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


# -- building --------------------------------------------------------------------------------
def _build_graph(unit: np.ndarray, params: AnnParams, say: Callable[[str], None]) -> Index:
    """usearch's HNSW index over the rows (keys = row numbers), inserted in blocks on every core.
    Subtle: insertion order and threads make the graph differ slightly between builds; recall
    does not."""
    index = Index(ndim=unit.shape[1], metric="ip", dtype=params.dtype, connectivity=params.connectivity,
                  expansion_add=params.expansion_add, expansion_search=DEFAULT_EF)
    n = unit.shape[0]
    for start in range(0, n, _ADD_BLOCK):
        stop = min(n, start + _ADD_BLOCK)
        index.add(np.arange(start, stop, dtype=np.uint64), np.ascontiguousarray(unit[start:stop]),
                  threads=os.cpu_count() or 1)
        if n > _ADD_BLOCK:
            say(f"  {stop:,} / {n:,} rows")
    return index


class AnnIndex:
    """A built or loaded index over `unit` (N, D) float32. Build with AnnIndex.build; query with
    `query`. Attributes: `params` (AnnParams), `key` (the cache key), `from_cache` (True when it
    was read from disk, memory-mapped), `build_seconds` (of the original build, from the manifest)."""

    def __init__(self, unit: np.ndarray, index: Index, params: AnnParams, key: str, *,
                 from_cache: bool = False, build_seconds: float | None = None):
        self.unit = _as_unit(unit)
        if index.ndim != self.unit.shape[1] or len(index) != self.unit.shape[0]:
            raise ValueError(f"the index holds {len(index)} rows of {index.ndim}, the vectors are {self.unit.shape}")
        self._index, self.params, self.key = index, params, key
        self.from_cache, self.build_seconds = from_cache, build_seconds
        self._lock = threading.Lock()

    @property
    def n(self) -> int:
        return int(self.unit.shape[0])

    @property
    def dim(self) -> int:
        return int(self.unit.shape[1])

    # -- build / load ---------------------------------------------------------------------------
    @classmethod
    def build(cls, unit: np.ndarray, cache_dir: str | os.PathLike | None = None, key: str | None = None,
              connectivity: int = 16, expansion_add: int = 128, dtype: str = "f16",
              progress: Callable[[str], None] | None = None) -> AnnIndex:
        """The index over unit (N, D) float32 unit-length rows: read from `cache_dir` when a valid
        cached copy exists, else built (and written there when cache_dir is given). `key`
        identifies the vectors' content (default: content_key(unit)). `progress` gets one line
        per step."""
        unit = _as_unit(unit)
        say = progress or (lambda msg: None)
        params = AnnParams(connectivity, expansion_add, dtype).checked()
        content = key if key is not None else content_key(unit)
        full_key = _index_key(content, params)
        if cache_dir is not None:
            index, problem = cls.lookup(unit, cache_dir, key=content, connectivity=connectivity,
                                        expansion_add=expansion_add, dtype=dtype)
            if index is not None:
                say(f"loaded the neighbour index from {_folder(cache_dir, full_key)}")
                return index
            if _folder(cache_dir, full_key).exists():
                say(f"{problem}; rebuilding")
        t0 = time.perf_counter()
        say(f"building the HNSW graph of {unit.shape[0]:,} rows (usearch, M = {params.connectivity}, "
            f"{params.dtype})")
        graph = _build_graph(unit, params, say)
        index = cls(unit, graph, params, full_key, build_seconds=time.perf_counter() - t0)
        if cache_dir is not None:
            folder = _folder(cache_dir, full_key)
            try:
                index._save(folder)
                say(f"saved the neighbour index to {folder}")
            except OSError as e:  # a read-only or full disk costs the cache, not the index
                warnings.warn(f"could not cache the neighbour index in {folder}: {e}", stacklevel=2)
        return index

    @classmethod
    def lookup(cls, unit: np.ndarray, cache_dir: str | os.PathLike, key: str | None = None,
               connectivity: int = 16, expansion_add: int = 128, dtype: str = "f16"
               ) -> tuple[AnnIndex | None, str]:
        """(index, "") when a valid index over unit built with these parameters is cached in
        cache_dir, else (None, one line saying why: none, stale or damaged; no path in it).
        Never builds (safe inside a web request). `key` as in build."""
        unit = _as_unit(unit)
        params = AnnParams(connectivity, expansion_add, dtype).checked()
        full_key = _index_key(key if key is not None else content_key(unit), params)
        folder = _folder(cache_dir, full_key)
        if folder.is_dir():
            return cls._load(folder, unit, full_key, params)
        try:
            others = any(p.is_dir() and p.name.startswith("ann-") for p in Path(cache_dir).iterdir())
        except OSError:
            others = False
        if others:
            return None, ("the neighbour index is stale: it was built for other vectors or other "
                          "parameters")
        return None, "there is no neighbour index"

    @classmethod
    def cached(cls, unit: np.ndarray, cache_dir: str | os.PathLike, key: str | None = None,
               connectivity: int = 16, expansion_add: int = 128, dtype: str = "f16") -> AnnIndex | None:
        """The index read from cache_dir (see lookup), or None. Never builds."""
        return cls.lookup(unit, cache_dir, key, connectivity, expansion_add, dtype)[0]

    def _save(self, folder: Path) -> None:
        """Write index.usearch, then manifest.json into a temporary folder, then rename it into
        place, so a crash never leaves a folder that looks complete."""
        tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        try:
            self._index.save(str(tmp / FILE))
            meta = Index.metadata(str(tmp / FILE))
            manifest = {
                "format": FORMAT, "key": self.key, "params": asdict(self.params),
                "rows": self.n, "dim": self.dim, "build_seconds": self.build_seconds,
                "usearch": str(meta["version"]), "bytes": (tmp / FILE).stat().st_size, "crc32": _crc32(tmp / FILE),
            }
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1))
            shutil.rmtree(folder, ignore_errors=True)
            try:
                os.replace(tmp, folder)
            except OSError:
                if not folder.exists():
                    raise
                # another process saved the same index between our rmtree and rename: keep theirs
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def _load(cls, folder: Path, unit: np.ndarray, key: str, params: AnnParams) -> tuple[AnnIndex | None, str]:
        """The cached index memory-mapped, or (None, why) when anything is missing, damaged or for
        other vectors. Checks everything before usearch reads the file."""
        damaged = "the neighbour index file is damaged"
        try:
            manifest = json.loads((folder / "manifest.json").read_text())
        except (OSError, ValueError):
            return None, f"{damaged} (its manifest is missing or unreadable)"
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            return None, "the neighbour index is stale: it was written by another version of this app"
        if (manifest.get("key") != key or manifest.get("params") != asdict(params)
                or manifest.get("rows") != unit.shape[0] or manifest.get("dim") != unit.shape[1]):
            return None, "the neighbour index is stale: it was built for other vectors or other parameters"
        path = folder / FILE
        try:
            size, crc = path.stat().st_size, None
            if size == manifest.get("bytes"):
                crc = _crc32(path)
        except OSError:
            return None, f"{damaged} (it is missing or unreadable)"
        if crc is None or crc != manifest.get("crc32"):
            return None, f"{damaged} (its size or checksum does not match its manifest)"
        try:
            meta = Index.metadata(str(path))
            if str(meta.get("version")) != manifest.get("usearch"):
                return None, "the neighbour index is stale: it was written by another usearch version"
            index = Index.restore(str(path), view=True)
            if index is None:
                return None, f"{damaged} (usearch cannot read it)"
            seconds = manifest.get("build_seconds")
            return cls(unit, index, params, key, from_cache=True,
                       build_seconds=seconds if isinstance(seconds, int | float) else None), ""
        except (RuntimeError, ValueError, TypeError, KeyError, OSError) as e:
            return None, f"{damaged} ({str(e).splitlines()[0][:80] if str(e) else type(e).__name__})"

    # -- queries --------------------------------------------------------------------------------
    def query(self, vectors: np.ndarray, k: int = 10, ef: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Approximate cosine top-k of each query row: (Q, k) int32 row ids and (Q, k) float32
        inner products with the index's unit rows (exact, re-scored), best first. `vectors`
        (Q, D) or (D,), unit length for cosines (any length ranks the same). `ef` >= k is the
        candidate list length (default max(DEFAULT_EF, k)). Slots that could not be filled
        (k > rows) hold (-1, -inf)."""
        q = np.array(vectors, dtype=np.float32, order="C", copy=True)
        single = q.ndim == 1
        q = q.reshape(1, -1) if single else q
        if q.ndim != 2 or q.shape[1] != self.dim:
            raise ValueError(f"expected ({self.dim},) or (Q, {self.dim}) queries, got {np.shape(vectors)}")
        k = int(k)
        if k < 1:
            raise ValueError("k must be at least 1")
        ef = max(int(ef or DEFAULT_EF), k)
        with self._lock:
            self._index.expansion_search = ef
            found = self._index.search(q, min(ef, self.n), threads=1)
        keys = np.asarray(found.keys, dtype=np.int64).reshape(len(q), -1)
        # subtle: one query gives Matches (only valid keys), several give BatchMatches, whose unused
        # slots hold key 0, a real row: `counts` says how many are valid
        counts = np.asarray(getattr(found, "counts", [keys.shape[1]]), dtype=np.int64).reshape(len(q))
        ids = np.full((len(q), k), -1, dtype=np.int32)
        sims = np.full((len(q), k), -np.inf, dtype=np.float32)
        for i in range(len(q)):
            cand = keys[i, :counts[i]]
            cand = np.sort(cand[(cand >= 0) & (cand < self.n)])  # sorted: mapped rows read in order
            if not len(cand):
                continue
            # subtle: re-score from unit (f32) so the order and scores are exact within the candidates;
            # einsum, not @: a small product on all OpenBLAS threads can stall for ms on a busy machine
            s = np.einsum("kd,d->k", self.unit[cand], q[i]).astype(np.float32, copy=False)
            order = np.argsort(-s, kind="stable")[:k]
            ids[i, :len(order)] = cand[order]
            sims[i, :len(order)] = s[order]
        return (ids[0], sims[0]) if single else (ids, sims)
