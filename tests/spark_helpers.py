"""Shared by the Spark test modules: a skip when Spark cannot run, a session per module, a corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.spark.session import SparkUnavailable, check_requirements

ROOT = Path(__file__).resolve().parents[1]
# subtle: a JVM that compiles less starts in about half the time on a busy machine (27 vs 48 s)
FAST_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"


def spark_session(master: str):
    """Start a session on `master` for one test module, or skip when Java or pyspark is missing."""
    try:
        check_requirements()
    except SparkUnavailable as e:
        pytest.skip(str(e))
    from core.spark.session import get_session

    spark = get_session(master, conf={"spark.driver.extraJavaOptions": FAST_JVM,
                                      "spark.executor.extraJavaOptions": FAST_JVM,
                                      "spark.default.parallelism": "2"})
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def small_corpus(folder: Path, lines: int = 4000) -> Path:
    """The first `lines` lines (~8 words each) of the shipped small-world corpus, as a file."""
    with open(ROOT / "sample_corpora" / "small_world.txt", encoding="utf-8") as f:
        text = "".join(next(f) for _ in range(lines))
    path = folder / "corpus.txt"
    path.write_text(text, encoding="utf-8")
    return path


def single_process_twin(path: Path, vocab, config):
    """One process trained on the same encoded corpus (same vocabulary order) with one thread."""
    import dataclasses

    import numpy as np

    from core.corpus import Corpus, tokenize
    from core.train.trainer import Trainer

    ids, ends = [], [0]
    for line in path.read_text(encoding="utf-8").splitlines():
        seq = [vocab.index[w] for w in tokenize(line) if w in vocab.index]
        if seq:
            ids.extend(seq)
            ends.append(len(ids))
    corpus = Corpus(np.array(ids, np.int32), np.array(ends, np.int64), vocab)
    trainer = Trainer(corpus, dataclasses.replace(config, threads=1, hot_rows=0))
    trainer.train()
    return trainer
