"""The lean start of `python -m core train` (cli/main.py's _lean_start): SciPy's linear algebra and
cffi are never imported, the vectors are the same as an in-process run's, and np.dot still compiles after
Numba's registries were loaded without BLAS."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from core.config import TrainConfig
from core.corpus import read_corpus
from core.train.trainer import Trainer
from core.vectors.vector_io import load

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_corpora" / "small_world.txt"

# runs the CLI in this interpreter, then reports which heavy modules the process imported
CLI_AND_MODULES = """
import sys
from core.cli.main import main
rc = main(sys.argv[1:])
print("imported:", *sorted(m for m in ("scipy.linalg", "cffi", "pandas", "sklearn", "streamlit", "plotly", "pyspark")
                           if m in sys.modules))
sys.exit(rc)
"""


def test_cli_train_skips_scipy_linalg_and_matches_an_in_process_run(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("".join(SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)[:800]), encoding="utf-8")
    out = tmp_path / "v.bin"
    args = ["train", str(corpus), "-o", str(out), "--size", "16", "--epochs", "2", "--threads", "1", "--seed", "3",
            "--min-count", "3", "--binary", "--quiet"]
    run = subprocess.run([sys.executable, "-c", CLI_AND_MODULES, *args], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "imported:"  # none of them
    cli = load(str(out))
    trainer = Trainer(read_corpus(corpus, min_count=3),
                      TrainConfig(size=16, epochs=2, threads=1, seed=3, min_count=3, track_counts=False))
    trainer.train()
    assert cli.words == trainer.vocab.words
    assert np.array_equal(cli.vectors, trainer.W_in)


def test_np_dot_still_compiles_after_the_registries_load_without_blas():
    code = """
import sys
import numpy as np
from numba import njit
from core._numba_setup import load_registries_lean
load_registries_lean()
assert "scipy.linalg" not in sys.modules and "cffi" not in sys.modules
assert sys.modules.get("scipy.linalg.cython_blas", 0) is not None  # the block is lifted
@njit
def f(a, b):
    return np.dot(a, b)
a = np.arange(6.0).reshape(2, 3)
print(float(f(a, a.T).sum()))
"""
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert float(run.stdout.strip()) == float((np.arange(6.0).reshape(2, 3) @ np.arange(6.0).reshape(2, 3).T).sum())
