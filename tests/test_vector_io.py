"""vector_io: round trips, gensim in both directions, limit, memory-mapped sets, and every
malformed-file case giving one VectorFileError with a helpful one-line message."""

from __future__ import annotations

import io
import mmap
import struct
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from gensim.models import KeyedVectors

from core.vectors import vector_io as vio
from core.vectors.keyed import Vectors
from core.vectors.vector_io import VectorFileError, VectorFileWarning

WORDS = ["</s>", "the", "café", "東京", "naïve", "x" * 60, "ü", "a.b"]


@pytest.fixture
def vecs() -> Vectors:
    rng = np.random.default_rng(0)
    v = rng.standard_normal((len(WORDS), 7)).astype(np.float32)
    v[1] *= 1e-6  # small and large magnitudes: text must keep relative precision
    v[2] *= 1e6
    v[3] = 0.0    # a zero row stays zero in unit
    return Vectors(WORDS, v, np.arange(len(WORDS), 0, -1) * 10)


def assert_same(a: Vectors, b: Vectors, exact: bool = True) -> None:
    assert a.words == b.words
    if exact:
        np.testing.assert_array_equal(a.vectors, b.vectors)
    else:
        np.testing.assert_allclose(a.vectors, b.vectors, rtol=1e-5, atol=1e-30)


def header(n: int, d: int) -> bytes:
    return f"{n} {d}\n".encode()


def bin_row(word: str, values, newline: bool = True) -> bytes:
    return word.encode() + b" " + np.asarray(values, "<f4").tobytes() + (b"\n" if newline else b"")


def err(data: bytes, fmt: str = "auto", **kw) -> str:
    with pytest.raises(VectorFileError) as e:
        vio.load_with_report(io.BytesIO(data), fmt, **kw)
    msg = str(e.value)
    assert "\n" not in msg
    return msg


# -- round trips -----------------------------------------------------------------------------
@pytest.mark.parametrize("ext", [".bin", ".txt", ".vec", ".npz"])
def test_round_trip_by_extension(tmp_path, vecs, ext):
    path = tmp_path / f"v{ext}"
    vio.save(vecs, path)
    back = vio.load(path)
    assert_same(back, vecs)  # text too: 9 significant digits round-trip float32 exactly
    if ext == ".npz":
        np.testing.assert_array_equal(back.counts, vecs.counts)
    else:
        assert back.counts is None
    assert not list(tmp_path.glob("*.part"))


@pytest.mark.parametrize("binary", [True, False])
def test_bytes_for_download_equal_file_and_sniff(tmp_path, vecs, binary):
    data = vio.to_word2vec_bytes(vecs, binary)
    path = tmp_path / ("v.bin" if binary else "v.txt")
    vio.save(vecs, path)
    assert path.read_bytes() == data
    upload = io.BytesIO(data)  # an upload without a useful name: the format is sniffed
    back, report = vio.load_with_report(upload)
    assert report.fmt == ("binary" if binary else "text")
    assert_same(back, vecs)
    odd = tmp_path / "vectors.dat"  # unknown extension: sniffed from the bytes too
    odd.write_bytes(data)
    assert_same(vio.load(odd), vecs)


def test_upload_name_picks_format(vecs):
    upload = io.BytesIO(vio.to_npz_bytes(vecs))
    upload.name = "mine.npz"  # streamlit's UploadedFile is a BytesIO with .name
    assert_same(vio.load(upload), vecs)


def test_text_lower_precision(vecs):
    back = vio.load(io.BytesIO(vio.to_word2vec_bytes(vecs, False, precision=6)))
    np.testing.assert_allclose(back.vectors, vecs.vectors, rtol=1e-5)


def test_binary_layout_matches_the_c_tool(vecs):
    data = vio.to_word2vec_bytes(vecs, True)
    assert data.startswith(b"8 7\n</s> ")
    first = len(b"8 7\n</s> ")
    assert data[first + 28:first + 30] == b"\nt"  # '\n' after each vector, as word2vec.c writes
    assert data.endswith(b"\n")


def test_binary_without_newlines_is_read():
    data = header(2, 3) + bin_row("a", [1, 2, 3], newline=False) + bin_row("b", [4, 5, 6], newline=False)
    v = vio.load(io.BytesIO(data), "binary")
    assert v.words == ["a", "b"]
    np.testing.assert_array_equal(v.vectors, [[1, 2, 3], [4, 5, 6]])


def test_text_tolerates_trailing_spaces_crlf_and_bom():
    data = b"\xef\xbb\xbf2 3 \r\na 1 2 3 \r\nb 4 5 6"  # the C tool writes "v " per value; no final newline
    v = vio.load(io.BytesIO(data), "text")
    np.testing.assert_array_equal(v.vectors, [[1, 2, 3], [4, 5, 6]])


def test_npz_is_plain_numpy_without_pickles(tmp_path, vecs):
    path = tmp_path / "v.npz"
    vio.save(vecs, path)
    with np.load(path, allow_pickle=False) as z:
        assert z["words"].dtype.kind == "U"
        assert z["vectors"].dtype == np.float32
        assert z["counts"].dtype == np.int64
    without = Vectors(vecs.words, vecs.vectors)
    back = vio.load(io.BytesIO(vio.to_npz_bytes(without)), "npz")
    assert back.counts is None
    assert_same(back, without)


def test_projector_round_trip_and_header_rule(tmp_path, vecs):
    tsv, meta = vio.to_projector_tsv(vecs)
    lines = tsv.splitlines()
    assert len(lines) == len(vecs) and all(len(x.split("\t")) == vecs.dim for x in lines)
    assert meta.splitlines()[0] == "word\tcount" and len(meta.splitlines()) == len(vecs) + 1
    back = vio.read_projector_tsv(tsv, meta)
    assert_same(back, vecs, exact=False)
    np.testing.assert_array_equal(back.counts, vecs.counts)

    plain = Vectors(vecs.words, vecs.vectors)  # single column: no header (the Projector's rule)
    _, meta = vio.to_projector_tsv(plain)
    assert meta.splitlines() == plain.words
    assert_same(vio.read_projector_tsv(tsv, meta), plain, exact=False)

    paths = vio.save_projector(vecs, tmp_path / "proj")
    assert [p.name for p in paths] == ["vectors.tsv", "metadata.tsv"]
    assert paths[1].read_text("utf-8") == vio.to_projector_tsv(vecs)[1]


def test_projector_labels_stay_one_per_line():
    v = Vectors(["a\tb", "c\nd", " "], np.ones((3, 2), np.float32))
    _, meta = vio.to_projector_tsv(v)
    lines = meta.split("\n")[:-1]
    assert len(lines) == 3 and "\t" not in meta and all(x.strip() for x in lines)


# -- gensim, both directions -----------------------------------------------------------------
@pytest.mark.parametrize("binary", [True, False])
def test_gensim_reads_ours(tmp_path, vecs, binary):
    path = tmp_path / "ours.w2v"
    vio.save(vecs, path, "binary" if binary else "text")
    kv = KeyedVectors.load_word2vec_format(str(path), binary=binary)
    assert kv.index_to_key == vecs.words
    np.testing.assert_array_equal(kv.vectors, vecs.vectors)  # text: 9 digits are exact


@pytest.mark.parametrize("binary", [True, False])
def test_we_read_gensim(tmp_path, vecs, binary):
    kv = KeyedVectors(vecs.dim)
    kv.add_vectors(vecs.words, vecs.vectors)
    path = tmp_path / "gensim.w2v"
    kv.save_word2vec_format(str(path), binary=binary)
    back = vio.load(path)  # unknown extension: sniffed
    assert_same(back, vecs)  # gensim prints the shortest repr that round-trips float32


def test_gensim_limit_agrees(tmp_path, vecs):
    path = tmp_path / "v.bin"
    vio.save(vecs, path)
    kv = KeyedVectors.load_word2vec_format(str(path), binary=True, limit=3)
    ours = vio.load(path, limit=3)
    assert ours.words == kv.index_to_key
    np.testing.assert_array_equal(ours.vectors, kv.vectors)


# -- limit -----------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["binary", "text", "npz"])
def test_limit_reads_first_rows_only(vecs, fmt):
    data = vio.to_npz_bytes(vecs) if fmt == "npz" else vio.to_word2vec_bytes(vecs, fmt == "binary")
    v = vio.load(io.BytesIO(data), fmt, limit=3)
    assert v.words == WORDS[:3]
    np.testing.assert_array_equal(v.vectors, vecs.vectors[:3])
    assert len(vio.load(io.BytesIO(data), fmt, limit=1000)) == len(WORDS)


@pytest.mark.parametrize("binary", [True, False])
def test_limit_never_reads_the_rest(vecs, binary):
    data = vio.to_word2vec_bytes(vecs, binary)
    cut = data[: len(data) // 2] + b"\xff\x00 garbage"  # broken after row ~4: rows 0..1 still load
    v = vio.load(io.BytesIO(cut), "binary" if binary else "text", limit=2)
    assert v.words == WORDS[:2]
    with pytest.raises(VectorFileError):
        vio.load(io.BytesIO(cut), "binary" if binary else "text")


def test_bad_arguments_are_plain_errors(vecs):
    with pytest.raises(ValueError):
        vio.load(io.BytesIO(b""), limit=0)
    with pytest.raises(ValueError):
        vio.load(io.BytesIO(b""), fmt="csv")
    with pytest.raises(TypeError):
        vio.load(io.StringIO("1 1\na 1\n"))
    with pytest.raises(ValueError, match="whitespace"):
        vio.to_word2vec_bytes(Vectors(["a b"], np.ones((1, 2))), True)
    with pytest.raises(ValueError, match="NaN"):
        vio.to_word2vec_bytes(Vectors(["a"], np.array([[np.nan, 1]])), False)
    with pytest.raises(ValueError, match="format"):
        vio.save(vecs, "vectors.unknown")


# -- malformed files -------------------------------------------------------------------------
# long words, so a truncated file still passes the size check and fails while reading rows
A, B = "a" * 30, "b" * 30
GOOD_BIN = header(2, 3) + bin_row(A, [1, 2, 3]) + bin_row(B, [4, 5, 6])


@pytest.mark.parametrize("data, fmt, expected", [
    (b"", "text", "first line"),
    (b"hello world\n", "text", "first line"),
    (b"3\n", "text", "first line"),
    (b"-3 2\n", "text", "first line"),
    (b"3 2 1\n", "binary", "first line"),
    (b"0 5\n", "text", "0 words"),
    (b"2 0\na\nb\n", "text", "dimension 0"),
    (b"2 10001\n", "binary", "dimension 10001"),
    (b"5 3\na 1 2 3\nb 1 2 3\n", "text", "at most 2"),  # the header claims more than the file holds
    (header(9, 3) + bin_row("a", [1, 2, 3]), "binary", "at most 1"),
    (b"2 3\na 1 2\nb 1 2 3\n", "text", "line 2 ('a'): expected 3 values after the word, got 2"),
    (b"2 3\na 1 2 3 4\nb 1 2 3\n", "text", "got 4"),
    (b"2 3\na 1 x 3\nb 1 2 3\n", "text", "line 2 ('a'): 'x' is not a number"),
    (b"2 3\na 1 2 3\nb 1 nan 3\n", "text", "line 3 ('b') has a NaN or infinite value"),
    (b"2 3\na 1 2 3\nb 1 1e999 3\n", "text", "NaN or infinite"),
    (b"3 1\na 1\nb 2\n\n\n\n", "text", "line 4 is blank"),
    (b"3 1\na 1\nb 2\n", "text", "text file ends after 2 of 3 words"),
    (GOOD_BIN[:-5], "binary", f"ends inside the vector of word index 1 ('{B}'): 8 of 12 bytes"),
    (GOOD_BIN[:-14], "binary", "ends inside word index 1"),
    (GOOD_BIN.replace(B.encode(), b" " * 30), "binary", "word index 1 is empty"),
    (header(2, 3) + bin_row("a", [1, 2, 3]) + bin_row("b", [1, np.inf, 3]), "binary",
     "word index 1 ('b') has a NaN or infinite value"),
    (header(1, 1) + b"x" * 5000 + b" " + b"\0" * 4, "binary", "longer than 4096 bytes"),
])
def test_malformed_word2vec(data, fmt, expected):
    assert expected in err(data, fmt)


def test_truncated_text_not_detectable_from_size():
    data = b"3 1\na 1.000000000000\nb 2.000000000000\n"  # long lines: the size check passes
    assert "ends after 2 of 3 words" in err(data, "text")


def test_wrong_format_gets_a_hint(vecs):
    assert "try fmt='binary'" in err(vio.to_word2vec_bytes(vecs, True), "text")
    assert "try fmt='text'" in err(b"2 3\na 1 2 3\nb 4 5 6\n", "binary")


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(VectorFileError, match="cannot open"):
        vio.load(tmp_path / "nope.bin")
    with pytest.raises(VectorFileError, match="cannot open"):
        vio.load(tmp_path)


def test_duplicates_keep_first_and_warn():
    data = header(3, 2) + bin_row("a", [1, 1]) + bin_row("b", [2, 2]) + bin_row("a", [3, 3])
    v, report = vio.load_with_report(io.BytesIO(data), "binary")
    assert v.words == ["a", "b"] and report.duplicates == 1 and report.read_words == 3
    np.testing.assert_array_equal(v["a"], [1, 1])
    with pytest.warns(VectorFileWarning, match="1 duplicate"):
        vio.load(io.BytesIO(data), "binary")


def test_invalid_utf8_is_replaced_and_counted():
    data = header(2, 1) + b"caf\xe9 " + struct.pack("<f", 1.0) + b"\n" + bin_row("ok", [2])
    v, report = vio.load_with_report(io.BytesIO(data), "binary")
    assert v.words == ["caf\ufffd", "ok"] and report.replaced_utf8 == 1
    with pytest.warns(VectorFileWarning, match="1 word"):
        vio.load(io.BytesIO(b"1 1\n\xff\xfe 0.5\n"), "text")


@pytest.mark.parametrize("fmt, body", [("binary", b"w " + b"\0" * 4000), ("text", b"w " + b"0 " * 1000)])
def test_huge_header_rejected_without_allocating(fmt, body):
    data = b"1000000000 1000\n" + body  # 10^12 floats claimed
    tracemalloc.start()
    try:
        msg = err(data, fmt)
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert "declares 1000000000 words" in msg
    assert peak < 4 << 20  # refused from the header: nothing near 10^12 floats was allocated or read


class _Pipe(io.RawIOBase):
    """A non-seekable stream (file size unknown)."""

    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        return self._data.readinto(b)


def test_non_seekable_stream(vecs):
    assert_same(vio.load(_Pipe(vio.to_word2vec_bytes(vecs, True)), "binary"), vecs)
    tracemalloc.start()
    try:
        with pytest.raises(VectorFileError, match="ends after 1 of"):
            vio.load(_Pipe(b"1000000000 1000\n" + b"w " + b"\0" * 4000), "binary")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20  # block by block: memory follows the data, not the header
    with pytest.raises(VectorFileError, match="seekable"):
        vio.load(_Pipe(vio.to_npz_bytes(vecs)), "npz")


# -- malformed .npz --------------------------------------------------------------------------
def npz(**members: bytes | np.ndarray) -> bytes:
    """A zip of .npy members; bytes are written raw, arrays with np.save (pickles allowed, so
    object arrays can be built to test that we refuse them)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, value in members.items():
            if isinstance(value, np.ndarray):
                b = io.BytesIO()
                np.save(b, value, allow_pickle=True)
                value = b.getvalue()
            zf.writestr(name + ".npy", value)
    return buf.getvalue()


def npy_bytes(descr: str, shape: tuple, data: bytes) -> bytes:
    b = io.BytesIO()
    np.lib.format.write_array_header_1_0(b, {"descr": descr, "fortran_order": False, "shape": shape})
    return b.getvalue() + data


W = np.array(["a", "b"])
V = np.ones((2, 3), np.float32)


@pytest.mark.parametrize("data, expected", [
    (b"PK\x03\x04 not really a zip", "BadZipFile"),
    (npz(vectors=V), "no 'words' array"),
    (npz(words=W), "no 'vectors' array"),
    (npz(words=np.array(["a", "b"], dtype=object), vectors=V), "words.npy: dtype |O is not allowed"),
    (npz(words=W, vectors=V.astype(np.float64)), "vectors.npy: dtype <f8 is not allowed"),
    (npz(words=W, vectors=V.astype(">f4")), "not allowed"),
    (npz(words=W, vectors=np.ones(6, np.float32)), "not a non-empty 2-D array"),
    (npz(words=W, vectors=np.ones((2, 0), np.float32)), "not a non-empty 2-D array"),
    (npz(words=W, vectors=np.ones((3, 3), np.float32)), "disagree on the number of words"),
    (npz(words=W, vectors=V, counts=np.ones(2, np.float64)), "counts.npy: dtype <f8"),
    (npz(words=W, vectors=np.asfortranarray(np.ones((2, 3), np.float32))), "Fortran"),
    (npz(words=W, vectors=npy_bytes("<f4", (2, 3), b"\0" * 20)), "the zip declares"),  # data short
    (npz(words=W, vectors=npy_bytes("<f4", (2, 3), b"\0" * 28)), "the zip declares"),  # data long
    (npz(words=W, vectors=b"\x93NUMPY\x01\x00\x10\x00{'descr': oops}"), "bad .npy header"),
    (npz(words=W, vectors=b"not npy"), "bad .npy header"),
    (npz(words=npy_bytes("<U1", (2,), struct.pack("<2I", 0x110000, 65)), vectors=V), "beyond U+10FFFF"),
])
def test_malformed_npz(data, expected):
    assert expected in err(data, "npz")


def test_npz_zip_bomb_rejected_before_inflating():
    """A member declaring 400 MB of zeros (~400 kB compressed) is refused from its zip header."""
    zeros = np.zeros((100_000, 1000), np.float32)
    data = npz(words=np.array(["w"] * 100_000), vectors=zeros)
    del zeros
    tracemalloc.start()
    try:
        msg = err(data, "npz", max_member_bytes=100 << 20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "exceeds the 104857600-byte limit" in msg
    assert peak < 8 << 20


def test_npz_crc_mismatch_is_caught(vecs):
    data = bytearray(vio.to_npz_bytes(vecs))
    i = bytes(data).find(vecs.vectors.tobytes()[:8])  # vectors are stored: flip one data byte
    data[i] ^= 0xFF
    assert "CRC" in err(bytes(data), "npz") or "Bad" in err(bytes(data), "npz")


def test_npz_surrogates_and_duplicates():
    data = npz(words=np.array(["a", "\ud800", "a"]), vectors=np.ones((3, 2), np.float32),
               counts=np.array([5, 4, 3]))
    v, report = vio.load_with_report(io.BytesIO(data), "npz")
    assert v.words[0] == "a" and "\ufffd" in v.words[1] and len(v) == 2
    np.testing.assert_array_equal(v.counts, [5, 4])
    assert report.duplicates == 1 and report.replaced_utf8 == 1


# -- memory-mapped sets ----------------------------------------------------------------------
@pytest.mark.parametrize("ext", [".bin", ".txt"])
def test_convert_and_open_mmap(tmp_path, vecs, ext):
    src = tmp_path / f"v{ext}"
    vio.save(vecs, src)
    out = vio.convert_to_npy(src, tmp_path / "mm")
    assert sorted(p.name for p in out.iterdir()) == ["unit.npy", "vectors.npy", "vocab.txt"]
    m = vio.open_mmap(out)
    assert m.words == vecs.words
    np.testing.assert_array_equal(m.vectors, vecs.vectors)
    np.testing.assert_array_equal(m.unit, vecs.unit)  # precomputed with Vectors' own arithmetic
    assert isinstance(m.vectors.base, mmap.mmap | np.memmap) and not m.vectors.flags.writeable
    assert isinstance(m.unit.base, mmap.mmap | np.memmap)
    assert m.most_similar("the", topn=3) == vecs.most_similar("the", topn=3)


def test_convert_limit_duplicates_and_upload(tmp_path):
    data = (header(4, 2) + bin_row("a", [1, 0]) + bin_row("b", [0, 2]) + bin_row("a", [3, 3])
            + bin_row("c", [1, 1]))
    with pytest.warns(VectorFileWarning, match="duplicate"):
        out = vio.convert_to_npy(io.BytesIO(data), tmp_path / "mm")
    m = vio.open_mmap(out)  # the .npy headers were shrunk in place to the 3 kept rows
    assert m.words == ["a", "b", "c"]
    np.testing.assert_array_equal(m.vectors, [[1, 0], [0, 2], [1, 1]])
    np.testing.assert_allclose(m.unit, [[1, 0], [0, 1], [0.70710677, 0.70710677]])
    m2 = vio.open_mmap(vio.convert_to_npy(io.BytesIO(data), tmp_path / "mm2", limit=2))
    assert m2.words == ["a", "b"] and m2.vectors.shape == (2, 2)


def test_convert_failure_leaves_nothing(tmp_path):
    with pytest.raises(VectorFileError, match="word index 1"):
        vio.convert_to_npy(io.BytesIO(GOOD_BIN[:-5]), tmp_path / "mm")
    assert list((tmp_path / "mm").iterdir()) == []
    with pytest.raises(VectorFileError, match="cannot open"):
        vio.open_mmap(tmp_path / "mm")


def test_vectors_unit_keyword_is_optional(vecs):
    plain = Vectors(vecs.words, vecs.vectors)
    given = Vectors(vecs.words, vecs.vectors, unit=plain.unit)
    assert given.unit is not None
    np.testing.assert_array_equal(given.unit, plain.unit)
    with pytest.raises(ValueError):
        Vectors(vecs.words, vecs.vectors, unit=np.ones((2, 2), np.float32))


def test_no_warnings_for_clean_files(vecs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        vio.load(io.BytesIO(vio.to_word2vec_bytes(vecs, True)))


def test_paths_accept_str(tmp_path, vecs):
    p = str(tmp_path / "v.bin")
    vio.save(vecs, p)
    assert_same(vio.load(p), vecs)
    assert Path(p).exists()
