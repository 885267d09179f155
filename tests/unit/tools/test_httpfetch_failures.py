"""The fetcher and the index against a local server that fails as real ones do: idle
kept-alive connections closed after a short keep-alive, redirects with no end, files that
fail to download a few times before they answer."""

from __future__ import annotations

import hashlib
import io
import tarfile
import threading
import time
import urllib.error
import zipfile
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from noxgrid.errors import IndexUnavailable
from noxgrid.model.sizes import DistFile
from noxgrid.tools.httpfetch import Fetcher
from noxgrid.tools.index import PackageIndex


def _wheel() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("demo/__init__.py", b"x" * 300)
    return buffer.getvalue()


def _sdist() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        text = b'[build-system]\nrequires = ["setuptools"]\n'
        member = tarfile.TarInfo("demo-1.0/pyproject.toml")
        member.size = len(text)
        archive.addfile(member, io.BytesIO(text))
    return buffer.getvalue()


FILES = {"demo-1.0-py3-none-any.whl": _wheel(), "demo-1.0.tar.gz": _sdist()}


class Flaky(BaseHTTPRequestHandler):
    """Closes a connection idle for 0.3 s (the keep-alive of many servers, shortened);
    /files/ answers 500 while ``failures`` lasts."""

    protocol_version = "HTTP/1.1"
    timeout = 0.3
    seen: ClassVar[Counter[str]] = Counter()
    failures: ClassVar[Counter[str]] = Counter()
    delay = 0.0

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        time.sleep(self.delay)
        self.seen[self.path] += 1
        if self.path == "/loop":
            self._send(302, b"", {"Location": "/loop"})
        elif self.path == "/nowhere":
            self._send(302, b"moved")
        elif self.path.startswith("/files/"):
            name = self.path.removeprefix("/files/")
            if self.failures[name] > 0:
                self.failures[name] -= 1
                self._send(500, b"busy")
                return
            data = FILES[name]
            ranged = self.headers.get("Range")
            if ranged:
                start, end = (int(n) for n in ranged.removeprefix("bytes=").split("-"))
                self._send(206, data[start : end + 1])
            else:
                self._send(200, data)
        else:
            self._send(200, b"ok")


@pytest.fixture
def server() -> Iterator[str]:
    Flaky.seen, Flaky.failures, Flaky.delay = Counter(), Counter(), 0.0
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_after_an_idle_gap_every_dead_kept_alive_connection_is_dropped(server):
    fetcher = Fetcher(timeout=5)
    Flaky.delay = 0.1  # four requests at once: four connections kept alive
    with ThreadPoolExecutor(4) as pool:
        assert all(a.status == 200 for a in pool.map(lambda _: fetcher.get(f"{server}/"), "abcd"))
    Flaky.delay = 0.0
    pooled = next(iter(fetcher._idle.values()))
    assert len(pooled) == 4
    time.sleep(1)  # longer than the server's keep-alive: every pooled connection is closed
    assert fetcher.get(f"{server}/").status == 200
    assert all(c.sock is None for c in pooled), "the dead idle connections are closed"
    assert fetcher.connections == 5, "one fresh connection after the first dead one"
    assert fetcher.get(f"{server}/").status == 200 and fetcher.connections == 5


def test_a_fresh_connection_that_fails_raises_at_once(server):
    fetcher = Fetcher(timeout=5)
    with pytest.raises(OSError, match="127.0.0.1:1/"):
        fetcher.get("http://127.0.0.1:1/")
    assert fetcher.requests == 1


@pytest.mark.parametrize("path", ["/loop", "/nowhere"])
def test_a_redirect_that_does_not_end_is_an_error_not_an_answer(server, path, tmp_path):
    with pytest.raises(urllib.error.HTTPError, match="redirect") as raised:
        Fetcher(timeout=5).get(f"{server}{path}", method="HEAD")
    assert raised.value.code == 302
    index = PackageIndex(f"{server}/simple", cache=tmp_path)
    with pytest.raises(IndexUnavailable, match="did not answer"):
        index.url_file(f"{server}{path}", [])


def _file(server: str, name: str) -> DistFile:
    data = FILES[name]
    sha = hashlib.sha256(data).hexdigest()
    return DistFile(filename=name, url=f"{server}/files/{name}", size=len(data), sha256=sha)


def test_a_wheel_that_failed_to_download_is_tried_again_by_a_later_cell(server, tmp_path):
    index = PackageIndex(f"{server}/simple", cache=tmp_path)
    wheel = _file(server, "demo-1.0-py3-none-any.whl")
    Flaky.failures[wheel.filename] = 3  # every try of the first cell
    assert index.wheel_contents_size(wheel) is None
    assert index.wheel_contents_size(wheel) == (300, 300), "the failure is not kept"


def test_an_sdist_that_failed_to_download_is_tried_again_by_a_later_cell(server, tmp_path):
    index = PackageIndex(f"{server}/simple", cache=tmp_path)
    sdist = _file(server, "demo-1.0.tar.gz")
    Flaky.failures[sdist.filename] = 1
    assert index.sdist_needs(sdist) == "unknown (the sdist could not be read)"
    assert "could not be read" not in index.sdist_needs(sdist), "the failure is not kept"
    assert Flaky.seen[f"/files/{sdist.filename}"] == 2


def test_an_sdist_that_is_not_an_archive_is_read_once(server, tmp_path):
    index = PackageIndex(f"{server}/simple", cache=tmp_path)
    FILES["broken-1.0.tar.gz"] = b"not an archive"
    try:
        broken = _file(server, "broken-1.0.tar.gz")
        for _ in range(2):
            assert index.sdist_needs(broken) == "unknown (the sdist could not be read)"
        assert Flaky.seen["/files/broken-1.0.tar.gz"] == 1, "a real answer is kept for the run"
    finally:
        del FILES["broken-1.0.tar.gz"]
