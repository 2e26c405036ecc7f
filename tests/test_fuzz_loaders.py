"""Fuzz the loaders with random and mutated bytes: only VectorFileError may escape, and the
memory a load traces stays bounded by the input size (no allocation from a header's claims)."""

from __future__ import annotations

import io
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.vectors import vector_io as vio
from core.vectors.keyed import Vectors
from core.vectors.vector_io import VectorFileError

SEED_SET = Vectors(["</s>", "the", "café", "東京", "b"], np.random.default_rng(1).standard_normal((5, 4)),
                   np.array([9, 7, 5, 3, 1]))
SEEDS = {
    "binary": vio.to_word2vec_bytes(SEED_SET, True),
    "text": vio.to_word2vec_bytes(SEED_SET, False, precision=5),
    "npz": vio.to_npz_bytes(SEED_SET),
}
FUZZ = settings(max_examples=900, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def load_bounded(data: bytes, fmt: str) -> None:
    """Load; anything but VectorFileError fails the test, and so does a traced peak above
    64 MB + 50x the input."""
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                vio.load_with_report(io.BytesIO(data), fmt)
            except VectorFileError as e:
                assert "\n" not in str(e)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < (64 << 20) + 50 * len(data), f"peak {peak} bytes for {len(data)} input bytes"


@st.composite
def mutated(draw, seed: bytes) -> bytes:
    """A seed file with a few byte edits, an optional new header and an optional cut."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(0, 4))):
        i = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["set", "insert", "delete"]))
        if op == "set":
            data[i] = draw(st.integers(0, 255))
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
        else:
            del data[i:i + draw(st.integers(1, 8))]
    if draw(st.booleans()) and not seed.startswith(b"PK"):
        n = draw(st.integers(0, 10**13) | st.integers(0, 8))
        d = draw(st.integers(0, 20_000) | st.integers(0, 6))
        data = bytearray(f"{n} {d}\n".encode()) + data[data.find(b"\n") + 1:]
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


def any_bytes(fmt: str) -> st.SearchStrategy[bytes]:
    return st.one_of(st.binary(max_size=600), mutated(SEEDS[fmt]))


@FUZZ
@given(any_bytes("binary"))
def test_fuzz_binary(data):
    load_bounded(data, "binary")


@FUZZ
@given(any_bytes("text"))
def test_fuzz_text(data):
    load_bounded(data, "text")


@FUZZ
@given(any_bytes("npz"))
def test_fuzz_npz_bytes(data):
    load_bounded(data, "npz")


RIGHT = {"words": "<U3", "vectors": "<f4", "counts": "<i8", "other": "<f4"}
DESCRS = ["<f4", "<f8", ">f4", "|O", "<U3", "<U0", ">U2", "<i8", "|V8", "|S4", "<c8", "<f2", "|b1"]


@st.composite
def npz_with_random_headers(draw) -> bytes:
    """Valid zips whose .npy headers declare random dtypes and shapes over random data."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))) as zf:
        names = st.lists(st.sampled_from(["words", "vectors", "counts", "other"]), max_size=4, unique=True)
        for name in draw(names):
            shape = tuple(draw(st.lists(st.integers(1, 4) | st.integers(-2, 2**40), min_size=1, max_size=3)))
            descr = draw(st.just(RIGHT[name]) | st.sampled_from(DESCRS))
            header = io.BytesIO()
            np.lib.format.write_array_header_1_0(
                header, {"descr": descr, "fortran_order": draw(st.booleans()), "shape": shape})
            zf.writestr(name + ".npy", header.getvalue() + draw(st.binary(max_size=200)))
    return buf.getvalue()


@pytest.mark.slow  # ~30 s of zip headers
@FUZZ
@given(npz_with_random_headers())
def test_fuzz_npz_headers(data):
    load_bounded(data, "npz")


@settings(FUZZ, max_examples=500)
@given(st.sampled_from(sorted(SEEDS)).flatmap(lambda k: mutated(SEEDS[k])))
def test_fuzz_auto(data):
    load_bounded(data, "auto")
