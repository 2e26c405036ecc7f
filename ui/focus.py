"""The vectors in focus: one choice for the whole app, a run of this session or a loaded vector set.

Does: keep this session's loaded sets (uploads, the operator's folder, prepared folders, local
paths) by name; name every choice by one token, which is also its URL value `set=` (a run's id,
digits; a set's name); resolve the token in focus to a `Focus` (the Vectors, a label, the
provenance line, the Run when it is one); read `?set=` on arrival (a run or loaded set of this
session, else a name of the operator's folder, loaded then; never a path, so a hosted server reads
nothing outside its folder and a bad link echoes no server path); write the token back to the URL;
load a second set a link names (`load_named`, for Compare's `?with=`) without moving the focus.
Loading a set or starting a run puts it in focus.
Does not: parse files (ui/vector_sets.py), draw the sidebar (ui/widgets.py) or train (ui/runs.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from core.vectors.keyed import Vectors

from . import hosted, session, vector_sets
from .runs import Run
from .vector_sets import VectorSet

SETS_KEY = "loaded_vectors"  # session dict: set name -> VectorSet, oldest first
FOCUS_KEY = session.FOCUS_KEY
URL_KEY = "set"
# subtle: every `set=` this session has read or written. Only a value not among them (a link the
# visitor opened) moves the focus. Our own values come back stale: after a run starts, a request the
# browser sent before it applied the newer set= (a fragment's timer) still carries the old one, and
# that fragment's st.rerun() at the end of the run would put the old run back on the Train page.
URL_SEEN_KEY = "_focus_url_values"  # a new name: sessions alive across an update held a str under the old one
HOSTED_KEEP = 3  # sets one hosted session keeps (the oldest is dropped first): each may be large


@dataclass(frozen=True)
class Focus:
    """What the exploration pages show: `vectors` (None while a run has not started), a label for
    select boxes, and either the `run` or the loaded `vset`."""

    token: str
    label: str
    vectors: Vectors | None
    run: Run | None = None
    vset: VectorSet | None = None

    @property
    def is_run(self) -> bool:
        return self.run is not None

    @property
    def version(self) -> str:
        """Changes whenever the vectors may have (a run trains on; a set is read-only): a cache key."""
        if self.run is not None:
            return f"run{self.run.id}:{self.run.version}"
        return f"set:{self.token}:{self.vset.digest if self.vset else ''}:{len(self.vectors or ())}"

    def provenance(self) -> str:
        """'name · 49,531 words x 300 dimensions · word2vec binary' (a run: its name and corpus)."""
        if self.vectors is None:
            return self.label
        size = f"{len(self.vectors):,} words x {self.vectors.dim} dimensions"
        if self.run is not None:
            return f"run #{self.run.id} {self.run.name} on {self.run.corpus_name} · {size}"
        fmt = self.vset.report.fmt if self.vset else "?"
        return f"loaded set {self.token} · {size} · {fmt}"


# -- this session's loaded sets ---------------------------------------------------------------------
def loaded_sets() -> dict[str, VectorSet]:
    return st.session_state.setdefault(SETS_KEY, {})


def add_set(vset: VectorSet, *, in_focus: bool = True) -> str:
    """Keep a loaded set under its name and (unless `in_focus` is False) put it in focus (a hosted
    session keeps the newest HOSTED_KEEP). Returns its token."""
    sets = loaded_sets()
    sets.pop(vset.name, None)
    sets[vset.name] = vset
    while hosted.hosted() and len(sets) > HOSTED_KEEP:
        sets.pop(next(iter(sets)))
    if in_focus:
        choose(vset.name)
    return vset.name


# -- tokens ---------------------------------------------------------------------------------------------
def run_token(run: Run) -> str:
    return str(run.id)


def tokens() -> list[str]:
    """Every choice, newest run first, then the loaded sets, newest first."""
    return [run_token(r) for r in reversed(session.runs())] + list(reversed(loaded_sets()))


def resolve(token: str | None) -> Focus | None:
    """The Focus a token stands for in this session, or None. A run's id wins over a set of the same
    name."""
    if not token:
        return None
    if token.isdigit():
        run = session.run_by_id(int(token))
        if run is not None:
            return Focus(token, f"run #{run.id} {run.name}", run.vectors if run.trainer is not None else None,
                         run=run)
    vset = loaded_sets().get(token)
    if vset is not None:
        v = vset.vectors
        return Focus(token, f"set {vset.name} ({len(v):,} x {v.dim})", v, vset=vset)
    return None


def label(token: str) -> str:
    found = resolve(token)
    return found.label if found is not None else token


def choose(token: str) -> None:
    """Put `token` in focus; a run also becomes the run the training pages show."""
    st.session_state[FOCUS_KEY] = token
    if token.isdigit() and session.run_by_id(int(token)) is not None:
        session.select_run(int(token))


def current() -> Focus | None:
    """What is in focus: the chosen token while it still exists, else the selected run, else the
    newest loaded set, else None."""
    found = resolve(st.session_state.get(FOCUS_KEY))
    if found is not None:
        return found
    run = session.current_run()
    if run is not None:
        return resolve(run_token(run))
    sets = loaded_sets()
    return resolve(next(reversed(sets))) if sets else None


# -- the URL ----------------------------------------------------------------------------------------------
def _plain_name(text: str) -> bool:
    return bool(text) and "/" not in text and "\\" not in text and text not in (".", "..") and len(text) <= 200


def load_named(wanted: str) -> str | None:
    """Make `wanted` a choice of this session without moving the focus: a run or set it has already,
    else a set of the operator's folder by that name, loaded now (a second set named by a link, such
    as Compare's `?with=`). Returns one line when it names nothing here or cannot be loaded, else
    None. A path is never read: names only, checked by vector_sets.resolve_in_folder, and the
    line never repeats a name that looks like a path."""
    if resolve(wanted) is not None:
        return None
    shown = f"“{wanted}”" if _plain_name(wanted) else "in this link"
    if not _plain_name(wanted) or wanted not in vector_sets.folder_files():
        return f"The vector set {shown} is not here (not a run of this session nor one of this server's sets)."
    try:
        add_set(vector_sets.load_from_folder(wanted), in_focus=False)
    except vector_sets.VectorSetError as e:
        return f"Could not load the vector set {shown}: {e}"
    return None


def _url_seen() -> set[str]:
    return st.session_state.setdefault(URL_SEEN_KEY, set())


def from_url() -> str | None:
    """Apply `?set=`: a run or set of this session, else a name in
    the operator's folder (loaded now). Returns one line for the page when the link names nothing
    here or the set cannot be loaded; None otherwise. A value this session has read or written
    before is skipped (URL_SEEN_KEY), so callers that move the focus need not touch the URL. A path
    is never read: names only, checked by vector_sets.resolve_in_folder (so a hosted link cannot
    leave the folder)."""
    wanted = st.query_params.get(URL_KEY)
    if not wanted:
        return None
    seen = _url_seen()
    if wanted in seen:
        return None  # our own value from an earlier run: the focus may have moved on since (a new run)
    seen.add(wanted)
    problem = load_named(wanted)
    if problem is not None:
        del st.query_params[URL_KEY]
        return problem
    choose(wanted)
    return None


def to_url() -> None:
    """Write the token in focus to the URL (removed when nothing is in focus)."""
    found = current()
    if found is not None:
        st.query_params[URL_KEY] = found.token
        _url_seen().add(found.token)
    elif URL_KEY in st.query_params:
        del st.query_params[URL_KEY]
