"""The kernel cache is keyed by every source file of core/, not just the kernel's own file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from core._numba_setup import source_digest, versioned_cache_dir

REPO = Path(__file__).resolve().parent.parent


def test_versioned_cache_dir_removes_other_versions(tmp_path):
    (tmp_path / "numba-0123456789abcdef").mkdir()
    (tmp_path / "unrelated").mkdir()
    d = versioned_cache_dir(str(tmp_path))
    assert Path(d).name == "numba-" + source_digest()
    assert not (tmp_path / "numba-0123456789abcdef").exists()
    assert (tmp_path / "unrelated").exists()


def _cache_dir_of(pkg_parent: Path, env_cache: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    if env_cache:
        env["NUMBA_CACHE_DIR"] = env_cache
    code = "import core._numba_setup, numba; print(numba.config.CACHE_DIR)"
    out = subprocess.run([sys.executable, "-c", code], cwd=pkg_parent, env=env, capture_output=True, text=True,
                         check=True)
    return out.stdout.strip()


def test_editing_an_inlined_module_changes_the_cache_folder(tmp_path):
    """Numba alone would reuse train_chunk's machine code after train/losses.py or the inlined
    helpers of train/lowlevel.py changed (it checks kernels.py's timestamp only); our folder name
    changes with any compiled file anywhere under core/, subfolders included."""
    shutil.copytree(REPO / "core", tmp_path / "core", ignore=shutil.ignore_patterns("__pycache__"))
    cache = tmp_path / "cache"
    before = _cache_dir_of(tmp_path, str(cache))
    with open(tmp_path / "core" / "train" / "lowlevel.py", "a") as f:  # an inlined helper in a subfolder
        f.write("\n# an edit\n")
    after = _cache_dir_of(tmp_path, str(cache))
    assert Path(before).parent == Path(after).parent == cache
    assert before != after
    with open(tmp_path / "core" / "train" / "losses.py", "a") as f:
        f.write("\n# an edit\n")
    again = _cache_dir_of(tmp_path, str(cache))
    assert again != after
    after = again
    with open(tmp_path / "core" / "cli" / "main.py", "a") as f:  # no compiled code there: same folder
        f.write("\n# an edit\n")
    assert _cache_dir_of(tmp_path, str(cache)) == after
    # a child process started with the versioned folder in its environment uses it as it is
    assert _cache_dir_of(tmp_path, after) == after


def test_digest_covers_compiled_files_in_nested_folders(tmp_path):
    """A compiled file two folders down counts; a file without compiled code does not."""
    pkg = tmp_path / "pkg"
    (pkg / "a" / "b").mkdir(parents=True)
    (pkg / "top.py").write_text("from numba import njit\n")
    deep = pkg / "a" / "b" / "deep.py"
    deep.write_text("from numba.extending import intrinsic\n")
    plain = pkg / "a" / "plain.py"
    plain.write_text("x = 1\n")
    before = source_digest(pkg)
    plain.write_text("x = 2\n")
    assert source_digest(pkg) == before
    deep.write_text("from numba.extending import intrinsic\n# edited\n")
    assert source_digest(pkg) != before
