"""Bytes between the tasks of one Spark barrier stage, and from its first task to the driver.

Does: `Mesh` connects every task of a barrier stage to every other over TCP (ports swapped once
through the driver, `rendezvous`; hosts from getTaskInfos) and then swaps one message per task
per call (`exchange`: every task gets every task's message, its own included); `pack`/`unpack`
turn a small JSON header plus NumPy arrays into one message and back, without pickle (only the
dtypes in DTYPES are read back; `pack_parts` leaves the arrays unjoined for `send_frame`).
`rendezvous` / `Rendezvous` swap the tasks' ports through the driver. `DriverLink` is the first
task's line to the driver: round reports and, at the end, the model out; a stop request in.
Does not: know what the messages mean (gang.py), or retry: a peer that disappears makes the
exchange raise, the task fails, and Spark runs the whole barrier stage again.

Every connection starts with a random token the driver put in the stage's closure, so a stranger
that connects to an open port is dropped. Messages are framed as an 8-byte little-endian length
and the payload. Receiving runs in one thread per peer while this thread sends, so two tasks that
send to each other at once never wait on each other's full socket buffers.
"""

from __future__ import annotations

import json
import socket
import struct
import threading

import numpy as np

TOKEN_BYTES = 16
DTYPES = {"int32": np.int32, "int64": np.int64, "float32": np.float32, "float16": np.float16,
          "int8": np.int8, "uint16": np.uint16, "float64": np.float64}
_LEN = struct.Struct("<Q")
_HEAD = struct.Struct("<I")
_PEER = struct.Struct("<iq")  # a peer's hello after the token: its rank and task attempt id
RENDEZVOUS_SECONDS = 600.0  # a barrier stage's tasks start together; a task killed meanwhile ends the stage
MAX_BUFFERS = 512  # buffers handed to one sendmsg call (the system's limit, IOV_MAX, is 1024 on Linux)
GO, STOP = b"G", b"S"  # the driver's answers to a round report
MODEL = b"M"  # first byte of the DriverLink frame holding the epoch's model (a report is JSON: "{")


class MeshError(RuntimeError):
    """A peer misbehaved: closed early, or sent something that is not ours."""


def recv_exact(sock: socket.socket, n: int) -> bytearray:
    """Exactly n bytes from `sock`, or MeshError if it closes first."""
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:], n - got)
        if k == 0:
            raise MeshError(f"connection closed after {got} of {n} bytes")
        got += k
    return buf


def send_frame(sock: socket.socket, payload: bytes | bytearray | memoryview | list) -> None:
    """One frame: the length, then `payload`, which may be a list of buffers (pack_parts) that are
    sent as they are, without joining them into one first."""
    parts = [memoryview(b).cast("B") for b in (payload if isinstance(payload, list) else [payload])]
    bufs = [memoryview(_LEN.pack(sum(b.nbytes for b in parts)))] + [b for b in parts if b.nbytes]
    while bufs:
        sent = sock.sendmsg(bufs[:MAX_BUFFERS])
        while bufs and sent >= bufs[0].nbytes:
            sent -= bufs.pop(0).nbytes
        if sent:
            bufs[0] = bufs[0][sent:]


def recv_frame(sock: socket.socket) -> bytearray:
    (n,) = _LEN.unpack(recv_exact(sock, _LEN.size))
    return recv_exact(sock, n)


def pack_parts(header: dict, arrays: list[np.ndarray]) -> list:
    """`pack`'s message as a list of buffers, the arrays' own memory (not copied): send_frame sends
    it as one frame (measured: joining a round's ~11 MB of changes cost two copies of it)."""
    header = dict(header, _arrays=[[str(a.dtype), list(a.shape)] for a in arrays])
    head = json.dumps(header).encode()
    # subtle: an empty array as b"" (a memoryview of a (0, D) array cannot be cast to bytes)
    return [_HEAD.pack(len(head)), head] + [np.ascontiguousarray(a) if a.size else b"" for a in arrays]


def pack(header: dict, arrays: list[np.ndarray]) -> bytes:
    """One message: a JSON header (with each array's dtype and shape added) and the arrays' bytes."""
    return b"".join(memoryview(b).cast("B") for b in pack_parts(header, arrays))


def frame_bytes(message) -> int:
    """The bytes of a message, joined or as pack_parts' list."""
    return sum(memoryview(b).nbytes for b in message) if isinstance(message, list) else len(message)


def unpack(message: bytes | bytearray) -> tuple[dict, list[np.ndarray]]:
    """(header, arrays) of a `pack`ed message; the arrays are read-only views into `message`."""
    (n,) = _HEAD.unpack_from(message, 0)
    header = json.loads(bytes(message[_HEAD.size:_HEAD.size + n]))
    pos = _HEAD.size + n
    arrays = []
    for dtype, shape in header.pop("_arrays"):
        if dtype not in DTYPES:
            raise MeshError(f"unexpected dtype {dtype!r} in a message")
        dt = np.dtype(DTYPES[dtype])
        count = int(np.prod(shape)) if shape else 1
        a = np.frombuffer(message, dt, count, pos).reshape(shape)
        arrays.append(a)
        pos += count * dt.itemsize
    if pos != len(message):
        raise MeshError(f"message of {len(message)} bytes, header describes {pos}")
    return header, arrays


def rendezvous(driver: tuple[str, int], token: bytes, hello: dict, timeout: float = RENDEZVOUS_SECONDS) -> list:
    """Send `hello` ({"hello": 1, "stage", "rank", "size", "port", "task"}: Spark's stage id, this
    task's rank, the stage's task count, its listening port, its task attempt id) to the driver
    and return the answer once every rank of the stage has said hello: [port, task] by rank.

    subtle: not BarrierTaskContext.allGather, which costs at least a second: Spark's task waits for
    the barrier's answer in steps of Thread.sleep(1000) (BarrierTaskContext.runBarrier, Spark 4)."""
    with socket.create_connection(driver, timeout=timeout) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(token)
        send_frame(sock, json.dumps(hello).encode())
        try:
            return json.loads(bytes(recv_frame(sock)))
        except (OSError, ValueError) as e:
            raise MeshError(f"task {hello.get('rank')}: no answer from the driver's rendezvous: {e}") from None


class Rendezvous:
    """The driver's end of `rendezvous`: hellos grouped by stage, answered when every rank is in.

    A rerun stage has the same stage id (and pyspark does not tell tasks the stage attempt), so a
    later hello for a rank replaces the earlier one, and `forget` drops a connection that closed:
    a group completes with the live tasks. Should an earlier attempt's task still take part, the
    task ids in the answer let the mesh tell (Mesh refuses a peer whose task id is not the one
    the answer names, and the stage fails and is rerun)."""

    def __init__(self):
        self._groups: dict[int, dict[int, tuple[socket.socket, int, int]]] = {}

    def offer(self, conn: socket.socket, hello: dict) -> list[socket.socket]:
        """Take one task's hello; returns the connections done with (answered, or replaced: that
        task then fails for want of an answer), which the caller closes."""
        stage, size, rank = int(hello["stage"]), int(hello["size"]), int(hello["rank"])
        group = self._groups.setdefault(stage, {})
        replaced = [group[rank][0]] if rank in group else []
        group[rank] = (conn, int(hello["port"]), int(hello["task"]))
        if set(group) != set(range(size)):
            return replaced
        answer = json.dumps([[group[r][1], group[r][2]] for r in range(size)]).encode()
        del self._groups[stage]
        done = replaced
        for c, _, _ in group.values():
            try:
                send_frame(c, answer)
            except OSError:
                pass  # that task is gone: its stage attempt fails and Spark reruns it
            done.append(c)
        return done

    def forget(self, conn: socket.socket) -> None:
        """Drop a waiting hello whose connection closed (its task ended)."""
        for group in self._groups.values():
            for rank in [r for r, entry in group.items() if entry[0] is conn]:
                del group[rank]


class Mesh:
    """Every task of a barrier stage connected to every other; `exchange` swaps one message each."""

    def __init__(self, ctx, token: bytes, driver: tuple[str, int]):
        infos = ctx.getTaskInfos()
        self.size = len(infos)
        self.rank = ctx.partitionId()
        hosts = [info.address.rsplit(":", 1)[0] for info in infos]
        self._out: dict[int, socket.socket] = {}
        self._in: dict[int, socket.socket] = {}
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            server.bind((hosts[self.rank], 0))
            server.listen(max(1, self.size))
            me = ctx.taskAttemptId()
            peers = rendezvous(driver, token, {"hello": 1, "stage": ctx.stageId(), "rank": self.rank, "size": self.size,
                                               "port": server.getsockname()[1], "task": me})
            if peers[self.rank][1] != me:
                raise MeshError(f"task {self.rank}: the rendezvous answered another attempt of this stage")
            for j in range(self.size):  # subtle: connects finish in the listen backlog, before any accept
                if j != self.rank:
                    s = socket.create_connection((hosts[j], int(peers[j][0])))
                    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    s.sendall(token + _PEER.pack(self.rank, me))
                    self._out[j] = s
            server.settimeout(120.0)
            while len(self._in) < self.size - 1:
                conn, _ = server.accept()
                conn.settimeout(None)
                hello = recv_exact(conn, TOKEN_BYTES + _PEER.size)
                peer, task = _PEER.unpack(hello[TOKEN_BYTES:])
                if bytes(hello[:TOKEN_BYTES]) != token or not 0 <= peer < self.size or peer in self._in:
                    conn.close()  # not one of this stage's tasks
                    continue
                if task != peers[peer][1]:
                    raise MeshError(f"task {self.rank}: a peer of another attempt of this stage connected")
                self._in[peer] = conn
        except BaseException:
            self.close()
            raise
        finally:
            server.close()

    def exchange(self, message: bytes | list) -> list:
        """Send `message` (bytes, or pack_parts' list) to every other task and return every task's
        message by rank (this task's as given)."""
        got: list = [None] * self.size
        got[self.rank] = message
        errors: list[BaseException] = []

        def receive(j: int) -> None:
            try:
                got[j] = recv_frame(self._in[j])
            except BaseException as e:  # noqa: BLE001 (re-raised below, in the task's thread)
                errors.append(e)

        threads = [threading.Thread(target=receive, args=(j,), daemon=True) for j in self._in]
        for t in threads:
            t.start()
        for j in sorted(self._out):
            send_frame(self._out[j], message)
        for t in threads:
            t.join()
        if errors:
            raise MeshError(f"task {self.rank}: a peer failed during the exchange: {errors[0]}")
        return got

    def close(self) -> None:
        for s in list(self._out.values()) + list(self._in.values()):
            try:
                s.close()
            except OSError:
                pass


class DriverLink:
    """The first task's connection to the driver: `report` sends a round's JSON summary, and the
    driver answers each with one byte, go or stop; `stop_requested` reads the answer to the last
    report (waiting for it if it has not come yet: the task has trained a round meanwhile, so the
    wait is normally none, and every attempt stops after the same round)."""

    def __init__(self, address: tuple[str, int], token: bytes):
        self.sock = socket.create_connection(address)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(token)
        self._pending = 0
        self._stop = False

    def report(self, summary: dict) -> None:
        send_frame(self.sock, json.dumps(summary).encode())
        self._pending += 1

    def send_model(self, header: dict, arrays: list[np.ndarray]) -> None:
        """The epoch's model to the driver (a frame of MODEL and pack_parts), once every answer
        to the reports has been read; returns when the driver has it (so that closing the
        connection cannot cut it short)."""
        self.stop_requested()
        send_frame(self.sock, [MODEL, *pack_parts(header, arrays)])
        if self.sock.recv(1) != GO:
            raise MeshError("the driver did not take the model")

    def stop_requested(self) -> bool:
        while self._pending:
            answer = self.sock.recv(1)
            if answer == b"":
                raise MeshError("the driver closed the connection")
            self._pending -= 1
            self._stop |= answer == STOP
        return self._stop

    def close(self) -> None:
        self.sock.close()
