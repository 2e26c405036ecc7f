"""Hosted mode: what a public deployment allows, read from the environment or st.secrets.

Does: define `HostedLimits` (upload size, corpus tokens, epochs, vocabulary, vector size, threads,
snapshot words, trainings at once, the operator's vectors folder) and `settings()`, which reads
them from environment variables first, then from a `[hosted]` table in `.streamlit/secrets.toml`,
then falls back to defaults: generous ones on a local machine, tight ones when hosted. A value
that cannot be parsed never stops the app: the default is used, and the problem is logged once per
process and shown once per session (`show_problems`). Also: the one-line "too large" message for
an upload, checked on its declared `.size` before the bytes are read.
Does not: enforce anything itself. ui/corpora.py, ui/vector_sets.py, ui/presets.py and the
pages apply these limits where a visitor could exceed them.

Environment variables (each also works locally; only the defaults differ):
  W2V_HOSTED          1/true/yes/on: hosted mode (no server paths, the caps below)
  W2V_MAX_UPLOAD_MB   largest upload in MB                        hosted 20, local 200
  W2V_MAX_TOKENS      words read from a corpus file               hosted 5,000,000, local none
  W2V_MAX_EPOCHS      epochs per training                         hosted 10, local none
  W2V_MAX_VOCAB       vocabulary of a training corpus             hosted 50,000, local none
  W2V_MAX_SIZE        vector size D                               hosted 300, local none
  W2V_MAX_THREADS     threads per training                        hosted cores / trainings, local none
  W2V_MAX_SNAPSHOT    words copied per epoch for the epoch slider hosted 2,000, local none
  W2V_MAX_TRAININGS   trainings running at once in this process   hosted 2, local none
  W2V_VECTORS_DIR     folder of vector files offered by name      none
A cap of 0 (or "none") means no cap, except for the upload size, which always has one.
The secrets table uses the same names in lower case without the prefix (`max_epochs = 10`), and
`enabled = true` for W2V_HOSTED. Environment variables win over secrets.
"""

from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import streamlit as st
from streamlit.logger import get_logger

_log = get_logger("w2v.hosted")

SECRETS_TABLE = "hosted"
ENV_HOSTED = "W2V_HOSTED"
SERVER_MAX_UPLOAD_MB = 200  # server.maxUploadSize when Streamlit's option cannot be read


@dataclass(frozen=True)
class HostedLimits:
    """What this process allows. None means no cap."""

    hosted: bool = False  # refuse server paths; only uploads and the operator's vectors folder
    max_upload_mb: int = 200  # largest upload (corpus or vectors), in MB
    max_tokens: int | None = None  # words read from a corpus file (the rest is not read)
    max_epochs: int | None = None  # epochs per training
    max_vocab: int | None = None  # vocabulary a corpus is cut to before training
    max_size: int | None = None  # vector size D of a training
    max_threads: int | None = None  # worker threads of one training
    max_snapshot: int | None = None  # words whose vectors are copied after every epoch
    max_trainings: int | None = None  # trainings running at once in this process; the rest queue (FIFO)
    vectors_dir: Path | None = None  # operator's folder of vector files, offered by file name only
    problems: tuple[str, ...] = field(default=(), compare=False)  # settings that could not be used

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024


HOSTED_DEFAULTS: dict[str, Any] = {
    "max_upload_mb": 20,
    "max_tokens": 5_000_000,
    "max_epochs": 10,
    "max_vocab": 50_000,
    "max_size": 300,
    "max_threads": None,  # derived: cores / max_trainings, at least 1
    "max_snapshot": 2_000,
    "max_trainings": 2,
}
LOCAL_DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(HostedLimits)
                                  if f.name not in ("hosted", "vectors_dir", "problems")}

# field -> environment variable (the secrets key is the field name)
ENV_NAMES = {
    "max_upload_mb": "W2V_MAX_UPLOAD_MB",
    "max_tokens": "W2V_MAX_TOKENS",
    "max_epochs": "W2V_MAX_EPOCHS",
    "max_vocab": "W2V_MAX_VOCAB",
    "max_size": "W2V_MAX_SIZE",
    "max_threads": "W2V_MAX_THREADS",
    "max_snapshot": "W2V_MAX_SNAPSHOT",
    "max_trainings": "W2V_MAX_TRAININGS",
    "vectors_dir": "W2V_VECTORS_DIR",
}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


class SettingError(ValueError):
    """One setting that cannot be used; the message names it and says what was expected."""


# -- parsing ---------------------------------------------------------------------------------------
def _parse_flag(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    # subtle: fail closed. Someone who wrote W2V_HOSTED=ture meant to protect the server.
    raise SettingError(f"{name}={value!r} is not one of 1/0, true/false, yes/no, on/off: hosted mode is ON")


def _parse_cap(name: str, value: Any, allow_none: bool) -> int | None:
    """A positive whole number; 0 or 'none' means no cap when `allow_none`."""
    if isinstance(value, bool):
        raise SettingError(f"{name}={value!r} is not a whole number")
    text = str(value).strip().lower().replace("_", "").replace(",", "")
    if allow_none and text in ("0", "none", "off", "unlimited"):
        return None
    try:
        number = float(text) if any(c in text for c in ".e") else int(text)
    except ValueError:
        raise SettingError(f"{name}={value!r} is not a whole number") from None
    if not math.isfinite(number) or number != int(number) or int(number) < 1:
        raise SettingError(f"{name}={value!r} must be a whole number >= 1" + (" (0: no cap)" if allow_none else ""))
    return int(number)


def _parse_dir(name: str, value: Any) -> Path | None:
    text = str(value).strip()
    if not text:
        return None
    path = Path(text).expanduser()
    if not path.is_dir():  # the path itself is not repeated: visitors see this message
        raise SettingError(f"{name} is not a folder this server can read")
    return path.resolve()


def _secrets() -> dict[str, Any]:
    """The [hosted] table of st.secrets, or {} (no secrets file, or a file that cannot be read)."""
    try:
        if not st.secrets.load_if_toml_exists():
            return {}
        table = st.secrets.get(SECRETS_TABLE)
    except Exception as e:  # noqa: BLE001 - a broken secrets file must not stop the app
        _report_once(f"could not read st.secrets: {e}")
        return {}
    return dict(table) if table is not None and hasattr(table, "keys") else {}


def settings() -> HostedLimits:
    """The limits of this process: environment first, then st.secrets [hosted], then defaults.

    Cheap (a few dictionary reads), so callers ask again instead of keeping a copy: tests and
    operators can change the environment without a restart.
    """
    secrets = _secrets()
    problems: list[str] = []

    def raw(env: str, key: str) -> tuple[str, Any] | None:
        if os.environ.get(env, "").strip():
            return env, os.environ[env]
        if key in secrets:
            return f"secrets [{SECRETS_TABLE}] {key}", secrets[key]
        return None

    hosted = False
    found = raw(ENV_HOSTED, "enabled")
    if found is not None:
        try:
            hosted = _parse_flag(*found)
        except SettingError as e:
            problems.append(str(e))
            hosted = True
    defaults = HOSTED_DEFAULTS if hosted else LOCAL_DEFAULTS
    values: dict[str, Any] = {}
    given: set[str] = set()
    for name, env in ENV_NAMES.items():
        found = raw(env, name)
        if found is not None:
            given.add(name)
        if name == "vectors_dir":
            values[name] = None
            if found is not None:
                try:
                    values[name] = _parse_dir(*found)
                except SettingError as e:
                    problems.append(f"{e}; no server vectors are offered")
            continue
        values[name] = defaults[name]
        if found is not None:
            try:
                values[name] = _parse_cap(*found, allow_none=name != "max_upload_mb")
            except SettingError as e:
                problems.append(f"{e}; using {_show(defaults[name])}")
    if hosted and "max_threads" not in given:  # share the cores between the trainings allowed at once
        values["max_threads"] = max(1, cores() // (values["max_trainings"] or 1))
    limits = HostedLimits(hosted=hosted, problems=tuple(problems), **values)
    for p in problems:
        _report_once(p)
    return limits


def cores() -> int:
    """CPUs this process may run on (the affinity mask, which containers narrow; else cpu_count)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _show(value: Any) -> str:
    return "no cap" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


_reported: set[str] = set()
_reported_lock = threading.Lock()


def _report_once(message: str) -> None:
    with _reported_lock:
        if message in _reported:
            return
        _reported.add(message)
    _log.warning("w2v-explorer settings: %s", message)


def hosted() -> bool:
    """True when the app is served to the public (W2V_HOSTED or secrets [hosted] enabled)."""
    return settings().hosted


def show_problems(limits: HostedLimits | None = None) -> None:
    """Show each setting that could not be used as one st.error line, once per session."""
    limits = limits or settings()
    shown = st.session_state.setdefault("_hosted_problems_shown", set())
    for p in limits.problems:
        if p not in shown:
            shown.add(p)
            st.error(f"Server setting ignored: {p}.", icon=":material/settings:")


# -- uploads ---------------------------------------------------------------------------------------
def server_upload_mb() -> int:
    """Streamlit's server.maxUploadSize (MB): nothing larger ever reaches the app."""
    try:
        return int(st.get_option("server.maxUploadSize"))
    except Exception:  # noqa: BLE001 - an unreadable option: assume the repository's config.toml
        return SERVER_MAX_UPLOAD_MB


def upload_limit_bytes(limits: HostedLimits | None = None) -> int:
    """The largest upload accepted: the configured limit, never above the server's own cap."""
    limits = limits or settings()
    return min(limits.max_upload_bytes, server_upload_mb() * 1024 * 1024)


def upload_limit_mb(limits: HostedLimits | None = None) -> int:
    return upload_limit_bytes(limits) // (1024 * 1024)


def too_large(name: str, size: int, limit_bytes: int | None = None) -> str | None:
    """A one-line message when an upload of `size` bytes is over the limit, else None."""
    limit = upload_limit_bytes() if limit_bytes is None else limit_bytes
    if size <= limit:
        return None
    mb = limit / 2**20
    return f"{name} is {size / 2**20:.1f} MB; the limit is {mb:.0f} MB" if mb >= 1 else \
        f"{name} is {size:,} bytes; the limit is {limit:,} bytes"


def describe(limits: HostedLimits | None = None) -> str:
    """One line for captions: the caps that apply to training here."""
    limits = limits or settings()
    parts = [f"{label} {_show(getattr(limits, name))}" for name, label in (
        ("max_tokens", "words per corpus"), ("max_vocab", "vocabulary"), ("max_epochs", "epochs"),
        ("max_size", "vector size"), ("max_trainings", "trainings at once")) if getattr(limits, name) is not None]
    return "Limits on this server: " + ", ".join(parts) + "." if parts else ""
