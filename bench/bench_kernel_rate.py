"""Where skip-gram's time goes: the loss step's multiply-add rate with its rows in cache and out.

Does: run the compiled skip-gram steps on synthetic windows, one thread, and report CPU ns per
pair and the achieved multiply-adds per second (18 D per pair with k = 5: 6 dot products, 6 row
updates, 6 terms of the input row's gradient) against one core's peak, twice: with V = 256 rows
(the whole matrices stay in L1/L2, so this is the compute-bound rate) and with V rows drawn
uniformly from large matrices (most rows come from memory, as rare words do in training). The
gap between the two is memory latency, not arithmetic. Both orders are measured: one pair at a
time (losses.logistic_step, what the trainer does) and a window of pairs sharing its targets as
one block (pWord2Vec's order, Ji et al. 2016: every pair scored against the rows as the window
found them, then every update), kept here only as the measurement that dropped it; and one pair
at a time with the exact loss off (compute_loss=False), the cost of accumulating it.
Does not: train, read a corpus, or compare with anything from another run (ratios only).

    python bench/bench_kernel_rate.py [--dim 100] [--windows 200000] [--ghz 2.6] [--fma-per-cycle 16]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from numba import njit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.train.hot_rows import unbuffered  # noqa: E402
from core.train.lanes import logistic_lanes  # noqa: E402
from core.train.losses import (  # noqa: E402
    BLOCK,
    _dot_block,
    _fold_loss,
    _row_address,
    _update_block,
    logistic_step,
    make_scratch,
    make_targets,
)
from core.train.lowlevel import borrow, float32_pointer, item_pointer, row_address  # noqa: E402

M, N = 6, 6  # pairs per window (2 x the mean effective window of 3), targets per pair (k = 5)


@njit(inline="always", nogil=True)
def _fill_slot(tg, tgts, i):
    """Slot 0 of the targets: window i's positive target, then its N - 1 noise words."""
    for j in range(N):
        tg.rows[0, j] = tgts[i, j]
        tg.labels[0, j] = 1.0 if j == 0 else 0.0
    tg.n[0] = N


@njit(nogil=True, fastmath=True)
def _per_pair(W_in, ctxs, tgts, out, tg, sc, want_loss):
    W_in, out, tg, sc = borrow(W_in), borrow(out), borrow(tg), borrow(sc)
    t = 0.0
    for i in range(ctxs.shape[0]):
        _fill_slot(tg, tgts, i)
        for a in range(ctxs.shape[1]):
            t += logistic_step(W_in, ctxs[i, a], out, tg, 0, np.float32(0.025), sc, want_loss, True)
    return t


@njit(nogil=True, fastmath=True, error_model="numpy")
def window_block(W_in, ctx, m, out_rows, targets, alpha, scratch, grads):
    """One window's m pairs against its BLOCK shared targets (slot 0) as one block: all scores
    first (rows as the window found them), then each context's update pass; returns the loss."""
    rows, labels, shifts, pad = targets.rows, targets.labels, targets.shifts, scratch.pad
    dim = W_in.shape[1]
    p0 = float32_pointer(_row_address(out_rows, rows, 0, 0, BLOCK, pad))
    p1 = float32_pointer(_row_address(out_rows, rows, 0, 1, BLOCK, pad))
    p2 = float32_pointer(_row_address(out_rows, rows, 0, 2, BLOCK, pad))
    p3 = float32_pointer(_row_address(out_rows, rows, 0, 3, BLOCK, pad))
    p4 = float32_pointer(_row_address(out_rows, rows, 0, 4, BLOCK, pad))
    p5 = float32_pointer(_row_address(out_rows, rows, 0, 5, BLOCK, pad))
    prod, total = 1.0, 0.0
    for a in range(m):
        h = float32_pointer(row_address(W_in, ctx[a]))
        z = _dot_block(h, p0, p1, p2, p3, p4, p5, dim)
        g0, g1, g2, g3, g4, g5, lp, outside = logistic_lanes(z, item_pointer(shifts, 0, 0), item_pointer(labels, 0, 0),
                                                             alpha, BLOCK)
        prod, total = _fold_loss(lp, outside, z, shifts, labels, 0, 0, prod, total)
        k = a * BLOCK
        grads[k], grads[k + 1], grads[k + 2], grads[k + 3], grads[k + 4], grads[k + 5] = g0, g1, g2, g3, g4, g5
    for a in range(m):
        h = float32_pointer(row_address(W_in, ctx[a]))
        k = a * BLOCK
        _update_block(h, (p0, p1, p2, p3, p4, p5), (grads[k], grads[k + 1], grads[k + 2], grads[k + 3],
                                                    grads[k + 4], grads[k + 5]), h, True, dim)
    return total + np.log(prod)


@njit(nogil=True, fastmath=True)
def _window(W_in, ctxs, tgts, out, tg, sc, grads):
    W_in, out, tg, sc = borrow(W_in), borrow(out), borrow(tg), borrow(sc)
    t = 0.0
    for i in range(ctxs.shape[0]):
        _fill_slot(tg, tgts, i)
        t += window_block(W_in, ctxs[i], ctxs.shape[1], out, tg, np.float32(0.025), sc, grads)
    return t


def measure(v: int, dim: int, windows: int, rounds: int) -> dict[str, float]:
    rng = np.random.default_rng(0)
    W_in = (rng.standard_normal((v, dim)) * 0.1).astype(np.float32)
    W_out = (rng.standard_normal((v, dim)) * 0.1).astype(np.float32)
    out = unbuffered(W_out)
    tg, sc = make_targets(1, N), make_scratch(N, dim, defer_log=True)
    grads = np.zeros(M * N, np.float32)
    ctxs = rng.integers(0, v, (windows, M)).astype(np.int32)
    tgts = rng.integers(0, v, (windows, N))
    best: dict[str, float] = {}
    for _ in range(rounds):  # interleaved; the fastest round of each
        for name, run in (("per pair", lambda: _per_pair(W_in, ctxs, tgts, out, tg, sc, True)),
                          ("per pair, loss off", lambda: _per_pair(W_in, ctxs, tgts, out, tg, sc, False)),
                          ("window block", lambda: _window(W_in, ctxs, tgts, out, tg, sc, grads))):
            t0 = time.process_time()
            run()
            ns = (time.process_time() - t0) / (windows * M) * 1e9
            best[name] = min(best.get(name, np.inf), ns)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--windows", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--ghz", type=float, default=2.6, help="core clock (lscpu: BogoMIPS / 2)")
    ap.add_argument("--fma-per-cycle", type=int, default=16,
                    help="float32 multiply-adds per cycle per core (Zen 4: two 256-bit FMA pipes)")
    args = ap.parse_args()
    peak = args.ghz * 1e9 * args.fma_per_cycle
    macs = 18 * args.dim
    measure(16, args.dim, 10, 1)  # compile once, untimed

    print(f"D = {args.dim}, {macs} multiply-adds per pair, one core's peak {peak / 1e9:.1f} G/s; "
          f"CPU ns per pair, fastest of {args.rounds} interleaved rounds\n")
    print("| rows | order | ns / pair | G multiply-adds / s | of peak |\n|---|---|---|---|---|")
    for v, what in ((256, "V = 256 (in cache)"), (1_000_000, "V = 1,000,000 (from memory)")):
        for name, ns in measure(v, args.dim, args.windows, args.rounds).items():
            rate = macs / ns  # per ns = G per s
            print(f"| {what} | {name} | {ns:.0f} | {rate:.1f} | {100 * rate * 1e9 / peak:.0f} % |")


if __name__ == "__main__":
    main()
