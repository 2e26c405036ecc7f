"""The Train page's parameter dict: TrainConfig's fields with enums stored by their short names
("skipgram", "ns", "c") so widgets can show them, and the app's own extras ("race", "engine").

Does: derive the defaults from TrainConfig's own (one source of truth), name <-> enum maps from
core/config.py, and labels for widgets.
Does not: validate (presets.to_config does, through TrainConfig) or hold state (session.py does).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from core.config import (
    ARCHITECTURE_LABELS,
    ARCHITECTURE_NAMES,
    FORMULA_NAMES,
    LOSS_ABBREVIATIONS,
    LOSS_LABELS,
    LOSS_NAMES,
    TrainConfig,
)

ARCHITECTURES = ARCHITECTURE_NAMES
LOSSES = LOSS_NAMES
FORMULAS = FORMULA_NAMES
ARCH_LABELS = {key: ARCHITECTURE_LABELS[a] for key, a in ARCHITECTURES.items()}  # keyed by short name
LOSS_KEY_LABELS = {key: LOSS_LABELS[loss] for key, loss in LOSSES.items()}
LOSS_SHORT = {key: LOSS_ABBREVIATIONS[loss] for key, loss in LOSSES.items()}  # "ns" -> "NS"

ENGINES = {"local": "This process (threads)", "spark": "Apache Spark (local[2], 2 partitions)"}

# the fields the Train page shows (the rest keep TrainConfig's defaults)
SHOWN = ("architecture", "loss", "size", "window", "negative", "ns_exponent", "sample", "subsample_formula",
         "min_count", "epochs", "alpha", "threads", "seed", "shared_negatives", "compute_loss", "snapshot_topn")
APP_DEFAULTS = {"snapshot_topn": 1000}  # the app keeps neighbour snapshots for its figures; the library does not


def name_of(table: dict[str, Any], value: Any) -> str:
    """The short name of an enum value in one of the maps above."""
    return next(k for k, e in table.items() if e == value)


def params_of(cfg: TrainConfig) -> dict[str, Any]:
    """A parameter dict holding `cfg`'s values (enums by name); `race` False."""
    values = dataclasses.asdict(cfg)
    out: dict[str, Any] = {k: values[k] for k in SHOWN}
    out["architecture"] = name_of(ARCHITECTURES, cfg.architecture)
    out["loss"] = name_of(LOSSES, cfg.loss)
    out["subsample_formula"] = name_of(FORMULAS, cfg.subsample_formula)
    out["race"] = False  # start NS, HS, softmax and NCE one after another with these parameters
    out["engine"] = "local"  # where the run trains: ENGINES
    return out


DEFAULT_PARAMS: dict[str, Any] = {**params_of(TrainConfig()), **APP_DEFAULTS}
