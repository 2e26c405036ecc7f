"""Training presets and the step from the Train page's parameters to running runs.

Does: define the presets of issue 5 (Demo, Phrases, Objectives race, text8 full) as parameter
values that fill the Train page (the user may change them afterwards); convert the page's
parameter dict to a TrainConfig (raising ConfigError with one line for values the trainer
rejects); load a preset's corpus; start one run (in this process, or on Spark when the
parameters' `engine` is "spark": ui/spark_engine.py), or the race's runs one after another.
Does not: draw widgets, or know how runs are shown.

Parameter dict: TrainConfig field names; enums are stored by name ("skipgram", "ns", "c") so
widgets can show them; `alpha` and `threads` may be None (the trainer's defaults).

Limits (ui/hosted.py): `to_config` refuses epochs, vector size, threads and snapshot words above
the server's caps, and `start` refuses a corpus above the word or vocabulary cap, whatever the
widgets allowed: the page clamps its widgets too, but a check here is the one that counts.
`start` also sets the process-wide training queue's size from the settings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.config import ARCHITECTURE_LABELS, ConfigError, Loss, TrainConfig
from core.train.trainer import Trainer

from . import corpora, hosted
from .corpora import LoadedCorpus
from .params import ARCHITECTURES, DEFAULT_PARAMS, FORMULAS, LOSSES, params_of
from .runs import QUEUE, Run, start_run, start_sequence

RACE_LOSSES = tuple(LOSSES)  # every objective, in the order of core.config.LOSS_NAMES


@dataclass(frozen=True)
class Preset:
    """A named set of parameters and the corpus it is meant for."""

    key: str
    title: str
    blurb: str
    corpus: str  # a sample key, or "text8"
    params: dict[str, Any] = field(default_factory=dict)  # overrides of DEFAULT_PARAMS
    head_words: int | None = None  # train on the first ~N words only
    phrases: bool = False  # run phrase detection on the corpus first


PRESETS: dict[str, Preset] = {
    "demo": Preset(
        "demo", "Demo (about 10 s)",
        "Skip-gram with negative sampling on the small-world corpus: the loss falls, neighbours and "
        "analogies form (king - man + woman = queen).",
        "small_world"),  # TrainConfig's defaults as they are
    "phrases": Preset(
        "phrases", "Phrases",
        "Two word2phrase passes first (new york -> new_york), then the demo training on the rewritten text.",
        "small_world", phrases=True),
    "race": Preset(
        "race", "Objectives race",
        "Negative sampling, hierarchical softmax, full softmax and NCE one after another on the same "
        "40,000 words: compare time per epoch and loss.",
        "small_world", {"size": 50, "window": 3, "epochs": 3, "snapshot_topn": 0, "race": True},
        head_words=40_000),
    "text8": Preset(
        "text8", "text8 full",
        "The classic 17 M-word Wikipedia sample: skip-gram, negative sampling, sample 1e-4 (minutes).",
        "text8", {"epochs": 3, "sample": 1e-4}),
}


def available_presets() -> list[Preset]:
    """The presets usable here: text8 only when it has been downloaded."""
    return [p for p in PRESETS.values() if p.corpus != "text8" or corpora.text8_path() is not None]


def preset_params(preset: Preset) -> dict[str, Any]:
    """DEFAULT_PARAMS with the preset's overrides (a fresh dict)."""
    out = dict(DEFAULT_PARAMS)
    out.update(preset.params)
    return out


def preset_corpus(preset: Preset) -> LoadedCorpus:
    """Load the corpus a preset trains on (through the caches). Raises CorpusError."""
    min_count = int(preset_params(preset)["min_count"])
    if preset.corpus == "text8":
        path = corpora.text8_path()
        if path is None:
            raise corpora.CorpusError("text8 has not been downloaded (python -m core download text8)")
        loaded = corpora.load_file(path, "text8", f"path:{path}", min_count)
    else:
        loaded = corpora.load_sample(preset.corpus, min_count=min_count, head_words=preset.head_words)
    if preset.phrases:
        loaded = corpora.phrased(loaded).loaded
    return loaded


# -- parameters -> configs -> runs -------------------------------------------------------------------
def to_config(params: dict[str, Any], **override: Any) -> TrainConfig:
    """Build and validate a TrainConfig from the page's parameters. Raises ConfigError (one line)."""
    p = {**params, **override}
    try:
        cfg = TrainConfig(
            architecture=ARCHITECTURES[p["architecture"]],
            loss=LOSSES[p["loss"]],
            size=int(p["size"]),
            window=int(p["window"]),
            negative=int(p["negative"]),
            ns_exponent=float(p["ns_exponent"]),
            sample=float(p["sample"]),
            subsample_formula=FORMULAS[p["subsample_formula"]],
            min_count=int(p["min_count"]),
            epochs=int(p["epochs"]),
            alpha=None if p.get("alpha") in (None, "") else float(p["alpha"]),
            threads=None if not p.get("threads") else int(p["threads"]),
            seed=int(p["seed"]),
            shared_negatives=bool(p["shared_negatives"]),
            compute_loss=bool(p["compute_loss"]),
            snapshot_topn=int(p["snapshot_topn"]),
        )
    except KeyError as e:
        raise ConfigError(f"unknown value for {e.args[0]!r}") from None
    except (TypeError, ValueError) as e:
        raise ConfigError(f"invalid parameter: {e}") from None
    cfg.resolved()  # validates (raises ConfigError)
    return within_limits(cfg)


# TrainConfig field -> (HostedLimits field, what to call it in a message)
CAPPED = {"epochs": ("max_epochs", "epochs"), "size": ("max_size", "vector size D"),
          "threads": ("max_threads", "threads"), "snapshot_topn": ("max_snapshot", "snapshot words")}


def within_limits(cfg: TrainConfig, limits: hosted.HostedLimits | None = None) -> TrainConfig:
    """`cfg` checked against the server's caps; raises ConfigError naming the first one exceeded.
    threads=None (all cores) becomes the thread cap when there is one."""
    limits = limits or hosted.settings()
    if cfg.threads is None and limits.max_threads is not None:
        cfg = dataclasses.replace(cfg, threads=min(limits.max_threads, hosted.cores()))
    for name, (cap_name, label) in CAPPED.items():
        cap, value = getattr(limits, cap_name), getattr(cfg, name)
        if cap is not None and value is not None and value > cap:
            raise ConfigError(f"{label} {value:,} is above this server's limit of {cap:,}")
    return cfg


def clamp_to_limits(params: dict[str, Any], limits: hosted.HostedLimits | None = None) -> list[str]:
    """Lower the page's parameters to the server's caps, in place; one message per change."""
    limits = limits or hosted.settings()
    notes = []
    for name, (cap_name, label) in CAPPED.items():
        cap, value = getattr(limits, cap_name), params.get(name)
        if cap is None or value is None:
            continue
        try:
            too_big = int(value) > cap
        except (TypeError, ValueError):
            continue  # to_config reports it
        if too_big:
            params[name] = cap
            notes.append(f"{label.capitalize()} lowered from {int(value):,} to {cap:,}, this server's limit.")
    return notes


def check_corpus(loaded: LoadedCorpus, limits: hosted.HostedLimits | None = None) -> None:
    """Raise ConfigError when the corpus is above the server's word or vocabulary cap."""
    limits = limits or hosted.settings()
    words, vocab = len(loaded.corpus), len(loaded.corpus.vocab)
    if limits.max_tokens is not None and words > limits.max_tokens:
        raise ConfigError(f"the corpus has {words:,} words; this server trains on at most "
                          f"{limits.max_tokens:,}: load a smaller file")
    if limits.max_vocab is not None and vocab > limits.max_vocab:
        raise ConfigError(f"the vocabulary has {vocab:,} words; this server allows at most "
                          f"{limits.max_vocab:,}: raise the min count")


def run_name(cfg: TrainConfig, corpus_name: str) -> str:
    """A short label: 'skip-gram · NS · d100 · 5 ep · small_world'."""
    arch = ARCHITECTURE_LABELS[cfg.architecture]
    corpus = corpus_name.replace(" (sample)", "")
    return f"{arch} · {Loss(cfg.loss).name} · d{cfg.size} · {cfg.epochs} ep · {corpus}"


def configs_for(params: dict[str, Any]) -> list[TrainConfig]:
    """One config, or one per objective for a race. Raises ConfigError for the first bad one."""
    if params.get("race"):
        return [to_config(params, loss=loss) for loss in RACE_LOSSES]
    return [to_config(params)]


def start(loaded: LoadedCorpus, params: dict[str, Any]) -> list[Run]:
    """Start training on `loaded` (already cut with params['min_count']). Raises ConfigError.

    A rejected config (by TrainConfig, the server's limits, or the Trainer, e.g. softmax with a
    huge vocabulary) raises ConfigError and starts nothing. Runs wait in the training queue
    when the server already trains as many as it allows.
    """
    limits = hosted.settings()
    configs = configs_for(params)
    check_corpus(loaded, limits)
    QUEUE.set_limit(limits.max_trainings)
    make_trainer = Trainer
    if params.get("engine", "local") == "spark":
        from . import spark_engine

        why = spark_engine.unavailable(limits)
        if why:
            raise ConfigError(why)
        if len(configs) > 1:
            raise ConfigError("the objectives race trains in this process (Spark does not train the full "
                              "softmax): choose the engine 'This process'")
        make_trainer = spark_engine.SparkRun
    return start_items(loaded, [(run_name(c, loaded.name), c) for c in configs], make_trainer=make_trainer)


def start_items(loaded: LoadedCorpus, items: list[tuple[str, TrainConfig]],
                rejected: str = "the trainer rejected these parameters",
                make_trainer: Callable[..., Any] = Trainer) -> list[Run]:
    """Start (name, config) items on the corpus in the training queue (one run, or a sequence that
    trains one after another). If the trainer rejects any, stop them all and raise ConfigError.
    `make_trainer` builds a single run's trainer (ui/spark_engine.SparkRun for the Spark engine)."""
    if len(items) == 1:
        started = [start_run(loaded.corpus, items[0][1], items[0][0], loaded.name, make_trainer=make_trainer)]
    else:
        started = start_sequence(loaded.corpus, items, loaded.name)
    bad = [r for r in started if r.status == "error"]
    if bad:
        for r in started:
            r.stop()
        raise ConfigError(bad[0].error or rejected)
    return started


def params_from_config(cfg: TrainConfig) -> dict[str, Any]:
    """The inverse of to_config (for 'use this run's parameters')."""
    return params_of(cfg)


# -- session-level actions (Home's demo button, Train's Start, Objectives' race button) -------------
def start_in_session(params: dict[str, Any]) -> list[Run]:
    """Start training on the session's corpus with `params`: re-read the corpus first when the
    min count differs (through the cache), then start and register the run(s). Raises
    ConfigError or CorpusError with a one-line message; starts nothing then."""
    from . import session

    loaded = session.current_corpus()
    if loaded is None:
        raise corpora.CorpusError("no corpus loaded: choose one on Home")
    configs_for(params)  # validate before any re-read
    min_count = int(params["min_count"])
    if loaded.path is not None and min_count != loaded.min_count:  # no file (a test text): keep its vocabulary
        loaded = corpora.reload(loaded, min_count, loaded.max_vocab)
        session.set_corpus(loaded)
    started = start(loaded, params)
    for r in started:
        session.add_run(r)
    session.select_run(started[0].id)
    return started


def launch(key: str) -> list[Run]:
    """Load a preset's corpus, fill the Train parameters with the preset and start it."""
    from . import session

    preset = PRESETS[key]
    loaded = preset_corpus(preset)
    params = preset_params(preset)
    session.set_corpus(loaded)
    session.set_train_params(params, preset=key)
    return start_in_session(session.train_params())
