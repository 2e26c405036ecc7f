"""bench/profile_kernel.py's naming of the kernel's compiled functions from Numba's mangled symbols
(the profile is attributed per function by these names; perf itself is not needed here)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from profile_kernel import short_name  # noqa: E402


@pytest.mark.parametrize("mangled, name", [
    ("_ZN4core5train7kernels18_skipgram_sentenceB4v104B78c8tJTIeFIjxB2IKSg", "kernels._skipgram_sentence"),
    ("_ZN7cpython4core5train7kernels11train_chunkB3v96B78c8tJTIeF", "kernels.train_chunk"),
    ("cfunc._ZN4core5train6losses10_dot_blockB4v189B78c8tJTIeFIjx", "losses._dot_block"),
    ("NRT_decref", "NRT_decref"),
])
def test_function_names_from_numba_symbols(mangled, name):
    assert short_name(mangled) == name
