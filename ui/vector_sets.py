"""Vector sets for the Vectors page: uploads, the operator's vectors folder and (not hosted) local
paths, each loaded once per process and shared read-only by every session that asks for it.

Does: refuse an upload over the size limit from its declared `.size`, before reading its bytes;
load uploads and folder files through `st.cache_resource` keyed by the content's sha256 and the
row limit, so ten visitors opening the same set hold one copy; make the shared arrays read-only
(`flags.writeable = False`, the unit-length rows computed up front), so no session can change
what another sees; list the operator's folder (W2V_VECTORS_DIR) by file name only and resolve a
name strictly inside it (no `..`, no absolute path, no symlink out of the folder); refuse a typed
path in hosted mode.
Does not: parse files (core/vector_io.py never unpickles) or draw widgets (pages/vectors.py).

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

from core import vector_io
from core.vectors import Vectors

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
    digest: str = ""  # sha256 of the file's bytes ("" for a local path, which is not shared)


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


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


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
    """The real file `name` stands for inside `base`, or None when it is not a plain file name,
    or its real location (symlinks followed) is not a file inside `base`."""
    if not name or name in (".", "..") or Path(name).name != name or "/" in name or "\\" in name:
        return None
    try:
        real = (base / name).resolve(strict=True)
    except (OSError, RuntimeError):  # missing, or a symlink loop
        return None
    if not real.is_relative_to(base) or not real.is_file():
        return None
    return real


def folder_files(base: Path | None = None) -> list[str]:
    """Names of the vector files offered from the folder (sorted; hidden files and anything
    whose real location is outside the folder are left out)."""
    base = base if base is not None else folder()
    if base is None:
        return []
    base = base.resolve()
    try:
        names = sorted(p.name for p in base.iterdir())
    except OSError:
        return []
    return [n for n in names if not n.startswith(".") and n.lower().endswith(EXTENSIONS)
            and _inside(base, n) is not None]


def resolve_in_folder(name: str, base: Path | None = None) -> Path:
    """The file `name` inside the folder; VectorSetError for anything else (`../x`, an absolute
    path, a symlink out of the folder, a missing file, no folder configured)."""
    base = base if base is not None else folder()
    if base is None:
        raise VectorSetError("this server offers no vector files")
    real = _inside(base.resolve(), name)
    if real is None:
        raise VectorSetError(f"{name!r} is not one of this server's vector files")
    return real


def load_from_folder(name: str, limit: int | None = None, base: Path | None = None) -> VectorSet:
    """A file of the operator's folder, by name, as a shared read-only set."""
    path = resolve_in_folder(name, base)
    st_ = path.stat()
    digest = _file_sha256(str(path), st_.st_size, st_.st_mtime_ns)
    vectors, report = _shared_file(digest, limit, str(path))
    return VectorSet(name, vectors, report, digest)


# -- local paths (never when hosted) ---------------------------------------------------------------------
def load_path(text: str, limit: int | None = None) -> VectorSet:
    """A vector file from a path typed on this computer. Refused when hosted: a server's disk is
    not the visitor's. Not shared (one user; a local file may be huge)."""
    if hosted.hosted():
        raise VectorSetError("reading files from the server's disk is disabled here; upload the file"
                             + (", or choose one of this server's vector sets" if folder() else ""))
    text = text.strip().strip('"').strip("'")
    if not text:
        raise VectorSetError("type the path of a vector file")
    path = Path(text).expanduser()
    if path.is_dir():
        raise VectorSetError(f"{path} is a folder; give the path of a vector file")
    if not path.is_file():
        raise VectorSetError(f"{path}: no such file")
    vectors, report = _load(path, limit)
    return VectorSet(text, vectors, report)
