"""Analogy and word-pair evaluation against gensim 4.4.0 and plain NumPy references, plus the
`eval` command's output and its handling of bad input."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from core.cli import evaluate as cli_eval
from core.vectors import evaluate
from core.vectors.evaluate import (
    AnalogySection,
    EvalError,
    evaluate_analogies,
    evaluate_word_pairs,
    read_analogies,
    read_word_pairs,
)
from core.vectors.keyed import Vectors
from tests.conftest import SHARED, SMALL_WORLD_SIMILARITY, analogy_questions, real_text

QUESTIONS = analogy_questions()  # Google's questions-words.txt, or the small world's own file
WORDSIM = SHARED / "eval" / "wordsim353.tsv"
SIMLEX = SHARED / "eval" / "simlex999.txt"


def gensim_kv(vectors: Vectors):
    """The same words and vectors as a gensim KeyedVectors (the reference)."""
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vector_size=vectors.dim)
    kv.add_vectors(vectors.words, vectors.vectors)
    return kv


def gensim_sections(kv, path, restrict: int, case_insensitive: bool = True) -> dict[str, tuple[set, set]]:
    """{section: (correct questions, incorrect questions)} from gensim, questions upper-cased as gensim
    reports them when case-insensitive."""
    _, sections = kv.evaluate_word_analogies(str(path), restrict_vocab=restrict,
                                             case_insensitive=case_insensitive)
    return {s["section"]: (set(s["correct"]), set(s["incorrect"])) for s in sections
            if s["section"] != "Total accuracy"}


def assert_same_as_gensim(vectors: Vectors, path, restrict: int, case_insensitive: bool = True) -> None:
    """Same correct/total per section, and the very same questions answered wrongly."""
    ours = evaluate_analogies(vectors, path, restrict_vocab=restrict, case_insensitive=case_insensitive)
    ref = gensim_sections(gensim_kv(vectors), path, restrict, case_insensitive)
    key = str.upper if case_insensitive else (lambda w: w)
    wrong = {tuple(key(w) for w in (x.a, x.b, x.c, x.expected)) for x in ours.wrong}
    for s in ours.sections:
        correct, incorrect = ref[s.name]
        assert (s.correct, s.total) == (len(correct), len(correct) + len(incorrect)), s.name
        assert not incorrect - wrong, f"{s.name}: gensim got these wrong, we got them right"
    assert sum(len(c) for c, _ in ref.values()) == ours.n_correct


# -- vectors trained by gensim on a slice of the shared corpus (or of the small world) ------------
@pytest.fixture(scope="module")
def trained() -> Vectors:
    """Skip-gram vectors (gensim, 1 worker, seeded) on ~450k words: weak on the shared corpus, but
    well above chance; strong on the small world, with some questions still wrong."""
    pytest.importorskip("gensim")
    from gensim.models import Word2Vec

    sentences = [words[i: i + 10_000] for line in real_text(2_500_000).splitlines()
                 if (words := line.split()) for i in range(0, len(words), 10_000)]
    model = Word2Vec(sentences, vector_size=50, window=5, min_count=5, workers=1, seed=1, epochs=5)
    return Vectors(model.wv.index_to_key, model.wv.vectors)


@pytest.mark.parametrize("restrict", [2_000, 30_000])
def test_3cosadd_equals_gensim_section_by_section(trained, restrict):
    result = evaluate_analogies(trained, QUESTIONS, restrict_vocab=restrict)
    assert result.n_correct > 20, "vectors too weak for a meaningful comparison"
    assert_same_as_gensim(trained, QUESTIONS, restrict)


def test_3cosadd_equals_gensim_case_sensitive(trained, tmp_path):
    # the corpus is lowercase: a capitalised copy of the (lowercase) family section is skipped
    # entirely when case-sensitive, and answered when not
    first = next(s for s in read_analogies(QUESTIONS) if s.name == "family")
    capitalised = "".join(" ".join(w.capitalize() for w in q) + "\n" for q in first.questions[:50])
    path = tmp_path / "questions.txt"
    path.write_text(QUESTIONS.read_text(encoding="utf-8") + ": capitalised\n" + capitalised, encoding="utf-8")
    result = evaluate_analogies(trained, path, restrict_vocab=30_000, case_insensitive=False)
    totals = {s.name: s.total for s in result.sections}
    assert totals["capitalised"] == 0 and totals[first.name] > 0
    loose = evaluate_analogies(trained, path, restrict_vocab=30_000)
    assert {s.name: s.total for s in loose.sections}["capitalised"] > 0
    assert_same_as_gensim(trained, path, 30_000, case_insensitive=False)


def test_restrict_default_is_the_c_tools_30000(trained):
    a = evaluate_analogies(trained, QUESTIONS)
    b = evaluate_analogies(trained, QUESTIONS, restrict_vocab=30_000)
    assert a.restrict_vocab == min(30_000, len(trained))
    assert a.to_json() == b.to_json()


def test_batching_does_not_change_answers(trained):
    a = evaluate_analogies(trained, QUESTIONS, restrict_vocab=5000, batch_size=97)
    b = evaluate_analogies(trained, QUESTIONS, restrict_vocab=5000)
    assert a.to_json() == b.to_json() and a.wrong == b.wrong


def test_agrees_with_vectors_analogy(trained):
    sections = read_analogies(QUESTIONS)
    family = [s for s in sections if s.name == "family"]
    result = evaluate_analogies(trained, family, restrict_vocab=30_000, case_insensitive=False)
    for w in result.wrong[:50]:
        assert trained.analogy(w.a, w.b, w.c, restrict=30_000)[0][0] == w.predicted


def reference_3cosmul(vectors: Vectors, sections, restrict: int) -> tuple[int, list[str]]:
    """Plain NumPy, one question at a time, float64, lowercase vocabulary, case-sensitive."""
    unit = vectors.unit.astype(np.float64)[:restrict]
    index = {w: i for i, w in enumerate(vectors.words[:restrict])}
    correct, predicted = 0, []
    for s in sections:
        for a, b, c, d in s.questions:
            if not all(w in index for w in (a, b, c, d)):
                continue
            cos = {w: (unit @ unit[index[w]] + 1.0) / 2.0 for w in (a, b, c)}
            scores = cos[b] * cos[c] / (cos[a] + 1e-3)
            for w in (a, b, c):
                scores[index[w]] = -np.inf
            guess = vectors.words[int(np.argmax(scores))]
            predicted.append(guess)
            correct += guess == d
    return correct, predicted


@pytest.mark.parametrize("cached", [True, False], ids=["cos-table", "per-batch-products"])
def test_3cosmul_equals_numpy_loop(trained, cached, monkeypatch):
    if not cached:
        monkeypatch.setattr(evaluate, "MUL_TABLE_ELEMENTS", 0)
    sections = [AnalogySection(s.name, [tuple(w.lower() for w in q) for q in s.questions][:150])
                for s in read_analogies(QUESTIONS)]
    result = evaluate_analogies(trained, sections, method="mul", restrict_vocab=10_000,
                                case_insensitive=False)
    correct, preds = reference_3cosmul(trained, sections, 10_000)
    assert result.n_correct == correct > 0
    covered = [q for s in sections for q in s.questions
               if all(w in trained.index and trained.index[w] < 10_000 for w in q)]
    ref_wrong = {(*q, p) for q, p in zip(covered, preds, strict=True) if p != q[3]}
    assert {(w.a, w.b, w.c, w.expected, w.predicted) for w in result.wrong} == ref_wrong


# -- random vectors with reachable answers and mixed-case duplicates ------------------------------
def planted(seed: int = 0):
    """Vectors where d = b - a + c (+ noise) for half the questions, plus casing aliases whose vector
    is a copy of a query word's (so only the alias exclusion keeps them from winning)."""
    rng = np.random.default_rng(seed)
    dim, n = 32, 400
    words = [f"w{i}" for i in range(n)]
    vecs = rng.normal(size=(n, dim)).astype(np.float32)
    questions = []
    for k in range(60):
        a, b, c, d = rng.choice(n, 4, replace=False)
        if k % 2 == 0:
            vecs[d] = vecs[b] - vecs[a] + vecs[c] + 0.05 * rng.normal(size=dim)
        questions.append((words[a], words[b], words[c], words[d]))
    # casing aliases, later (less frequent) than their lowercase originals, one copying a query word b
    words += ["W3", "W5", questions[0][1].upper()]
    vecs = np.vstack([vecs, vecs[3], vecs[5] * 2, vecs[int(questions[0][1][1:])] * 1.01]).astype(np.float32)
    text = ": semantic-planted\n" + "\n".join(" ".join(q) for q in questions[:30]) + "\n"
    text += ": gram-planted\n" + "\n".join(" ".join(q).upper() for q in questions[30:]) + "\n"
    return Vectors(words, vecs), text


@pytest.mark.parametrize("case_insensitive", [True, False])
@pytest.mark.parametrize("restrict", [None, 300])
def test_planted_answers_match_gensim(tmp_path, case_insensitive, restrict):
    pytest.importorskip("gensim")
    vectors, text = planted()
    path = tmp_path / "q.txt"
    path.write_text(text)
    result = evaluate_analogies(vectors, path, restrict_vocab=restrict, case_insensitive=case_insensitive)
    if case_insensitive and restrict is None:
        assert result.n_correct >= 25  # the planted half is found
    assert_same_as_gensim(vectors, path, restrict if restrict is not None else len(vectors), case_insensitive)


def test_casing_alias_of_a_query_word_is_never_the_answer(tmp_path):
    vectors, text = planted()
    path = tmp_path / "q.txt"
    path.write_text(text)
    result = evaluate_analogies(vectors, path, restrict_vocab=None)
    for w in result.wrong:
        assert w.predicted.upper() not in {w.a.upper(), w.b.upper(), w.c.upper()}


def test_json_shape_and_splits():
    vectors, text = planted()
    sections = read_analogies_text(text)
    result = evaluate_analogies(vectors, sections, restrict_vocab=None)
    j = result.to_json()
    assert list(j) == ["total", "semantic", "syntactic", "coverage", "sections"]
    assert j["sections"] == {s.name: {"correct": s.correct, "total": s.total} for s in result.sections}
    sem, syn = result.sections
    assert j["semantic"] == sem.correct / sem.total and j["syntactic"] == syn.correct / syn.total
    assert j["total"] == (sem.correct + syn.correct) / (sem.total + syn.total)
    assert j["coverage"] == 1.0
    json.dumps(j)


def read_analogies_text(text: str) -> list[AnalogySection]:
    sections: list[AnalogySection] = []
    for line in io.StringIO(text):
        if line.startswith(":"):
            sections.append(AnalogySection(line[1:].strip()))
        elif line.strip():
            sections[-1].questions.append(tuple(line.split()))
    return sections


def test_all_questions_out_of_vocabulary_reports_zero_coverage():
    vectors, _ = planted()
    result = evaluate_analogies(vectors, [AnalogySection("gram-x", [("zz", "yy", "xx", "ww")])])
    assert result.coverage == 0.0 and result.total == 0.0 and result.n_evaluated == 0
    assert result.to_json()["sections"] == {"gram-x": {"correct": 0, "total": 0}}


def test_unknown_method_is_an_error():
    vectors, _ = planted()
    with pytest.raises(EvalError, match="method"):
        evaluate_analogies(vectors, [AnalogySection("s", [("w1", "w2", "w3", "w4")])], method="cos")


# -- reading question and pair files ----------------------------------------------------------------
def test_read_analogies_skips_comments_and_blank_lines(tmp_path):
    p = tmp_path / "q.txt"
    p.write_text("# a comment\n\n: s1\na b c d\n\n# more\n: gram2\ne f g h\n")
    sections = read_analogies(p)
    assert [(s.name, s.questions, s.syntactic) for s in sections] == [
        ("s1", [("a", "b", "c", "d")], False), ("gram2", [("e", "f", "g", "h")], True)]


@pytest.mark.parametrize("text, message", [
    (": s\na b c\n", r"q.txt:2: expected 4 words 'a b c d', got 3"),
    (": s\na b c d e\n", "got 5"),
    ("a b c d\n", "before the first ': section' header"),
    (":\na b c d\n", "section header without a name"),
    ("# only a comment\n", "no analogy questions"),
    ("", "no analogy questions"),
])
def test_read_analogies_bad_lines(tmp_path, text, message):
    p = tmp_path / "q.txt"
    p.write_text(text)
    with pytest.raises(EvalError, match=message):
        read_analogies(p)


def test_read_analogies_lenient_skips_bad_lines(tmp_path):
    p = tmp_path / "q.txt"
    p.write_text(": s\na b c\na b c d\n")
    assert read_analogies(p, strict=False)[0].questions == [("a", "b", "c", "d")]


def test_not_a_text_file(tmp_path):
    p = tmp_path / "q.bin"
    p.write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(EvalError, match="binary"):
        read_analogies(p)
    p.write_bytes(b": s\n\xff\xfe a b c d\n")
    with pytest.raises(EvalError, match="UTF-8"):
        read_word_pairs(p)
    with pytest.raises(EvalError, match="no such"):
        read_analogies(tmp_path / "missing.txt")


def test_read_word_pairs_tab_or_space(tmp_path):
    p = tmp_path / "p.txt"
    p.write_text("# c\nlove\tsex\t6.77\ntiger cat 7.35\n\nold  new 1.5\n")
    assert read_word_pairs(p) == [("love", "sex", 6.77), ("tiger", "cat", 7.35), ("old", "new", 1.5)]
    p.write_text("love sex\n")
    with pytest.raises(EvalError, match=r"p.txt:1: expected 'word1 word2 score'"):
        read_word_pairs(p)
    p.write_text("love sex high\n")
    with pytest.raises(EvalError, match="p.txt:1"):
        read_word_pairs(p)


# -- word-pair similarity ---------------------------------------------------------------------------
PAIR_FILES = [p for p in (WORDSIM, SIMLEX) if p.exists()] or [SMALL_WORLD_SIMILARITY]


@pytest.mark.parametrize("path", PAIR_FILES, ids=[p.stem for p in PAIR_FILES])
def test_spearman_pearson_oov_equal_gensim(trained, path, tmp_path):
    if path == SMALL_WORLD_SIMILARITY:  # every word is in the vocabulary: add pairs gensim must skip too
        path = tmp_path / path.name
        path.write_text(SMALL_WORLD_SIMILARITY.read_text(encoding="utf-8")
                        + "king\tzzunknown\t7.0\nzzother\tqueen\t3.0\n", encoding="utf-8")
    ours = evaluate_word_pairs(trained, path)
    pearson, spearman, oov_percent = gensim_kv(trained).evaluate_word_pairs(str(path))
    assert ours.spearman == pytest.approx(spearman.statistic, abs=1e-6)
    assert ours.pearson == pytest.approx(pearson.statistic, abs=1e-6)
    assert ours.oov == pytest.approx(oov_percent / 100, abs=1e-12)
    assert 0 < ours.n_used < ours.n_pairs


def test_word_pairs_by_hand():
    words = ["a", "b", "c", "d"]
    vecs = np.array([[1, 0], [0.8, 0.6], [0, 1], [-1, 0]], dtype=np.float32)
    v = Vectors(words, vecs)
    pairs = [("a", "b", 9.0), ("a", "c", 5.0), ("a", "d", 1.0), ("b", "c", 6.0), ("a", "zz", 3.0)]
    r = evaluate_word_pairs(v, pairs)
    cos = np.array([0.8, 0.0, -1.0, 0.6])
    gold = np.array([9.0, 5.0, 1.0, 6.0])
    assert r.spearman == pytest.approx(1.0)
    assert r.pearson == pytest.approx(np.corrcoef(cos, gold)[0, 1])
    assert r.oov == pytest.approx(0.2) and r.n_used == 4 and r.n_pairs == 5
    assert r.to_json() == {"spearman": r.spearman, "pearson": r.pearson, "oov": r.oov}


def test_word_pairs_all_unknown_is_an_error():
    v = Vectors(["a", "b"], np.eye(2, dtype=np.float32))
    with pytest.raises(EvalError, match="only 0 of 2 word pairs"):
        evaluate_word_pairs(v, [("x", "y", 1.0), ("a", "z", 2.0)])


# -- the `eval` command -----------------------------------------------------------------------------
def write_w2v_text(path, vectors: Vectors) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"{len(vectors)} {vectors.dim}\n")
        for w, row in zip(vectors.words, vectors.vectors, strict=True):
            f.write(w + " " + " ".join(f"{x:.6f}" for x in row) + "\n")


def read_w2v_text(path) -> Vectors:
    """A minimal word2vec text reader standing in for vector_io (which another module provides)."""
    with open(path, encoding="utf-8") as f:
        n, dim = map(int, f.readline().split())
        words, rows = [], []
        for lineno, line in enumerate(f, 2):
            parts = line.split()
            if len(parts) != dim + 1:
                raise ValueError(f"line {lineno}: {len(parts) - 1} values, the header says {dim}")
            words.append(parts[0])
            rows.append([float(x) for x in parts[1:]])
    return Vectors(words, np.array(rows, dtype=np.float32))


@pytest.fixture
def cli(monkeypatch, capsys):
    """Run `eval` in-process; returns (exit code, stdout, stderr)."""

    def run(*argv: str):
        code = cli_eval.main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err
    return run


@pytest.fixture
def files(tmp_path):
    vectors, text = planted()
    vec = tmp_path / "v.txt"
    write_w2v_text(vec, vectors)
    q = tmp_path / "q.txt"
    q.write_text(text)
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("# w1 w2 score\nw1\tw2\t3.0\nw3\tw4\t5.5\nw5\tw6\t1.0\nw7\tw8\t9.0\nw1\tnope\t2.0\n")
    return vectors, vec, q, pairs


def test_cli_eval_json(cli, files):
    vectors, vec, q, pairs = files
    code, out, err = cli("eval", vec, "--analogies", q, "--similarity", pairs, "--json", "--restrict", 1000)
    assert code == 0, err
    j = json.loads(out)
    assert list(j) == ["analogies", "similarity"]
    expected = evaluate_analogies(read_w2v_text(vec), q, restrict_vocab=1000).to_json()
    assert j["analogies"] == expected
    assert list(j["similarity"]) == [str(pairs)]
    assert set(j["similarity"][str(pairs)]) == {"spearman", "pearson", "oov"}
    assert j["similarity"][str(pairs)]["oov"] == pytest.approx(0.2)


def test_cli_eval_table_and_mul(cli, files):
    _, vec, q, pairs = files
    code, out, err = cli("eval", vec, "--analogies", q, "--method", "mul", "--similarity", pairs)
    assert code == 0, err
    assert "3CosMul" in out and "semantic-planted" in out and "coverage 100.00%" in out
    assert "pairs.txt" in out and "spearman" in out


@pytest.mark.parametrize("bad, message", [
    (": s\nw1 w2 w3\n", "expected 4 words"),
    (b"\x00\x00binary", "binary"),
])
def test_cli_eval_bad_question_file(cli, files, tmp_path, bad, message):
    _, vec, _, _ = files
    q = tmp_path / "bad.txt"
    q.write_bytes(bad if isinstance(bad, bytes) else bad.encode())
    code, out, err = cli("eval", vec, "--analogies", q)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert "Traceback" not in err


def test_cli_eval_zero_coverage_reports_and_exits_2(cli, files, tmp_path):
    _, vec, _, _ = files
    q = tmp_path / "oov.txt"
    q.write_text(": capital\nathens greece baghdad iraq\n")
    code, out, err = cli("eval", vec, "--analogies", q, "--json")
    assert code == 2
    assert json.loads(out)["analogies"]["coverage"] == 0.0
    assert "coverage 0%" in err and err.count("\n") == 1


def test_cli_eval_vectors_with_wrong_dimension(cli, files, tmp_path):
    _, _, q, _ = files
    bad = tmp_path / "bad.txt"
    bad.write_text("2 3\nw1 0.1 0.2 0.3\nw2 0.1 0.2\n")
    code, out, err = cli("eval", bad, "--analogies", q)
    assert code == 2 and err.startswith("error: cannot load vectors") and "expected 3 values" in err
    assert err.count("\n") == 1


def test_cli_eval_needs_something_to_do(cli, files):
    _, vec, _, _ = files
    code, _, err = cli("eval", vec)
    assert code == 2 and "nothing to evaluate" in err
    code, _, err = cli("eval", vec / "nope", "--analogies", vec)
    assert code == 2 and err.startswith("error: ")


def test_cli_eval_through_python_m_core(files, tmp_path):
    """The real loader end to end, in a child process."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    _, vec, q, pairs = files
    run = subprocess.run([sys.executable, "-m", "core", "eval", str(vec), "--analogies", str(q), "--json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["analogies"]["coverage"] == 1.0
    bad = tmp_path / "bad.txt"
    bad.write_text("2 3\nw1 0.1 0.2 0.3\nw2 0.1 0.2\n")
    run = subprocess.run([sys.executable, "-m", "core", "eval", str(bad), "--analogies", str(q)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.strip().count("\n") == 0
