"""Prepared (memory-mapped) vector sets in the app (ui/vector_sets.py, pages/vectors.py).

A folder written by `python -m core prepare` inside W2V_VECTORS_DIR is offered by its name, opened
memory-mapped and shared read-only, and answers neighbour queries; the page says whether the exact
search or the approximate index answered (the index is attached above EXACT_MAX words when one is
cached, never built in a request), and says how to build one when it is missing. Names and
symlinks that lead out of the folder are refused (the file cases are in tests/test_hosted.py).
"""

from __future__ import annotations

import mmap
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.cli.main import main as cli
from core.vectors import ann, vector_io
from core.vectors import keyed as core_vectors
from core.vectors.keyed import Vectors
from ui import hosted, vector_sets

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
N, DIM = 2000, 16


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ["W2V_HOSTED", *hosted.ENV_NAMES.values()]:
        monkeypatch.delenv(name, raising=False)


def write_source(path: Path) -> Vectors:
    rng = np.random.default_rng(0)
    words = ["king", "queen", "man", "woman"] + [f"w{i}" for i in range(N - 4)]
    vecs = Vectors(words, rng.standard_normal((N, DIM)).astype(np.float32))
    vector_io.save(vecs, path)
    return vecs


@pytest.fixture
def folder(tmp_path) -> Path:
    """W2V_VECTORS_DIR with a prepared set `small` (its index in small/ann), a prepared set
    `plain` without an index, a word2vec file, and ways out of the folder."""
    base = tmp_path / "vectors"
    base.mkdir()
    src = tmp_path / "src.bin"
    write_source(src)
    assert cli(["prepare", str(src), "-o", str(base / "small"), "--index", "--quiet"]) == 0
    assert cli(["prepare", str(src), "-o", str(base / "plain"), "--quiet"]) == 0
    assert cli(["prepare", str(src), "-o", str(tmp_path / "outside"), "--quiet"]) == 0
    vector_io.save(Vectors(["a", "b"], np.eye(2, dtype=np.float32)), base / "tiny.bin")
    (base / "escape").symlink_to(tmp_path / "outside")                  # a prepared folder out of the folder
    leaky = base / "leaky"                                               # inside, but one file points out
    leaky.mkdir()
    for name in ("vectors.npy", "unit.npy"):
        (leaky / name).write_bytes((base / "plain" / name).read_bytes())
    (leaky / "vocab.txt").symlink_to(tmp_path / "outside" / "vocab.txt")
    (base / "incomplete").mkdir()
    (base / "incomplete" / "vectors.npy").write_bytes((base / "plain" / "vectors.npy").read_bytes())
    return base


def app(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    at.switch_page("pages/vectors.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def load_folder_set(at: AppTest, name: str) -> AppTest:
    at.segmented_control(key="vectors_load_from").set_value("folder").run()
    at.selectbox(key="vectors_folder_file").set_value(name).run()
    at.button(key="vectors_load").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def mapped(a: np.ndarray) -> bool:
    """True when the array's memory is a file mapping (np.memmap or mmap.mmap down its bases)."""
    while a is not None:
        if isinstance(a, np.memmap | mmap.mmap):
            return True
        a = getattr(a, "base", None)
    return False


def index_hints(at: AppTest) -> list[str]:
    return [i.value for i in at.info if "python -m core prepare" in i.value]


def captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


# -- the folder ----------------------------------------------------------------------------
def test_prepared_folders_are_listed_by_name_and_escapes_refused(folder):
    assert vector_sets.folder_files(folder) == ["plain", "small", "tiny.bin"]
    for name in ("escape", "leaky", "incomplete", "../outside", str(folder.parent / "outside"), "small/ann"):
        with pytest.raises(vector_sets.VectorSetError, match="not one of this server's vector files"):
            vector_sets.resolve_in_folder(name, folder)
    assert vector_sets.resolve_in_folder("small", folder) == (folder / "small").resolve()


def test_a_prepared_set_is_memory_mapped_shared_and_read_only(folder, monkeypatch):
    a = vector_sets.load_from_folder("plain", base=folder)
    b = vector_sets.load_from_folder("plain", base=folder)
    assert a.prepared and a.vectors is b.vectors and a.report.fmt == "memory-mapped .npy"
    for arr in (a.vectors.unit, a.vectors.vectors):                     # not copied into RAM
        assert mapped(arr) and not arr.flags.writeable
    assert a.vectors.ann_index is None                                   # 2,000 words <= EXACT_MAX
    monkeypatch.setattr(core_vectors, "EXACT_MAX", 1000)
    small = vector_sets.load_from_folder("small", base=folder)
    assert small.vectors.ann_index is not None and small.vectors.ann_index.from_cache
    assert vector_sets.search_mode(small.vectors)
    plain = vector_sets.load_from_folder("plain", base=folder)          # above EXACT_MAX, no index
    assert plain.vectors.ann_index is None and "python -m core prepare" in vector_sets.index_hint(plain.vectors)


def test_opening_never_builds_an_index(folder, monkeypatch):
    def no_build(*args, **kwargs):
        raise AssertionError("an index was built inside a request")

    monkeypatch.setattr(ann.AnnIndex, "build", no_build)
    monkeypatch.setattr(ann, "_build_graph", no_build)
    monkeypatch.setattr(core_vectors, "EXACT_MAX", 1000)
    for p in (folder / "small" / "ann").glob(f"ann-*/{ann.FILE}"):      # a damaged index is not used
        p.write_bytes(b"damaged")
    got = vector_sets.load_from_folder("small", base=folder).vectors
    assert got.ann_index is None and "damaged" in got.ann_problem


@pytest.mark.parametrize("spoil", ["damaged", "stale"])
def test_a_damaged_or_stale_index_is_one_line_and_exact_search(folder, monkeypatch, spoil):
    monkeypatch.setattr(core_vectors, "EXACT_MAX", 1000)
    monkeypatch.setenv("W2V_VECTORS_DIR", str(folder))
    (index_dir,) = (folder / "small" / "ann").glob("ann-*")
    if spoil == "damaged":                                              # bytes flipped in the graph
        path = index_dir / ann.FILE
        data = bytearray(path.read_bytes())
        data[-4096:] = bytes(255 - b for b in data[-4096:])
        path.write_bytes(bytes(data))
    else:                                                               # built for other vectors
        index_dir.rename(index_dir.with_name("ann-" + "0" * 24))
    at = app({"set": "small", "word": "queen", "topn": "5"})
    assert at.session_state["loaded_vectors"]["small"].vectors.ann_index is None
    assert len(at.dataframe[0].value) == 5
    assert any(c.startswith("Exact search, 2,000 words:") for c in captions(at)), captions(at)
    (hint,) = index_hints(at)
    assert spoil in hint and "\n" not in hint and str(folder) not in hint and "/" not in hint.split("`")[0], hint


# -- the page ------------------------------------------------------------------------------
def test_page_opens_a_prepared_set_and_reports_exact_search(folder, monkeypatch):
    monkeypatch.setenv("W2V_HOSTED", "1")
    monkeypatch.setenv("W2V_VECTORS_DIR", str(folder))
    at = app()
    at.segmented_control(key="vectors_load_from").set_value("folder").run()
    assert at.selectbox(key="vectors_folder_file").options == ["plain", "small", "tiny.bin"]
    load_folder_set(at, "plain")
    assert any("2,000 words x 16" in s.value and "memory-mapped" in s.value for s in at.success)
    assert at.query_params["set"] == "plain" and at.query_params["word"] == "king"
    assert len(at.dataframe[0].value) == 10
    assert any(c.startswith("Exact search, 2,000 words:") and c.endswith("ms") for c in captions(at))
    assert not index_hints(at)
    # a shared link naming a folder outside W2V_VECTORS_DIR loads nothing
    out = app({"set": "escape"})
    assert not out.session_state["loaded_vectors"]


def test_page_reports_the_approximate_index_above_exact_max(folder, monkeypatch):
    monkeypatch.setattr(core_vectors, "EXACT_MAX", 1000)
    monkeypatch.setenv("W2V_VECTORS_DIR", str(folder))
    at = app({"set": "small", "word": "queen", "topn": "5"})
    assert at.session_state["loaded_vectors"]["small"].vectors.ann_index is not None
    assert len(at.dataframe[0].value) == 5
    assert any(c.startswith("Approximate index, 2,000 words:") for c in captions(at)), captions(at)
    assert not index_hints(at)
    load_folder_set(at, "plain")                                         # above EXACT_MAX without an index
    assert any(c.startswith("Exact search, 2,000 words:") for c in captions(at)), captions(at)
    assert len(index_hints(at)) == 1 and "--index" in index_hints(at)[0]


def test_a_typed_path_opens_a_prepared_folder_unless_hosted(folder, monkeypatch):
    for text in (str(folder / "plain"), str(folder / "plain" / "vectors.npy")):
        got = vector_sets.load_path(text)
        assert got.prepared and len(got.vectors) == N and mapped(got.vectors.unit)
    with pytest.raises(vector_sets.VectorSetError, match="prepared by `python -m core prepare`"):
        vector_sets.load_path(str(folder / "incomplete"))
    monkeypatch.setenv("W2V_HOSTED", "1")
    with pytest.raises(vector_sets.VectorSetError, match="disabled"):
        vector_sets.load_path(str(folder / "plain"))


def test_analogies_on_a_prepared_set_ask_the_index_above_exact_max_and_say_so(folder, monkeypatch):
    monkeypatch.setattr(core_vectors, "EXACT_MAX", 1000)
    monkeypatch.setenv("W2V_HOSTED", "1")
    monkeypatch.setenv("W2V_VECTORS_DIR", str(folder))
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in {"set": "small", "a": "king", "b": "man", "c": "woman"}.items():
        at.query_params[k] = v
    at.run()
    at.switch_page("pages/analogies.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert len(at.dataframe[0].value) == 5
    assert any(c.startswith("Approximate index, 2,000 words:") for c in captions(at)), captions(at)
    at.radio(key="ana_method").set_value("3CosMul").run()
    assert any(c.startswith("Approximate index, 2,000 words:") and "reranks" in c for c in captions(at))
    monkeypatch.setattr(core_vectors, "EXACT_MAX", 300_000)  # the same set under the limit: the exact scan
    at.run()
    assert any(c.startswith("Exact search, 2,000 words:") for c in captions(at)), captions(at)
