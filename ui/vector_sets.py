"""Vector sets for the Vectors page: uploads, the operator's vectors folder and (not hosted) local
paths, each loaded once per process and shared read-only by every session that asks for it.

Does: refuse an upload over the size limit from its declared `.size`, before reading its bytes;
load uploads and folder files through `st.cache_resource` keyed by the content's sha256 and the
row limit, so ten visitors opening the same set hold one copy; make the shared arrays read-only
(`flags.writeable = False`, the unit-length rows computed up front), so no session can change
what another sees; list the operator's folder (W2V_VECTORS_DIR) by file name only and resolve a
name strictly inside it (no `..`, no absolute path, no symlink out of the folder); refuse a typed
path in hosted mode.
Prepared sets (folders written by `python -m core prepare`: vectors.npy, unit.npy, vocab.txt, and
optionally the approximate index in ann/) are offered from the folder by their folder name (and
opened from a typed folder path when not hosted). They are opened with vector_io.open_mmap:
memory-mapped read-only, shared through `st.cache_resource` keyed by the resolved path, the size
and mtime of each file, the index folder's mtime and EXACT_MAX (nothing is hashed per request).
Above core.vectors.EXACT_MAX words the cached index is attached (AnnIndex.cached); an index is
never built here. Memory: the word list and its dict are in RAM (~170 B a word); the vectors and
unit rows stay in the page cache, mapped (an exact query reads all of unit.npy; an index query only
the rows it visits).
Does not: parse files (core/vectors/vector_io.py never unpickles) or draw widgets (pages/vectors.py).

Thread-safety of a shared Vectors: queries only read `vectors`, `unit` and `index`; the one lazy
field, the lower-case index built by `id_ci`, is assigned whole, so two sessions building it at
once both get a correct dict.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from core.vectors import keyed as core_vectors
from core.vectors import vector_io
from core.vectors.keyed import Vectors

from . import hosted

EXTENSIONS = (".bin", ".txt", ".vec", ".npz")
SHARED_UPLOADS = 6  # uploaded sets kept in the shared cache (each also held by the sessions using it)
UPLOAD_TTL = "1h"  # an upload nobody loaded for an hour leaves the cache


class VectorSetError(ValueError):
    """A vector set that cannot be loaded here; the message is one line for the page."""


@dataclass(frozen=True)
class VectorSet:
    """A loaded set: the name the page shows, the shared read-only vectors, what the load repaired."""

    name: str
    vectors: Vectors
    report: vector_io.LoadReport
    digest: str = ""  # sha256 of the file's bytes ("" for a local path or a prepared folder)
    prepared: bool = False  # a memory-mapped prepared folder (python -m core prepare)

    def notes(self) -> list[str]:
        """One sentence per repair or oddity: the load's repairs, and zero vectors (read sets only;
        a prepared set is mapped, not scanned)."""
        out = self.report.notes()
        if not self.prepared:
            zeros = zero_rows(self.vectors)
            if zeros:
                out.append(f"{zeros:,} word(s) have an all-zero vector: no direction, so they are never an "
                           "answer and their own neighbours are meaningless")
        return out


def zero_rows(vectors: Vectors) -> int:
    """How many rows are all zero (their unit row is zero too: cosine 0 with everything)."""
    return int((~vectors.vectors.any(axis=1)).sum())


def freeze(vectors: Vectors) -> Vectors:
    """Make a Vectors safe to share: unit rows computed now, every array read-only. Returns it."""
    vectors.unit  # noqa: B018 - computed once here, not lazily by the first session that queries
    for arr in (vectors.vectors, vectors.unit, vectors.counts):
        if arr is not None:
            arr.flags.writeable = False
    return vectors


def _load(data_or_path: bytes | Path, limit: int | None) -> tuple[Vectors, vector_io.LoadReport]:
    src = io.BytesIO(data_or_path) if isinstance(data_or_path, bytes) else data_or_path
    try:
        vectors, report = vector_io.load_with_report(src, "auto", limit=limit)
    except vector_io.VectorFileError as e:
        raise VectorSetError(str(e)) from None
    return freeze(vectors), report


@st.cache_resource(show_spinner="Reading the vectors…", max_entries=SHARED_UPLOADS, ttl=UPLOAD_TTL)
def _shared_upload(digest: str, limit: int | None, _data: bytes) -> tuple[Vectors, vector_io.LoadReport]:
    """One upload's vectors, shared by every session that uploads the same bytes (key: sha256, limit)."""
    return _load(_data, limit)


@st.cache_resource(show_spinner="Reading the vectors…", max_entries=16)
def _shared_file(digest: str, limit: int | None, _path: str) -> tuple[Vectors, vector_io.LoadReport]:
    """One folder file's vectors, shared by every session (key: sha256 of its content, limit)."""
    return _load(Path(_path), limit)


@st.cache_resource(show_spinner="Opening the memory-mapped vectors…", max_entries=8)
def _shared_prepared(path: str, stamp: tuple, exact_max: int) -> tuple[Vectors, vector_io.LoadReport]:
    """A prepared folder opened memory-mapped, its cached index attached when it has more than
    `exact_max` words (key: resolved path, `stamp` of its files, exact_max)."""
    try:
        vectors = vector_io.open_mmap(path)
    except vector_io.VectorFileError as e:
        raise VectorSetError(str(e)) from None
    if len(vectors) > exact_max:
        attach_cached_index(vectors, Path(path) / vector_io.INDEX_DIR)
    return freeze(vectors), vector_io.LoadReport("memory-mapped .npy", len(vectors), len(vectors))


def attach_cached_index(vectors: Vectors, cache_dir: Path) -> bool:
    """Attach the index `python -m core prepare --index` cached in cache_dir, if there is a valid
    one; never build. True when attached. A stale or damaged one is not attached: the set is
    searched exactly and `vectors.ann_problem` says why in one line (no path; see index_hint)."""
    if not cache_dir.is_dir():
        return False
    from core.vectors.ann import AnnIndex, prepared_key  # usearch: only for sets that have an index

    try:
        index, problem = AnnIndex.lookup(vectors.unit, cache_dir, key=prepared_key(vectors.unit))
    except Exception as e:  # noqa: BLE001 - whatever a broken file does, the set stays usable exactly
        index, problem = None, f"the neighbour index could not be read ({type(e).__name__})"
    vectors.use_index(index, problem=problem if "no neighbour index" not in problem else "")
    return index is not None


def _stamp(folder: Path) -> tuple:
    """What changes when a prepared folder is rewritten or gets an index: (size, mtime) of each
    file and the mtime of ann/ (an index is renamed into it, which touches it)."""
    out = []
    for name in vector_io.PREPARED_FILES:
        st_ = (folder / name).stat()
        out.append((st_.st_size, st_.st_mtime_ns))
    try:
        out.append((folder / vector_io.INDEX_DIR).stat().st_mtime_ns)
    except OSError:
        out.append(0)
    return tuple(out)


def load_prepared(folder: Path, name: str) -> VectorSet:
    """A prepared folder (resolved path) as a shared read-only, memory-mapped set."""
    try:
        stamp = _stamp(folder)
    except OSError as e:
        raise VectorSetError(f"{name}: cannot read the prepared set ({e.strerror or e})") from None
    vectors, report = _shared_prepared(str(folder), stamp, core_vectors.EXACT_MAX)
    return VectorSet(name, vectors, report, prepared=True)


def search_mode(vectors: Vectors) -> bool:
    """True when a whole-vocabulary query goes to the attached index (Vectors' own default rule)."""
    return vectors.ann_index is not None and len(vectors) > core_vectors.EXACT_MAX


def describe_search(vectors: Vectors, approximate: bool, seconds: float) -> str:
    """One line for the page: which search answered, over how many words, how long it took."""
    how = "Approximate index" if approximate else "Exact search"
    return f"{how}, {len(vectors):,} words: {seconds * 1e3:,.1f} ms"


def index_hint(vectors: Vectors) -> str | None:
    """What to do when a set is above EXACT_MAX and has no usable index (none, stale or damaged),
    else None. One line, no path."""
    if len(vectors) <= core_vectors.EXACT_MAX or vectors.ann_index is not None:
        return None
    if vectors.ann_problem:
        return (f"This set's approximate index is not used: {vectors.ann_problem}. Every query scans all "
                f"{len(vectors):,} words until it is rebuilt outside the app: `python -m core prepare FOLDER --index`.")
    return (f"This set has {len(vectors):,} words, more than the {core_vectors.EXACT_MAX:,} exact search is "
            "meant for, and no approximate index: every query scans all of them. An index answers in about "
            "a millisecond. Build it once, outside the app: `python -m core prepare VECTORS -o FOLDER --index` "
            "(or `python -m core prepare FOLDER --index` for a folder prepared earlier), then offer FOLDER "
            "from W2V_VECTORS_DIR.")


def _sha256_file(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


@st.cache_data(show_spinner="Checking the file…", max_entries=64)
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:
    return _sha256_file(Path(path))


# -- uploads ----------------------------------------------------------------------------------------
def check_upload(upload) -> None:
    """Raise VectorSetError for an empty upload or one over the size limit, from `.size` alone."""
    size = int(upload.size)
    if size == 0:
        raise VectorSetError(f"{upload.name} is empty")
    message = hosted.too_large(upload.name, size)
    if message:
        raise VectorSetError(message)


def load_upload(upload, limit: int | None = None) -> VectorSet:
    """An UploadedFile (anything with .name, .size and .getvalue()) as a shared read-only set."""
    check_upload(upload)
    data = upload.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    vectors, report = _shared_upload(digest, limit, data)
    return VectorSet(upload.name, vectors, report, digest)


# -- the operator's folder ----------------------------------------------------------------------------
def folder() -> Path | None:
    """The operator's vectors folder (W2V_VECTORS_DIR), resolved, or None."""
    return hosted.settings().vectors_dir


def _inside(base: Path, name: str) -> Path | None:
    """The real file or prepared folder `name` stands for inside `base`, or None when it is not a
    plain file name, or its real location (symlinks followed) is not a file or a prepared folder
    inside `base` (a prepared folder's three files must resolve inside `base` too)."""
    if not name or name in (".", "..") or Path(name).name != name or "/" in name or "\\" in name:
        return None
    try:
        real = (base / name).resolve(strict=True)
    except (OSError, RuntimeError):  # missing, or a symlink loop
        return None
    if not real.is_relative_to(base):
        return None
    if real.is_file() or (real.is_dir() and _prepared_inside(base, real)):
        return real
    return None


def _prepared_inside(base: Path, folder: Path) -> bool:
    try:
        files = [(folder / n).resolve(strict=True) for n in vector_io.PREPARED_FILES]
    except (OSError, RuntimeError):
        return False
    return all(f.is_relative_to(base) and f.is_file() for f in files)


def folder_files(base: Path | None = None) -> list[str]:
    """Names of the vector files and prepared folders offered from the folder (sorted; hidden
    entries and anything whose real location is outside the folder are left out)."""
    base = base if base is not None else folder()
    if base is None:
        return []
    base = base.resolve()
    try:
        names = sorted(p.name for p in base.iterdir())
    except OSError:
        return []
    out = []
    for n in names:
        real = None if n.startswith(".") else _inside(base, n)
        if real is not None and (real.is_dir() or n.lower().endswith(EXTENSIONS)):
            out.append(n)
    return out


def resolve_in_folder(name: str, base: Path | None = None) -> Path:
    """The file or prepared folder `name` inside the folder; VectorSetError for anything else
    (`../x`, an absolute path, a symlink out of the folder, a missing file, a folder that is not
    prepared, no folder configured)."""
    base = base if base is not None else folder()
    if base is None:
        raise VectorSetError("this server offers no vector files")
    real = _inside(base.resolve(), name)
    if real is None:
        raise VectorSetError(f"{name!r} is not one of this server's vector files")
    return real


def load_from_folder(name: str, limit: int | None = None, base: Path | None = None) -> VectorSet:
    """A file or prepared folder of the operator's folder, by name, as a shared read-only set
    (`limit` does not apply to a prepared folder, which is mapped, not read)."""
    path = resolve_in_folder(name, base)
    if path.is_dir():
        return load_prepared(path, name)
    st_ = path.stat()
    digest = _file_sha256(str(path), st_.st_size, st_.st_mtime_ns)
    try:
        vectors, report = _shared_file(digest, limit, str(path))
    except VectorSetError as e:  # subtle: a reader's message may name the file's real path; show the name
        raise VectorSetError(str(e).replace(str(path), name).replace(str(path.parent), "")) from None
    return VectorSet(name, vectors, report, digest)


# -- local paths (never when hosted) ---------------------------------------------------------------------
def load_path(text: str, limit: int | None = None) -> VectorSet:
    """A vector file, or a prepared folder (or one of its files), from a path typed on this
    computer. Refused when hosted: a server's disk is not the visitor's. A file is not shared (one
    user; a local file may be huge); a prepared folder is mapped and shared like the folder's."""
    if hosted.hosted():
        raise VectorSetError("reading files from the server's disk is disabled here; upload the file"
                             + (", or choose one of this server's vector sets" if folder() else ""))
    text = text.strip().strip('"').strip("'")
    if not text:
        raise VectorSetError("type the path of a vector file")
    path = Path(text).expanduser()
    if path.name in vector_io.PREPARED_FILES and vector_io.is_prepared(path.parent):
        path = path.parent
    if path.is_dir():
        if vector_io.is_prepared(path):
            return load_prepared(path.resolve(), text)
        raise VectorSetError(f"{path} is a folder; give the path of a vector file, or of a folder "
                             f"prepared by `python -m core prepare` ({', '.join(vector_io.PREPARED_FILES)})")
    if not path.is_file():
        raise VectorSetError(f"{path}: no such file")
    vectors, report = _load(path, limit)
    return VectorSet(text, vectors, report)
