"""Shared test helpers: real text and evaluation files, from ../shared when present, else from the
committed sample_corpora, so a fresh clone runs every trainer test.

Does: `real_text(n)` gives the first ~n characters of the shared 19M-word corpus, or of
sample_corpora/small_world.txt when ../shared is absent (or W2V_SHARED points elsewhere);
`analogy_questions()` / `word_pair_files()` give the matching evaluation files.
Does not: skip. Only a test that truly needs the big corpus or a file that exists nowhere else
(`need_shared`) skips, and says why.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("W2V_SHARED", ROOT.parent / "shared"))
CORPUS_GZ = SHARED / "corpora" / "gutenberg-100m.txt.gz"
QUESTIONS = SHARED / "eval" / "questions-words.txt"
SAMPLES = ROOT / "sample_corpora"
SMALL_WORLD = SAMPLES / "small_world.txt"
SMALL_WORLD_ANALOGIES = SAMPLES / "small_world_analogies.txt"
SMALL_WORLD_SIMILARITY = SAMPLES / "small_world_similarity.txt"


def have_shared() -> bool:
    return CORPUS_GZ.exists()


def need_shared(path: Path = CORPUS_GZ) -> None:
    """Skip: for the few comparisons that need the 19M-word corpus or a file only ../shared has."""
    if not path.exists():
        pytest.skip(f"{path} not found (set W2V_SHARED): this comparison needs ../shared")


def real_text(n_chars: int) -> str:
    """About n_chars characters of prose, cut at a word: the shared corpus (one long text8 line)
    when present, else small_world.txt (one sentence per line, ~5.3 characters per word)."""
    if have_shared():
        with gzip.open(CORPUS_GZ, "rt", encoding="utf-8") as f:
            text = f.read(n_chars)
        return text[: text.rfind(" ")]
    with open(SMALL_WORLD, encoding="utf-8") as f:
        text = f.read(n_chars)
    return text[: text.rfind("\n") + 1]  # whole sentences


def analogy_questions() -> Path:
    """Google's questions-words.txt when ../shared has it, else the small world's own file."""
    return QUESTIONS if QUESTIONS.exists() and have_shared() else SMALL_WORLD_ANALOGIES


@pytest.fixture(scope="session")
def small_real_text() -> str:
    """~200k words of real prose (or of the small world): enough for the loss to fall and
    neighbours to form."""
    return real_text(1_200_000)
