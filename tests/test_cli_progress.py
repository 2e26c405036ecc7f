"""The CLI's progress bar (core/__main__.py ProgressBar) on stderr."""

from __future__ import annotations

import io

from core.cli.main import ProgressBar
from core.events import Progress


def _tick(words_done: int, seconds: float) -> Progress:
    return Progress(epoch=0, words_done=words_done, words_total=1000, alpha=0.025, loss=float("nan"),
                    words_per_sec=words_done / seconds, seconds=seconds)


def test_before_the_first_chunk_it_says_the_kernels_are_being_prepared():
    out = io.StringIO()
    bar = ProgressBar(out)
    bar.epochs = 1
    bar.on_progress(_tick(0, 3.2))
    assert "preparing the training kernels: 3 s" in out.getvalue()
    assert "0k words/s" not in out.getvalue() and "%" not in out.getvalue()


def test_then_it_shows_the_bar():
    out = io.StringIO()
    bar = ProgressBar(out)
    bar.epochs = 1
    bar.on_progress(_tick(500, 2.0))
    text = out.getvalue()
    assert "50.0%" in text and "epoch 1/1" in text and "loss off" in text and "preparing" not in text
