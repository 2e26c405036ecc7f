"""Training an epoch inside one Spark barrier stage: the tasks keep the model and swap changed rows.

The default engine (`exchange="peer"`). Where driver.py's "driver" exchange runs one Spark job a
round (broadcast the whole model, train, ship the changed rows to the driver, merge there), here
one barrier stage runs a whole epoch: every task starts from the epoch's model (broadcast once),
and after each round sends the rows its partitions changed straight to the other tasks (mesh.py,
TCP between the executors), so that every task merges the same changes in the same order with
the same rule (merge.py) and holds the same model for the next round. The driver receives one
small report a round from the first task (progress, timings, the loss) and can ask it to stop;
at the end the first task sends it the model on the same connection.

Does: `stage_records` arranges the encoded partitions for the stage (T tasks holding P >= T
partitions, partition p on task p mod T). A task holding several partitions trains them one
after another, either each from the round's model (plan.chain off: P replicas, the result that
of P partitions whatever T is) or each going on from the last as one replica (plan.chain, the
default through driver.REPLICAS: T replicas, fewer and larger changes, as MLlib's tasks in one
executor share one model; with plan.threads > 1 it trains that many of them at once on the
copy, as Hogwild threads); `run_stage` is one task's
epoch; `StageServer` is the driver's end (runs the job in a thread, reads the reports).
Does not: decide the schedule or the events (driver.py), or survive a lost task by itself: Spark
reruns the whole stage, which, as a pure function of (plan, broadcast model, partitions),
returns exactly what the first attempt would have.

Equivalence: with the same seed, partitions and rounds, a peer run trains bit for bit what the
driver exchange trains (every round starts from the same merged model, the changes are decoded
from the same bytes and merged in partition order): tests/test_spark.py checks it.
"""

from __future__ import annotations

import json
import secrets
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, replace

import numpy as np

from ..train.slices import SliceModel, SliceStats, train_slice
from .data import _identity
from .deltas import Packed, add_packed_all, decode, pack_changes
from .executor import row_updates, slice_bounds
from .merge import effective_rule, merge
from .mesh import (
    GO,
    MODEL,
    STOP,
    TOKEN_BYTES,
    DriverLink,
    Mesh,
    MeshError,
    Rendezvous,
    frame_bytes,
    pack_parts,
    recv_exact,
    recv_frame,
    unpack,
)


@dataclass(frozen=True)
class StagePlan:
    """What every task of one epoch's stage needs besides the model and its partitions."""

    epoch: int  # 0-based
    rounds: int  # rounds per epoch
    epochs: int
    partitions: int  # P, the data-parallel partitions (each its own model replica in a round unless chain)
    words: tuple[int, ...]  # words of each partition
    rng_states: tuple[int, ...]  # each partition's xorshift state at the start of the epoch
    merge_rule: str
    deltas: str
    counts: bool  # ship per-row update counts (merge rules in merge.NEEDS_COUNTS)
    track: bool  # return the per-word counts (config.track_counts)
    token: bytes = b""  # shared secret of this stage's connections (StageServer fills it)
    driver: tuple[str, int] = ("", 0)  # where the tasks swap their ports and the first task reports
    fail_partition: int = -1  # tests: the task holding this partition fails in round 1, once
    fail_marker: str = ""  # tests: a path that does not exist yet; the failing task creates it
    chain: bool = False  # a task holding several partitions trains them as one replica (driver.REPLICAS)
    threads: int = 1  # chain: partitions a task trains at once on its one copy (Hogwild; not reproducible)


def stage_records(encoded, partitions: int, tasks: int, groups: int | None = None):
    """RDD of `tasks` partitions, task t holding records (p, tokens, offsets) for p = t, t + T, ...
    `encoded` (data.SparkCorpus) already is one when T >= P or when its `groups` is T.
    Returns (rdd, persisted): a persisted RDD (else: one shuffle) must be unpersisted by the caller."""
    if tasks >= partitions or groups == tasks:
        return encoded, False
    grouped = encoded.keyBy(lambda rec: rec[0] % tasks).partitionBy(tasks, _identity).values().persist()
    return grouped, True


def _fail_once(marker: str) -> bool:
    """Fault injection for tests: True the first time on this machine (creates `marker`).
    subtle: not attemptNumber(), which a rerun barrier stage counts from 0 again (measured)."""
    import os

    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        return False
    return True


def run_stage(plan: StagePlan, model: SliceModel, W_in0: np.ndarray, W_out0: np.ndarray,
              records: Iterator, ctx) -> dict:
    """One task's epoch: train its partitions' slices round by round, swap and merge the changes
    with every other task; returns its partitions' totals (task 0 sends the driver the model)."""
    parts = sorted(records, key=lambda rec: rec[0])
    mesh = Mesh(ctx, plan.token, plan.driver)
    link = DriverLink(plan.driver, plan.token) if mesh.rank == 0 else None
    try:
        return _epoch(plan, model, W_in0, W_out0, parts, mesh, link, ctx)
    finally:
        mesh.close()
        if link is not None:
            link.close()


def _epoch(plan, model, W_in0, W_out0, parts, mesh, link, ctx) -> dict:
    B_in, B_out = np.array(W_in0, np.float32), np.array(W_out0, np.float32)  # the merged model
    W_in, W_out = B_in.copy(), B_out.copy()  # what this task trains in; equal to B between rounds
    rng = {p: np.array([plan.rng_states[p]], np.uint64) for p, _, _ in parts}
    totals = {p: {"loss": 0.0, "examples": 0, "words": 0, "alpha": float("nan")} for p, _, _ in parts}
    v = B_in.shape[0]
    tallies = {p: [np.zeros(v, np.int64) for _ in range(3)] for p, _, _ in parts} if plan.track else {}
    track = plan.track or plan.counts
    stopped = diverged = False
    rounds_done = 0
    chain = plan.chain and len(parts) > 1  # one replica for all of this task's partitions
    threads = max(1, plan.threads) if chain else 1
    # chain: partitions trained `threads` at a time on the one copy (Hogwild), wave after wave
    with ThreadPoolExecutor(threads, thread_name_prefix="w2v-task") if threads > 1 else nullcontext() as pool:
        waves = [parts[i:i + threads] for i in range(0, len(parts), threads)]
        for r in range(plan.rounds):
            t0 = time.perf_counter()
            entries, keys, arrays = [], [], []
            kept = negatives = None  # chain with counts: the task's tallies over its slices this round
            busy = 0.0  # this task's kernel time (a wave's wall time when it trains in threads)

            def one(part, r=r):
                p, tokens, offsets = part
                if p == plan.fail_partition and r == 1 and plan.fail_marker and _fail_once(plan.fail_marker):
                    raise RuntimeError(f"injected failure: epoch {plan.epoch} round {r} partition {p}, first attempt")
                s0, s1 = slice_bounds(offsets, r, plan.rounds)
                words = plan.words[p]
                t = time.perf_counter()
                stats = train_slice(model, W_in, W_out, tokens, offsets, s0, s1,
                                    base_words=plan.epoch * words + int(offsets[s0]),
                                    inv_total=1.0 / max(1, words * plan.epochs), rng_state=rng[p], count=track)
                return stats, time.perf_counter() - t

            for w, wave in enumerate(waves):
                t = time.perf_counter()
                done = [one(wave[0])] if len(wave) == 1 else list(pool.map(one, wave))
                busy += time.perf_counter() - t
                for (p, _, _), (stats, kernel) in zip(wave, done, strict=True):
                    tot = totals[p]
                    tot["loss"] += stats.loss
                    tot["examples"] += stats.examples
                    tot["words"] += stats.words
                    if stats.words:
                        tot["alpha"] = stats.alpha
                    if plan.track:
                        for acc, x in zip(tallies[p], (stats.seen, stats.kept, stats.negatives), strict=True):
                            acc += x
                    entries.append({"p": p, "loss": stats.loss, "examples": stats.examples, "words": stats.words,
                                    "alpha": stats.alpha, "kernel": kernel})
                    if chain and plan.counts:
                        kept = stats.kept.copy() if kept is None else kept + stats.kept
                        negatives = stats.negatives.copy() if negatives is None else negatives + stats.negatives
                last = w == len(waves) - 1
                if chain:
                    if not last:  # the next wave goes on from here: the change is the task's, sent once
                        continue
                    stats = SliceStats(0.0, 0, 0, float("nan"), None, kept, negatives)
                pin, pout = pack_changes(B_in, W_in, plan.deltas), pack_changes(B_out, W_out, plan.deltas)
                if not last:  # the next partition starts from the round's model too
                    W_in[pin.ids], W_out[pout.ids] = B_in[pin.ids], B_out[pout.ids]
                keys.append(parts[0][0] if chain else wave[0][0])
                for packed in (pin, pout):
                    arrays += [packed.ids, packed.values] + ([] if packed.scale is None else [packed.scale])
                if plan.counts:
                    arrays += list(row_updates(model, stats, pin.ids, pout.ids))
            own = {"entries": entries, "changes": keys, "kernel": busy,
                   "stop": bool(link is not None and link.stop_requested())}
            t1 = time.perf_counter()
            messages = mesh.exchange(pack_parts(own, arrays))
            t2 = time.perf_counter()
            changes: list[tuple[int, tuple, tuple]] = []
            everyone, kernels = [], []
            for rank, m in enumerate(messages):
                # subtle: this task's own message is read as built (its header is what the
                # others decode from JSON: plain numbers, lists, strings)
                header, arrs = (own, arrays) if rank == mesh.rank else unpack(m)
                if rank == 0:
                    stopped = bool(header["stop"])
                everyone += header["entries"]
                kernels.append(header["kernel"])
                at = 0
                for key in header["changes"]:
                    got = []
                    for _ in range(2):
                        ids, values = arrs[at], arrs[at + 1]
                        scaled = values.dtype != np.float32
                        got.append(Packed(ids, values, arrs[at + 2] if scaled else None))
                        at += 3 if scaled else 2
                    cin = cout = None
                    if plan.counts:
                        cin, cout = arrs[at], arrs[at + 1]
                        at += 2
                    changes.append((key, (got[0], cin), (got[1], cout)))
            changes.sort(key=lambda c: c[0])  # partition (chain: task) order, as the driver exchange merges
            for W, B, k in ((W_in, B_in, 1), (W_out, B_out, 2)):
                if effective_rule(plan.merge_rule, k == 2, len(changes)) == "sum":
                    # subtle: the same float32 additions as merge()'s, without decoding; W's rows
                    # follow in the same pass (a row in several changes gets the last sum), and
                    # two changes are added in one pass over the rows they touch
                    add_packed_all(B, [c[k][0] for c in changes], mirror=W)
                else:
                    merge(B, ((*decode(c[k][0]), c[k][1]) for c in changes), plan.merge_rule, output=k == 2,
                          mirror=W)
            t3 = time.perf_counter()
            loss = sum(e["loss"] for e in everyone)
            diverged = not np.isfinite(loss)
            rounds_done = r + 1
            if link is not None:
                link.report({"round": r, "words": sum(e["words"] for e in everyone), "loss": loss,
                             "examples": sum(e["examples"] for e in everyone),
                             "alpha": max((e["alpha"] for e in everyone if e["words"]), default=float("nan")),
                             "seconds": t3 - t0, "compute": max(kernels),
                             "pack": t1 - t0, "exchange": t2 - t1, "merge": t3 - t2,
                             "bytes": sum(frame_bytes(m) for m in messages),
                             "rows": sum(len(c[1][0]) + len(c[2][0]) for c in changes)})
            if diverged or stopped:
                break
        out = {"rank": mesh.rank, "rounds": rounds_done, "stopped": stopped, "diverged": diverged,
               "partitions": {p: dict(totals[p], rng_state=int(rng[p][0]),
                                      tallies=tallies[p] if plan.track else None) for p, _, _ in parts}}
        if link is not None:
            # subtle: straight to the driver (40 ms for 40 MB), not through the stage's results,
            # which go through a shuffle and a collect (0.5-1 s); the task attempt id tells the
            # driver which of several attempts' models is the one whose results it collects
            out["model_task"] = ctx.taskAttemptId()
            link.send_model({"task": out["model_task"]}, [B_in, B_out])
        return out


class StageServer:
    """The driver's end of one epoch's stage: runs the barrier job in a thread and, in the
    calling thread, hands every round report to `on_round`, which returns True to stop the stage."""

    def __init__(self, spark):
        self.spark = spark
        self.startup = float("nan")  # the last run: submitting the stage to the first report, less that round
        self.wind_down = float("nan")  # the last report to the driver holding the results
        conf = spark.sparkContext.getConf()
        self.host = conf.get("spark.driver.host") or socket.gethostname()

    def run(self, rdd, plan: StagePlan, model_bc, W_in: np.ndarray, W_out: np.ndarray,
            on_round: Callable[[dict], bool]) -> list[dict]:
        sc = self.spark.sparkContext
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.bind((self.host, 0))
        server.listen(8)
        token = secrets.token_bytes(TOKEN_BYTES)
        plan = replace(plan, token=token, driver=(self.host, server.getsockname()[1]))
        mats = sc.broadcast((W_in, W_out))
        outcome: dict = {}
        done = threading.Event()

        def task(records):
            from pyspark import BarrierTaskContext

            m = mats.value
            yield 0, run_stage(plan, model_bc.value, m[0], m[1], records, BarrierTaskContext.get())

        def job():
            try:
                # subtle: a barrier *result* stage is never rerun ("Could not recover from a failed
                # barrier ResultStage", measured); a barrier shuffle-map stage is rerun whole, so
                # the results go through one shuffle into a plain stage that collects them
                outcome["rows"] = rdd.barrier().mapPartitions(task).partitionBy(1, _identity).values().collect()
            except BaseException as e:  # noqa: BLE001 (re-raised in the caller's thread)
                outcome["error"] = e
            finally:
                done.set()

        worker = threading.Thread(target=job, name="w2v-spark-stage", daemon=True)
        submitted = time.perf_counter()
        first = last = None
        worker.start()
        conns: list[socket.socket] = []
        meeting = Rendezvous()
        models: dict[int, list[np.ndarray]] = {}  # the model by the task attempt that sent it
        stop = False
        try:
            while not done.is_set():
                readable, _, _ = select.select([server, *conns], [], [], 0.1)
                for s in readable:
                    if s is server:
                        conn, _ = server.accept()
                        conn.settimeout(10.0)
                        try:
                            ok = bytes(recv_exact(conn, TOKEN_BYTES)) == token
                        except (OSError, MeshError):
                            ok = False
                        if not ok:
                            conn.close()
                            continue
                        conn.settimeout(None)
                        conns.append(conn)
                        continue
                    try:
                        frame = recv_frame(s)
                        if frame[:1] == MODEL:  # the epoch's model, from the first task
                            header, arrays = unpack(memoryview(frame)[1:])
                            models[int(header["task"])] = arrays
                            s.sendall(GO)
                            continue
                        report = json.loads(bytes(frame))
                        if "hello" in report:  # a task's port for the mesh (mesh.rendezvous)
                            for c in meeting.offer(s, report):  # answered, or replaced by a rerun's
                                if c in conns:
                                    conns.remove(c)
                                c.close()
                            continue
                        last = time.perf_counter()
                        if first is None:
                            first = last - report["seconds"]
                        stop = bool(on_round(report)) or stop
                        s.sendall(STOP if stop else GO)
                    except (OSError, MeshError, ValueError):
                        conns.remove(s)  # that attempt ended (or failed); a rerun connects again
                        meeting.forget(s)
                        s.close()
            worker.join()
            if first is not None:
                self.startup, self.wind_down = first - submitted, time.perf_counter() - last
        finally:
            for c in conns:
                c.close()
            server.close()
            mats.destroy()
        if "error" in outcome:
            raise outcome["error"]
        for row in outcome["rows"]:
            if "model_task" in row:
                row["model"] = models[row.pop("model_task")]
        return outcome["rows"]
