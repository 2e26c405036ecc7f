"""The blocked logistic step (losses.logistic_step) against a plain NumPy reading of its contract.

Targets go through the step in blocks of BLOCK rows with a partial block padded, and skip-gram
lets the step add its gradient to the input row itself (apply=True). These tests pin what that
must not change: every target count (partial, exactly one block, several blocks, a tail of at
most HALF rows that goes in a half block), a row drawn
twice, both ways of applying the gradient, and the padding rows staying zero.
"""

from __future__ import annotations

import numpy as np
import pytest

from core.train.losses import BLOCK, FIXED_DIM, HALF, MAX_EXP, make_scratch

V = 40
# an odd D, whose compiled loops have vector bodies and scalar tails; and the default size, whose
# update pass is lowlevel.update_rows (explicit 16-, 8-, 4- and 1-float chunks)
DIMS = [37, FIXED_DIM]


def reference(h, W, rows, labels, offsets, alpha):
    """The documented semantics in float64: every logit from the rows as they were, then each
    target in turn: neu1e += g W[r] (the row as it is now), W[r] += g h. Returns (loss, W, neu1e)."""
    W = W.astype(np.float64)
    h = h.astype(np.float64)
    z = W[rows] @ h - offsets
    y = np.where(labels > 0, 1.0, -1.0)
    loss = float(np.sum(np.log1p(np.exp(-y * z))))
    s = 1.0 / (1.0 + np.exp(-np.clip(z, -MAX_EXP, MAX_EXP)))
    g = alpha * (labels - s)
    neu1e = np.zeros_like(h)
    for r, gj in zip(rows, g, strict=True):
        neu1e += gj * W[r]
        W[r] += gj * h
    return loss, W, neu1e


def case(n: int, seed: int, duplicate: bool, D: int):
    """Random rows, labels and offsets for n targets; with `duplicate`, every target after the
    first repeats the row before it with probability 1/2 (and target 1 always does)."""
    rng = np.random.default_rng(seed)
    W = (rng.normal(size=(V, D)) * 0.4).astype(np.float32)
    H = (rng.normal(size=(3, D)) * 0.4).astype(np.float32)
    rows = rng.choice(V, size=n, replace=False).astype(np.int64)
    if duplicate:
        for j in range(1, n):
            if j == 1 or rng.random() < 0.5:
                rows[j] = rows[j - 1]
    labels = (rng.random(n) < 0.3).astype(np.float32)
    offsets = (rng.normal(size=n) * 0.5).astype(np.float32)
    return W, H, rows, labels, offsets


def step(W, H, rows, labels, offsets, alpha, apply):
    """core.train.step.apply_step, with the step's scratch watched: its pad must stay zero."""
    import core.train.step as step_module

    W, H = W.copy(), H.copy()
    scratches = []

    def watched(*args, **kwargs):
        scratches.append(make_scratch(*args, **kwargs))
        return scratches[-1]

    real = step_module.make_scratch
    step_module.make_scratch = watched
    try:
        loss, neu1e = step_module.apply_step(0, H, 1, W, rows, labels, offsets, alpha, into_h=apply)
    finally:
        step_module.make_scratch = real
    return loss, W, H, neu1e, scratches[-1].pad


@pytest.mark.parametrize("D", DIMS)
@pytest.mark.parametrize("duplicate", [False, True])
@pytest.mark.parametrize("n", [1, 2, HALF, HALF + 1, BLOCK - 1, BLOCK, BLOCK + 1, BLOCK + HALF, 2 * BLOCK,
                               2 * BLOCK + 3])
def test_step_matches_its_contract_for_every_target_count(n, duplicate, D):
    W, H, rows, labels, offsets = case(n, seed=n + 100 * duplicate, duplicate=duplicate, D=D)
    alpha = 0.3  # large, so that a lost or doubled update shows far above float32 rounding
    ref_loss, ref_W, ref_neu1e = reference(H[1], W, rows, labels, offsets, alpha)
    loss, W_after, H_after, neu1e, pad = step(W, H, rows, labels, offsets, alpha, apply=False)
    assert loss == pytest.approx(ref_loss, rel=1e-5)
    np.testing.assert_allclose(W_after, ref_W, rtol=0, atol=2e-5)
    np.testing.assert_allclose(neu1e, ref_neu1e, rtol=0, atol=2e-5)
    np.testing.assert_array_equal(H_after, H)  # without apply, h is the caller's to update
    assert not pad.any()


@pytest.mark.parametrize("D", DIMS)
@pytest.mark.parametrize("duplicate", [False, True])
@pytest.mark.parametrize("n", [1, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK + 3])
def test_applying_inside_the_step_is_adding_neu1e_afterwards(n, duplicate, D):
    """Skip-gram's path (apply=True) gives what step.py reports (apply=False, then
    W_in[context] += neu1e): bit for bit the same output rows and loss, and the same input row
    up to float32 rounding (fastmath may fold the add into the last multiply-add)."""
    W, H, rows, labels, offsets = case(n, seed=7 * n + duplicate, duplicate=duplicate, D=D)
    loss_a, W_a, H_a, _, pad_a = step(W, H, rows, labels, offsets, 0.3, apply=True)
    loss_b, W_b, H_b, neu1e, _ = step(W, H, rows, labels, offsets, 0.3, apply=False)
    H_b[1] += neu1e
    assert loss_a == loss_b
    np.testing.assert_array_equal(W_a, W_b)
    np.testing.assert_allclose(H_a, H_b, rtol=0, atol=1e-6)
    assert not pad_a.any()
    assert np.any(H_a[1] != H[1])
    np.testing.assert_array_equal(np.delete(H_a, 1, axis=0), np.delete(H, 1, axis=0))


def _update_rows_kernel(dim: int, into_h: bool):
    """A compiled caller of lowlevel.update_rows for three rows with a literal size."""
    from numba import njit

    from core.train.lowlevel import data_pointer, float32_pointer, row_address, update_rows

    @njit
    def run(W, hi, r0, r1, r2, g, sink):
        h = float32_pointer(row_address(W, hi))
        rows = (float32_pointer(row_address(W, r0)), float32_pointer(row_address(W, r1)),
                float32_pointer(row_address(W, r2)))
        update_rows(h, rows, (g[0], g[1], g[2]), data_pointer(sink), into_h, dim)

    return run


@pytest.mark.parametrize("into_h", [False, True])
@pytest.mark.parametrize("dim", [1, 5, 20, 29, 100])
def test_vector_row_update_is_the_element_loop_for_every_chunk_mix(dim, into_h):
    """update_rows covers 16-, 8-, 4- and 1-float chunks (29 = 16 + 8 + 4 + 1) and, like the
    element loop, updates a row given twice twice, its second term reading the first update."""
    rng = np.random.default_rng(dim)
    W = rng.normal(size=(6, dim)).astype(np.float32)
    g = np.array([0.5, -0.25, 0.75], np.float32)
    sink = rng.normal(size=dim).astype(np.float32)
    run = _update_rows_kernel(dim, into_h)
    for rows in ([1, 2, 3], [1, 1, 3], [2, 3, 2]):
        ref_W, ref_sink = W.astype(np.float64), sink.astype(np.float64)
        h = ref_W[0].copy()
        e = np.zeros(dim)
        for r, gi in zip(rows, g, strict=True):
            e += gi * ref_W[r]
            ref_W[r] += gi * h
        if into_h:
            ref_W[0] += e
        else:
            ref_sink += e
        W_out, sink_out = W.copy(), sink.copy()
        run(W_out, 0, *rows, g, sink_out)
        np.testing.assert_allclose(W_out, ref_W, rtol=0, atol=1e-5)
        np.testing.assert_allclose(sink_out, ref_sink, rtol=0, atol=1e-5)


@pytest.mark.parametrize("dim", [1, 29, 100])
def test_one_row_vector_ops_are_the_element_loops(dim):
    """add_row and scale_row (CBOW's context rows at the default size), including a row added to itself."""
    from numba import njit

    from core.train.lowlevel import add_row, float32_pointer, row_address, scale_row

    @njit
    def run(W, a, b, f):
        add_row(float32_pointer(row_address(W, a)), float32_pointer(row_address(W, b)), dim)
        scale_row(float32_pointer(row_address(W, a)), f, dim)

    rng = np.random.default_rng(dim)
    W = rng.normal(size=(3, dim)).astype(np.float32)
    for a, b in ((0, 1), (2, 2)):
        expected = W.copy()
        expected[a] = (expected[a] + expected[b]) * np.float32(0.25)
        got = W.copy()
        run(got, a, b, np.float32(0.25))
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("dim", [1, 3, 4, 29, 100, 128])
def test_vector_dot_products_match_float64_for_every_chunk_mix(dim):
    """dot_rows (the default size's dot pass) covers 16-, 8-, 4- and 1-float chunks and any mix of
    them (29 = 16 + 8 + 4 + 1; 128 only whole chunks), for six rows and for three, a row given twice
    included; each product is its float64 value to float32 rounding of the partial sums."""
    from numba import njit

    from core.train.lowlevel import dot_rows, float32_pointer, row_address

    @njit
    def six(W, hi, r):
        p = [float32_pointer(row_address(W, r[i])) for i in range(6)]
        return dot_rows(float32_pointer(row_address(W, hi)), (p[0], p[1], p[2], p[3], p[4], p[5]), dim)

    @njit
    def three(W, hi, r):
        return dot_rows(float32_pointer(row_address(W, hi)), (float32_pointer(row_address(W, r[0])),
                        float32_pointer(row_address(W, r[1])), float32_pointer(row_address(W, r[2]))), dim)

    rng = np.random.default_rng(dim)
    W = rng.normal(size=(8, dim)).astype(np.float32)
    rows = np.array([1, 2, 3, 3, 7, 0], np.int64)
    expected = W[rows].astype(np.float64) @ W[0].astype(np.float64)
    tol = 1e-5 * (1 + np.abs(W[rows].astype(np.float64)) @ np.abs(W[0].astype(np.float64)))
    got6 = np.array(six(W, 0, rows), np.float64)
    got3 = np.array(three(W, 0, rows[:3]), np.float64)
    assert np.all(np.abs(got6 - expected) <= tol), (got6, expected)
    assert np.all(np.abs(got3 - expected[:3]) <= tol[:3])
    assert got6[2] == got6[3]  # the same row twice: the same sum, in the same order
