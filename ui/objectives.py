"""Numbers behind the Objectives page: output rows touched per example, and one update's footprint.

Does: from a vocabulary's counts, the number of W_out rows each objective reads and writes per
training example (full softmax V; hierarchical softmax the Huffman code length, averaged over
target words weighted by how often they are targets; NS and NCE k + 1), and one real skip-gram
update applied to copies of W_in / W_out with core functions, reporting how far every row moved.
Does not: import Streamlit, draw figures (ui/figures.py) or train a corpus.

The update uses core.train.step.one_example (NS, HS, NCE) and, for the full softmax, which that
function leaves out, core.train.step.apply_step (the compiled loss step the kernels call). The
tables (Huffman tree, noise sampler) come from core.tables.build_tables, as the trainer's do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.config import Loss
from core.tables import build_tables
from core.train.step import apply_step, one_example


@dataclass
class RowsTouched:
    """W_out rows scored per example for each objective (floats: HS is an average)."""

    vocab: int
    softmax: float  # V
    hs: float  # mean Huffman code length, weighted by target frequency
    hs_min: int  # shortest code (the most frequent word)
    hs_max: int  # longest code
    ns: float  # k + 1
    nce: float  # k + 1
    log2_v: float

    def by_loss(self) -> dict[Loss, float]:
        """Rows per objective, the costliest first (the order of the figure and the table)."""
        return {Loss.SOFTMAX: self.softmax, Loss.HS: self.hs, Loss.NS: self.ns, Loss.NCE: self.nce}


def rows_touched(counts: np.ndarray, negative: int = 5, target_weights: np.ndarray | None = None) -> RowsTouched:
    """Rows of W_out each objective touches per example, from (V,) counts sorted descending.

    `target_weights` (V,) weighs the HS average (e.g. the kept counts after subsampling from a
    run's last epoch); default: the raw counts.
    """
    counts = np.asarray(counts, dtype=np.int64)
    v = int(counts.shape[0])
    if v < 2:
        raise ValueError("need a vocabulary of at least 2 words")
    tree = build_tables(counts, loss=Loss.HS).huffman
    w = np.asarray(target_weights if target_weights is not None else counts, dtype=np.float64)
    if w.sum() <= 0:
        w = counts.astype(np.float64)
    mean_len = float((tree.lengths * w).sum() / w.sum())
    return RowsTouched(vocab=v, softmax=float(v), hs=mean_len, hs_min=int(tree.lengths.min()),
                       hs_max=int(tree.lengths.max()), ns=float(negative + 1), nce=float(negative + 1),
                       log2_v=float(np.log2(v)))


@dataclass
class RowsMoved:
    """How far each row of W_in and W_out moved in one update."""

    loss: Loss
    centre: int
    context: int
    delta_in: np.ndarray  # (V,) float64 L2 norm of each W_in row's change
    delta_out: np.ndarray  # (V,) or (V-1,) for HS: each W_out row's change
    out_rows: np.ndarray  # (n,) the W_out rows the objective scored (empty for softmax: all of them)
    loss_before: float
    loss_after: float

    @property
    def changed_in(self) -> np.ndarray:
        return np.flatnonzero(self.delta_in > 0)

    @property
    def changed_out(self) -> np.ndarray:
        return np.flatnonzero(self.delta_out > 0)


def out_rows_for(loss: Loss, vocab: int) -> int:
    return vocab - 1 if Loss(loss) == Loss.HS else vocab


def rows_moved(counts: np.ndarray, W_in: np.ndarray, W_out: np.ndarray, loss: Loss, centre: int, context: int,
               negative: int = 5, ns_exponent: float = 0.75, alpha: float = 0.025, seed: int = 1) -> RowsMoved:
    """Apply one skip-gram example (input `context`, target `centre`) to copies of the matrices.

    W_in (V, D) float32; W_out (V, D) float32, or (V-1, D) for HS. The originals are not modified.
    """
    loss = Loss(loss)
    counts = np.asarray(counts, dtype=np.int64)
    v = counts.shape[0]
    if W_out.shape[0] != out_rows_for(loss, v):
        raise ValueError(f"W_out has {W_out.shape[0]} rows; {loss.name} needs {out_rows_for(loss, v)}")
    w_in = np.array(W_in, dtype=np.float32, copy=True)
    w_out = np.array(W_out, dtype=np.float32, copy=True)
    old_in, old_out = w_in.copy(), w_out.copy()
    if loss == Loss.SOFTMAX:
        h = w_in[context]
        z = w_out.astype(np.float64) @ h.astype(np.float64)
        before = float(np.logaddexp.reduce(z) - z[centre])
        _, neu1e = apply_step(Loss.SOFTMAX, w_in, context, w_out, [centre], alpha=alpha)
        w_in[context] += neu1e
        z2 = w_out.astype(np.float64) @ w_in[context].astype(np.float64)
        after = float(np.logaddexp.reduce(z2) - z2[centre])
        rows = np.zeros(0, np.int64)
    else:
        tables = build_tables(counts, loss=loss, negative=negative, ns_exponent=ns_exponent).kernel
        rep = one_example(w_in, w_out, tables, loss, centre, context, rng=seed, k=negative, alpha=alpha)
        before, after, rows = rep.loss_before, rep.loss_after, rep.rows
    d_in = np.linalg.norm((w_in - old_in).astype(np.float64), axis=1)
    d_out = np.linalg.norm((w_out - old_out).astype(np.float64), axis=1)
    return RowsMoved(loss, int(centre), int(context), d_in, d_out, np.asarray(rows, np.int64), before, after)


def demo_matrices(vocab: int, dim: int, loss: Loss, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Small random W_in and W_out for the demo when no trained matrices fit.

    subtle: word2vec.c starts W_out at zero, and then the first update leaves W_in unchanged
    (its gradient is a sum of W_out rows); random W_out makes both sides visibly move.
    """
    rng = np.random.default_rng(seed)
    w_in = ((rng.random((vocab, dim), dtype=np.float32) - 0.5) / dim).astype(np.float32)
    w_out = ((rng.random((out_rows_for(loss, vocab), dim), dtype=np.float32) - 0.5) / dim).astype(np.float32)
    return w_in, w_out
