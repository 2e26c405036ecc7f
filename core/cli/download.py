"""CLI command `download`: fetch a real corpus (text8) or an analogy set (questions-words,
questions-phrases) into the cache directory.

Does: `register(subparsers)` adds `download` to the main CLI (core/__main__.py) with
`func(args) -> exit code`; `python -m core download text8 [--url URL] [--dir DIR]` draws a
progress bar on stderr (bytes, MB/s, ETA) and prints the file's path on stdout;
`python -m core download --list` shows each dataset and whether it is already there. Failures
(offline, bad checksum, full disk) are one `error: ...` line on stderr and exit code 2.
Does not: download or verify anything itself (core/download.py does).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TextIO

from ..download import DATASETS, DownloadError, cache_dir, dataset_path, download
from .common import CliError, fmt_duration, guard


def register(subparsers) -> None:
    """Add `download` to an argparse subparsers object (handler in `func`)."""
    p = subparsers.add_parser(
        "download", help="download a real corpus (text8, 31 MB) or the Google analogy sets into the cache",
        description="Download, verify (size and SHA-256) and, for text8, unzip a dataset into the cache "
                    "directory ($W2V_CACHE_DIR, default ~/.cache/w2v-explorer): text8 (the corpus), "
                    "questions-words and questions-phrases (the analogy sets of the original word2vec "
                    "release). An interrupted download resumes.")
    p.add_argument("corpus", nargs="?", choices=sorted(DATASETS), help="the dataset to download")
    p.add_argument("--url", default=None, help="download from this mirror instead (the same checks apply)")
    p.add_argument("--dir", default=None, metavar="DIR", help="put it here instead of the cache directory")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the server (default 10)")
    p.add_argument("--list", action="store_true", help="list the datasets and where they are")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=guard(cmd_download, (DownloadError,)))


class DownloadBar:
    """A one-line progress bar: percent, MB done of total, MB/s over this run, ETA."""

    def __init__(self, stream: TextIO | None = None, enabled: bool = True, clock=time.monotonic):
        self.stream = stream if stream is not None else sys.stderr  # looked up now, so redirection works
        self.enabled, self.clock = enabled, clock
        self.t0: float | None = None
        self.first = 0  # bytes already there when this run began (a resumed download)
        self.drawn = False
        self.last = -1.0

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = self.clock()
        if self.t0 is None:
            self.t0, self.first = now, done
        if now - self.last < 0.1 and done < total:  # redraw at most 10 times a second
            return
        self.last = now
        self.stream.write("\r" + self.line(done, total, now - self.t0))
        self.stream.flush()
        self.drawn = True

    def line(self, done: int, total: int, elapsed: float) -> str:
        """The bar's text for `done` of `total` bytes after `elapsed` seconds of this run."""
        fraction = done / total if total else 1.0
        rate = (done - self.first) / elapsed if elapsed > 0 else 0.0
        eta = (total - done) / rate if rate > 0 else float("nan")
        width = 30
        filled = int(width * min(1.0, fraction))
        return (f"[{'#' * filled}{'.' * (width - filled)}] {100 * fraction:5.1f}% {done / 1e6:,.1f}/"
                f"{total / 1e6:,.1f} MB {rate / 1e6:,.2f} MB/s ETA {fmt_duration(eta)}  ")

    def close(self) -> None:
        """End the bar's line, so what follows starts on a fresh one."""
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False


def cmd_list(directory: Path) -> int:
    """One line per dataset: name, download size, and its path or 'not downloaded'."""
    for name, dataset in sorted(DATASETS.items()):
        found = dataset_path(dataset, directory)
        print(f"{name}\t{dataset.size / 1e6:.1f} MB\t{found if found else 'not downloaded'}")
    return 0


def cmd_download(args) -> int:
    """Download the named dataset and print where it is."""
    directory = Path(args.dir).expanduser() if args.dir else cache_dir()
    if args.list:
        return cmd_list(directory)
    if args.corpus is None:
        raise CliError(f"name the dataset to download ({', '.join(sorted(DATASETS))}), or use --list")
    if args.timeout <= 0:
        raise CliError(f"--timeout must be > 0 seconds, got {args.timeout}")
    dataset = DATASETS[args.corpus]
    bar = DownloadBar(enabled=not args.quiet)
    if not args.quiet:
        sys.stderr.write(f"{dataset.name}: {args.url or dataset.url} -> {directory}\n")
    try:
        path = download(dataset, bar, url=args.url, timeout=args.timeout, directory=directory)
    finally:
        bar.close()
    print(path)
    if args.dir and dataset_path(dataset) is None and not args.quiet:
        sys.stderr.write(f"note: the app looks in {cache_dir()}; set W2V_CACHE_DIR={directory} to use this copy\n")
    return 0
