"""Start (or reuse) a SparkSession for training, and say in one line why Spark cannot start.

Does: check that pyspark can be imported and a Java runtime found, check that a standalone
master (spark://host:port) accepts connections before a JVM is started for it, and build a
session whose executors can import this package and share one Numba cache folder.
Does not: install anything (.ci/run and the README say what to install) or train.

pyspark is imported inside the functions: `import core` never loads it.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the folder that holds the `core` package
CONNECT_SECONDS = 3.0  # how long a spark:// master may take to accept a TCP connection
# local masters' JVMs compile with the quick compiler only: this engine computes in Python and
# Numba, the JVMs mostly move bytes, and on 2 cores the optimising compiler's threads delayed the
# driver's and two executors' start by 4-5 s (session and first job, local-cluster[2,1,..]: 9.6-11.3 s
# against 15.1-16.1 s). A --spark-conf of the same key replaces it; clusters keep their own settings.
LOCAL_JVM_OPTIONS = "-XX:TieredStopAtLevel=1"


class SparkUnavailable(RuntimeError):
    """Spark cannot be used here; the message says what to install or fix, in one line."""


def java_executable() -> str | None:
    """The java that Spark's launcher will run ($JAVA_HOME/bin/java first, as spark-class does)."""
    home = os.environ.get("JAVA_HOME")
    if home and os.access(Path(home) / "bin" / "java", os.X_OK):
        return str(Path(home) / "bin" / "java")
    return shutil.which("java")


def check_requirements() -> None:
    """Raise SparkUnavailable when pyspark or Java is missing."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise SparkUnavailable("pyspark is not installed: pip install pyspark") from None
    if java_executable() is None:
        raise SparkUnavailable("Spark needs Java 17 or newer and none was found: install it (Debian: "
                               "apt-get install openjdk-17-jre-headless) or set JAVA_HOME")


def check_master(master: str) -> None:
    """Fail fast for a spark://host:port master that does not accept connections (Spark itself
    retries for minutes before giving up)."""
    if not master.startswith("spark://"):
        return
    for address in master[len("spark://"):].split(","):  # standby masters: host1:port1,host2:port2
        host, _, port = address.rpartition(":")
        try:
            with socket.create_connection((host, int(port)), timeout=CONNECT_SECONDS):
                return
        except (OSError, ValueError) as e:
            reason = getattr(e, "strerror", None) or str(e) or type(e).__name__
    raise SparkUnavailable(f"cannot reach the Spark master {master}: {reason}")


def running_session():
    """The SparkSession of this process's running SparkContext, from any thread, or None.

    subtle: getActiveSession() is per thread (the JVM keeps it in a thread-local), so a training
    thread of the app would not see the session another thread started and would ask for a second
    context, which Spark refuses; the process has one SparkContext at most."""
    import sys

    if sys.modules.get("pyspark") is None:  # not imported (or blocked: tests put None there)
        return None
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    if SparkContext._active_spark_context is None:
        return None
    return SparkSession.builder.getOrCreate()


def start_error(e: BaseException) -> str:
    """The reason in one line: a Java exception's own message (py4j's first line only names the
    call: "An error occurred while calling None.org.apache...JavaSparkContext."), else the first line."""
    lines = str(e).strip().splitlines() or [type(e).__name__]
    for line in lines:
        head, sep, reason = line.partition("Exception: ")
        if sep and reason.strip() and " " not in head.strip(": \t"):
            return reason.strip()
    return lines[0]


def session_conf(master: str | None, conf: dict[str, str] | None = None) -> dict[str, str]:
    """The settings a new session on `master` gets: ours, then `conf` (which wins)."""
    out = {"spark.ui.showConsoleProgress": "false"}
    if master is not None and master.startswith("local"):
        # subtle: one machine: the executors import this package from where the driver does and
        # compile the kernels once into the driver's cache folder (a cluster ships the package
        # and picks its own folders: README), and everything talks over the loopback address
        from .. import _numba_setup  # noqa: F401  (sets NUMBA_CACHE_DIR, which the executors inherit)

        out |= {"spark.executorEnv.PYTHONPATH": os.pathsep.join(
                    p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
                "spark.executorEnv.NUMBA_CACHE_DIR": os.environ["NUMBA_CACHE_DIR"],
                "spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1",
                "spark.driver.extraJavaOptions": LOCAL_JVM_OPTIONS,
                "spark.executor.extraJavaOptions": LOCAL_JVM_OPTIONS}
    return out | (conf or {})


def get_session(master: str | None = None, app_name: str = "word2vec", conf: dict[str, str] | None = None):
    """The active SparkSession if there is one (then `master` must be None or equal to its
    master), else a new one on `master` (None: spark-submit's master, else local[*])."""
    check_requirements()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        if master is not None and active.sparkContext.master != master:
            raise SparkUnavailable(f"a Spark session on {active.sparkContext.master} is already running "
                                   f"in this process; cannot start one on {master}")
        return active
    if master is None and "PYSPARK_GATEWAY_PORT" not in os.environ:
        master = "local[*]"  # a plain `python` process, not one spark-submit started
    if master is not None:
        check_master(master)
    import pyspark

    os.environ.setdefault("SPARK_HOME", str(Path(pyspark.__file__).parent))  # local-cluster launches from it
    from .. import _numba_setup  # noqa: F401  (sets NUMBA_CACHE_DIR, which the executors inherit)

    # no master given under spark-submit: its --master and settings
    builder = SparkSession.builder if master is None else SparkSession.builder.master(master)
    builder = builder.appName(app_name)
    for key, value in session_conf(master, conf).items():
        builder = builder.config(key, value)
    try:
        return builder.getOrCreate()
    except Exception as e:  # py4j / JVM start-up errors: one line, not a Java stack trace
        raise SparkUnavailable(f"Spark could not start on {master or 'local[*]'}: {start_error(e)[:300]}") from None
