"""Shared Streamlit pieces: the sidebar, figure styling, live polling, kept widgets, guards, messages.

Does: the frame's sidebar (current corpus, the vectors in focus (ui/focus.py; the link's ?set= read
and written back), the selected run's live status and progress, Stop,
the "large text" switch for projectors); `fig_style` / `show_figure` that every page uses so
figures share one template and font size; `live(...)`, a fragment that re-runs every second
only while this session trains and triggers one full rerun when training ends; `kept(...)`,
the one way a page draws a widget whose value survives leaving the page and, given a URL key,
lives in the URL query; `need(...)`, the one guard for a page that needs a corpus, a run or
the vectors in focus (one line saying what to do, then the page stops); `internals_note(...)`,
the one line of a training-internals page when a loaded set is in focus; `teach(...)`, the
teaching box.
Does not: train, load corpora or compute figures (ui/runs.py, ui/corpora.py, ui/figures.py).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from . import focus, session
from .runs import Run

POLL_SECONDS = 1.0  # page fragments while training (each poll costs server and browser CPU)
SIDEBAR_POLL_SECONDS = 2.0


# -- figures -----------------------------------------------------------------------------------------
def fig_style(fig: go.Figure, height: int | None = None) -> go.Figure:
    """Apply the app's template and font size (bigger with 'large text') to a plotly figure."""
    big = session.large_text()
    base = 20 if big else 14
    fig.update_layout(
        template="plotly_white",
        font={"size": base, "family": "Source Sans Pro, Helvetica, Arial, sans-serif"},
        title_font={"size": base + 4},
        hoverlabel={"font_size": base},
        legend_font={"size": base - 1},
        margin={"l": 70, "r": 30, "t": 70, "b": 60},
    )
    fig.update_annotations(font_size=base)
    if height is not None:
        fig.update_layout(height=height + (80 if big else 0))
    return fig


def show_figure(fig: go.Figure, height: int | None = None, key: str | None = None) -> None:
    """fig_style + st.plotly_chart with our own template (not Streamlit's theme); height None keeps
    the height the figure's builder chose."""
    height = height if height is not None else fig.layout.height
    st.plotly_chart(fig_style(fig, height), theme=None, key=key, config={"displaylogo": False})


# -- guards and teaching ----------------------------------------------------------------------------
NEEDS = ("corpus", "run", "vectors")
_NEED_TEXT = {
    "corpus": ("No corpus yet: choose one on **Home** (or press *Train a small demo* there) to {purpose}.",
               ":material/description:"),
    "run": ("No training run yet: start one on **Train** (or *Train a small demo* on Home) to {purpose}.",
            ":material/directions_run:"),
    "vectors": ("No vectors yet: train a run on **Train** (or *Train a small demo* on Home), or load a set "
                "on **Vectors**, to {purpose}.", ":material/directions_run:"),
}


def need(what: str, purpose: str = "fill this page", stop: bool = True) -> Any:
    """The session's corpus ("corpus"), selected run ("run") or the vectors in focus ("vectors": a
    run's or a loaded set's, see ui/focus.py; a loaded set's provenance is shown as one caption);
    when there is none, one line "No ... yet: <what to do> to <purpose>." and the page stops
    (stop=False: returns None and the page goes on, for a page with other sections)."""
    if what == "corpus":
        found: Any = session.current_corpus()
    elif what == "run":
        found = session.current_run()
    elif what == "vectors":  # a run not yet started has none
        chosen = focus.current()
        found = chosen.vectors if chosen is not None else None
        if found is not None and not chosen.is_run:
            st.caption(f":material/dataset: {chosen.provenance()}")
    else:
        raise ValueError(f"need() takes one of {NEEDS}, not {what!r}")
    if found is None:
        text, icon = _NEED_TEXT[what]
        st.info(text.format(purpose=purpose), icon=icon)
        if stop:
            st.stop()
    return found


def internals_note(what: str, shows: str | None = None) -> None:
    """One line on a page that needs training internals (`what`) when a loaded set is in focus: the
    page keeps showing the selected run (`shows`: what it shows instead; no run: no note, the page's own
    guard says what to do)."""
    chosen = focus.current()
    if chosen is None or chosen.is_run:
        return
    run = session.current_run()
    if shows is None:
        if run is None:  # the page's own guard (or its corpus view) is then the one line
            return
        shows = f"this page shows run #{run.id}"
    st.caption(f":material/info: The set in focus ({chosen.token}) is loaded vectors without {what}: {shows}.")


TEACH_TITLE = "What to notice, and where word2vec.c, gensim and the paper differ"


def teach(title: str = TEACH_TITLE, expanded: bool = False):
    """A collapsed expander for teaching text (so visitors exploring are not buried in it)."""
    return st.expander(title, expanded=expanded, icon=":material/school:")


# -- live polling ------------------------------------------------------------------------------------
def live(body: Callable[[], None], every: float = POLL_SECONDS) -> None:
    """Draw `body` in a fragment that re-runs every `every` s while this session has a running
    run (no polling otherwise). When training ends, one full rerun refreshes the whole page."""
    was_running = bool(session.running_runs())

    @st.fragment(run_every=every if was_running else None)
    def _live() -> None:
        body()
        if was_running and not session.running_runs():
            st.rerun()

    _live()


# -- run display ---------------------------------------------------------------------------------------
def run_label(run: Run, status: bool = True) -> str:
    """'#3 skip-gram · NS · … (done)': plain text, for select boxes (no Markdown there)."""
    return f"#{run.id} {run.name}" + (f" ({run.status})" if status else "")


def fmt_seconds(s: float) -> str:
    if not math.isfinite(s):
        return "–"
    if s < 60:
        return f"{s:.0f} s" if s >= 10 else f"{s:.1f} s"
    m, sec = divmod(int(round(s)), 60)
    if m < 60:
        return f"{m} min {sec:02d} s"
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min"


def live_numbers(run: Run) -> tuple[float, int, int, float, float]:
    """(fraction done, current epoch 1-based, epochs, words/s, seconds left) of a running run.

    Uses the latest progress tick, or the epoch ends when epochs are shorter than a tick (~0.25 s)."""
    total = run.begin.epochs if run.begin is not None else run.config.epochs
    p = run.latest
    done_epochs = len(run.epochs)
    frac = max(p.fraction if p else 0.0, done_epochs / total if total else 0.0)
    epoch = min(total, max((p.epoch + 1) if p else 1, done_epochs + 1))
    elapsed = time.time() - run.started_at if run.started_at else 0.0
    if p is not None and p.fraction >= done_epochs / max(total, 1):
        wps, eta = p.words_per_sec, p.eta_seconds
    else:
        wps = run.epochs[-1].words_per_sec if run.epochs else 0.0
        eta = elapsed * (1 - frac) / frac if frac > 0 else float("nan")
    return frac, epoch, total, wps, eta


def progress_text(run: Run) -> tuple[float, str]:
    """(fraction done, one-line status) of a run."""
    if run.status == "queued":
        position = run.queue_position
        if position is None:  # a later run of a sequence (the race), or a thread not yet in line
            return 0.0, "queued: waits for the run before it"
        return 0.0, f"Queued: position {position} of {max(position, run.queue_length)} (waiting for a free slot)"
    frac, epoch, total, wps, eta = live_numbers(run)
    if run.status == "error":
        return frac, f"error: {run.error}"
    if run.status == "stopped" and run.begin is None:
        return 0.0, "stopped before it started (it left the queue)"
    if run.status in ("done", "stopped"):
        secs = run.result.seconds if run.result is not None else 0.0
        wps = run.result.words_per_sec if run.result is not None else 0.0
        epochs = run.result.epochs_completed if run.result is not None else len(run.epochs)
        word = "done" if run.status == "done" else "stopped"
        return (1.0 if run.status == "done" else frac,
                f"{word}: {epochs} epoch(s) in {fmt_seconds(secs)}, {wps / 1000:,.0f}k words/s")
    if run.begin is None:
        return 0.0, "starting…"
    return frac, f"epoch {epoch}/{total} · {wps / 1000:,.0f}k words/s · ETA {fmt_seconds(eta)}"


def _stop_clicked() -> None:
    active = session.running_runs()
    session.stop_all()
    deadline = time.monotonic() + 1.0
    for r in active:  # the trainer stops at the next chunk boundary (~0.1 s)
        r.join(max(0.0, deadline - time.monotonic()))


def stop_button(key: str, label: str = "Stop training") -> None:
    """A Stop button for every running run of this session (rendered only while one runs)."""
    if session.running_runs():
        st.button(label, key=key, on_click=_stop_clicked, icon=":material/stop_circle:", type="secondary")


# -- kept widgets (and their URL keys) -----------------------------------------------------------------
KEPT_KEY = "kept"  # session dict: widget key -> value, for kept widgets not given a store of their own


def _kept_store() -> dict[str, Any]:
    return st.session_state.setdefault(KEPT_KEY, {})


def _from_url(raw: str, default: Any, kwargs: dict[str, Any], url_text: Callable[[Any], str] = str) -> Any:
    """The URL's text as the widget's value (the option whose `url_text` it is; a number of the
    default's type, brought within min_value..max_value), or None when it is not one (then the URL
    is ignored)."""
    if kwargs.get("options") is not None:
        return next((o for o in kwargs["options"] if url_text(o) == raw), None)
    if isinstance(default, bool):
        return {"true": True, "false": False}.get(raw.strip().lower())
    if not isinstance(default, int | float):
        return raw.strip()
    try:
        value = type(default)(raw)
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    if kwargs.get("min_value") is not None:
        value = max(value, kwargs["min_value"])
    if kwargs.get("max_value") is not None:
        value = min(value, kwargs["max_value"])
    return value


def _copy_widget(store: dict[str, Any], field: str, key: str, convert: Callable[[Any], Any] | None) -> None:
    value = st.session_state[key]
    store[field] = convert(value) if convert else value


def kept(widget: Callable[..., Any], label: str, key: str, default: Any = None, *, url: str | None = None,
         store: dict[str, Any] | None = None, field: str | None = None,
         convert: Callable[[Any], Any] | None = None, to_widget: Callable[[Any], Any] | None = None,
         url_text: Callable[[Any], str] | None = None, **kwargs: Any) -> Any:
    """Draw `widget` (st.slider, a column's text_input...) under `key`; its value survives leaving
    the page and, with `url`, lives in the URL query as ?url=value. Returns the widget's value.

    The value lives in `store[field]` (default: this session's kept dict under `key`), written
    back before every draw, so the app may also write it (presets, `set_kept`): Streamlit drops
    the state of widgets that are not drawn. When the store has no value yet, it comes from the
    URL (a valid value: one of `options`, or text of the default's type), else from the session
    state under `key` (set by a test or a caller before the first draw), else `default`.
    After drawing, a `url` key is written back to `st.query_params` (removed when empty).
    `convert` maps the widget's value to the stored one, `to_widget` the other way; `url_text` gives
    an option's short name in the URL (default: its text), for options whose labels are long.
    """
    store = _kept_store() if store is None else store
    field = field or key
    if field not in store:
        seeded = None
        if url is not None and url in st.query_params:
            seeded = _from_url(st.query_params[url], default, kwargs, url_text or str)
        if seeded is None:
            seeded = st.session_state.get(key, default)
        store[field] = seeded
    st.session_state[key] = to_widget(store[field]) if to_widget else store[field]
    value = widget(label, key=key, on_change=_copy_widget, args=(store, field, key, convert), **kwargs)
    if url is not None:
        text = "" if value is None else (url_text or str)(value).strip()
        if text:
            st.query_params[url] = text
        elif url in st.query_params:
            del st.query_params[url]
    return value


def kept_value(key: str, default: Any = None) -> Any:
    """The kept value of widget `key` (drawn or not on this run): what `kept` would show next."""
    store = _kept_store()
    return store[key] if key in store else st.session_state.get(key, default)


def set_kept(key: str, value: Any) -> None:
    """Set the kept value of widget `key` (shown from its next draw on)."""
    _kept_store()[key] = value


# -- sidebar -------------------------------------------------------------------------------------------
def _select_focus(by_label: dict[str, str]) -> None:
    focus.choose(by_label[st.session_state["_w_sidebar_focus"]])  # the URL's old set= is ours: from_url skips it


def _toggle_large() -> None:
    session.set_large_text(st.session_state["_w_large_text"])


def _run_status() -> None:
    run = session.current_run()
    if run is None:
        st.caption("No run yet. Train one on **Train**.")
        return
    frac, text = progress_text(run)
    st.progress(min(max(frac, 0.0), 1.0), text=text)
    others = [r for r in session.running_runs() if r is not run]
    if others:
        st.caption(f"also training: {', '.join('#' + str(r.id) for r in others)}")
    stop_button("sidebar_stop")


def sidebar() -> None:
    """The frame's sidebar: corpus, the vectors in focus (a run or a loaded set; `?set=` read on
    arrival and written back), the selected run's live status, Stop, large text."""
    problem = focus.from_url()
    if problem:  # in the page itself, above its title: the visitor who opened the link reads it
        st.warning(problem, icon=":material/link_off:")
    with st.sidebar:
        loaded = session.current_corpus()
        if loaded is None:
            st.caption("**Corpus**: none yet (choose one on Home)")
        else:
            c = loaded.corpus
            cut = f", min count {loaded.min_count}" if loaded.min_count is not None else ""
            st.caption(f"**Corpus**: {loaded.name}  \n{len(c):,} words · vocabulary {len(c.vocab):,}{cut}")
        chosen = focus.current()
        if chosen is not None:
            # subtle: the options are the labels themselves (no format_func), so AppTest can set them too
            by_label = {focus.label(t): t for t in focus.tokens()}
            st.session_state["_w_sidebar_focus"] = chosen.label
            st.selectbox("Vectors in focus (every page)", list(by_label), key="_w_sidebar_focus",
                         on_change=_select_focus, args=(by_label,),
                         help="A run of this session, or a set loaded on **Vectors**.")
        focus.to_url()
        live(_run_status, every=SIDEBAR_POLL_SECONDS)
        st.divider()
        st.session_state["_w_large_text"] = session.large_text()
        st.toggle("Large text (projector)", key="_w_large_text", on_change=_toggle_large,
                  help="Bigger fonts in every figure, for presenting on a projector.")
