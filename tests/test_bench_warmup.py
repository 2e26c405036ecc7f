"""bench/bench_train.py's untimed warm-up runs every option set the timed rows use, so no row
pays for compiling: the HS rows of two full runs paid ~3 s for the Huffman tree's builder, which
only `--loss hs` compiles and the warm-up (skip-gram with negative sampling) never ran."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_train import Spec, command, warmup_commands, write_warmup_corpus  # noqa: E402

from core.corpus_parts import MIN_RANGE_BYTES, range_count  # noqa: E402
from core.word_table import WordTable  # noqa: E402

SPECS = [
    Spec("gensim", "gensim", "sg"),
    Spec("ours", "ours", "sg"),
    Spec("ours", "ours --shared-negatives", "sg", ["--shared-negatives"]),
    Spec("gensim", "gensim", "cbow"),
    Spec("ours", "ours", "cbow"),
    Spec("ours", "ours --loss hs", "sg", group="sg-hs", hs=True),
    Spec("ours", "ours", "sg", group="sg-small", small=True),
]


def _options(cmd: list[str]) -> list[str]:
    """A command without its corpus, output and epochs: what decides which code runs."""
    out, skip = [], False
    for i, a in enumerate(cmd):
        if skip:
            skip = False
            continue
        if a in ("-o", "--epochs"):
            skip = True
            continue
        if i == 4:  # python -m core train <corpus>
            continue
        out.append(a)
    return out


def test_every_timed_option_set_is_warmed_up_once(tmp_path):
    tiny = tmp_path / "warmup.txt"
    cmds = warmup_commands(SPECS, tiny, tmp_path, threads=2)
    warmed = [_options(c) for c in cmds]
    assert all(str(tiny) in c for c in cmds)
    assert all(c[c.index("--epochs") + 1] == "1" for c in cmds)
    for spec in SPECS:
        if spec.trainer == "ours":
            timed = _options(command(spec, tmp_path / "corpus.txt", tmp_path / "out.bin", 5, 2))
            assert timed in warmed, spec.label
    # skip-gram, shared negatives, CBOW, HS; the small job runs skip-gram's options: no fifth
    assert len(cmds) == 4
    assert sum("hs" in c for c in warmed) == 1
    assert not any("_gensim_train.py" in " ".join(c) for c in cmds)


def test_the_warm_up_corpus_takes_the_readers_every_path(tmp_path):
    """Two reader ranges (their tables merged: `_absorb`) and more words than a table's first size
    (its growth: `_rehash`): the 200 KB corpus before took neither, and the first timed row
    compiled both (8 MB more private memory in that round)."""
    path = tmp_path / "warmup.txt"
    write_warmup_corpus(path)
    size = path.stat().st_size
    assert size >= 2 * MIN_RANGE_BYTES and range_count(size, threads=2) == 2
    words = set(path.read_text().split())
    assert len(words) > WordTable()._info.shape[0]
