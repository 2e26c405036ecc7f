"""The "Reproduce the paper" page's logic: Table 1 through the training queue, scored row by row, kept.

Does: start the seven Table 1 trainings of core/replicate.py as one sequence in the app's
training queue (ui/runs.py), within the server's limits (ui/presets.within_limits and
check_corpus); score each finished run once, in plan order, so the table fills in row by row
(`PaperJob.result`); keep finished results as JSON (locally in a cache folder, on a hosted
server only in the session) and list them with the result shipped for the small-world sample;
read a kept or uploaded JSON back (size-capped, plain JSON, never pickle); build the table frame
and the figure the page shows.
Does not: import Streamlit, train (ui/runs.py), or score and judge (core/replicate.py).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from core import download
from core.replicate import (
    PAPER_SETUP,
    PAPER_TABLE1,
    SUBSAMPLE_T,
    TABLE1_PLAN,
    Row,
    Settings,
    Table1Result,
    claims,
    config_for,
    describe,
    score_row,
)
from core.vectors.evaluate import AnalogySection, read_analogies

from . import hosted, presets
from .corpora import LoadedCorpus
from .runs import QUEUE, Run

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = {"small world (sample, shipped with the app)": ROOT / "sample_corpora" / "small_world_table1.json"}
SMALL_WORLD_QUESTIONS = ROOT / "sample_corpora" / "small_world_analogies.txt"
MAX_RESULT_BYTES = 1_000_000  # a Table 1 JSON is ~5 KB; anything far larger is not one
ENV_DIR = "W2V_PAPER_DIR"


class ResultError(ValueError):
    """A file that is not a Table 1 result; one line."""


def keep_dir() -> Path:
    """Where finished results are kept between sessions (local use only)."""
    if os.environ.get(ENV_DIR):
        return Path(os.environ[ENV_DIR])
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache / "w2v-explorer" / "paper"


def question_sets() -> dict[str, Path]:
    """Analogy sets the page offers (by label; a hosted visitor never sees a path)."""
    sets = {"small world analogies (sample)": SMALL_WORLD_QUESTIONS}
    google = download.dataset_path(download.QUESTIONS_WORDS)  # once `python -m core download questions-words` ran
    if google is not None and not hosted.hosted():
        sets["questions-words.txt (the paper's analogy set)"] = google
    return sets


# -- one experiment in the queue -------------------------------------------------------------------------
@dataclass
class PaperJob:
    """The seven runs of one Table 1 experiment and the rows scored from them so far."""

    runs: list[Run]
    plan: list[tuple[str, float]]
    settings: Settings
    questions: list[AnalogySection]
    info: dict
    started: float = field(default_factory=time.time)
    rows: dict[int, Row] = field(default_factory=dict)  # plan index -> scored row
    kept: str | None = None  # label under which the finished result was kept

    @property
    def running(self) -> bool:
        return any(r.running for r in self.runs)

    @property
    def fraction(self) -> float:
        """Overall progress: finished runs count 1, the running one its own fraction."""
        done = 0.0
        for r in self.runs:
            if not r.running:
                done += 1.0
            elif r.latest is not None:
                done += r.latest.fraction
        return done / max(1, len(self.runs))

    def score(self) -> Table1Result:
        """Score every newly finished run (in plan order) and return the table so far."""
        for i, (run, (method, sample)) in enumerate(zip(self.runs, self.plan, strict=True)):
            if i in self.rows or run.status != "done" or run.result is None:
                continue
            seconds = sum(e.seconds for e in run.result.epochs) or run.result.seconds
            self.rows[i] = score_row(method, sample, run.result.vectors, seconds, self.questions,
                                     self.settings.restrict)
        stopped = not self.running and len(self.rows) < len(self.plan)
        info = dict(self.info, wall_seconds=round(time.time() - self.started, 1))
        return Table1Result([self.rows[i] for i in sorted(self.rows)], info, interrupted=stopped)

    def stop(self) -> None:
        for r in self.runs:
            r.stop()

    def keep_when_done(self) -> Table1Result | None:
        """Once every run has ended: score, keep the result (once) and return it; else None."""
        if self.running:
            return None
        result = self.score()
        if self.kept is None and result.rows:
            self.kept = keep(result)
        return result


def start_table1(loaded: LoadedCorpus, settings: Settings, questions: Path, questions_label: str) -> PaperJob:
    """Queue the seven trainings of Table 1 on `loaded` (one after another). Raises ConfigError
    (over the server's limits, or rejected by the trainer) before anything starts."""
    limits = hosted.settings()
    presets.check_corpus(loaded, limits)
    sections = read_analogies(questions)
    configs = [presets.within_limits(config_for(m, s, settings), limits) for m, s in TABLE1_PLAN]
    QUEUE.set_limit(limits.max_trainings)
    items = [(f"Table 1 · {m} · t={s:g} · {loaded.name}", c) for (m, s), c in zip(TABLE1_PLAN, configs, strict=True)]
    runs = presets.start_items(loaded, items, "the trainer rejected these settings")
    info = describe(settings, loaded.corpus, loaded.name.replace(" (sample)", ""))
    info.update(questions=questions_label, threads=configs[0].threads)
    return PaperJob(runs, list(TABLE1_PLAN), settings, sections, info)


# -- kept results ------------------------------------------------------------------------------------------
def parse_result(data: bytes) -> Table1Result:
    """A Table 1 JSON (as written by `replicate table1` or this page) -> Table1Result."""
    if len(data) > MAX_RESULT_BYTES:
        raise ResultError(f"the file has {len(data):,} bytes; a Table 1 result has a few thousand")
    try:
        result = Table1Result.from_json(json.loads(data.decode("utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ResultError(f"not a JSON file ({e})") from None
    except (KeyError, TypeError, ValueError, AttributeError):
        raise ResultError("this JSON is not a Table 1 result (it needs 'rows' with method, sample, seconds, "
                          "syntactic, semantic, total, coverage)") from None
    known = set(TABLE1_PLAN)
    if not result.rows or any((r.method, r.sample) not in known for r in result.rows):
        raise ResultError("this JSON has no Table 1 rows (methods NEG-5, NEG-15, HS-Huffman, NCE-5)")
    return result


def kept_results() -> dict[str, Path]:
    """Shipped results first, then the kept ones (newest first; none on a hosted server)."""
    out = {label: path for label, path in SHIPPED.items() if path.is_file()}
    folder = keep_dir()
    if not hosted.hosted() and folder.is_dir():
        files = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        out.update({p.stem.replace("_", " "): p for p in files[:50]})
    return out


def load_kept(path: Path) -> Table1Result:
    try:
        return parse_result(path.read_bytes())
    except OSError as e:
        raise ResultError(f"cannot read the kept result ({e.strerror or e})") from None


def keep(result: Table1Result) -> str:
    """Write a finished result to the keep folder (local use); returns its label. On a hosted
    server nothing is written (the session keeps it and offers a download)."""
    s = result.settings
    stamp = time.strftime("%Y-%m-%d %H%M")
    label = f"{s.get('corpus', 'corpus')} · D{s.get('size')} · {s.get('epochs')} ep · {stamp}"
    if hosted.hosted():
        return label
    name = "".join(c if c.isalnum() or c in "-." else "_" for c in label.replace(" · ", "_"))
    folder = keep_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.json").write_text(json.dumps(result.to_json(), indent=1) + "\n", encoding="utf-8")
    except OSError:
        return label  # a read-only home: the session still has it
    return name.replace("_", " ")


# -- what the page shows -------------------------------------------------------------------------------------
def _pct(x: float | None) -> float | None:
    return None if x is None else round(100 * x, 1)


def table_frame(result: Table1Result, status: dict[int, str] | None = None) -> pd.DataFrame:
    """Seven lines in the paper's order: ours (blank until run) beside the paper's numbers."""
    ours = {(r.method, r.sample): r for r in result.rows}
    lines = []
    for i, p in enumerate(PAPER_TABLE1):
        r = ours.get((p.method, p.sample))
        lines.append({
            "method": p.method, "subsampling": "none" if p.sample == 0 else f"t = {p.sample:g}",
            "seconds": None if r is None else round(r.seconds, 1),
            "syntactic %": _pct(r.syntactic) if r else None, "semantic %": _pct(r.semantic) if r else None,
            "total %": _pct(r.total) if r else None, "coverage %": _pct(r.coverage) if r else None,
            "paper: min": p.minutes, "paper: syntactic %": p.syntactic, "paper: semantic %": p.semantic,
            "paper: total %": p.total,
            **({"status": status.get(i, "")} if status is not None else {}),
        })
    return pd.DataFrame(lines)


def claims_frame(result: Table1Result) -> pd.DataFrame:
    return pd.DataFrame([{"claim": c.claim, "replicates": "yes" if c.replicates else "no", "evidence": c.evidence}
                         for c in claims(result.rows)], columns=["claim", "replicates", "evidence"])


def table1_figure(result: Table1Result, title: str = "Total analogy accuracy: this corpus vs the paper") -> go.Figure:
    """Grouped bars per Table 1 row: our total accuracy and the paper's (percent)."""
    ours = {(r.method, r.sample): r for r in result.rows}
    labels = [f"{p.method}<br>{'no sub.' if p.sample == 0 else 't=1e-5'}" for p in PAPER_TABLE1]
    mine = [_pct(ours[p.method, p.sample].total) if (p.method, p.sample) in ours else None for p in PAPER_TABLE1]
    fig = go.Figure()
    fig.add_bar(x=labels, y=mine, name="this corpus", marker_color="#1f77b4",
                text=[f"{v:.1f}" if v is not None else "" for v in mine], textposition="outside")
    fig.add_bar(x=labels, y=[p.total for p in PAPER_TABLE1], name=f"paper (~1B words, D={PAPER_SETUP['size']})",
                marker_color="#bbbbbb", text=[str(p.total) for p in PAPER_TABLE1], textposition="outside")
    fig.update_layout(title=title, barmode="group", yaxis={"title": "total accuracy (%)", "range": [0, 105]},
                      legend={"orientation": "h", "y": -0.25})
    fig.add_vline(x=3.5, line_dash="dot", line_color="#888")  # upper half | lower half (t = 1e-5)
    fig.add_annotation(x=5, y=102, text=f"with subsampling t={SUBSAMPLE_T:g}", showarrow=False)
    return fig
