"""A first training compiles each per-sentence kernel once, and trains exactly as every later run.

A literal `0` assigned to the sentence length made Numba type the call to the sentence kernels
first with that literal and then with int64, compiling each of them twice: the first run of the
CLI or the app spent twice as long compiling as it needed to. Run in a fresh process with an
empty cache, as a user's first run is.

The process that compiles the kernel runs each separately compiled callee (the sentence kernels)
as compiled on its own, while a process that loads train_chunk from the cache runs the copy inside
it, optimised a second time. With the dot products as loops the vectoriser summed them in a
different order in the two, so a seeded run's vectors differed between the first run on a machine
and every later one; lowlevel.dot_rows fixes the order (found 2026-12-04).
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
import hashlib, json
from core.train import kernels
from core.config import Architecture, TrainConfig
from core.corpus import read_corpus_text
from core.train.trainer import Trainer
# enough distinct rows and pairs for the sums' order to show in the vectors' last bits
words = " ".join(f"w{(i * 7919) % 211 % (1 + i % 97)}" for i in range(20000))
digests = {}
for arch in (Architecture.SKIPGRAM, Architecture.CBOW):
    for size in (8, 100):  # a general size and the default one (the explicit-vector code)
        trainer = Trainer(read_corpus_text(words, min_count=1),
                          TrainConfig(epochs=1, threads=1, seed=1, architecture=arch, size=size, sample=0))
        trainer.train()
        digests[f"{arch.name} {size}"] = hashlib.sha256(trainer.W_in.tobytes() + trainer.W_out.tobytes()).hexdigest()
out = {name: [str(s) for s in getattr(kernels, name).overloads]
       for name in ("train_chunk", "_skipgram_sentence", "_cbow_sentence")}
out["digests"] = digests
print(json.dumps(out))
"""


def _run(env: dict) -> dict:
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_each_sentence_kernel_is_compiled_once_and_trains_as_the_cached_one(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba"), PYTHONPATH=str(ROOT))
    signatures = _run(env)
    assert len(signatures["train_chunk"]) == 1, signatures["train_chunk"]  # compiled, not loaded from a cache
    assert len(signatures["_skipgram_sentence"]) == 1, signatures["_skipgram_sentence"]
    assert len(signatures["_cbow_sentence"]) == 1, signatures["_cbow_sentence"]
    # the next process loads train_chunk from the cache: the same seeded runs, bit for bit
    cached = _run(env)
    assert cached["digests"] == signatures["digests"]
