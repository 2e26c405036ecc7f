"""Links that open right: a page run outside app.py's frame runs inside it instead, and a page can
show its own address to copy (a link's `?set=NAME` is ui/focus.py's).

Does: `ensure_frame()`, called first by every page file, notices a script run that Streamlit
started on the page file alone (see below) and runs app.py in its place, whose navigation runs
the same page, with the same query, inside the frame; `page_url()` / `copy_link()` give the
current page's address with its current query and draw it in a code box whose copy button puts
it on the clipboard.
Does not: decide which query keys a page keeps (each page writes its own `st.query_params`),
choose vectors for the whole app, or change anything Streamlit does on later runs except the
one process-wide flag below.

Why `ensure_frame` exists (Streamlit 1.67): when the main script sits next to a `pages/` folder,
`PagesManager.uses_pages_directory` is set by the first session of the process and, until some
script run calls `st.navigation`, the script runner calls `_mpa_v1` instead of app.py: it
builds an old-style navigation from the file names (app, analogies, ...) and runs the requested
page file directly. So a shared link opened as the first visit of a freshly started server ran
the page without app.py's frame (no page titles, no sidebar, no session guard). app.py cannot
catch that run, because it never runs; the page file can.
"""

from __future__ import annotations

import os
import threading
import types
from urllib.parse import urlencode

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx

_ENTERED = threading.local()  # .active: this thread (a script run) is running app.py from ensure_frame


# -- the frame --------------------------------------------------------------------------------------
def _outside_frame(ctx) -> bool:
    """True when this run executes a page file that Streamlit chose without app.py: the page
    registry then lists app.py itself as a page (the old-style navigation), and the page running
    is not app.py. app.py's own navigation never lists app.py; a page file run on its own as the
    main script (AppTest.from_file("pages/x.py")) is the main script, so neither counts."""
    if ctx is None:
        return False
    try:
        pages = ctx.pages_manager.get_pages()
        main = os.path.realpath(ctx.main_script_path)
        current = (pages.get(ctx.page_script_hash) or {}).get("script_path")
        listed = {os.path.realpath(p["script_path"]) for p in pages.values() if p.get("script_path")}
    except (AttributeError, KeyError, TypeError, OSError):  # another Streamlit: behave as before
        return False
    return bool(current) and os.path.realpath(current) != main and main in listed


def ensure_frame() -> None:
    """Call first in every page file: when Streamlit started this run on the page file alone,
    run app.py here instead (its `st.navigation` runs this same page inside the frame), then stop.

    subtle: app.py runs within this same script run, the way Streamlit runs a main script (its
    cached bytecode in a fresh `__main__` module, under the main script's hash), so the query
    string and any widget values of the run are all still there; a rerun would be simpler but
    drops a button press made in the run. The page is found by its hash, the hash of its URL
    path, and app.py gives each page the URL path its file name gives it (`analogies` for
    pages/analogies.py). The process-wide flag is switched off (what `st.navigation` itself
    does), so later runs of every session go through app.py without this detour. Never nested:
    if the page is still outside the frame inside app.py (a future Streamlit that behaves
    differently), it just runs as it is.
    """
    ctx = get_script_run_ctx()
    if getattr(_ENTERED, "active", False) or not _outside_frame(ctx):
        return
    PagesManager.uses_pages_directory = False
    main = ctx.main_script_path
    module = types.ModuleType("__main__")
    module.__dict__["__file__"] = main
    _ENTERED.active = True
    try:
        with ctx.run_with_active_hash(ctx.pages_manager.main_script_hash):
            exec(ctx.pages_manager.get_page_script_byte_code(main), module.__dict__)  # noqa: S102
    finally:
        _ENTERED.active = False
    st.stop()  # the page already ran inside the frame; the rest of this outer run must not


# -- copy link ---------------------------------------------------------------------------------------
def page_url() -> str:
    """This page's address with its current query (`st.query_params`, as the page last wrote it).

    Absolute when the browser has told the server its URL (`st.context.url`: scheme, host and
    page path, no query); otherwise (AppTest, a bare script run) just `?query`."""
    params = st.query_params
    query = urlencode([(k, v) for k in params for v in params.get_all(k)])
    base = st.context.url or ""
    return f"{base}?{query}" if query else (base or "?")


def copy_link(label: str = "Link to this view") -> str:
    """Show this page's URL with its query in a code box (its copy button copies it); return it.
    Call it after the page has written its query parameters."""
    url = page_url()
    st.caption(f":material/link: {label}: opens this page with these inputs (copy with the button at the right)")
    st.code(url, language=None)  # subtle: one line (scrolls sideways): a wrapped link pushed the page down
    return url
