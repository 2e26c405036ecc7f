"""Small trained runs for app tests: built in a second, injected into AppTest's session_state."""

from __future__ import annotations

import functools

from core.config import Loss, TrainConfig
from core.corpus import read_corpus_text
from ui.corpora import LoadedCorpus
from ui.runs import Run, start_run

_WORDS = {
    "royal": ["king", "queen", "prince", "princess", "crown", "throne"],
    "people": ["man", "woman", "boy", "girl", "father", "mother"],
    "places": ["paris", "france", "berlin", "germany", "rome", "italy"],
}


@functools.lru_cache(maxsize=1)
def small_text() -> str:
    """A deterministic few-thousand-word text with some structure."""
    import random

    rng = random.Random(7)
    lines = []
    for _ in range(1500):
        group = rng.choice(list(_WORDS))
        a, b = rng.sample(_WORDS[group], 2)
        lines.append(f"the {a} and the {b} went to the {rng.choice(_WORDS['places'])} with a {b}")
    return "\n".join(lines) + "\n"


def small_corpus() -> LoadedCorpus:
    return LoadedCorpus("tiny test text", read_corpus_text(small_text(), min_count=2), "test:small")


def small_run(loss: Loss = Loss.NS, epochs: int = 2, name: str = "test run") -> Run:
    """A finished run with snapshots (joined before returning)."""
    loaded = small_corpus()
    run = start_run(loaded.corpus, TrainConfig(size=20, epochs=epochs, loss=loss, snapshot_topn=30, threads=1,
                                               min_count=2), name, loaded.name)
    run.join()
    assert run.status == "done", run.error
    return run
