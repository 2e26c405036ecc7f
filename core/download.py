"""Real data on demand: text8 (Matt Mahoney's 100 MB of cleaned Wikipedia) and the Google analogy
sets of the original word2vec release (questions-words.txt, questions-phrases.txt), into a cache.

Does: fetch a file from its canonical address into a user cache directory as `<file>.part`,
resuming a partial file with an HTTP Range request (and starting over when the server ignores it);
check its size and SHA-256 before renaming it; a plain file (the analogy sets) is then in place,
and a zip (text8) has its one member streamed out to `text8.part` (refusing any other member name
or uncompressed size, so a zip bomb cannot fill the disk) and renamed atomically to `text8`;
report progress through a `(done_bytes, total_bytes)` callback. Every failure (offline, HTTP error,
wrong checksum, full disk, unwritable directory) is a `DownloadError` with a one-line message.
Standard library only.
Does not: read or parse what it fetched (core/corpus.py, core/vectors/evaluate.py do), draw a
progress bar (the CLI, Home and Analogies pages do), retry by itself, or guard against two
downloads into the same directory at once (the app serialises its own, ui/analogy_sets.py).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

Progress = Callable[[int, int], None]  # (bytes done, bytes in total)

CHUNK = 1 << 16  # bytes per read, network and zip alike
USER_AGENT = "w2v-explorer-downloader (Python urllib)"


@dataclass(frozen=True)
class Dataset:
    """A file to download (a zip with one member, or a plain file) and what it must look like."""

    name: str  # key on the command line
    url: str  # canonical address of the download
    size: int  # exact size of the download in bytes
    sha256: str  # SHA-256 of the download, lowercase hex
    file: str  # the file kept in the cache: the zip's only member, or the plain download itself
    file_size: int  # exact size of that file in bytes (the uncompressed size for a zip)
    zipped: bool = True  # False: the download is the file (no extraction)


TEXT8 = Dataset(
    name="text8",
    url="http://mattmahoney.net/dc/text8.zip",  # the address given on http://mattmahoney.net/dc/textdata.html
    size=31_344_016,  # the size TensorFlow's word2vec_basic.py tutorial checks (maybe_download)
    # SHA-256 as listed by d61h6k4/tensorflow-text8-input-data/Setup.hs (fileInfos); several other
    # independent projects that pin text8.zip list the same digest.
    sha256="a6640522afe85d1963ad56c05b0ede0a0c000dddc9671758a6cc09b7a38e5232",
    file="text8",
    file_size=100_000_000,  # text8 is the first 10^8 bytes of cleaned enwik9
)

# The analogy sets as released with word2vec (Mikolov et al. 2013; Apache-2.0). Address: Tomas
# Mikolov's own GitHub copy of the original code.google.com/p/word2vec trunk (github.com/tmikolov/
# word2vec), pinned to its newest commit (20c129a, "speedup & bugfix in word2phrase") so the bytes
# can never change under the checksum. Sizes and SHA-256: computed from the evaluation sets beside
# our CI checkout (shared/eval)
# (the Google sets from that release, see its README) and checked against the two files of that
# commit (`git show 20c129a:questions-words.txt | sha256sum`, the same for questions-phrases.txt);
# TensorFlow's copy (download.tensorflow.org/data/questions-words.txt) is published with the same
# 603,955 bytes and digest.
_WORD2VEC_RELEASE = "https://raw.githubusercontent.com/tmikolov/word2vec/20c129af10659f7c50e86e3be406df663beff438"
QUESTIONS_WORDS = Dataset(
    name="questions-words",
    url=f"{_WORD2VEC_RELEASE}/questions-words.txt",
    size=603_955,
    sha256="8c29b3332afc46f3fb8be04cb5297bf96f39aa7131272dff57869b4485b22a36",
    file="questions-words.txt",
    file_size=603_955,
    zipped=False,
)
QUESTIONS_PHRASES = Dataset(
    name="questions-phrases",
    url=f"{_WORD2VEC_RELEASE}/questions-phrases.txt",
    size=168_209,
    sha256="55cfc0894d0fe6cf974d106da3e09b5fb2fa6125b6ddc633d06e298dc5aa7901",
    file="questions-phrases.txt",
    file_size=168_209,
    zipped=False,
)
DATASETS: dict[str, Dataset] = {d.name: d for d in (TEXT8, QUESTIONS_WORDS, QUESTIONS_PHRASES)}


class DownloadError(RuntimeError):
    """A download or extraction that failed; the message is one line and says what to do."""


# -- where things live ------------------------------------------------------------------------------
def _writable(path: Path) -> bool:
    """True if `path` could be created or written: its nearest existing ancestor is writable."""
    for p in (path, *path.parents):
        if p.exists():
            return p.is_dir() and os.access(p, os.W_OK | os.X_OK)
    return False


def cache_dir() -> Path:
    """The cache directory: $W2V_CACHE_DIR, else $XDG_CACHE_HOME (default ~/.cache)/w2v-explorer.

    Falls back to <temp dir>/w2v-explorer when the default is not writable. Creates nothing.
    """
    if os.environ.get("W2V_CACHE_DIR"):
        return Path(os.environ["W2V_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    default = Path(base).expanduser() / "w2v-explorer"
    return default if _writable(default) else Path(tempfile.gettempdir()) / "w2v-explorer"


def dataset_path(dataset: Dataset, directory: Path | None = None) -> Path | None:
    """The dataset's file in the cache if present with exactly the right size, else None.

    subtle: only the size is checked here (pages ask on every rerun); the SHA-256 was checked
    before the file got its name, which only a complete, verified download receives."""
    path = (directory if directory is not None else cache_dir()) / dataset.file
    try:
        return path if path.is_file() and path.stat().st_size == dataset.file_size else None
    except OSError:
        return None


def text8_path(dataset: Dataset = TEXT8, directory: Path | None = None) -> Path | None:
    """The extracted text8 corpus in the cache if present with exactly the right size, else None."""
    return dataset_path(dataset, directory)


# -- errors -----------------------------------------------------------------------------------------
def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _network_reason(e: BaseException) -> str:
    """Why a connection or read failed, in a few words."""
    reason = getattr(e, "reason", e)  # URLError wraps the socket error
    if isinstance(reason, TimeoutError) or "timed out" in str(reason):
        return "timed out"
    return _one_line(getattr(reason, "strerror", None) or reason or type(reason).__name__)


@contextlib.contextmanager
def _disk_errors(path: Path) -> Iterator[None]:
    """Turn an OSError while writing `path` into a one-line DownloadError."""
    try:
        yield
    except OSError as e:
        if e.errno == errno.ENOSPC:
            raise DownloadError(f"disk full while writing {path}: free some space and run again") from None
        raise DownloadError(f"cannot write {path}: {_one_line(e.strerror or e)}") from None


# -- fetching the zip -------------------------------------------------------------------------------
def _open(url: str, start: int, timeout: float) -> http.client.HTTPResponse:
    """GET `url` from byte `start` on (a Range request when start > 0)."""
    headers = {"User-Agent": USER_AGENT}
    if start:
        headers["Range"] = f"bytes={start}-"
    request = urllib.request.Request(url, headers=headers)
    opener = urllib.request.build_opener()  # built per call so proxy settings are read now
    return opener.open(request, timeout=timeout)


def _connect(url: str, start: int, timeout: float) -> tuple[http.client.HTTPResponse, int]:
    """Open the download and return (response, offset it starts at): 0 unless the server resumed."""
    host = urlsplit(url).netloc or url
    try:
        response = _open(url, start, timeout)
    except urllib.error.HTTPError as e:
        e.close()
        if e.code == 416 and start:  # our partial file does not fit the server's file: start over
            return _connect(url, 0, timeout)
        raise DownloadError(f"cannot download {url}: HTTP {e.code} {_one_line(e.reason)}") from None
    except ValueError:
        raise DownloadError(f"not a download address: {url!r}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
        raise DownloadError(f"cannot reach {host} ({_network_reason(e)}): are you offline?") from None
    if start and response.status == 206 and _content_range(response)[0] != start:
        response.close()  # a range we did not ask for: ask for the whole file
        return _connect(url, 0, timeout)
    return response, start if response.status == 206 else 0  # 200 is the whole file: restart from zero


def _content_range(response: http.client.HTTPResponse) -> tuple[int | None, int | None]:
    """(first byte, total size) from a `Content-Range: bytes A-B/N` header; None where absent."""
    value = response.headers.get("Content-Range", "")
    try:
        span, total = value.split()[1].split("/")
        first = int(span.split("-")[0])
    except (IndexError, ValueError):
        return None, None
    return first, int(total) if total.isdigit() else None


def _announced_size(response: http.client.HTTPResponse) -> int | None:
    """The size of the whole file according to the server, if it says."""
    if response.status == 206:
        return _content_range(response)[1]
    length = response.headers.get("Content-Length", "")
    return int(length) if length.isdigit() else None


def _copy(response: http.client.HTTPResponse, out, done: int, size: int, progress: Progress | None) -> int:
    """Append the response body to `out`; return the bytes done, stopping early once above `size`."""
    if progress:
        progress(done, size)
    while True:
        try:
            chunk = response.read(CHUNK)
        except (OSError, http.client.HTTPException) as e:
            raise DownloadError(f"download interrupted after {done / 1e6:.1f} MB ({_network_reason(e)}): "
                                "run again to resume") from None
        if not chunk:
            return done
        done += len(chunk)
        if done > size:
            return done
        out.write(chunk)
        if progress:
            progress(done, size)


def _fetch(url: str, part: Path, size: int, progress: Progress | None, timeout: float) -> None:
    """Download `url` into `part`, appending to what is there when the server honours Range."""
    start = part.stat().st_size if part.is_file() else 0
    if start == size:  # complete: the caller checks it
        return
    if start > size:
        start = 0
    response, done = _connect(url, start, timeout)
    announced = _announced_size(response)
    if announced is not None and announced != size:
        response.close()
        raise DownloadError(f"{url} offers {announced:,} bytes, expected {size:,}: wrong address?")
    with response, _disk_errors(part), open(part, "ab" if done else "wb") as out:
        done = _copy(response, out, done, size, progress)
    if done > size:
        part.unlink()
        raise DownloadError(f"{url} sent more than the expected {size:,} bytes: wrong address?")
    if done < size:  # subtle: http.client ends a cut-off body quietly instead of raising IncompleteRead
        raise DownloadError(f"download interrupted after {done / 1e6:.1f} MB (connection closed early): "
                            "run again to resume")


def _sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _download_problem(path: Path, dataset: Dataset) -> str | None:
    """What is wrong with a downloaded file (size, then SHA-256), or None when it is the published one."""
    size = path.stat().st_size
    if size != dataset.size:
        return f"{dataset.name}: downloaded {size:,} bytes, expected {dataset.size:,}"
    if _sha256(path) != dataset.sha256:
        return f"{dataset.name}: checksum mismatch (the download's SHA-256 is not the published one)"
    return None


def _download_verified(dataset: Dataset, path: Path, url: str, progress: Progress | None, timeout: float) -> None:
    """Fetch into `path`.part, verify it, rename it; a bad file is deleted so the next run starts clean."""
    part = path.with_name(path.name + ".part")
    _fetch(url, part, dataset.size, progress, timeout)
    problem = _download_problem(part, dataset)
    if problem:
        part.unlink()
        raise DownloadError(f"{problem}: deleted it, run again")
    with _disk_errors(path):
        os.replace(part, path)


# -- extracting the one member ----------------------------------------------------------------------
def _member(archive: zipfile.ZipFile, dataset: Dataset) -> zipfile.ZipInfo:
    """The zip's only member, if it has the expected name and uncompressed size."""
    infos = archive.infolist()
    names = [i.filename for i in infos]
    if names != [dataset.file]:
        raise DownloadError(f"{dataset.name}: the zip holds {names}, expected only {dataset.file!r}")
    if infos[0].file_size != dataset.file_size:
        raise DownloadError(f"{dataset.name}: {dataset.file!r} would unpack to {infos[0].file_size:,} bytes, "
                            f"expected {dataset.file_size:,}")
    return infos[0]


def _extract(zip_path: Path, dataset: Dataset, target: Path) -> None:
    """Stream the member to `target`.part, check its size, then rename it to `target`."""
    part = target.with_name(target.name + ".part")
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as e:
        raise DownloadError(f"{zip_path} is not a readable zip ({_one_line(e)})") from None
    try:
        with archive, archive.open(_member(archive, dataset)) as src, _disk_errors(part), open(part, "wb") as out:
            written = _unpack(src, out, dataset)
    except DownloadError:
        part.unlink(missing_ok=True)  # frees the space when the disk was full
        raise
    if written != dataset.file_size:
        part.unlink()
        raise DownloadError(f"{dataset.name}: {dataset.file!r} unpacked to {written:,} bytes, "
                            f"expected {dataset.file_size:,}")
    with _disk_errors(target):
        os.replace(part, target)


def _unpack(src, out, dataset: Dataset) -> int:
    """Copy a zip member's bytes to `out`, refusing more than `file_size`; return the count."""
    written = 0
    while True:
        try:
            block = src.read(CHUNK)  # subtle: ZipExtFile checks the CRC-32 when it reaches the end
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as e:
            raise DownloadError(f"{dataset.name}: the zip is corrupt ({_one_line(e)})") from None
        if not block:
            return written
        written += len(block)
        if written > dataset.file_size:  # never trust the header alone
            raise DownloadError(f"{dataset.name}: {dataset.file!r} unpacks to more than "
                                f"{dataset.file_size:,} bytes")
        out.write(block)


# -- the whole thing --------------------------------------------------------------------------------
def download(dataset: Dataset, progress: Progress | None = None, url: str | None = None,
             timeout: float = 10.0, directory: Path | None = None) -> Path:
    """Download, verify (and for a zip, extract) `dataset` into `directory` (default `cache_dir()`);
    return the path of its file.

    Nothing is fetched when the file is already there. A verified zip left by an earlier run whose
    extraction failed is reused. `timeout` (seconds) bounds connecting and each read, so an offline
    machine fails within about that long.
    """
    folder = directory if directory is not None else cache_dir()
    target = folder / dataset.file
    if dataset_path(dataset, folder) is not None:
        if progress:
            progress(dataset.size, dataset.size)
        return target
    with _disk_errors(folder):
        folder.mkdir(parents=True, exist_ok=True)
        if not os.access(folder, os.W_OK):
            raise PermissionError(errno.EACCES, "permission denied")
    if not dataset.zipped:
        _download_verified(dataset, target, url or dataset.url, progress, timeout)
        return target
    zip_path = folder / f"{dataset.name}.zip"
    if zip_path.is_file() and _download_problem(zip_path, dataset):
        zip_path.unlink()  # a stale or damaged zip from elsewhere: fetch it again
    if not zip_path.is_file():
        _download_verified(dataset, zip_path, url or dataset.url, progress, timeout)
    _extract(zip_path, dataset, target)
    zip_path.unlink(missing_ok=True)  # the 100 MB text is what we keep; the zip is no longer needed
    return target


def download_text8(progress: Progress | None = None, url: str = TEXT8.url, timeout: float = 10.0,
                   directory: Path | None = None) -> Path:
    """Download text8 into the cache (see `download`) and return the path of the 100 MB text file."""
    return download(TEXT8, progress, url, timeout, directory)
