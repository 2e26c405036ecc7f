"""What every `python -m core` command shares: integer argument types, the guard that turns
expected errors into one `error:` line and exit code 2, and the m:ss duration format.

Does not: define commands or parse anything beyond single arguments (__main__.py and cli_*.py do).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable


class CliError(Exception):
    """Bad input found by a command's handler: printed as one `error:` line, exit code 2."""


def int_arg(at_least: int | None = None) -> Callable[[str], int]:
    """An argparse `type`: an integer ("1_000" and "1,000" too), at least `at_least` if given."""

    def parse(text: str) -> int:
        try:
            v = int(text.replace("_", "").replace(",", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if at_least is not None and v < at_least:
            raise argparse.ArgumentTypeError(f"must be >= {at_least}, got {v}")
        return v

    return parse


def guard(handler: Callable[[argparse.Namespace], int],
          expected: tuple[type[BaseException], ...]) -> Callable[[argparse.Namespace], int]:
    """The handler, with CliError, OSError and the `expected` errors printed as one line (exit 2)."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except (CliError, OSError, *expected) as e:
            sys.stderr.write(f"error: {' '.join(str(e).splitlines())}\n")
            return 2

    run.__doc__ = handler.__doc__
    return run


def fmt_duration(seconds: float) -> str:
    """m:ss, or '?' for NaN / infinity."""
    if seconds != seconds or seconds == float("inf"):
        return "?"
    m, s = divmod(int(seconds), 60)
    return f"{m}:{s:02d}"
