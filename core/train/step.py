"""Step: apply exactly one skip-gram training example and report everything it did.

For the step-by-step page (and its tests): given W_in, W_out and the loss tables, train one
(centre, context) pair with the real compiled loss step, as one iteration of the kernel's pair
loop in kernels.py does: `h = W_in[context]`, `draw_targets` picks the output rows (the centre
word and k noise words for NS/NCE, the centre word's Huffman path for HS), `output_step` scores
them, updates those rows of W_out and writes the gradient of h into `neu1e`, then
`W_in[context] += neu1e`. The report holds the dot products, sigmoids, gradients, the loss of
the example before and after the update (recomputed in float64), and exactly which rows of W_in
and W_out changed, found by comparing copies (not by trusting which rows should change).
Also: `apply_step`, the one Python door to the compiled output step (the Objectives page, this
module and the tests go through it, so the step's scratch and the hot-row view of W_out are built
only here); `pick_targets`, the kernels' choice of output rows; every skip-gram (centre, context)
position pair of a small corpus, and k noise draws with the kernels' sampler for the
negative-sampling page.

Does not: subsample or shrink the window (the kernel draws both at random; here pairs are listed
in corpus order so a class can follow them), loop over a corpus, or handle the full softmax (its
O(V) update touches every row; the Objectives page shows it).

Skip-gram as word2vec.c and gensim: the input row is the *context* word, the target the *centre*
word. Shapes: W_in (V, D) float32, W_out (V, D) float32 for NS/NCE or (V-1, D) for HS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..config import Loss
from ..tables import Tables
from .hot_rows import unbuffered
from .losses import MAX_EXP, draw_targets, make_scratch, make_targets, output_step

_LOSSES = (int(Loss.NS), int(Loss.HS), int(Loss.NCE))


@dataclass
class StepReport:
    """What one training example did. n = number of output rows scored."""

    loss: int  # Loss code (NS, HS or NCE)
    centre: int  # target word id (output side)
    context: int  # input word id: h = W_in[context]
    alpha: float  # learning rate used
    rows: np.ndarray  # (n,) int64 W_out rows scored: centre then negatives (NS/NCE) or path nodes (HS)
    labels: np.ndarray  # (n,) float32: 1 for the centre word (NS) / branch code 0 (HS), else 0
    shifts: np.ndarray  # (n,) float32 logit shifts log(k Pn(w)) (NCE), else 0
    z: np.ndarray  # (n,) float64 logits W_out[row] . h - shift, before the update
    sigmoid: np.ndarray  # (n,) float64 s(z)
    g: np.ndarray  # (n,) float64 alpha (label - s(clip(z))): the step's scale for each row (losses.py)
    neu1e: np.ndarray  # (D,) float32 step added to W_in[context]: sum_j g_j W_out[row_j] (old rows;
    # subtle: a noise word drawn twice contributes its once-updated row the second time, as in the kernel)
    h_before: np.ndarray  # (D,) float32 W_in[context] before
    kernel_loss: float  # the loss output_step returned (float64 from float32 logits)
    loss_before: float  # sum_j log(1 + e^{-y_j z_j}) recomputed in float64 before the update
    loss_after: float  # the same with the updated rows
    changed_in: np.ndarray  # (a,) int64 rows of W_in whose values changed
    changed_out: np.ndarray  # (b,) int64 rows of W_out whose values changed
    in_before: np.ndarray  # (a, D) float32 those W_in rows before
    in_after: np.ndarray  # (a, D) float32 and after
    out_before: np.ndarray  # (b, D) float32 those W_out rows before
    out_after: np.ndarray  # (b, D) float32 and after
    skipped: int  # noise draws equal to the centre word, skipped as in word2vec.c (NS/NCE)
    rng: int  # the generator state after the draws: pass it to the next call

    @property
    def negatives(self) -> np.ndarray:
        """(k',) int64 noise words that were scored (NS/NCE; empty for HS)."""
        return self.rows[1:] if self.loss != int(Loss.HS) else self.rows[:0]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def logistic_terms(h: np.ndarray, W_out: np.ndarray, rows: np.ndarray, labels: np.ndarray,
                   shifts: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Logits, sigmoids and loss of one example in float64, as losses.logistic_step defines them.

    z_j = W_out[r_j] . h - shift_j; loss = sum_j log(1 + e^{-y_j z_j}), y_j = +1 for label 1 and
    -1 for label 0 (paper eq. 4 for NS, eq. 3 for HS with label = 1 - code). Returns (z, s(z), loss).
    """
    z = W_out[np.asarray(rows, np.int64)].astype(np.float64) @ np.asarray(h, np.float64)
    z = z - np.asarray(shifts, np.float64)
    y = np.where(np.asarray(labels) > 0, 1.0, -1.0)
    return z, _sigmoid(z), float(np.logaddexp(0.0, -y * z).sum())


def _state(rng: int | np.uint64) -> np.uint64:
    """xorshift states must be non-zero uint64 (a Python int would compile a signed variant)."""
    s = np.uint64(int(rng) & (2**64 - 1))
    return s if s else np.uint64(0x2545F4914F6CDD1D)


def pick_targets(tables: Tables, loss: int | Loss, target: int, k: int = 5, rng: int = 1,
                 counts: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The output rows the kernels score for `target` (losses.draw_targets): (rows (n,) int64,
    labels (n,) float32, shifts (n,) float32, new rng state). NS/NCE: the target then k noise
    draws (one equal to the target skipped); HS: the target's Huffman path; SOFTMAX: the target.
    Each noise draw is counted in `counts` (V,) int64 when given."""
    targets = make_targets(1, max(k + 1, tables.points.shape[1], 1))
    counts = np.zeros(0, np.int64) if counts is None else counts
    n, state = draw_targets(np.int64(loss), np.int64(target), np.int64(k), tables, _state(rng), targets,
                            np.int64(0), counts)
    n = int(n)
    return targets.rows[0, :n].copy(), targets.labels[0, :n].copy(), targets.shifts[0, :n].copy(), int(state)


def apply_step(loss: int | Loss, H: np.ndarray, hi: int, W_out: np.ndarray, rows: np.ndarray,
               labels: np.ndarray | None = None, shifts: np.ndarray | None = None, alpha: float = 0.025,
               into_h: bool = False) -> tuple[float, np.ndarray]:
    """One example through the compiled output step (losses.output_step), as the kernels call it
    with one thread. Returns (the example's loss, neu1e (D,) float32).

    H (N, D) float32 holds the hidden vector h = H[hi] (skip-gram: W_in and the context word's
    id); W_out (R, D) float32 is updated in place; rows (n,) are the output rows to score, with
    labels (default: 1 for the first, 0 for the others) and logit shifts (default 0), as
    pick_targets returns them. The full softmax scores every row: rows = [target].
    neu1e is the step for h, sum_j g_j W_out[row_j] (old rows). With `into_h` the step also adds
    it to H[hi] (skip-gram's kernel path; equal to adding it afterwards up to float32 rounding,
    tests/test_blocked_step.py); without, H is not touched.
    """
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    n = rows.shape[0]
    if n == 0:
        raise ValueError("a step needs at least one target row")
    if labels is None:
        labels = np.r_[1.0, np.zeros(n - 1)]
    if shifts is None:
        shifts = np.zeros(n)
    targets = make_targets(1, n)
    targets.rows[0, :n] = rows
    targets.labels[0, :n] = np.asarray(labels, np.float32).reshape(n)
    targets.shifts[0, :n] = np.asarray(shifts, np.float32).reshape(n)
    targets.n[0] = n
    dim = H.shape[1]
    scratch = make_scratch(n, dim, W_out.shape[0] if int(loss) == int(Loss.SOFTMAX) else 0)
    value = output_step(np.int64(loss), H, np.int64(hi), unbuffered(W_out), targets, np.int64(0),
                        np.float32(alpha), scratch, True, bool(into_h))
    return float(value), scratch.neu1e


def draw_negatives(tables: Tables, target: int, k: int, rng: int) -> tuple[np.ndarray, int, int]:
    """k draws from Pn with the kernels' alias sampler (losses.draw_targets, loss NS).

    Returns (negatives (k',) int64 in draw order, skipped, new rng state): a draw equal to the
    target is skipped as in word2vec.c, so k' = k - skipped.
    """
    rows, _, _, state = pick_targets(tables, Loss.NS, target, k, rng)
    return rows[1:], int(k - (rows.shape[0] - 1)), state


def one_example(W_in: np.ndarray, W_out: np.ndarray, tables: Tables, loss: int | Loss, centre: int,
                context: int, negatives: Sequence[int] | None = None, rng: int = 1, k: int = 5,
                alpha: float = 0.025) -> StepReport:
    """Train one skip-gram pair in place (W_in, W_out are modified) and report what happened.

    NS/NCE: the noise words are drawn with `draw_targets` from `rng` (k of them), unless
    `negatives` gives them explicitly (a negative equal to the centre word is skipped, as the
    kernel does). HS: the rows are the centre word's Huffman path; negatives and k are unused.
    """
    loss = int(loss)
    if loss not in _LOSSES:
        raise ValueError(f"step-by-step supports NS, HS and NCE (got loss {loss})")
    v, dim = W_in.shape
    if not (0 <= centre < v and 0 <= context < v):
        raise ValueError(f"word ids must be in [0, {v}) (got centre={centre}, context={context})")
    skipped = 0
    state = int(_state(rng))
    if negatives is not None and loss != int(Loss.HS):
        # same fill as draw_targets, with given noise words
        kept = [int(w) for w in negatives if int(w) != centre]
        skipped = len(negatives) - len(kept)
        rows = np.array([centre, *kept], np.int64)
        labels = np.r_[1.0, np.zeros(len(kept))].astype(np.float32)
        shifts = (tables.log_kpn[rows] if loss == int(Loss.NCE) else np.zeros(rows.shape[0])).astype(np.float32)
    else:
        rows, labels, shifts, state = pick_targets(tables, loss, centre, k, rng)
        if loss != int(Loss.HS):
            skipped = int(k - (rows.shape[0] - 1))

    old_in, old_out = W_in.copy(), W_out.copy()
    h = W_in[context]
    z, s, loss_before = logistic_terms(h, W_out, rows, labels, shifts)
    g = float(alpha) * (labels.astype(np.float64) - _sigmoid(np.clip(z, -MAX_EXP, MAX_EXP)))
    # as kernels.py calls it for a skip-gram pair (one thread: no buffered rows), except that the
    # kernel lets the step add neu1e to W_in[context] itself (into_h): the same output rows and
    # loss bit for bit, W_in[context] equal up to float32 rounding (tests/test_blocked_step.py),
    # but then neu1e would not be kept for this report
    kernel_loss, neu1e = apply_step(loss, W_in, context, W_out, rows, labels, shifts, alpha)
    W_in[context] += neu1e
    _, _, loss_after = logistic_terms(W_in[context], W_out, rows, labels, shifts)

    changed_in = np.flatnonzero(np.any(W_in != old_in, axis=1))
    changed_out = np.flatnonzero(np.any(W_out != old_out, axis=1))
    return StepReport(
        loss=loss, centre=int(centre), context=int(context), alpha=float(alpha), rows=rows, labels=labels,
        shifts=shifts, z=z, sigmoid=s, g=g, neu1e=neu1e, h_before=old_in[context].copy(),
        kernel_loss=float(kernel_loss), loss_before=loss_before, loss_after=loss_after,
        changed_in=changed_in, changed_out=changed_out,
        in_before=old_in[changed_in], in_after=W_in[changed_in].copy(),
        out_before=old_out[changed_out], out_after=W_out[changed_out].copy(),
        skipped=skipped, rng=int(state),
    )


def skipgram_pairs(offsets: np.ndarray, window: int) -> np.ndarray:
    """Every (centre position, context position) pair within `window` of each other in a sentence.

    offsets (S+1,) int64 sentence boundaries of a corpus (corpus.py). Returns (P, 2) int64 token
    positions in corpus order: centre by centre, its context words left to right. The fixed
    full window is the teaching view; the kernel draws each position's window in 1..window.
    """
    out = []
    for s in range(len(offsets) - 1):
        lo, hi = int(offsets[s]), int(offsets[s + 1])
        for i in range(lo, hi):
            for c in range(max(lo, i - window), min(hi, i + window + 1)):
                if c != i:
                    out.append((i, c))
    return np.array(out, dtype=np.int64).reshape(-1, 2)
