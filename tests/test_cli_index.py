"""`python -m core prepare` (core/cli/prepare.py): a word2vec or .npz file becomes a memory-mapped
folder (vectors.npy, unit.npy, vocab.txt) equal to the source, `--index` caches the approximate
index in the folder's ann/ where AnnIndex.cached finds it (also after a copy that changes the
files' mtimes), a folder prepared earlier only gets its index, and bad input is one `error:` line
with exit code 2."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.cli.main import main
from core.vectors import vector_io
from core.vectors.ann import AnnIndex, prepared_key
from core.vectors.keyed import Vectors

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> tuple[Path, Vectors]:
    """A 2,000 x 16 word2vec binary file and the vectors in it."""
    rng = np.random.default_rng(0)
    words = ["king", "queen"] + [f"w{i}" for i in range(1998)]
    vecs = Vectors(words, rng.standard_normal((2000, 16)).astype(np.float32))
    path = tmp_path_factory.mktemp("src") / "small.bin"
    vector_io.save(vecs, path)
    return path, vecs


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["prepare", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_prepare_converts_to_a_memory_mapped_folder(source, tmp_path, capsys):
    src, vecs = source
    out = tmp_path / "small"
    code, stdout, stderr = run(capsys, str(src), "-o", str(out), "--json")
    assert code == 0, stderr
    summary = json.loads(stdout)
    assert summary["words"] == 2000 and summary["dim"] == 16 and summary["index"] is None
    assert sorted(p.name for p in out.iterdir()) == sorted(vector_io.PREPARED_FILES)
    assert "2,000 / 2,000 words" in stderr and "W2V_VECTORS_DIR" in stderr
    m = vector_io.open_mmap(out)
    assert m.words == vecs.words
    np.testing.assert_array_equal(m.vectors, vecs.vectors)
    assert m.most_similar("king", topn=5) == vecs.most_similar("king", topn=5)


def test_prepare_with_index_then_the_cache_is_found(source, tmp_path, capsys):
    src, _ = source
    out = tmp_path / "small"
    code, stdout, stderr = run(capsys, str(src), "-o", str(out), "--index", "--json")
    assert code == 0, stderr
    index = json.loads(stdout)["index"]
    assert not index["from_cache"] and Path(index["dir"]) == out / vector_io.INDEX_DIR
    assert "saved the neighbour index" in stderr and "searches this set exactly" in stderr
    # a folder prepared earlier: only the index, read back from its cache
    code, stdout, _ = run(capsys, str(out), "--index", "--json", "--quiet")
    assert code == 0 and json.loads(stdout)["index"]["from_cache"] and json.loads(stdout)["convert"] is None
    # copied elsewhere (new mtimes): AnnIndex.cached still finds it under the prepared key
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    for p in copy.rglob("*"):
        os.utime(p, ns=(p.stat().st_atime_ns, p.stat().st_mtime_ns + 10**9))
    m = vector_io.open_mmap(copy)
    found = AnnIndex.cached(m.unit, copy / vector_io.INDEX_DIR, key=prepared_key(m.unit))
    assert found is not None and found.n == 2000
    m.use_index(found)
    exact = {w for w, _ in m.most_similar("king", topn=10, approximate=False)}
    approx = {w for w, _ in m.most_similar("king", topn=10, approximate=True)}
    assert len(exact & approx) >= 9


def test_prepare_reads_npz_with_a_limit(source, tmp_path, capsys):
    _, vecs = source
    npz = tmp_path / "v.npz"
    vector_io.save(vecs, npz)
    code, stdout, stderr = run(capsys, str(npz), "-o", str(tmp_path / "n"), "--limit", "500", "--json")
    assert code == 0, stderr
    assert json.loads(stdout)["words"] == 500
    m = vector_io.open_mmap(tmp_path / "n")
    assert m.words == vecs.words[:500]
    np.testing.assert_array_equal(m.unit, vecs.unit[:500])


def test_bad_input_is_one_error_line_and_exit_code_2(source, tmp_path, capsys):
    src, _ = source
    truncated = tmp_path / "trunc.bin"
    truncated.write_bytes(src.read_bytes()[:1000])
    a_file = tmp_path / "taken"
    a_file.write_text("x")
    (tmp_path / "plain").mkdir()
    prepared = tmp_path / "prepared"
    assert run(capsys, str(src), "-o", str(prepared), "--quiet")[0] == 0
    cases = {
        "no such file": [str(tmp_path / "missing.bin"), "-o", str(tmp_path / "m")],
        "hold at most": [str(truncated), "-o", str(tmp_path / "t")],
        "not a folder": [str(src), "-o", str(a_file)],
        "add --index": [str(prepared)],
        "omit -o": [str(prepared), "-o", str(tmp_path / "elsewhere"), "--index"],
        "folder without": [str(tmp_path / "plain"), "--index"],
        "-o OUT": [str(src)],
    }
    for expected, argv in cases.items():
        code, stdout, stderr = run(capsys, *argv, "--quiet")
        lines = stderr.strip().splitlines()
        assert code == 2 and stdout == "", (expected, stderr)
        assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], (expected, stderr)
    assert not (tmp_path / "t").exists() and not (tmp_path / "m").exists()  # nothing left behind


def test_prepare_is_listed_by_the_real_command_line():
    done = subprocess.run([sys.executable, "-m", "core", "prepare", "--help"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and "--index" in done.stdout and "--cache-dir" in done.stdout
