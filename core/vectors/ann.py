"""AnnIndex: an approximate nearest-neighbour index over unit-length word vectors, cached on disk.

Does: cosine top-k (the inner product of unit rows) for vector sets too large to scan on every
query. Building has two steps:
1. a k-nearest-neighbour graph by NN-descent (Dong, Charikar & Li 2011) from pynndescent, which
   is only imported here and only when an index is built (up to EXACT_GRAPH_MAX rows the graph
   is exact instead, by blocked matrix products: cheaper than compiling pynndescent);
2. a search graph: each row's k forward neighbours plus its most similar reverse neighbours
   (rows that list it), capped at `max_degree`, stored as a fixed-width (N, M) int32 table.
A query starts from the best few of `n_entries` sampled rows (all scored exactly; the query
word's own row joins them when the caller knows it) and runs a best-first
beam search over the graph (the greedy search of NSG / DiskANN with a candidate list of `ef`
rows). Recall rises with `ef`; measured figures are in tests/test_ann.py and
bench/bench_large_vectors.py.

Cache: a folder `ann-<key>` under `cache_dir` holds `graph.npy`, `entries.npy` and
`manifest.json`. Nothing is ever pickled or unpickled: pynndescent's NNDescent object is
normally pickled, so we keep only its neighbour graph (plain int32 arrays, read with
allow_pickle=False) and search it with our own kernel. The key is a SHA-256 of the format
version, the build parameters and the vectors' content key (`content_key`: shape, dtype and all
bytes up to FULL_HASH_BYTES; above that, FINGERPRINT_ROWS evenly spaced rows plus the backing
file's size and mtime when the rows are memory-mapped). Loading checks the manifest, every
array's dtype, shape and SHA-256, and that every id is in range (the search kernel does no
bounds checks); any mismatch or damage means the folder is rebuilt, never trusted.

Cost, measured 2026-11-23 on the shared 2-core machine (bench/bench_large_vectors.py,
1,000,000 x 300 clustered synthetic vectors): build 207 s (pynndescent's NN-descent, including
~30-50 s compiling it in each new process; the search graph is seconds), peak RSS 3.9 GB
(pynndescent normalises an in-memory copy of the vectors), a 192 MB cache; loading it back 0.3 s
warm, 1.2 s cold; a query ~0.8 ms once pages are mapped (exact search: ~55 ms) with recall@10
0.99-1.00 against exact search (i.i.d. random vectors, which have no neighbour structure, give
~0.3: no graph index helps there). Building is always explicit (AnnIndex.build,
Vectors.build_index), never a side effect of a query; AnnIndex.cached only reads a cached copy
(what a web request may do). A prepared set (`python -m core prepare`) keeps its index in its
own folder under `ann/`, keyed by `prepared_key` (content without the file's mtime).

Does not: exact search (Vectors does that by matrix products; use it below ~300k words), other
metrics than cosine, adding or removing rows (a changed vector set is a new index), or
parallel batches (a call runs on one thread; calls from several threads run concurrently, since
the kernel releases the GIL and each call takes its own visited buffer).
Shapes: unit (N, D) float32 unit rows; graph (N, M) int32, -1 padded; ids int32, sims float32.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from numba import njit

from .. import _numba_setup  # noqa: F401

__all__ = ["FORMAT", "AnnIndex", "AnnParams", "content_key", "prepared_key"]

FORMAT = 1                      # bump when the files or their meaning change: old caches rebuild
FULL_HASH_BYTES = 64 << 20      # vectors up to this size are hashed in full for the cache key
FINGERPRINT_ROWS = 4096         # rows hashed (evenly spaced) for larger vector sets
DEFAULT_EF = 96                 # candidate list length of a query (more: slower, better recall)
DEFAULT_SEEDS = 8               # best entry rows a query starts from
EXACT_GRAPH_MAX = 20_000        # below this many rows the k-NN graph is computed exactly (blocks)
_BLOCK_FLOATS = 1 << 24         # scores per block of the exact k-NN graph (64 MB)


@dataclass(frozen=True)
class AnnParams:
    """What a built index depends on besides the vectors; part of the cache key."""

    n_neighbors: int = 30       # k of the NN-descent graph (pynndescent's default)
    max_degree: int = 48        # edges kept per row: the k forward ones, then the best reverse ones
    n_entries: int = 0          # sampled entry rows; 0 chooses min(N, max(1024, 4 sqrt(N)))
    seed: int = 0               # seeds NN-descent and the entry sample

    def resolved(self, n: int) -> AnnParams:
        """The same parameters with n_entries fixed for N rows and every value checked."""
        if self.n_neighbors < 2 or self.max_degree < self.n_neighbors:
            raise ValueError(f"need 2 <= n_neighbors <= max_degree (got {self.n_neighbors}, {self.max_degree})")
        entries = self.n_entries or max(1024, 4 * math.isqrt(n))
        return AnnParams(self.n_neighbors, self.max_degree, min(n, entries), self.seed)


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


def _sha256(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).data).hexdigest()


# -- kernels ---------------------------------------------------------------------------------
@njit(inline="always", nogil=True)
def _append_new(out: np.ndarray, i: int, m: int, t: int) -> int:
    """Append neighbour t to row i of out (m entries so far) unless already there; return the new m."""
    for e in range(m):
        if out[i, e] == t:
            return m
    out[i, m] = t
    return m + 1


@njit(cache=True, nogil=True)
def _search_graph(knn: np.ndarray, knn_sims: np.ndarray, max_degree: int) -> np.ndarray:
    """(N, K) int32 neighbours sorted best first, their (N, K) float32 similarities -> (N, M)
    int32 search graph: each row's forward neighbours (self and -1 dropped), then rows that list
    it as a neighbour, most similar first, until M; -1 pads. Reverse edges make the graph
    undirected enough that a beam search can walk into a cluster from outside."""
    n, k = knn.shape
    indptr = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        for j in range(k):
            t = knn[i, j]
            if t >= 0 and t != i:
                indptr[t + 1] += 1
    for i in range(n):
        indptr[i + 1] += indptr[i]
    rev_src = np.empty(indptr[n], dtype=np.int32)
    rev_sim = np.empty(indptr[n], dtype=np.float32)
    fill = indptr[:n].copy()
    for i in range(n):
        for j in range(k):
            t = knn[i, j]
            if t >= 0 and t != i:
                rev_src[fill[t]] = i
                rev_sim[fill[t]] = knn_sims[i, j]
                fill[t] += 1
    out = np.full((n, max_degree), -1, dtype=np.int32)
    for i in range(n):
        m = 0
        for j in range(k):
            t = knn[i, j]
            if t >= 0 and t != i:
                m = _append_new(out, i, m, t)
        a, b = indptr[i], indptr[i + 1]
        order = np.argsort(-rev_sim[a:b])
        for o in order:
            if m == max_degree:
                break
            m = _append_new(out, i, m, rev_src[a + o])
    return out


@njit(cache=True, nogil=True, fastmath=True)
def _dot(unit: np.ndarray, row: int, q: np.ndarray) -> np.float32:
    s = np.float32(0.0)
    for d in range(q.shape[0]):
        s += unit[row, d] * q[d]
    return s


@njit(cache=True, nogil=True)
def _beam_search(unit: np.ndarray, graph: np.ndarray, queries: np.ndarray, seeds: np.ndarray,
                 ef: int, visited: np.ndarray, stamp0: int, out_ids: np.ndarray, out_sims: np.ndarray) -> None:
    """Best-first search per query: a list of the ef most similar rows seen, sorted; expand its
    best unexpanded row (score all its graph neighbours not yet visited, insert the good ones)
    until every row in the list has been expanded. Writes the first k = out_ids.shape[1] of the
    list; unfilled slots stay (-1, -inf). seeds (Q, S) int32, -1 for none. visited (N,) int32:
    query q marks the rows it has scored with stamp0 + q + 1, so the buffer is reused across
    calls without clearing (all its entries must be <= stamp0)."""
    k = out_ids.shape[1]
    ids = np.empty(ef, dtype=np.int32)
    sims = np.empty(ef, dtype=np.float32)
    done = np.empty(ef, dtype=np.bool_)
    for qi in range(queries.shape[0]):
        stamp = stamp0 + qi + 1
        q = queries[qi]
        size = 0
        for s in range(seeds.shape[1]):
            c = seeds[qi, s]
            if c < 0 or visited[c] == stamp:
                continue
            visited[c] = stamp
            size = _insert(ids, sims, done, size, c, _dot(unit, c, q))
        i = 0
        while i < size:
            if done[i]:
                i += 1
                continue
            done[i] = True
            c = ids[i]
            lowest = size
            for e in range(graph.shape[1]):
                t = graph[c, e]
                if t < 0:
                    break
                if visited[t] == stamp:
                    continue
                visited[t] = stamp
                s = _dot(unit, t, q)
                if size == ef and s <= sims[ef - 1]:
                    continue
                pos = _position(sims, size, s)
                size = _insert(ids, sims, done, size, t, s)
                if pos < lowest:
                    lowest = pos
            if lowest < i:
                i = lowest
        for j in range(k):
            if j < size:
                out_ids[qi, j] = ids[j]
                out_sims[qi, j] = sims[j]
            else:
                out_ids[qi, j] = -1
                out_sims[qi, j] = -np.inf


@njit(cache=True, nogil=True)
def _best_entries(entry_rows: np.ndarray, entry_ids: np.ndarray, queries: np.ndarray, out: np.ndarray) -> None:
    """out (Q, S) int32: for each query the ids of its S most similar entry rows (E, D), best
    first. A loop rather than `queries @ entry_rows.T`: subtle, OpenBLAS runs that small product
    on all its threads, and on a busy machine waiting for a descheduled thread cost ~8 ms per
    query, 20x the whole search."""
    s_max = out.shape[1]
    ids = np.empty(s_max, dtype=np.int32)
    sims = np.empty(s_max, dtype=np.float32)
    done = np.empty(s_max, dtype=np.bool_)
    for qi in range(queries.shape[0]):
        q = queries[qi]
        size = 0
        for e in range(entry_rows.shape[0]):
            size = _insert(ids, sims, done, size, entry_ids[e], _dot(entry_rows, e, q))
        for j in range(s_max):
            out[qi, j] = ids[j] if j < size else -1


@njit(cache=True, nogil=True)
def _position(sims: np.ndarray, size: int, s: float) -> int:
    """Where s goes in sims[:size] (sorted descending): after every entry >= s."""
    lo, hi = 0, size
    while lo < hi:
        mid = (lo + hi) // 2
        if sims[mid] >= s:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True)
def _insert(ids: np.ndarray, sims: np.ndarray, done: np.ndarray, size: int, c: int, s: float) -> int:
    """Insert (c, s) into the descending list, dropping the last entry when it is full; returns
    the new size. An s below a full list's last entry is not inserted."""
    cap = ids.shape[0]
    pos = _position(sims, size, s)
    if pos >= cap:
        return size
    last = size if size < cap else cap - 1
    for j in range(last, pos, -1):
        ids[j] = ids[j - 1]
        sims[j] = sims[j - 1]
        done[j] = done[j - 1]
    ids[pos] = c
    sims[pos] = s
    done[pos] = False
    return size + 1 if size < cap else size


# -- building --------------------------------------------------------------------------------
def _exact_knn(unit: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(N, k + 1) int32 exact neighbours (self included) and their float32 cosines, by blocks of
    rows against all rows: N^2 D work, used only below EXACT_GRAPH_MAX rows."""
    n = unit.shape[0]
    k = min(k + 1, n)
    block = max(1, _BLOCK_FLOATS // n)
    ids = np.empty((n, k), dtype=np.int32)
    sims = np.empty((n, k), dtype=np.float32)
    for start in range(0, n, block):
        s = unit[start:start + block] @ unit.T
        top = np.argpartition(-s, k - 1, axis=1)[:, :k]
        ts = np.take_along_axis(s, top, axis=1)
        order = np.argsort(-ts, axis=1, kind="stable")
        ids[start:start + len(s)] = np.take_along_axis(top, order, axis=1)
        sims[start:start + len(s)] = np.take_along_axis(ts, order, axis=1)
    return ids, sims


def _knn_graph(unit: np.ndarray, params: AnnParams) -> tuple[np.ndarray, np.ndarray]:
    """(N, K) int32 approximate neighbours, best first, and their float32 cosines, from
    pynndescent's NN-descent with the inner product on unit rows ("dot": distance = 1 - cos)."""
    if unit.shape[0] <= EXACT_GRAPH_MAX:
        return _exact_knn(unit, params.n_neighbors)
    import pynndescent  # deferred: importing and compiling it takes most of a minute

    # subtle: neighbor_graph lists each row as its own first neighbour and drops the k-th, so ask
    # for k + 1 (the search-graph kernel drops the self edge)
    nnd = pynndescent.NNDescent(unit, metric="dot", n_neighbors=params.n_neighbors + 1,
                                random_state=params.seed, low_memory=True)
    ids, dist = nnd.neighbor_graph
    del nnd
    return np.ascontiguousarray(ids, dtype=np.int32), (1.0 - dist).astype(np.float32)


def _folder(cache_dir: str | os.PathLike, full_key: str) -> Path:
    return Path(cache_dir) / f"ann-{full_key[:24]}"


def _as_unit(unit: np.ndarray) -> np.ndarray:
    a = np.asarray(unit)
    if a.ndim != 2 or a.dtype != np.float32 or a.shape[0] < 1 or a.shape[1] < 1:
        raise ValueError(f"expected (N, D) float32 unit rows, got {a.dtype} {a.shape}")
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


class AnnIndex:
    """A built or loaded index over `unit` (N, D) float32. Build with AnnIndex.build; query with
    `query`. Attributes: `params` (AnnParams), `key` (the cache key), `from_cache` (True when the
    graph was read from disk), `build_seconds` (of the original build, from the manifest)."""

    def __init__(self, unit: np.ndarray, graph: np.ndarray, entries: np.ndarray, params: AnnParams,
                 key: str, *, from_cache: bool = False, build_seconds: float | None = None):
        self.unit = _as_unit(unit)
        n = self.unit.shape[0]
        if graph.dtype != np.int32 or graph.shape != (n, params.max_degree):
            raise ValueError(f"graph {graph.dtype} {graph.shape} does not fit {n} rows")
        if entries.dtype != np.int32 or entries.ndim != 1 or not 0 < len(entries) <= n:
            raise ValueError(f"entries {entries.dtype} {entries.shape} do not fit {n} rows")
        # subtle: the kernels trust every id (no bounds checks), so ranges are checked here
        if int(graph.min()) < -1 or int(graph.max()) >= n or int(entries.min()) < 0 or int(entries.max()) >= n:
            raise ValueError(f"graph or entry ids outside [0, {n})")
        self.graph, self.entries, self.params, self.key = graph, entries, params, key
        self.from_cache, self.build_seconds = from_cache, build_seconds
        self._entry_ids = np.sort(entries)
        self._entry_rows = np.ascontiguousarray(self.unit[self._entry_ids])
        self._lock = threading.Lock()
        self._free: list[list] = []                  # [visited buffer, next stamp] not in use

    @property
    def n(self) -> int:
        return int(self.unit.shape[0])

    @property
    def dim(self) -> int:
        return int(self.unit.shape[1])

    # -- build / load ---------------------------------------------------------------------------
    @classmethod
    def build(cls, unit: np.ndarray, cache_dir: str | os.PathLike | None = None, key: str | None = None,
              seed: int = 0, n_neighbors: int = 30, max_degree: int = 48, n_entries: int = 0,
              progress: Callable[[str], None] | None = None) -> AnnIndex:
        """The index over unit (N, D) float32 unit-length rows: read from `cache_dir` when a valid
        cached copy exists, else built (and written there when cache_dir is given). `key`
        identifies the vectors' content (default: content_key(unit)). `progress` gets one line
        per step."""
        unit = _as_unit(unit)
        say = progress or (lambda msg: None)
        params = AnnParams(n_neighbors, max_degree, n_entries, seed).resolved(unit.shape[0])
        content = key if key is not None else content_key(unit)
        full_key = _index_key(content, params)
        folder = None if cache_dir is None else _folder(cache_dir, full_key)
        if folder is not None and folder.exists():
            index = cls.cached(unit, cache_dir, key=content, seed=seed, n_neighbors=n_neighbors,
                               max_degree=max_degree, n_entries=n_entries)
            if index is not None:
                say(f"loaded the neighbour index from {folder}")
                return index
            say(f"the cached index in {folder} is invalid; rebuilding")
        t0 = time.perf_counter()
        say(f"building the k-NN graph of {unit.shape[0]:,} rows (k = {params.n_neighbors})")
        knn, knn_sims = _knn_graph(unit, params)
        say("adding reverse edges")
        graph = _search_graph(knn, knn_sims, params.max_degree)
        del knn, knn_sims
        rng = np.random.default_rng(params.seed)
        entries = np.sort(rng.choice(unit.shape[0], params.n_entries, replace=False)).astype(np.int32)
        seconds = time.perf_counter() - t0
        index = cls(unit, graph, entries, params, full_key, build_seconds=seconds)
        if folder is not None:
            try:
                index._save(folder)
                say(f"saved the neighbour index to {folder}")
            except OSError as e:  # a read-only or full disk costs the cache, not the index
                warnings.warn(f"could not cache the neighbour index in {folder}: {e}", stacklevel=2)
        return index

    @classmethod
    def cached(cls, unit: np.ndarray, cache_dir: str | os.PathLike, key: str | None = None,
               seed: int = 0, n_neighbors: int = 30, max_degree: int = 48, n_entries: int = 0) -> AnnIndex | None:
        """The index over unit (N, D) float32 read from `cache_dir` when a valid copy built with
        these parameters exists there, else None. Never builds (safe inside a web request): the
        cost is the content key, reading the manifest and hashing the graph (about 0.3 s for
        1M rows, warm). `key` as in build."""
        unit = _as_unit(unit)
        params = AnnParams(n_neighbors, max_degree, n_entries, seed).resolved(unit.shape[0])
        full_key = _index_key(key if key is not None else content_key(unit), params)
        folder = _folder(cache_dir, full_key)
        return cls._load(folder, unit, full_key, params) if folder.is_dir() else None

    def _save(self, folder: Path) -> None:
        """Write graph.npy, entries.npy, then manifest.json into a temporary folder, then rename
        it into place, so a crash never leaves a folder that looks complete."""
        tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        try:
            np.save(tmp / "graph.npy", self.graph, allow_pickle=False)
            np.save(tmp / "entries.npy", self.entries, allow_pickle=False)
            manifest = {
                "format": FORMAT, "key": self.key, "params": asdict(self.params),
                "rows": self.n, "dim": self.dim, "build_seconds": self.build_seconds,
                "graph": {"shape": list(self.graph.shape), "dtype": "int32", "sha256": _sha256(self.graph)},
                "entries": {"shape": list(self.entries.shape), "dtype": "int32", "sha256": _sha256(self.entries)},
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
    def _load(cls, folder: Path, unit: np.ndarray, key: str, params: AnnParams) -> AnnIndex | None:
        """The cached index, or None when anything is missing, damaged or for other vectors."""
        try:
            manifest = json.loads((folder / "manifest.json").read_text())
            if (not isinstance(manifest, dict) or manifest.get("format") != FORMAT or manifest.get("key") != key
                    or manifest.get("params") != asdict(params)
                    or manifest.get("rows") != unit.shape[0] or manifest.get("dim") != unit.shape[1]):
                return None
            arrays = {}
            for name, shape in (("graph", (unit.shape[0], params.max_degree)), ("entries", (params.n_entries,))):
                a = np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False)
                meta = manifest.get(name)
                if (a.dtype != np.int32 or a.shape != shape or not a.flags.c_contiguous
                        or not isinstance(meta, dict) or meta.get("sha256") != _sha256(a)):
                    return None
                arrays[name] = a
            seconds = manifest.get("build_seconds")
            # the constructor checks that every id is in range (ValueError: rebuild)
            return cls(unit, np.asarray(arrays["graph"]), np.array(arrays["entries"]), params, key,
                       from_cache=True, build_seconds=seconds if isinstance(seconds, int | float) else None)
        except (OSError, ValueError, TypeError, KeyError, EOFError):
            return None

    # -- queries --------------------------------------------------------------------------------
    def query(self, vectors: np.ndarray, k: int = 10, ef: int | None = None,
              seeds: Sequence[Sequence[int]] | None = None, n_seeds: int = DEFAULT_SEEDS
              ) -> tuple[np.ndarray, np.ndarray]:
        """Approximate cosine top-k of each query row: (Q, k) int32 row ids and (Q, k) float32
        inner products with the index's unit rows, best first. `vectors` (Q, D) or (D,), unit
        length for cosines (any length ranks the same). `ef` >= k is the candidate list length
        (default max(DEFAULT_EF, k)). `seeds[q]`: extra rows query q starts from (e.g. the query
        word's own row). Slots that could not be filled (k > reachable rows) hold (-1, -inf)."""
        # subtle: always a fresh writable copy, so a read-only row of a memory map does not make
        # Numba compile (and cache) a second specialisation of the kernel
        q = np.array(vectors, dtype=np.float32, order="C", copy=True)
        single = q.ndim == 1
        q = q.reshape(1, -1) if single else q
        if q.ndim != 2 or q.shape[1] != self.dim:
            raise ValueError(f"expected ({self.dim},) or (Q, {self.dim}) queries, got {np.shape(vectors)}")
        k = int(k)
        if k < 1:
            raise ValueError("k must be at least 1")
        ef = max(int(ef or DEFAULT_EF), k)
        n_seeds = max(1, min(int(n_seeds), len(self._entry_ids)))
        extra = max((len(s) for s in seeds), default=0) if seeds is not None else 0
        start = np.full((len(q), n_seeds + extra), -1, dtype=np.int32)
        _best_entries(self._entry_rows, self._entry_ids, q, start[:, :n_seeds])
        if seeds is not None:
            if len(seeds) != len(q):
                raise ValueError(f"seeds has {len(seeds)} rows for {len(q)} queries")
            for i, s in enumerate(seeds):
                s = np.asarray(s, dtype=np.int64)
                if s.size and (s.min() < 0 or s.max() >= self.n):
                    raise ValueError(f"seed ids must be in [0, {self.n})")
                start[i, n_seeds:n_seeds + len(s)] = s
        ids = np.empty((len(q), k), dtype=np.int32)
        sims = np.empty((len(q), k), dtype=np.float32)
        buf = self._take_visited(len(q))
        try:
            _beam_search(self.unit, self.graph, q, start, ef, buf[0], buf[1], ids, sims)
        finally:
            buf[1] += len(q)
            with self._lock:
                self._free.append(buf)
        return (ids[0], sims[0]) if single else (ids, sims)

    def _take_visited(self, n_queries: int) -> list:
        """[visited (N,) int32, first stamp] for one query call. Buffers are pooled, so
        concurrent calls (from threads; the kernel releases the GIL) each get their own, and a
        call does not pay for allocating and zeroing 4 bytes per row."""
        with self._lock:
            buf = self._free.pop() if self._free else [np.zeros(self.n, dtype=np.int32), 0]
        if buf[1] + n_queries >= np.iinfo(np.int32).max:
            buf[0][:] = 0
            buf[1] = 0
        return buf
