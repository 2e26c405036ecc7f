"""Bit-for-bit check of a refactor: seeded single-thread vectors of this checkout, saved or compared.

Does: train SG and CBOW x NS, HS, NCE, softmax with seed 7 and one thread on
sample_corpora/small_world.txt (2 epochs, size 24; the full softmax, O(V) per example, on the first
8000 lines for 1 epoch) and save W_in, W_out, the per-epoch losses and the last epoch's seen /
kept / noise counts per configuration (`save DIR`), or say which saved arrays differ (`compare A B`).
Does not: time anything. Run `save` from two checkouts (e.g. `git worktree add /tmp/ref <commit>`):

    cd /tmp/ref && PYTHONPATH=. python /path/to/this/bench/seeded_vectors.py save /tmp/before
    PYTHONPATH=. python bench/seeded_vectors.py save /tmp/after
    python bench/seeded_vectors.py compare /tmp/before /tmp/after
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np


def save(out: Path) -> None:
    from core.config import Architecture, Loss, TrainConfig
    from core.corpus import read_corpus, read_corpus_text
    from core.train.trainer import Trainer

    out.mkdir(parents=True, exist_ok=True)
    path = Path("sample_corpora/small_world.txt")
    full = read_corpus(path, min_count=5)
    with open(path, encoding="utf-8") as f:
        head = read_corpus_text("".join(f.readlines()[:8000]), min_count=5)
    for arch in (Architecture.SKIPGRAM, Architecture.CBOW):
        for loss in (Loss.NS, Loss.HS, Loss.NCE, Loss.SOFTMAX):
            sm = loss == Loss.SOFTMAX
            cfg = TrainConfig(architecture=arch, loss=loss, size=24, epochs=1 if sm else 2, threads=1, seed=7)
            trainer = Trainer(head if sm else full, cfg)
            result = trainer.train()
            last = result.epochs[-1]
            np.savez(out / f"{arch.name}_{loss.name}.npz", W_in=trainer.W_in, W_out=trainer.W_out,
                     loss=np.array([e.loss for e in result.epochs]), seen=last.seen, kept=last.kept,
                     negs=last.negatives)
            print(arch.name, loss.name, [round(e.loss, 6) for e in result.epochs], flush=True)


def compare(a: Path, b: Path) -> bool:
    ok = True
    for f in sorted(a.glob("*.npz")):
        x, y = np.load(f), np.load(b / f.name)
        differ = [k for k in x.files if not np.array_equal(x[k], y[k])]
        ok &= not differ
        print(f.name, "bit-identical" if not differ else f"DIFFERENT: {differ}")
    print("ALL IDENTICAL" if ok else "MISMATCH")
    return ok


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "save":
        save(Path(sys.argv[2]))
    elif len(sys.argv) == 4 and sys.argv[1] == "compare":
        sys.exit(0 if compare(Path(sys.argv[2]), Path(sys.argv[3])) else 1)
    else:
        sys.exit(__doc__)
