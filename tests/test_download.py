"""core/download.py, `python -m core download` and the Home page's download button, without network.

A local HTTP server in a thread serves small fake zips (with Range support that a test can turn
off, cut short or strip of Content-Length); the real text8 constants are only used where nothing
is fetched (offline fast-fail, where the connection is refused or never answered).
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import random
import re
import socket
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import download
from core.cli.download import DownloadBar
from core.cli.main import main as cli_main
from core.download import Dataset, DownloadError
from tests.conftest import SHARED

ROOT = Path(__file__).resolve().parents[1]
CONTENT = random.Random(8).randbytes(20_000)  # incompressible, so the zip is about as large


# -- fixtures: fake zips and a local server ------------------------------------------------------
def make_zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def dataset_for(payload: bytes, url: str, member: str = "tiny", member_size: int = len(CONTENT)) -> Dataset:
    """A zipped Dataset whose expectations match `payload` exactly."""
    return Dataset(name="tiny", url=url, size=len(payload), sha256=hashlib.sha256(payload).hexdigest(),
                   file=member, file_size=member_size)


def plain_for(payload: bytes, url: str, file: str = "tiny.txt") -> Dataset:
    """A plain (not zipped) Dataset whose expectations match `payload` exactly."""
    return Dataset(name="tiny-set", url=url, size=len(payload), sha256=hashlib.sha256(payload).hexdigest(),
                   file=file, file_size=len(payload), zipped=False)


class Handler(BaseHTTPRequestHandler):
    """GET with optional Range support; knobs live on the server object."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        srv = self.server
        rng = self.headers.get("Range")
        srv.ranges.append(rng)
        data, start = srv.payload, 0
        if rng and srv.honour_range:
            start = int(rng.removeprefix("bytes=").split("-")[0])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        if srv.send_length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body if srv.cut_after is None else body[: srv.cut_after])

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.payload, srv.ranges = make_zip({"tiny": CONTENT}), []
    srv.honour_range, srv.send_length, srv.cut_after = True, True, None
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}/tiny.zip"
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch) -> None:
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)


def free_port() -> int:
    """A local port with nothing listening (bound once, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(srv, tmp_path: Path, dataset: Dataset | None = None, **kw) -> Path:
    return download.download(dataset or dataset_for(srv.payload, srv.url), directory=tmp_path, timeout=5, **kw)


# -- offline fast-fail ------------------------------------------------------------------------------
# subtle: "fast" is checked by what happens, not by a clock: one connection attempt (no retry
# loop, no back-off) with the caller's timeout. bench/bench_latency.py measures the seconds.
def count_opens(monkeypatch) -> list[float]:
    """Record the timeout of every connection attempt download makes."""
    timeouts: list[float] = []
    real = download._open

    def counting(url, start, timeout):
        timeouts.append(timeout)
        return real(url, start, timeout)

    monkeypatch.setattr(download, "_open", counting)
    return timeouts


def test_connection_refused_fails_fast_with_one_line(tmp_path, monkeypatch):
    attempts = count_opens(monkeypatch)
    with pytest.raises(DownloadError) as info:
        download.download_text8(url=f"http://127.0.0.1:{free_port()}/text8.zip", directory=tmp_path)
    assert len(attempts) == 1  # one attempt: no retry, no back-off
    message = str(info.value)
    assert "\n" not in message and "cannot reach 127.0.0.1" in message and "offline" in message
    assert not (tmp_path / "text8").exists()


def test_silent_server_times_out_after_the_timeout(tmp_path, monkeypatch):
    attempts = count_opens(monkeypatch)
    with socket.socket() as listener:  # accepts connections (kernel backlog) but never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/text8.zip"
        with pytest.raises(DownloadError, match="timed out"):
            download.download_text8(url=url, timeout=0.5, directory=tmp_path)
        listener.setblocking(False)
        connections = []
        while True:
            try:
                connections.append(listener.accept()[0])
            except BlockingIOError:
                break
        for c in connections:
            c.close()
    assert attempts == [0.5] and len(connections) == 1  # one connection, waited on with our timeout


def test_cli_offline_exits_2_with_one_error_line(tmp_path, capsys):
    url = f"http://127.0.0.1:{free_port()}/text8.zip"
    assert cli_main(["download", "text8", "--url", url, "--dir", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "cannot reach" in errors[0]
    assert err.rstrip().endswith(errors[0]) and "Traceback" not in err


def test_cli_offline_in_a_real_process_prints_no_traceback(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/text8.zip"
    proc = subprocess.run([sys.executable, "-m", "core", "download", "text8", "--url", url, "--dir", str(tmp_path),
                           "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith("error: cannot reach")


# -- success, verification, resume ------------------------------------------------------------------
def test_download_verifies_extracts_and_cleans_up(server, tmp_path):
    seen: list[tuple[int, int]] = []
    path = fetch(server, tmp_path, progress=lambda done, total: seen.append((done, total)))
    assert path == tmp_path / "tiny" and path.read_bytes() == CONTENT
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny"]  # no zip, no .part left behind
    assert seen[0] == (0, len(server.payload)) and seen[-1] == (len(server.payload), len(server.payload))
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert server.ranges == [None]


def test_second_call_does_not_fetch_again(server, tmp_path):
    fetch(server, tmp_path)
    assert fetch(server, tmp_path).read_bytes() == CONTENT
    assert len(server.ranges) == 1


def test_checksum_mismatch_is_refused_and_the_part_deleted(server, tmp_path):
    bad = replace(dataset_for(server.payload, server.url), sha256="0" * 64)
    with pytest.raises(DownloadError, match="checksum mismatch"):
        fetch(server, tmp_path, bad)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("delta", [-1, 1])
def test_announced_size_mismatch_is_refused_before_downloading(server, tmp_path, delta):
    wrong = replace(dataset_for(server.payload, server.url), size=len(server.payload) + delta)
    with pytest.raises(DownloadError, match="offers .* bytes, expected"):
        fetch(server, tmp_path, wrong)
    assert list(tmp_path.iterdir()) == []


def test_a_longer_body_without_length_is_cut_off(server, tmp_path):
    server.send_length = False
    short = replace(dataset_for(server.payload, server.url), size=len(server.payload) - 100)
    with pytest.raises(DownloadError, match="more than the expected"):
        fetch(server, tmp_path, short)
    assert list(tmp_path.iterdir()) == []


def test_interrupted_download_resumes_with_a_range_request(server, tmp_path):
    half = len(server.payload) // 2
    server.cut_after = half
    with pytest.raises(DownloadError, match="interrupted .* run again to resume"):
        fetch(server, tmp_path)
    part = tmp_path / "tiny.zip.part"
    assert part.stat().st_size == half
    server.cut_after = None
    seen: list[int] = []
    assert fetch(server, tmp_path, progress=lambda done, total: seen.append(done)).read_bytes() == CONTENT
    assert server.ranges == [None, f"bytes={half}-"]
    assert seen[0] == half  # the bar starts where the partial file ended


def test_partial_file_is_completed_from_where_it_stopped(server, tmp_path):
    (tmp_path / "tiny.zip.part").write_bytes(server.payload[:1000])
    assert fetch(server, tmp_path).read_bytes() == CONTENT
    assert server.ranges == ["bytes=1000-"]


def test_server_ignoring_range_restarts_from_zero(server, tmp_path):
    server.honour_range = False
    (tmp_path / "tiny.zip.part").write_bytes(b"x" * 1000)  # junk: appending to it would break the checksum
    assert fetch(server, tmp_path).read_bytes() == CONTENT
    assert server.ranges == ["bytes=1000-"]


def test_partial_file_longer_than_the_server_file_starts_over(server, tmp_path):
    (tmp_path / "tiny.zip.part").write_bytes(b"x" * (len(server.payload) + 10))
    assert fetch(server, tmp_path).read_bytes() == CONTENT
    assert server.ranges == [None]


class _NotFound(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_error(404)

    def log_message(self, *args) -> None:
        pass


def test_http_error_is_one_line(tmp_path):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _NotFound)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}/x.zip"
    try:
        with pytest.raises(DownloadError, match=r"^cannot download .*: HTTP 404 Not Found$"):
            download.download(dataset_for(b"x", url), directory=tmp_path)
    finally:
        srv.shutdown()
        srv.server_close()


# -- the zip's contents -----------------------------------------------------------------------------
@pytest.mark.parametrize("members", [{"other": CONTENT}, {"tiny": CONTENT, "extra": b"x"}, {"../tiny": CONTENT}])
def test_unexpected_members_are_refused(server, tmp_path, members):
    server.payload = make_zip(members)
    with pytest.raises(DownloadError, match="the zip holds"):
        fetch(server, tmp_path)
    assert not (tmp_path / "tiny").exists() and not (tmp_path / "tiny.part").exists()


def test_member_of_the_wrong_uncompressed_size_is_refused(server, tmp_path):
    ds = dataset_for(server.payload, server.url, member_size=len(CONTENT) - 1)
    with pytest.raises(DownloadError, match="would unpack to"):
        fetch(server, tmp_path, ds)
    assert not (tmp_path / "tiny").exists()


def test_unpacking_stops_at_the_expected_size_whatever_the_header_says(tmp_path):
    ds = dataset_for(b"", "unused", member_size=100)
    with zipfile.ZipFile(io.BytesIO(make_zip({"tiny": CONTENT}))) as z, z.open("tiny") as src:
        out = io.BytesIO()
        with pytest.raises(DownloadError, match="unpacks to more than 100 bytes"):
            download._unpack(src, out, ds)
    assert len(out.getvalue()) <= 100


# -- where things live and disk errors --------------------------------------------------------------
def test_text8_path_honours_w2v_cache_dir_and_checks_the_size(tmp_path, monkeypatch):
    from ui import corpora

    monkeypatch.setenv("W2V_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("W2V_TEXT8", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert download.cache_dir() == tmp_path
    text8 = tmp_path / "text8"
    assert download.text8_path() is None
    with open(text8, "wb") as f:
        f.truncate(download.TEXT8.file_size - 1)  # sparse: no 100 MB written
    assert download.text8_path() is None
    with open(text8, "ab") as f:
        f.truncate(download.TEXT8.file_size)
    assert download.text8_path() == text8
    assert corpora.text8_path() == text8  # what the app sees


def test_cache_dir_defaults_under_xdg_and_falls_back_to_temp(tmp_path, monkeypatch):
    monkeypatch.delenv("W2V_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert download.cache_dir() == tmp_path / "w2v-explorer"
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker / "cache"))
    fallback = download.cache_dir()
    assert fallback.name == "w2v-explorer" and fallback.parent == Path(download.tempfile.gettempdir())


def test_unwritable_cache_dir_is_a_one_line_error(server, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(DownloadError, match=r"^cannot write .*a-file/cache") as info:
        download.download(dataset_for(server.payload, server.url), directory=blocker / "cache")
    assert "\n" not in str(info.value)
    assert server.ranges == []  # failed before connecting


def test_disk_full_becomes_a_clear_error(tmp_path):
    with pytest.raises(DownloadError, match="disk full while writing .*free some space"):
        with download._disk_errors(tmp_path / "x"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


# -- the command line -------------------------------------------------------------------------------
def test_cli_downloads_and_prints_the_path(server, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(download.DATASETS, "tiny", dataset_for(server.payload, server.url))
    assert cli_main(["download", "tiny", "--dir", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == str(tmp_path / "tiny")
    assert "MB/s" in err and "100.0%" in err and "error" not in err
    assert cli_main(["download", "--list", "--dir", str(tmp_path)]) == 0
    listing = capsys.readouterr().out
    assert f"tiny\t0.0 MB\t{tmp_path / 'tiny'}" in listing and "text8\t31.3 MB\tnot downloaded" in listing


def test_cli_without_a_corpus_is_a_usage_error(capsys):
    assert cli_main(["download"]) == 2
    assert capsys.readouterr().err.startswith("error: name the dataset")


def test_download_bar_shows_rate_and_eta():
    bar = DownloadBar(stream=io.StringIO())
    bar.first = 10_000_000
    line = bar.line(20_000_000, 30_000_000, elapsed=5.0)  # 10 MB in 5 s this run, 10 MB left
    assert "66.7%" in line and "20.0/30.0 MB" in line and "2.00 MB/s" in line and "ETA 0:05" in line


# -- the analogy sets (plain files, no zip) ----------------------------------------------------------
QUESTIONS = (b": capital-common-countries\nAthens Greece Baghdad Iraq\n"
             b": gram1-adjective-to-adverb\ncalm calmly quick quickly\n")


def test_plain_file_is_verified_and_kept_under_its_own_name(server, tmp_path):
    server.payload = QUESTIONS
    ds = plain_for(QUESTIONS, server.url)
    seen: list[int] = []
    path = download.download(ds, progress=lambda done, total: seen.append(done), directory=tmp_path, timeout=5)
    assert path == tmp_path / "tiny.txt" and path.read_bytes() == QUESTIONS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.txt"]  # no .part, nothing unpacked
    assert seen[-1] == len(QUESTIONS)
    assert download.dataset_path(ds, tmp_path) == path
    assert download.download(ds, directory=tmp_path) == path and server.ranges == [None]  # cached: no fetch


def test_plain_file_with_the_wrong_checksum_is_refused_and_not_kept(server, tmp_path):
    server.payload = QUESTIONS
    bad = replace(plain_for(QUESTIONS, server.url), sha256="1" * 64)
    with pytest.raises(DownloadError, match="checksum mismatch"):
        download.download(bad, directory=tmp_path, timeout=5)
    assert list(tmp_path.iterdir()) == []
    assert download.dataset_path(bad, tmp_path) is None


def test_plain_file_of_the_wrong_size_in_the_cache_is_not_offered(tmp_path):
    ds = plain_for(QUESTIONS, "unused")
    (tmp_path / "tiny.txt").write_bytes(QUESTIONS[:-1])
    assert download.dataset_path(ds, tmp_path) is None


def test_analogy_sets_point_at_the_original_release_pinned_to_a_commit():
    for name, file in (("questions-words", "questions-words.txt"), ("questions-phrases", "questions-phrases.txt")):
        ds = download.DATASETS[name]
        assert not ds.zipped and ds.file == file and ds.size == ds.file_size
        assert re.fullmatch(r"https://raw\.githubusercontent\.com/tmikolov/word2vec/[0-9a-f]{40}/" + re.escape(file),
                            ds.url)


@pytest.mark.parametrize("name", ["questions-words", "questions-phrases"])
def test_the_checked_size_and_sha256_accept_the_real_file_through_the_cli(name, tmp_path, capsys):
    """The genuine file (../shared's copy of the release, served locally) passes the real constants."""
    ds = download.DATASETS[name]
    real = SHARED / "eval" / ds.file
    if not real.is_file():
        pytest.skip(f"{real} not found (set W2V_SHARED)")
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.payload, srv.ranges = real.read_bytes(), []
    srv.honour_range, srv.send_length, srv.cut_after = True, True, None
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/{ds.file}"
        assert cli_main(["download", name, "--url", url, "--dir", str(tmp_path), "--quiet"]) == 0
    finally:
        srv.shutdown()
        srv.server_close()
    assert capsys.readouterr().out.strip() == str(tmp_path / ds.file)
    assert (tmp_path / ds.file).read_bytes() == real.read_bytes()
    assert cli_main(["download", "--list", "--dir", str(tmp_path)]) == 0
    assert f"{name}\t{ds.size / 1e6:.1f} MB\t{tmp_path / ds.file}" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["questions-words", "questions-phrases"])
def test_analogy_set_offline_fails_fast_with_one_line(name, tmp_path):
    url = f"http://127.0.0.1:{free_port()}/{name}.txt"
    proc = subprocess.run([sys.executable, "-m", "core", "download", name, "--url", url, "--dir", str(tmp_path),
                           "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith("error: cannot reach 127.0.0.1")
    assert list(tmp_path.iterdir()) == []


# -- the Home page ----------------------------------------------------------------------------------
def home(tmp_path, monkeypatch) -> AppTest:
    monkeypatch.setenv("W2V_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("W2V_TEXT8", raising=False)
    monkeypatch.delenv("W2V_HOSTED", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_home_shows_a_failed_download_as_one_error(tmp_path, monkeypatch):
    def offline(progress=None, **kw):
        raise DownloadError("cannot reach mattmahoney.net (Name or service not known): are you offline?")

    monkeypatch.setattr(download, "download_text8", offline)
    at = home(tmp_path, monkeypatch)
    at.button(key="home_download_text8").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [e.value for e in at.error] == ["Could not download text8: cannot reach mattmahoney.net "
                                           "(Name or service not known): are you offline?"]


def test_home_download_success_reruns_and_hides_the_button(tmp_path, monkeypatch):
    def fake(progress=None, **kw):
        progress(0, 100)
        progress(100, 100)
        with open(tmp_path / "text8", "wb") as f:
            f.truncate(download.TEXT8.file_size)
        return tmp_path / "text8"

    monkeypatch.setattr(download, "download_text8", fake)
    at = home(tmp_path, monkeypatch)
    at.button(key="home_download_text8").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("text8 full" in s.value for s in at.success)
    assert "home_download_text8" not in [b.key for b in at.button]


def test_home_hides_the_button_when_hosted(tmp_path, monkeypatch):
    monkeypatch.setenv("W2V_HOSTED", "1")
    monkeypatch.setenv("W2V_CACHE_DIR", str(tmp_path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    assert "home_download_text8" not in [b.key for b in at.button]
