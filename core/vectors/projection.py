"""Projection: word vectors to 2-D or 3-D coordinates for the Embeddings and Analogies pages.

Does: PCA by a NumPy SVD (instant, deterministic signs), UMAP (opt-in; umap-learn is imported
only when asked, it costs seconds), orthogonal Procrustes alignment (Schoenemann 1966; as used for
diachronic embeddings by Hamilton et al. 2016) so the per-epoch snapshots of one run share one
frame and points do not jump when the epoch slider moves, "semantic axes" (coordinates along word
differences such as he - she, the Embedding Projector's custom projection), the nearest
neighbours shown on hover, and colour groups read from analogy sections (capital vs country).
Does not: draw (plots.py), cache (the pages do, with st.cache_data), or train.

Shapes: X (N, D) float rows are words; coordinates (N, k) float64 with k = 2 or 3.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def pca(X: np.ndarray, n_components: int = 2) -> np.ndarray:
    """Project (N, D) rows onto their first `n_components` principal axes -> (N, k) float64.

    Centred SVD. subtle: the sign of a singular vector is arbitrary; we flip each axis so its
    largest-magnitude loading is positive, so the same data always gives the same picture.
    Rows fewer than k or a rank-deficient X give zero columns, never an error.
    """
    basis, mean = pca_basis(X, n_components)
    return (np.asarray(X, np.float64) - mean) @ basis


def pca_basis(X: np.ndarray, n_components: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """The principal axes (D, k) float64 and the mean (D,) of X (N, D), signs made deterministic."""
    X = np.asarray(X, dtype=np.float64)
    n, d = X.shape
    mean = X.mean(axis=0) if n else np.zeros(d)
    basis = np.zeros((d, n_components))
    if n >= 2:
        _, _, vt = np.linalg.svd(X - mean, full_matrices=False)
        k = min(n_components, vt.shape[0])
        basis[:, :k] = vt[:k].T
    for j in range(n_components):
        col = basis[:, j]
        if col.any() and col[np.argmax(np.abs(col))] < 0:
            basis[:, j] = -col
    return basis, mean


def umap_project(X: np.ndarray, n_components: int = 2, n_neighbors: int = 15, min_dist: float = 0.1,
                 seed: int = 42) -> np.ndarray:
    """UMAP (McInnes et al. 2018) of (N, D) rows with cosine distance -> (N, k) float64.

    Slow (seconds, plus a one-off Numba compile of umap-learn): callers cache it. With a seed
    umap-learn runs single-threaded, so the layout is reproducible.
    """
    X = np.asarray(X, dtype=np.float32)
    n = X.shape[0]
    if n < 4:  # UMAP's spectral initialisation needs a few points; fall back to PCA
        return pca(X, n_components)
    import umap  # deferred: importing umap-learn takes seconds

    reducer = umap.UMAP(n_components=n_components, n_neighbors=max(2, min(n_neighbors, n - 1)),
                        min_dist=min_dist, metric="cosine", random_state=seed, init="spectral",
                        n_jobs=1)
    return np.asarray(reducer.fit_transform(X), dtype=np.float64)


def project(X: np.ndarray, method: str = "pca", n_components: int = 2, **umap_kwargs) -> np.ndarray:
    """Dispatch to `pca` or `umap_project` by name."""
    if method == "pca":
        return pca(X, n_components)
    if method == "umap":
        return umap_project(X, n_components, **umap_kwargs)
    raise ValueError(f"method must be 'pca' or 'umap' (got {method!r})")


def procrustes(Y: np.ndarray, ref: np.ndarray, scale: bool = True) -> np.ndarray:
    """Rotate (and reflect, translate, optionally scale) Y (N, k) onto ref (N, k) -> (N, k).

    Orthogonal Procrustes: R = U V^T from the SVD U S V^T of Yc^T refc minimises ||Yc R - refc||_F
    over orthogonal R (Schoenemann 1966). With `scale`, Yc is first scaled to ref's Frobenius
    norm, so an early snapshot (word2vec.c initialises W_in in [-0.5/D, 0.5/D)) is as large on
    screen as the trained one. The result is centred on ref's mean.
    """
    Y = np.asarray(Y, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if Y.shape != ref.shape:
        raise ValueError(f"shapes differ: {Y.shape} vs {ref.shape}")
    mu_y, mu_r = Y.mean(axis=0), ref.mean(axis=0)
    Yc, Rc = Y - mu_y, ref - mu_r
    if scale:
        ny, nr = np.linalg.norm(Yc), np.linalg.norm(Rc)
        if ny > 0:
            Yc = Yc * (nr / ny)
    u, _, vt = np.linalg.svd(Yc.T @ Rc)
    return Yc @ (u @ vt) + mu_r


def project_snapshots(snapshots: Sequence[np.ndarray], method: str = "pca", n_components: int = 2,
                      **umap_kwargs) -> list[np.ndarray]:
    """Coordinates (N, k) for every snapshot (N, D) of one run, all in the last snapshot's frame.

    PCA: each snapshot is Procrustes-aligned to the last one in the full D dimensions, then all
    are projected on the last snapshot's principal axes: one fixed camera, so a point moves only
    as much as its vector moved. UMAP: each snapshot is laid out on its own (UMAP has no shared
    basis), then each layout is aligned to the next later one, from the last back to the first.
    """
    snaps = [np.asarray(s, dtype=np.float64) for s in snapshots]
    if not snaps:
        return []
    n = min(s.shape[0] for s in snaps)
    snaps = [s[:n] for s in snaps]
    last = snaps[-1]
    if method == "pca":
        basis, mean = pca_basis(last, n_components)
        return [(procrustes(s, last) - mean) @ basis for s in snaps]
    coords = [project(s, method, n_components, **umap_kwargs) for s in snaps]
    for i in range(len(coords) - 2, -1, -1):
        coords[i] = procrustes(coords[i], coords[i + 1])
    return coords


def displacement(a: np.ndarray, b: np.ndarray) -> float:
    """Mean Euclidean distance between corresponding rows of two (N, k) coordinate arrays."""
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b), axis=1).mean())


def semantic_axes(X: np.ndarray, axes: Sequence[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Coordinates of rows X (N, D) along word-difference directions -> (N, len(axes)).

    Each axis is (vec(a), vec(b)); the coordinate is cos(x, unit(a) - unit(b)) scaled by
    |unit(a) - unit(b)|, i.e. unit(x) . (unit(a) - unit(b)) = cos(x, a) - cos(x, b): positive
    nearer a, negative nearer b (the Projector's "custom" projection, with cosines).
    """
    U = _unit(np.asarray(X, dtype=np.float64))
    cols = []
    for a, b in axes:
        ua = _unit(np.asarray(a, np.float64)[None, :])[0]
        ub = _unit(np.asarray(b, np.float64)[None, :])[0]
        cols.append(U @ (ua - ub))
    return np.stack(cols, axis=1) if cols else np.zeros((U.shape[0], 0))


def nearest_neighbours(vectors: np.ndarray, rows: np.ndarray, k: int = 5,
                       candidates: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest rows by cosine for each of `rows`, itself excluded.

    vectors (V, D); rows (N,) int; only the first `candidates` rows (the most frequent words) are
    searched (None: all). Returns ids (N, k) int64 and cosines (N, k) float32, best first
    (fewer than k columns when there are fewer candidates).
    """
    rows = np.asarray(rows, dtype=np.int64)
    U = _unit(np.asarray(vectors, dtype=np.float32))
    cand = U if candidates is None else U[:candidates]
    inside = rows < cand.shape[0]
    k = max(0, min(k, cand.shape[0] - (1 if inside.any() else 0)))
    if k == 0 or rows.size == 0:
        return np.zeros((rows.size, 0), np.int64), np.zeros((rows.size, 0), np.float32)
    sims = U[rows] @ cand.T  # (N, C)
    sims[np.flatnonzero(inside), rows[inside]] = -np.inf
    idx = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    part = np.take_along_axis(sims, idx, axis=1)
    order = np.argsort(-part, axis=1, kind="stable")
    idx = np.take_along_axis(idx, order, axis=1)
    return idx.astype(np.int64), np.take_along_axis(sims, idx, axis=1).astype(np.float32)


def _unit(X: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return X / norms


# (substring of a section name, label of its 1st/3rd words, label of its 2nd/4th words): the
# sections of questions-words.txt and sample_corpora/small_world_analogies.txt; first match wins.
SECTION_ROLES = (
    ("capital", "capital", "country"), ("currency", "country", "currency"), ("city-in-state", "city", "state"),
    ("language", "country", "language"), ("nationality", "country", "nationality adjective"),
    ("family", "male", "female"), ("adverb", "adjective", "adverb"), ("opposite", "word", "opposite"),
    ("comparative", "adjective", "comparative"), ("superlative", "adjective", "superlative"),
    ("participle", "verb", "present participle"), ("past-tense", "verb form", "past tense"),
    ("plural-verbs", "verb", "3rd person"), ("third-person", "verb", "3rd person"), ("plural", "singular", "plural"),
)


def word_groups(sections: Sequence[tuple[str, Sequence[tuple[str, str, str, str]]]]) -> dict[str, str]:
    """Colour groups from analogy sections: word -> role in the first section it appears in.

    `sections`: (name, questions) pairs in file order, a question being (a, b, c, d) with
    a : b :: c : d. Words in the 1st/3rd places and in the 2nd/4th places get different labels, so
    "capital-country" splits into "capital" and "country" (SECTION_ROLES names the known sections;
    others get "<name> (1st)" and "<name> (2nd)"). Keys are lower-cased.
    """
    groups: dict[str, str] = {}
    for name, questions in sections:
        roles = next(((a, b) for key, a, b in SECTION_ROLES if key in name), (f"{name} (1st)", f"{name} (2nd)"))
        for q in questions:
            for pos, w in enumerate(q):
                groups.setdefault(w.lower(), roles[pos % 2])
    return groups
