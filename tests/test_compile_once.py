"""A first training compiles each per-sentence kernel once.

A literal `0` assigned to the sentence length made Numba type the call to the sentence kernels
first with that literal and then with int64, compiling each of them twice: the first run of the
CLI or the app spent twice as long compiling as it needed to. Run in a fresh process with an
empty cache, as a user's first run is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import json
from core.train import kernels
from core.config import Architecture, TrainConfig
from core.corpus import read_corpus_text
from core.train.trainer import Trainer
corpus = read_corpus_text("the cat sat on the mat and the dog sat on the log\\n" * 20, min_count=1)
for arch in (Architecture.SKIPGRAM, Architecture.CBOW):
    Trainer(corpus, TrainConfig(epochs=1, threads=1, seed=1, architecture=arch, size=8)).train()
print(json.dumps({name: [str(s) for s in getattr(kernels, name).overloads]
                  for name in ("train_chunk", "_skipgram_sentence", "_cbow_sentence")}))
"""


@pytest.mark.slow
def test_each_sentence_kernel_is_compiled_once(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba"), PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    signatures = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(signatures["train_chunk"]) == 1, signatures["train_chunk"]  # compiled, not loaded from a cache
    assert len(signatures["_skipgram_sentence"]) == 1, signatures["_skipgram_sentence"]
    assert len(signatures["_cbow_sentence"]) == 1, signatures["_cbow_sentence"]
