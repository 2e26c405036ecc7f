"""The per-word tables training reads, built in one place from a vocabulary's counts and a config.

Does: `build_tables(counts, config)` computes, once, everything the kernels look up per word:
the subsampling keep probabilities (sampling.keep_probabilities), the noise distribution Pn and
its alias table (NS, NCE), log(k Pn(w)) (NCE's logit shift) and, for hierarchical softmax, the
Huffman tree (huffman.build_huffman); and packs them as `Tables`, the named tuple the compiled
kernels take. The trainer, the teaching pages, ui/objectives.py and the figures all call it, so
what a page shows is what the trainer uses (tests/test_one_source.py ties them together).
Does not: draw, train, or decide anything about threads or time; does not import Numba.
"""

from __future__ import annotations

import dataclasses
from collections import namedtuple
from dataclasses import dataclass

import numpy as np

from .config import Loss, SubsampleFormula, TrainConfig
from .huffman import Huffman, build_huffman
from .sampling import AliasTable, alias_table, keep_probabilities, noise_distribution, packed_alias

# The read-only tables as the kernels take them: one argument, not seven.
Tables = namedtuple("Tables", "codes points lengths alias log_kpn keep_prob")
# codes (V, L) uint8, points (V, L) int32, lengths (V,) int32      Huffman tree (HS; (1, 1) zeros otherwise)
# alias (V,) uint64                                                 Pn(w) sampler (NS, NCE; sampling.packed_alias)
# log_kpn (V,) float32                                              log(k Pn(w)) (NCE's logit shifts)
# keep_prob (V,) float32                                            subsampling: P(keep an occurrence)


@dataclass(frozen=True)
class WordTables:
    """What build_tables computed, in float64 for people and packed for the kernels (`kernel`)."""

    keep_prob: np.ndarray  # (V,) float64 probability of keeping an occurrence (subsampling)
    noise_probs: np.ndarray  # (V,) float64 Pn(w) = U(w)^p / Z
    alias: AliasTable  # the sampler of noise_probs
    log_kpn: np.ndarray  # (V,) float32 log(k Pn(w)), k = max(negative, 1)
    huffman: Huffman | None  # the tree for hierarchical softmax, else None
    kernel: Tables  # the same, with the dtypes the kernels are compiled for


def make_tables(codes: np.ndarray, points: np.ndarray, lengths: np.ndarray, alias_prob: np.ndarray,
                alias_idx: np.ndarray, log_kpn: np.ndarray, keep_prob: np.ndarray | None = None) -> Tables:
    """Pack the read-only tables with the dtypes the kernels are compiled for (keep_prob: all
    ones, i.e. no subsampling, when not given)."""
    if keep_prob is None:
        keep_prob = np.ones(np.shape(alias_prob)[0], np.float32)
    return Tables(
        np.ascontiguousarray(codes, dtype=np.uint8),
        np.ascontiguousarray(points, dtype=np.int32),
        np.ascontiguousarray(lengths, dtype=np.int32),
        packed_alias(AliasTable(np.ascontiguousarray(alias_prob, dtype=np.float32),
                                np.ascontiguousarray(alias_idx, dtype=np.int32))),
        np.ascontiguousarray(log_kpn, dtype=np.float32),
        np.ascontiguousarray(keep_prob, dtype=np.float32),
    )


def build_tables(counts: np.ndarray, config: TrainConfig | None = None, **changes) -> WordTables:
    """The tables for word counts (V,) sorted descending and a config (TrainConfig() when None),
    with `changes` as field overrides (e.g. ns_exponent=0.5 for a page's slider).

    Reads loss, negative, ns_exponent, sample and subsample_formula. The Huffman tree is built for
    loss HS only (it costs O(V log V) and nothing else reads it).
    """
    cfg = dataclasses.replace(config or TrainConfig(), **changes)
    counts = np.asarray(counts)
    keep = keep_probabilities(counts, cfg.sample, SubsampleFormula(cfg.subsample_formula))
    noise = noise_distribution(counts, cfg.ns_exponent)
    alias = alias_table(noise)
    log_kpn = np.log(max(cfg.negative, 1) * noise).astype(np.float32)
    tree = build_huffman(counts) if Loss(cfg.loss) == Loss.HS else None
    if tree is not None:
        codes, points, lengths = tree.codes, tree.points, tree.lengths
    else:
        codes = points = np.zeros((1, 1))
        lengths = np.zeros(1)
    kernel = make_tables(codes, points, lengths, alias.prob, alias.alias, log_kpn, keep)
    return WordTables(keep, noise, alias, log_kpn, tree, kernel)
