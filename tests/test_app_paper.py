"""The "Reproduce the paper" page under AppTest, and the pure pieces behind it (ui/paper.py).

The page opens the shipped small-world result without training; a run on the session's corpus
goes through the training queue, fills the table row by row and is kept as JSON; bad result
files and settings over the server's limits give one line, never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.replicate import PAPER_TABLE1, TABLE1_PLAN, Settings, Table1Result, claims
from tests.app_fixtures import small_corpus
from ui import paper

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGE = "pages/paper.py"
QUESTIONS = "small world analogies (sample)"


def page(state: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in (state or {}).items():
        at.session_state[k] = v
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def frames(at: AppTest) -> dict[str, object]:
    """The page's tables by role (AppTest's Dataframe has no key): the running job's table has a
    status column, the opened result's table has none; a claims table belongs to the table before it."""
    out, last = {}, "kept"
    for d in at.dataframe:
        v = d.value
        if "claim" in v.columns:
            out[f"{last}_claims"] = v
        else:
            last = "job" if "status" in v.columns else "kept"
            out[f"{last}_table"] = v
    return out


@pytest.fixture(autouse=True)
def keep_here(tmp_path, monkeypatch):
    monkeypatch.setenv(paper.ENV_DIR, str(tmp_path / "kept"))
    return tmp_path / "kept"


def test_shipped_small_world_result_is_a_full_table_whose_claims_are_recomputed():
    path = next(iter(paper.SHIPPED.values()))
    data = json.loads(path.read_text())
    result = paper.parse_result(path.read_bytes())
    assert [(r.method, r.sample) for r in result.rows] == list(TABLE1_PLAN)
    assert result.settings["corpus"] == "small_world.txt" and result.settings["subsample_formula"] == "paper"
    # the claims stored in the file are what the current code concludes from its rows
    assert data["claims"] == [c.to_json() for c in claims(result.rows)]


def test_page_opens_the_shipped_result_without_a_corpus_or_training():
    at = page()
    got = frames(at)
    table = got["kept_table"]
    assert len(table) == 7 and table["total %"].notna().all()
    assert list(table["paper: total %"]) == [p.total for p in PAPER_TABLE1]
    assert len(got["kept_claims"]) >= 1
    assert any(c.key == "paper_kept_fig" for c in at.get("plotly_chart"))
    assert not at.error
    assert any("No corpus yet" in i.value and "Table 1" in i.value for i in at.info)
    # the uploader says the real cap (a result file is at most ~1 MB), not the server's 200 MB
    uploader = at.get("file_uploader")[0]
    assert uploader.proto.max_upload_size_mb == 1 and "1 MB" in uploader.proto.label


def test_running_on_the_session_corpus_fills_the_table_and_keeps_the_result(keep_here):
    at = page({"corpus": small_corpus(), "paper_prefs": {"epochs": 1, "size": 8, "questions": QUESTIONS}})
    at.button(key="paper_run").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    job: paper.PaperJob = at.session_state["paper_job"]
    assert [r.name.split(" · ")[1:3] for r in job.runs] == [[m, f"t={s:g}"] for m, s in TABLE1_PLAN]
    for r in job.runs:
        r.join(120)
    assert all(r.status == "done" for r in job.runs), [r.error for r in job.runs]
    at.run()
    assert not at.exception
    table = frames(at)["job_table"]
    assert table["seconds"].notna().all() and table["total %"].notna().all()
    assert all(s.startswith("done") for s in table["status"])
    kept = list(keep_here.glob("*.json"))
    assert len(kept) == 1
    back = paper.load_kept(kept[0])
    assert [(r.method, r.sample) for r in back.rows] == list(TABLE1_PLAN)
    assert back.settings["questions"] == QUESTIONS
    # the kept result is offered in the list of results
    assert any("tiny test text" in o for o in at.selectbox(key="paper_choice").options)


def test_settings_over_the_server_limit_are_lowered_with_one_line(monkeypatch):
    monkeypatch.setenv("W2V_MAX_SIZE", "16")
    at = page({"corpus": small_corpus(), "paper_prefs": {"epochs": 1, "size": 200, "questions": QUESTIONS}})
    at.button(key="paper_run").click().run()
    assert not at.exception
    assert any("lowered from 200 to 16" in i.value for i in at.info)
    job = at.session_state["paper_job"]
    assert all(r.config.size == 16 for r in job.runs)
    job.stop()
    for r in job.runs:
        r.join(60)


def test_a_job_partly_done_gives_the_rows_so_far():
    job = paper.start_table1(small_corpus(), Settings(epochs=20, size=8, threads=1),
                             paper.SMALL_WORLD_QUESTIONS, QUESTIONS)
    for r in job.runs[2:]:  # stopped while queued (the runs of a sequence share one thread)
        r.stop()
    for r in job.runs:
        r.join(120)
    result = job.score()
    assert [(r.method, r.sample) for r in result.rows] == list(TABLE1_PLAN[:2])
    assert result.interrupted and not job.running
    frame = paper.table_frame(result)
    assert frame["total %"].notna().sum() == 2 and len(frame) == 7


@pytest.mark.parametrize("data, message", [
    (b"{not json", "not a JSON file"),
    (b'{"rows": [{"method": "NEG-5"}]}', "not a Table 1 result"),
    (b'{"rows": []}', "no Table 1 rows"),
    (b'{"rows": [{"method": "CBOW", "sample": 0, "seconds": 1, "syntactic": 0, "semantic": 0, "total": 0, '
     b'"coverage": 1}]}', "no Table 1 rows"),
    (b" " * (paper.MAX_RESULT_BYTES + 1), "bytes"),
])
def test_bad_result_files_are_one_line(data, message):
    with pytest.raises(paper.ResultError, match=message):
        paper.parse_result(data)


def test_figure_has_our_bars_and_the_papers():
    result = Table1Result.from_json(json.loads(next(iter(paper.SHIPPED.values())).read_text()))
    fig = paper.table1_figure(result)
    ours, theirs = fig.data
    assert len(ours.x) == len(theirs.x) == 7
    assert list(theirs.y) == [p.total for p in PAPER_TABLE1]
    assert ours.y[0] == pytest.approx(round(100 * result.rows[0].total, 1))
