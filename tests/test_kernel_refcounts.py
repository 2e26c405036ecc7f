"""The per-sentence training functions do no reference counting.

Numba increfs and decrefs every array argument of every inlined helper call unless the arrays are
unowned views (core/train/lowlevel.py). In the per-example loops that cost 1.27x of skip-gram's time
while giving the same numbers, so no other test notices it; this one reads the compiled code.
The functions are compiled afresh here (cached kernels cannot be inspected).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from numba import njit

from core.config import Architecture, TrainConfig
from core.corpus import read_corpus_text
from core.train import kernels
from core.train.hot_rows import unbuffered
from core.train.trainer import Trainer


def _refcount_calls(py_func, arch: Architecture) -> int:
    fresh = njit(nogil=True, fastmath=True, error_model="numpy")(py_func)
    corpus = read_corpus_text("the cat sat on the mat and the dog sat on the log\n" * 20, min_count=1)
    t = Trainer(corpus, TrainConfig(epochs=1, threads=1, seed=1, architecture=arch, size=8))
    c = t.config
    settings = kernels.make_settings(c.architecture, c.loss, c.window, c.negative, c.shared_negatives,
                                     c.compute_loss, c.alpha, c.min_alpha)
    v, d = t.W_in.shape
    work = kernels.make_work(c.max_sentence, c.window, c.negative + 1, d, v, False)
    work.sen[:6] = np.arange(6) % v
    fresh(settings, t.tables, work.sen, 6, t.W_in, unbuffered(t.W_out), np.float32(0.01), np.uint64(5), work,
          np.zeros(v, np.int64))
    ir = next(iter(fresh.inspect_llvm().values()))
    header = next(line for line in ir.splitlines() if line.startswith("define") and py_func.__name__ in line)
    body = ir.split(header, 1)[1].split("\n}\n", 1)[0]
    return len(re.findall(r"call void @NRT_(?:incref|decref)", body))


@pytest.mark.parametrize(("name", "arch"), [("_skipgram_sentence", Architecture.SKIPGRAM),
                                            ("_cbow_sentence", Architecture.CBOW)])
@pytest.mark.slow  # compiles both kernels afresh (no cache): 50-70 s each on a loaded 2-core machine
def test_sentence_functions_do_no_reference_counting(name, arch):
    assert _refcount_calls(getattr(kernels, name).py_func, arch) == 0
