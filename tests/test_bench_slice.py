"""bench/bench_ab.py's slice of the corpus: the first N words, whether the text has many lines or
one (the shared corpus is text8-style, a single line of ~17M words: cutting by whole lines used to
copy all of it, so every "--words" run of bench_ab.py and bench_threads.py trained the whole corpus)."""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_ab import cut_words  # noqa: E402


def _gz(path: Path, text: str) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write(text)
    return path


def test_one_long_line_is_cut_to_the_words_asked(tmp_path):
    words = [f"w{i % 1000}x{i}" for i in range(300_000)]
    src = _gz(tmp_path / "one.txt.gz", " " + " ".join(words) + "\n")
    dst = tmp_path / "slice.txt"
    cut_words(src, 123_457, dst, block=4096)  # small blocks: words straddle block boundaries
    assert dst.read_text(encoding="utf-8").split() == words[:123_457]


def test_many_lines_keep_their_words_in_order(tmp_path):
    lines = [" ".join(f"s{j}t{i}" for i in range(7)) for j in range(1000)]
    src = _gz(tmp_path / "lines.txt.gz", "\n".join(lines) + "\n")
    dst = tmp_path / "slice.txt"
    cut_words(src, 70, dst, block=50)
    assert dst.read_text(encoding="utf-8").split() == " ".join(lines).split()[:70]


def test_a_short_corpus_is_copied_whole(tmp_path):
    src = _gz(tmp_path / "short.txt.gz", "a b c")
    dst = tmp_path / "slice.txt"
    cut_words(src, 10, dst)
    assert dst.read_text(encoding="utf-8").split() == ["a", "b", "c"]
