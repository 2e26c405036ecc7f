"""Train [/train]: every trainer parameter, presets, Start/Stop, live progress, loss and learning rate.

Does: fill parameters from a preset (which also loads the preset's corpus), edit every
TrainConfig field (values kept in the session, so they survive leaving the page), reject bad
values with one line, choose the engine (this process, or Spark in local mode when pyspark and
Java are here and the server is not hosted: ui/spark_engine.py; else the choice is off with one
line saying why), start a run (or the objectives race) in the background, and draw its
progress, loss curve (per progress tick and per epoch, earlier runs overlaid) and learning-rate
schedule live while it trains.
When the server has limits (ui/hosted.py), the widgets stop at them and values above them are
lowered with a warning; ui/presets.py checks them again when Start is pressed. When the server
already trains as many runs as it allows, a new run waits in line and shows its position.
Does not: train on the page's thread (ui/runs.py) or compute figures (ui/figures.py).
"""

from __future__ import annotations

import os

import streamlit as st

from core.config import ConfigError
from core.corpus import CorpusError
from ui import figures, hosted, links, presets, session, spark_engine, widgets
from ui import params as param_names

links.ensure_frame()  # a shared link opened first on a fresh server: run inside app.py's frame

params = session.train_params()
limits = hosted.settings()
lowered = presets.clamp_to_limits(params, limits)  # e.g. parameters kept from before the limits applied


def as_text(v: object) -> str:
    """A number as short text ('0.001'); text the user typed stays as typed (even if invalid)."""
    if v is None:
        return ""
    return f"{v:g}" if isinstance(v, int | float) else str(v)


CORES = os.cpu_count() or 1

st.title("Train")
top = st.container()  # Start/Stop and the live view: drawn above the settings, filled after them

# -- presets ------------------------------------------------------------------------------------------
avail = presets.available_presets()
settings = st.expander("Preset and parameters", expanded=not session.runs(), icon=":material/tune:")
with settings, st.container(border=True):
    p1, p2, p3 = st.columns([2, 1.3, 4], vertical_alignment="bottom")
    keys = [p.key for p in avail]
    chosen = p1.selectbox("Preset", keys, format_func=lambda k: presets.PRESETS[k].title, key="train_preset_pick",
                          index=keys.index(session.current_preset()) if session.current_preset() in keys else 0)
    if p2.button("Use preset", key="train_apply_preset", icon=":material/tune:", disabled=bool(session.running_runs())):
        preset = presets.PRESETS[chosen]
        try:
            with st.spinner(f"Loading the corpus for “{preset.title}”…"):
                loaded = presets.preset_corpus(preset)
        except CorpusError as e:
            st.error(f"Preset not applied: {e}")
        else:
            session.set_corpus(loaded)
            session.set_train_params(presets.preset_params(preset), preset=chosen)
            st.rerun()
    p3.caption(presets.PRESETS[chosen].blurb + " Using a preset loads its corpus and fills the parameters below; "
               "change any of them before you start.")

# -- parameters -----------------------------------------------------------------------------------------


def b(widget, label: str, field: str, **kwargs):
    """A widget showing params[field] (the session's Train parameters, which presets also fill)."""
    return widgets.kept(widget, label, f"train_{field}", store=params, field=field, **kwargs)


with settings, st.container(border=True):
    c1, c2, c3, c4 = st.columns(4, gap="medium")
    with c1:
        st.markdown("**Model**")
        b(st.radio, "Architecture", "architecture", options=list(param_names.ARCHITECTURES),
          format_func=param_names.ARCH_LABELS.get, horizontal=True,
          help="Skip-gram predicts each context word from the centre word; CBOW predicts the centre "
               "word from the mean of its context (paper section 2).")
        b(st.selectbox, "Loss (output layer)", "loss", options=list(param_names.LOSSES),
          format_func=param_names.LOSS_KEY_LABELS.get,
          help="Negative sampling (eq. 4), hierarchical softmax (eq. 3), the full softmax (eq. 2, O(V) per "
               "example) or noise-contrastive estimation.")
        b(st.number_input, "Vector size D", "size", min_value=1,
          max_value=limits.max_size or 1000, step=10)
        b(st.number_input, "Window (max)", "window", min_value=1, max_value=50, step=1,
          help="Each position draws its effective window uniformly in 1..window (word2vec.c), so near "
               "words count more.")
    with c2:
        st.markdown("**Sampling**")
        b(st.number_input, "Negatives k", "negative", min_value=0, max_value=100, step=1,
          help="Noise words per example for NS and NCE (paper: 5-20 for small data, 2-5 for large).")
        b(st.number_input, "Noise exponent p", "ns_exponent", min_value=0.0, max_value=2.0,
          step=0.05, format="%.2f", help="Pn(w) = U(w)^p / Z; the paper found p = 3/4 best.")
        b(st.text_input, "Subsampling threshold t", "sample",
          to_widget=as_text,
          help="Frequent words are dropped at random; 0 disables. word2vec.c default 1e-3, the paper used 1e-5.")
        b(st.radio, "Subsampling formula", "subsample_formula", options=["c", "paper"],
          format_func={"c": "word2vec.c", "paper": "paper"}.get, horizontal=True,
          help="word2vec.c keeps a word with sqrt(t/f) + t/f, the paper's eq. 5 with sqrt(t/f).")
        b(st.checkbox, "Shared negatives", "shared_negatives",
          help="Skip-gram: draw the k noise words once per window instead of per pair (faster, pWord2Vec).")
    with c3:
        st.markdown("**Schedule**")
        b(st.number_input, "Epochs", "epochs", min_value=1, max_value=limits.max_epochs or 1000,
          step=1)
        b(st.text_input, "Start learning rate alpha", "alpha",
          to_widget=as_text,
          convert=lambda v: None if not str(v).strip() else str(v).strip(),
          placeholder="blank: 0.025 skip-gram, 0.05 CBOW",
          help="Falls linearly to alpha x 1e-4 by the end of training (word2vec.c).")
        b(st.number_input, "Min count", "min_count", min_value=1, max_value=100_000, step=1,
          help="Words rarer than this get no vector. Changing it re-reads the vocabulary (cached).")
        b(st.number_input, "Threads (0 = all cores)" if limits.max_threads is None else
          f"Threads (0 = the most allowed, {limits.max_threads})", "threads", min_value=0,
          max_value=limits.max_threads or 64, step=1, to_widget=lambda v: 0 if v is None else int(v),
          convert=lambda v: None if int(v) == 0 else int(v),
          help=f"This machine has {CORES} core(s). A seed with 1 thread is bit-exact; more threads race (Hogwild).")
        b(st.number_input, "Seed", "seed", min_value=0, max_value=2**31 - 1, step=1)
    with c4:
        st.markdown("**Recording**")
        b(st.checkbox, "Exact loss", "compute_loss",
          help="Accumulates the float64 loss of every example (a little slower).")
        b(st.number_input, "Snapshot top-N words per epoch", "snapshot_topn", min_value=0,
          max_value=limits.max_snapshot or 20_000, step=100,
          help="Copies of the N most frequent words' vectors after every epoch, for the Embeddings page's "
               "epoch slider.")
        b(st.checkbox, "Race all four objectives", "race",
          help="Start NS, HS, full softmax and NCE one after another with these parameters (Objectives page).")

with settings, st.container(border=True):
    spark_off = spark_engine.unavailable(limits)  # None, or one line saying why Spark cannot run here
    if spark_off and params.get("engine") == "spark":
        params["engine"] = "local"
    e1, e2 = st.columns([2, 3], vertical_alignment="center")
    with e1:
        b(st.radio, "Engine", "engine", options=list(param_names.ENGINES), format_func=param_names.ENGINES.get,
          horizontal=True, disabled=spark_off is not None,
          help="Spark trains the same kernels in data-parallel rounds on Spark's executors (README: "
               "training on Spark); here in local mode with two partitions. NS, HS and NCE; no race.")
    if spark_off:
        e2.caption(spark_off)
    else:
        e2.caption("Spark starts its own Java process on the first Spark run (some seconds), then merges the "
                   "partitions' changes 20 times per epoch.")

problem = None
try:
    configs = presets.configs_for(params)
except ConfigError as e:
    problem = str(e)
    configs = []

loaded = session.current_corpus()
running = bool(session.running_runs())
with top:
    # subtle: the notes live in a container of their own, so Start keeps one delta path whether they show or
    # not; else Streamlit keeps the old copy of the button on screen (a second, stale Start) until the re-run ends
    with st.container():
        for note in lowered:
            st.warning(note, icon=":material/tune:")
        if problem:
            st.error(f"Cannot train with these parameters: {problem}")
        if loaded is None:
            st.info("No corpus yet: load one on **Home**, or open *Preset and parameters* below and use a preset.",
                    icon=":material/description:")
        elif configs and any(c.loss.name == "SOFTMAX" for c in configs):
            v = len(loaded.corpus.vocab)
            st.caption(f"Full softmax scores all {v:,} words for every example: expect it to be about "
                       f"{v // 6:,} times slower than negative sampling.")
    s1, s2, s3 = st.columns([1.2, 1, 4], vertical_alignment="center")
    start = s1.button("Start training", type="primary", icon=":material/play_arrow:", key="train_start",
                      disabled=running or problem is not None or loaded is None)
    with s2:
        widgets.stop_button("train_stop", "Stop")
    if running:
        s3.caption("Training runs in the background: other pages stay live. Stop it, or wait, to start another.")
    elif loaded is not None:
        s3.caption(f"Corpus: {loaded.name}. Parameters: *Preset and parameters* below. "
                   + (hosted.describe(limits) if limits.hosted else ""))
    if start:
        try:
            with st.spinner("Preparing…"):
                presets.start_in_session(params)
        except (ConfigError, CorpusError) as e:
            st.error(f"Not started: {e}")
        else:
            st.rerun()

# -- live view ------------------------------------------------------------------------------------------
overlay = st.session_state.setdefault("train_overlay", None)  # run ids shown dotted; None = all earlier


def status_panel() -> None:
    """Progress bar and numbers of the selected run (re-drawn every second while training)."""
    run = session.current_run()
    if run is None:
        if session.current_corpus() is not None:  # without a corpus the line above already says what to do
            st.info("No run yet: press **Start training** (or *Train a small demo* on Home).",
                    icon=":material/directions_run:")
        return
    frac, text = widgets.progress_text(run)
    st.progress(min(max(frac, 0.0), 1.0), text=f"**#{run.id} {run.name}** — {text}")
    if run.status == "error":
        st.error(run.error)
    if run.queue_position is not None:
        st.caption(f"This server trains at most {run.queue.limit} run(s) at once; yours starts when a slot frees "
                   "up, in order of arrival. **Stop** takes it out of the line.")
    _, epoch, total, wps, eta = widgets.live_numbers(run)
    last_epoch = run.epochs[-1] if run.epochs else None
    m = st.columns(4)
    m[0].metric("Epoch", f"{epoch if run.running else len(run.epochs)}/{total}")
    m[1].metric("Loss (epoch mean)", f"{last_epoch.loss:.4f}" if last_epoch is not None else "–")
    if run.result is not None:
        wps = run.result.words_per_sec
    m[2].metric("Words / second", f"{wps:,.0f}")
    m[3].metric("Time left" if run.running else "Time",
                widgets.fmt_seconds(eta if run.running else (run.result.seconds if run.result else 0.0)))


def loss_panel() -> None:
    """The live loss curve of the selected run, earlier runs dotted."""
    run = session.current_run()
    if run is None:
        return
    cur = figures.loss_series(run)
    others_ids = [r.id for r in session.runs() if r is not run]
    chosen_ids = others_ids if overlay is None else [i for i in overlay if i in others_ids]
    others = [figures.loss_series(r) for r in session.runs() if r.id in chosen_ids]
    if not run.config.compute_loss:
        st.caption("This run does not compute the loss (*Exact loss* was off).")
    widgets.show_figure(figures.loss_figure(cur, others), height=430, key="train_loss_chart")


def lr_panel() -> None:
    """The learning-rate schedule (known in advance) with the run's progress along it."""
    run = session.current_run()
    cfg = run.trainer.config if (run is not None and run.trainer is not None) else None
    if cfg is not None:
        widgets.show_figure(figures.lr_figure(cfg.alpha, cfg.min_alpha, cfg.epochs, figures.loss_series(run)),
                            height=430, key="train_lr_chart")


def live_panels() -> None:
    """Status, loss and learning rate in ONE polling fragment. subtle: two run_every fragments on
    one page, the first calling st.rerun() when training ends while the second's timer still fires,
    blanked the tab in the load test (the frontend: "Cannot set a node at a delta path")."""
    status_panel()
    if session.current_run() is not None:
        g1, g2 = st.columns([3, 2], gap="medium")
        with g1:
            loss_panel()
        with g2:
            lr_panel()


with top:
    widgets.live(live_panels)
    others = [r for r in session.runs() if r is not session.current_run()]
    if others:
        by_id = {r.id: r for r in others}
        default = [r.id for r in others] if overlay is None else [i for i in overlay if i in by_id]

        def _overlay_changed() -> None:
            st.session_state["train_overlay"] = list(st.session_state["_train_overlay_w"])

        st.session_state["_train_overlay_w"] = default
        st.multiselect("Compare with earlier runs (dotted)", list(by_id), key="_train_overlay_w",
                       format_func=lambda i: widgets.run_label(by_id[i]), on_change=_overlay_changed)

with widgets.teach("Learn more: the formula and what to notice"):
    st.markdown("**Skip-gram objective** (paper eq. 1): maximise the average log probability of the context "
                "words $w_{t+j}$ around each word $w_t$:")
    st.latex(r"\frac{1}{T}\sum_{t=1}^{T}\ \sum_{-c\le j\le c,\ j\ne 0} \log p(w_{t+j}\mid w_t)")
    st.markdown("**Learning rate** (word2vec.c): falls linearly with the words processed so far, over all epochs:")
    st.latex(r"\alpha(t) = \alpha_0 - (\alpha_0 - \alpha_{\min})\,\frac{\text{words done}}{\text{epochs}\times"
             r"\text{corpus words}},\qquad \alpha_{\min} = 10^{-4}\,\alpha_0")
    st.markdown(
        "**What to notice**\n"
        "- The solid line is the running mean of the current epoch; the dots are exact epoch means. "
        "It falls fast in epoch 1, then slowly.\n"
        "- Losses of different objectives are on different scales (NS sums k + 1 logistic terms, HS a path of "
        "about log2 V): compare their shapes, not their heights.\n"
        "- The learning rate reaches almost zero at the end, so the last epoch only polishes.\n"
        "- On large corpora the skip-gram loss can *rise* in later epochs. It is an online loss, measured on "
        "each example just before its update: while alpha is large the model adapts to the text it has just "
        "read (the same centre word for a whole window, topics that recur for a page) and scores the next "
        "examples better; as alpha falls that bonus fades. The loss of the current vectors on a fixed set "
        "of pairs keeps falling (measured: 2.67, 2.55, 2.45, 2.36, 2.27 over epochs 2-6 on 4.5 M words, "
        "while the online loss went 2.28, 2.28, 2.29, 2.32, 2.38).\n"
        "- Words per second drop a lot with hierarchical softmax on frequent-word-heavy text and enormously "
        "with the full softmax (see Objectives).")
    st.markdown(
        "**Where word2vec.c, gensim and the paper differ**\n"
        "- Start alpha: word2vec.c uses 0.025 for skip-gram and 0.05 for CBOW; gensim uses 0.025 for both. "
        "The floor: word2vec.c alpha x 1e-4, gensim 0.0001.\n"
        "- Subsampling: the paper keeps a word with sqrt(t/f); word2vec.c and gensim with sqrt(t/f) + t/f "
        "(keeps more), with default t = 1e-3.\n"
        "- At saturated logits (|z| > 6) word2vec.c skips hierarchical-softmax updates and clips NS ones; "
        "gensim skips; this trainer clips everywhere, as fastText does.\n"
        "- word2vec.c prints no loss; gensim's compute_loss gives a running sum. Here the loss is exact.")
