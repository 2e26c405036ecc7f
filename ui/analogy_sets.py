"""The analogy question files the app can evaluate on: the sample shipped in sample_corpora/, and
the Google sets of the original word2vec release once they are in the cache.

Does: `available()` names the files that are there now (label -> path), sample first;
`missing()` the Google sets not downloaded yet; `URL_NAMES` their short names in a link
(`?questions=sample`); `download_button(dataset)` draws one button that downloads a set into the
cache (`python -m core download questions-words` does the same from a terminal) with a progress
bar, reruns the page on success and shows one line on failure.
Downloads from the app are serialised in the process (a lock), so two visitors pressing at once
cannot write the same `.part` file; a set is a fixed, checked file under 1 MB, fetched once per
cache, so a hosted visitor may press it too.
Does not: fetch or verify bytes (core/download.py), parse questions (core/vectors/evaluate.py),
or look anywhere but the repository and the download cache.
"""

from __future__ import annotations

import threading
from pathlib import Path

import streamlit as st

from core import download

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_LABEL = "small world analogies (sample)"
SAMPLE = ROOT / "sample_corpora" / "small_world_analogies.txt"
GOOGLE = {  # label on the page -> the dataset `python -m core download` fetches
    "questions-words.txt (Mikolov et al.)": download.QUESTIONS_WORDS,
    "questions-phrases.txt (Mikolov et al.)": download.QUESTIONS_PHRASES,
}
URL_NAMES = {SAMPLE_LABEL: "sample", **{label: d.name for label, d in GOOGLE.items()}}  # label -> ?questions=
DONE_KEY = "analogy_set_downloaded"  # session key: the label of a set just downloaded (for one message)
_LOCK = threading.Lock()  # subtle: a module global, so one lock per process even across sessions


def available() -> dict[str, Path]:
    """label -> path of every question file present now: the sample, then the downloaded sets."""
    out = {SAMPLE_LABEL: SAMPLE} if SAMPLE.is_file() else {}
    for label, dataset in GOOGLE.items():
        path = download.dataset_path(dataset)
        if path is not None:
            out[label] = path
    return out


def missing() -> list[tuple[str, download.Dataset]]:
    """(label, dataset) of the Google sets that are not in the cache."""
    return [(label, d) for label, d in GOOGLE.items() if download.dataset_path(d) is None]


def _fetch(label: str, dataset: download.Dataset) -> None:
    bar = st.progress(0.0, text=f"Downloading {dataset.file}…")

    def progress(done: int, total: int) -> None:
        bar.progress(min(1.0, done / total) if total else 1.0,
                     text=f"Downloading {dataset.file}: {done / 1e3:,.0f} of {total / 1e3:,.0f} kB")

    try:
        with _LOCK:
            download.download(dataset, progress)
    except download.DownloadError as e:
        bar.empty()
        st.error(f"Could not download {dataset.file}: {e}")
    else:
        st.session_state[DONE_KEY] = label
        st.rerun()


def download_button(label: str, dataset: download.Dataset, key: str) -> None:
    """A button that downloads `dataset` into the cache (size and SHA-256 checked), then reruns."""
    if st.button(f"Download {dataset.file} ({dataset.size / 1e3:,.0f} kB)", key=key,
                 icon=":material/download:",
                 help=f"The analogy set of the original word2vec release, from {dataset.url}; or run "
                      f"`python -m core download {dataset.name}` in a terminal."):
        _fetch(label, dataset)


def just_downloaded() -> str | None:
    """The label of a set this session downloaded on the previous run (shown once), or None."""
    return st.session_state.pop(DONE_KEY, None)
