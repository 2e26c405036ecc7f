"""Where the training kernel spends its time, per compiled function and per instruction, with Linux perf.

Does: train one epoch of a slice of a corpus in a child process under `perf record` (after an
untimed warm-up that loads or compiles the kernel), take the machine code of `train_chunk` from
Numba's on-disk cache (the object file inside its .nbc entry), find where the child loaded it (the
entry address the child reports) and attribute each sample to a function of that object (the
sentence loops, the dot and update passes are separate compiled functions) and to an instruction.
Prints the share of each function and the hottest instructions with their disassembly, and writes
the whole annotated listing to --listing.
Does not: resolve code outside the kernel (Python, NumPy, the kernel's callers show as "other"),
correct for skid (a sample usually lands on the instruction after the one that waited: after a
load that missed, look one line up), or compare runs (the machine is shared and noisy).
Needs `perf` and binutils' `nm` and `objdump`; reading the cache entry unpickles this project's own
Numba cache (never anything a user supplied).

    python bench/profile_kernel.py --corpus /tmp/slice.txt [--arch SKIPGRAM|CBOW] [--loss NS|HS|NCE]
        [--shared-negatives] [--threads 1] [--top 30] [--listing /tmp/kernel.txt]

Used in bench/README.md, "The noise draw": it found the alias table's loads and the branch on them.
"""

from __future__ import annotations

import argparse
import collections
import glob
import os
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

CHILD = """
import json, os, sys, time
sys.path.insert(0, sys.argv[1])
from core.config import Architecture, Loss, TrainConfig
from core.corpus import read_corpus
from core.train import kernels
from core.train.trainer import Trainer
corpus = read_corpus(sys.argv[2], min_count=5)
def config():
    return TrainConfig(architecture=Architecture[sys.argv[3]], loss=Loss[sys.argv[4]],
                       shared_negatives=sys.argv[5] == "1", size=100, window=5, negative=5, sample=1e-4,
                       epochs=1, threads=int(sys.argv[6]), seed=1, track_counts=False)
Trainer(corpus, config()).train()  # load the kernel, untimed (it is in the profile all the same)
if sys.argv[7] == "warm":
    sys.exit()
t0 = time.process_time()
Trainer(corpus, config()).train()
cres = next(iter(kernels.train_chunk.overloads.values()))
entry = cres.library.get_pointer_to_function(cres.fndesc.llvm_func_name)
print(json.dumps({"cpu": time.process_time() - t0, "entry": entry, "name": cres.fndesc.llvm_func_name}))
"""


def kernel_object(repo: Path) -> bytes:
    """The machine code of train_chunk from the Numba cache under repo/core (an ELF object)."""
    sys.path.insert(0, str(repo))
    import numba  # noqa: F401  (the cache entry's pickle names Numba's classes)

    base = Path(os.environ.get("NUMBA_CACHE_DIR") or repo / "core" / "__pycache__")
    files = glob.glob(str(base / "**" / "kernels.train_chunk*.nbc"), recursive=True)
    if not files:
        raise SystemExit(f"no cached train_chunk under {base}")
    stack = [pickle.loads(Path(max(files, key=os.path.getmtime)).read_bytes())]
    while stack:
        x = stack.pop()
        if isinstance(x, bytes | bytearray) and x[:4] == b"\x7fELF":
            return bytes(x)
        if isinstance(x, tuple | list):
            stack.extend(x)
        elif isinstance(x, dict):
            stack.extend(x.values())
    raise SystemExit("the cache entry holds no object code")


def symbols(obj: Path) -> list[tuple[int, int, str]]:
    """(offset, size, name) of each function in the object."""
    out = subprocess.run(["nm", "-S", "--defined-only", str(obj)], capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] in "TtWw":
            found.append((int(parts[0], 16), int(parts[1], 16), parts[3]))
    return found


def short_name(mangled: str) -> str:
    """`kernels._skipgram_sentence` from Numba's mangled `_ZN4core5train7kernels18_skipgram_sentenceB4v104...`
    (length-prefixed parts up to the version tag): the last two parts."""
    m = re.search(r"_ZN(.*)", mangled)
    rest, parts = (m.group(1) if m else ""), []
    while (n := re.match(r"(\d+)", rest)) is not None:
        k = int(n.group(1))
        parts.append(rest[len(n.group(1)):len(n.group(1)) + k])
        rest = rest[len(n.group(1)) + k:]
    return ".".join(parts[-2:]) if parts else mangled[:40]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", required=True, help="a text file to train one epoch on (a few M words)")
    ap.add_argument("--arch", default="SKIPGRAM", choices=["SKIPGRAM", "CBOW"])
    ap.add_argument("--loss", default="NS", choices=["NS", "HS", "NCE"])
    ap.add_argument("--shared-negatives", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--frequency", type=int, default=4000, help="samples per second")
    ap.add_argument("--top", type=int, default=30, help="hottest instructions to print")
    ap.add_argument("--listing", type=Path, help="write every kernel instruction with its samples here")
    args = ap.parse_args()
    for tool in ("perf", "nm", "objdump"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (apt-get install linux-perf binutils)")
    child = [sys.executable, "-c", CHILD, str(REPO), str(args.corpus), args.arch, args.loss,
             "1" if args.shared_negatives else "0", str(args.threads)]
    # subtle: a process that compiles the kernel runs its callees from their own compiled copies, not
    # from the object in the cache (bench/README.md, "The first run and the cached kernel"), so the
    # profiled child must load it: a first child compiles it if the cache lacks it
    subprocess.run(child + ["warm"], check=True, capture_output=True)
    with tempfile.TemporaryDirectory() as tmp:
        data, obj = Path(tmp) / "perf.data", Path(tmp) / "train_chunk.o"
        run = subprocess.run(["perf", "record", "-q", "-F", str(args.frequency), "-o", str(data)] + child + ["run"],
                             capture_output=True, text=True)
        if run.returncode:
            raise SystemExit(run.stderr[-2000:])
        report = __import__("json").loads(run.stdout.strip().splitlines()[-1])
        obj.write_bytes(kernel_object(REPO))
        syms = symbols(obj)
        size = max(a + s for a, s, _ in syms)
        ips = subprocess.run(["perf", "script", "-i", str(data), "-F", "ip"], capture_output=True, text=True,
                             check=True).stdout.split()
        listing = subprocess.run(["objdump", "-d", "--no-show-raw-insn", "-M", "intel", str(obj)],
                                 capture_output=True, text=True, check=True).stdout
    hits: collections.Counter[int] = collections.Counter()
    for ip in ips:
        off = int(ip, 16) - report["entry"]
        if 0 <= off < size:
            hits[off] += 1
    inside = sum(hits.values())
    print(f"{args.arch} {args.loss}{' shared' if args.shared_negatives else ''}, {args.threads} thread(s): "
          f"{report['cpu']:.2f} CPU s; {len(ips)} samples, {inside} in the kernel")
    if not inside:
        raise SystemExit("no sample fell in the kernel (did the child load a different cache entry?)")
    per_function: collections.Counter[str] = collections.Counter()
    owner = {}
    for start, length, name in syms:
        for off in hits:
            if start <= off < start + length:
                per_function[f"{short_name(name)} @{start:#x}"] += hits[off]
                owner[off] = short_name(name)
    for name, n in per_function.most_common():
        print(f"{100 * n / inside:5.1f} %  {name}")
    text = {}
    for line in listing.splitlines():
        m = re.match(r"\s+([0-9a-f]+):\s+(.*)", line)
        if m:
            text[int(m.group(1), 16)] = re.sub(r" <[^>]*>", "", m.group(2))
    print("\nhottest instructions (% of the kernel's samples; skid: the wait is often the line before):")
    for off, n in hits.most_common(args.top):
        print(f"{100 * n / inside:5.1f} %  {off:#7x}  {owner.get(off, '?'):<20} {text.get(off, '?')}")
    if args.listing:
        args.listing.write_text("\n".join(f"{hits.get(o, 0):6d} {o:#7x}: {t}" for o, t in sorted(text.items())) + "\n")
        print(f"\nlisting: {args.listing}")


if __name__ == "__main__":
    main()
