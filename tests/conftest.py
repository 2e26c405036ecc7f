"""Shared test helpers: where ../shared lives, and a small real text."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("W2V_SHARED", ROOT.parent / "shared"))
CORPUS_GZ = SHARED / "corpora" / "gutenberg-100m.txt.gz"
QUESTIONS = SHARED / "eval" / "questions-words.txt"


def shared_slice(n_chars: int) -> str:
    """The first n_chars characters of the shared corpus (cut at a space), or skip the test."""
    if not CORPUS_GZ.exists():
        pytest.skip(f"shared corpus not found at {CORPUS_GZ} (set W2V_SHARED)")
    with gzip.open(CORPUS_GZ, "rt", encoding="utf-8") as f:
        text = f.read(n_chars)
    return text[: text.rfind(" ")]


@pytest.fixture(scope="session")
def small_real_text() -> str:
    """~200k words of real prose: enough for the loss to fall and neighbours to form."""
    return shared_slice(1_200_000)
