"""CLI command `prepare`: turn a large vector file into a memory-mapped set, with its index.

Does: `register(subparsers)` adds `prepare` to the main CLI (core/__main__.py) with
`func(args) -> exit code`.

    python -m core prepare VECTORS -o OUT [--limit N] [--index] [--cache-dir DIR] [--json]
    python -m core prepare OUT --index                  # add the index to a set prepared earlier
    python -m core prepare VECTORS -o OUT --layout pca  # also store map coordinates (pca or umap)
    python -m core prepare OUT --layout umap            # add coordinates to a set prepared earlier

converts VECTORS (word2vec .bin/.txt/.vec, streamed once; or our .npz, read whole) into the
folder OUT with vector_io.convert_to_npy: `vectors.npy` and `unit.npy` ((V, D) float32, the
second with rows of unit length) and `vocab.txt` (one word per line). With --index it also builds
the approximate neighbour index (core/vectors/ann.py) once and caches it in `OUT/ann/` (or --cache-dir),
keyed by ann.prepared_key, so the folder can be copied to a server as it is. Put OUT in the app's
W2V_VECTORS_DIR and the Vectors page lists it by its folder name, opens it memory-mapped and
attaches the index found in `OUT/ann/` when the set has more than core.vectors.EXACT_MAX words.
With --layout pca|umap it stores the Embeddings map's coordinates in OUT (core/vectors/layout.py:
`layout-<method>.npy` + `.json` with the set's content key, so the page detects a stale or
damaged file): PCA streamed in blocks (3 components: the 2-D map and the 3-D one), or UMAP (2-D,
plus 3-D with --umap-3d) of the --umap-max most frequent words.
Progress goes to stderr; `--json` prints one summary object on stdout. Bad input (a missing or
malformed file, OUT being a file, an index that cannot be written) is one `error: ...` line on
stderr and exit code 2.
Does not: parse vector files (vector_io.py does) or search (vectors.py, ann.py). The app only
looks for an index in `OUT/ann/`; an index written to another --cache-dir is for scripts (or
link it there).
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path
from typing import TextIO

from ..vectors import layout, vector_io
from ..vectors.keyed import EXACT_MAX
from .common import CliError, guard, int_arg


def register(subparsers) -> None:
    """Add `prepare` to an argparse subparsers object (handler in `func`)."""
    p = subparsers.add_parser(
        "prepare", help="convert a large vector file to a memory-mapped set (and build its index)",
        description="Convert word2vec .bin/.txt/.vec (or .npz) vectors into a folder of memory-mapped "
                    "files that the app opens in about a second (vectors.npy, unit.npy, vocab.txt), and "
                    "with --index build the approximate neighbour index once into the folder's ann/. "
                    "Given a folder prepared earlier, only the index is built.")
    p.add_argument("vectors", help="vector file to convert, or a folder prepared earlier (with --index)")
    p.add_argument("-o", "--output", metavar="OUT", default=None,
                   help="folder to write (created; its three files are replaced)")
    p.add_argument("--limit", type=int_arg(1), default=None, metavar="N",
                   help="convert only the first N words (files list the most frequent first)")
    p.add_argument("--index", action="store_true",
                   help=f"also build the approximate neighbour index (the app uses it above "
                        f"{EXACT_MAX:,} words; usearch HNSW, minutes per million words)")
    p.add_argument("--cache-dir", default=None, metavar="DIR",
                   help=f"where the index goes (default OUT/{vector_io.INDEX_DIR}, the only place the app looks)")
    p.add_argument("--layout", choices=layout.METHODS, action="append", default=None,
                   help="store 2-D/3-D map coordinates for the Embeddings page (repeatable)")
    p.add_argument("--umap-max", type=int_arg(4), default=layout.UMAP_MAX_WORDS, metavar="N",
                   help=f"UMAP lays out the N most frequent words (default {layout.UMAP_MAX_WORDS:,}); "
                        "the rest have no UMAP position")
    p.add_argument("--umap-3d", action="store_true", help="also a 3-D UMAP (as long again)")
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=guard(cmd_prepare, (vector_io.VectorFileError,)))


class _Say:
    """Progress lines on stderr: `line` for a finished step, `update` redraws one line in place."""

    def __init__(self, enabled: bool, stream: TextIO | None = None):
        self.stream = stream if stream is not None else sys.stderr  # looked up now, so redirection works
        self.enabled = enabled
        self.open = False
        self.last = 0.0

    def update(self, text: str, final: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not final and now - self.last < 0.2):
            return
        self.last = now
        self.stream.write(f"\r{text}  ")
        self.stream.flush()
        self.open = True

    def line(self, text: str) -> None:
        if not self.enabled:
            return
        if self.open:
            self.stream.write("\n")
            self.open = False
        self.stream.write(text + "\n")
        self.stream.flush()


def _size_mb(folder: Path, names) -> float:
    return sum((folder / n).stat().st_size for n in names) / 1e6


def _convert(args, out: Path, say: _Say) -> dict:
    src = Path(args.vectors)
    if not src.exists():
        raise CliError(f"{src}: no such file")
    if out.exists() and not out.is_dir():
        raise CliError(f"{out} exists and is not a folder; -o names the folder to write")
    if out.resolve() == src.resolve().parent and src.name in vector_io.PREPARED_FILES:
        raise CliError(f"{src} would be overwritten; choose another -o folder")
    say.line(f"converting {src} -> {out}/" + (f" (first {args.limit:,} words)" if args.limit else ""))
    t0 = time.perf_counter()

    def progress(done: int, total: int) -> None:
        say.update(f"  {done:,} / {total:,} words ({100 * done / max(total, 1):.0f}%)", final=done == total)

    created = not out.exists()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", vector_io.VectorFileWarning)
            vector_io.convert_to_npy(src, out, limit=args.limit, progress=progress)
    except BaseException:
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()  # a failed conversion leaves no empty folder behind (its files are never left)
        raise
    notes = [str(w.message) for w in caught if issubclass(w.category, vector_io.VectorFileWarning)]
    for note in notes:
        say.line(f"warning: {note}")
    return {"seconds": round(time.perf_counter() - t0, 3), "notes": notes}


def _build_index(vectors, cache_dir: Path, say: _Say) -> dict:
    from ..vectors.ann import AnnIndex, prepared_key  # usearch: only when an index is asked for

    if len(vectors) <= EXACT_MAX:
        say.line(f"note: {len(vectors):,} words <= {EXACT_MAX:,}: the app searches this set exactly and does "
                 "not use the index")
    t0 = time.perf_counter()
    # default parameters only: the app looks the index up with them (AnnIndex.cached)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        index = AnnIndex.build(vectors.unit, cache_dir=cache_dir, key=prepared_key(vectors.unit),
                               progress=lambda msg: say.line(f"index: {msg}"))
    for w in caught:
        if "could not cache" in str(w.message):
            raise CliError(str(w.message))
    files = [p for p in cache_dir.glob(f"ann-{index.key[:24]}/*") if p.is_file()]
    return {"dir": str(cache_dir), "from_cache": index.from_cache,
            "seconds": round(time.perf_counter() - t0, 3), "build_seconds": index.build_seconds,
            "mb": round(sum(p.stat().st_size for p in files) / 1e6, 3), "params": vars(index.params)}


def _layouts(vectors, out: Path, args, say: _Say) -> list[dict]:
    """Compute and store each asked layout (one content key for all)."""
    key = layout.content_key(vectors.words, vectors.unit)
    done = []
    for method in dict.fromkeys(args.layout):
        for dims in ((3,) if method == "pca" else ((2, 3) if args.umap_3d else (2,))):
            t0 = time.perf_counter()
            lay = layout.compute(vectors.words, vectors.unit, method, dims=dims, max_words=args.umap_max, key=key,
                                 progress=lambda what, frac: say.update(f"  layout: {what} {100 * frac:.0f}%"))
            name = method if method == "pca" or dims == 2 else f"{method}3d"
            lay = layout.Layout(name, lay.coords, key, lay.placed)
            layout.save_layout(out, lay)
            seconds = round(time.perf_counter() - t0, 3)
            say.line(f"layout {name}: {lay.placed:,} of {len(vectors):,} words placed, {dims}-D, {seconds:.1f} s")
            done.append({"method": name, "dims": dims, "placed": lay.placed, "seconds": seconds})
    return done


def cmd_prepare(args) -> int:
    """Convert (unless VECTORS is already prepared), optionally build the index, print a summary."""
    t0 = time.perf_counter()
    say = _Say(not args.quiet)
    src = Path(args.vectors)
    summary: dict = {"output": None, "words": 0, "dim": 0, "convert": None, "index": None}
    if vector_io.is_prepared(src):
        if args.output is not None and Path(args.output).resolve() != src.resolve():
            raise CliError(f"{src} is already a prepared set; omit -o to build its index")
        if args.limit is not None:
            raise CliError(f"{src} is already a prepared set; --limit applies to a conversion")
        if not args.index and not args.layout:
            raise CliError(f"{src} is already a prepared set; add --index (neighbour index) or --layout "
                           "(map coordinates)")
        out = src
    elif src.is_dir():
        raise CliError(f"{src} is a folder without {', '.join(vector_io.PREPARED_FILES)}; give a vector file "
                    "or a folder prepared earlier")
    else:
        if args.output is None:
            raise CliError("name the folder to write with -o OUT")
        out = Path(args.output)
        summary["convert"] = _convert(args, out, say)
    vectors = vector_io.open_mmap(out)
    summary.update(output=str(out), words=len(vectors), dim=vectors.dim,
                   mb=round(_size_mb(out, vector_io.PREPARED_FILES), 3))
    say.line(f"{out}/: {len(vectors):,} words x {vectors.dim} ({summary['mb']:,.1f} MB in "
             f"{', '.join(vector_io.PREPARED_FILES)})")
    if args.index:
        cache_dir = Path(args.cache_dir) if args.cache_dir else out / vector_io.INDEX_DIR
        summary["index"] = _build_index(vectors, cache_dir, say)
        if args.cache_dir and cache_dir.resolve() != (out / vector_io.INDEX_DIR).resolve():
            say.line(f"note: the app only looks in {out / vector_io.INDEX_DIR}; link or move the index there")
    if args.layout:
        summary["layout"] = _layouts(vectors, out, args, say)
    summary["seconds"] = round(time.perf_counter() - t0, 3)
    say.line(f"done in {summary['seconds']:.1f} s; to offer it in the app, put the folder {out.name}/ inside "
             "W2V_VECTORS_DIR (or prepare straight into it)")
    if args.json:
        print(json.dumps(summary))
    return 0
