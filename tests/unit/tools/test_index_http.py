"""The package index over HTTP, against a local server that counts what it is asked:
kept-alive connections, one simple page per project per run, each wheel's zip directory
read once (in one range request when the tail holds it), however many cells ask at once."""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
import time
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from noxgrid.errors import IndexUnavailable
from noxgrid.files import atomic_write
from noxgrid.model.lockfile import parse_lock
from noxgrid.tools.httpfetch import PER_HOST, Fetcher, Once
from noxgrid.tools.index import PackageIndex


def wheel(members: dict[str, int]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, size in members.items():
            archive.writestr(name, b"x" * size)
    return buffer.getvalue()


SMALL = wheel({"demo/__init__.py": 300, "demo/data.bin": 5000})
# A zip directory far over the 64 kB tail: 2000 members with long names.
BIG = wheel({f"big/{'deep/' * 20}module_{n:04}.py": 10 for n in range(2000)})
FILES = {
    "demo-1.0-py3-none-any.whl": SMALL,
    "demo-2.0-py3-none-any.whl": wheel({"demo/__init__.py": 400}),
    "big-1.0-py3-none-any.whl": BIG,
    "demo-3.0.0-py3-none-any.whl": wheel({"demo/__init__.py": 500}),
    "demo-3.0.0.tar.gz": b"not read",
    "demo-3.0.1-py3-none-any.whl": wheel({"demo/__init__.py": 600}),
}


class Index(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    seen: ClassVar[Counter[str]] = Counter()
    connections: ClassVar[set[int]] = set()
    delay = 0.05
    guard = threading.Lock()

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        time.sleep(self.delay)  # two cells asking at once overlap
        if self.path.startswith("http://"):  # asked as a proxy: the absolute URL
            self.seen["proxied"] += 1
            self.path = "/" + self.path.split("/", 3)[3]
        ranged = self.headers.get("Range")
        with self.guard:
            self.connections.add(id(self.connection))
            self.seen[f"{self.command} {self.path}{' range' if ranged else ''}"] += 1
        if self.path == "/simple/Demo/":
            self._send(301, b"", {"Location": "/simple/demo/"})
        elif self.path.startswith("/simple/"):
            project = self.path.split("/")[2]
            files = [
                {
                    "filename": name,
                    "url": f"/files/{name}",
                    "hashes": {"sha256": hashlib.sha256(data).hexdigest()},
                    "size": len(data),
                }
                for name, data in FILES.items()
                if name.startswith(project + "-")
            ]
            if not files:
                self._send(404, b"no such project", {})
                return
            body = json.dumps({"files": files}).encode()
            self._send(200, body, {"Content-Type": "application/vnd.pypi.simple.v1+json"})
        elif self.path.startswith("/files/"):
            data = FILES[self.path.removeprefix("/files/")]
            if ranged:
                start, end = (int(n) for n in ranged.removeprefix("bytes=").split("-"))
                self._send(206, data[start : end + 1], {})
            else:
                self._send(200, data, {})
        else:
            self._send(404, b"", {})


@pytest.fixture
def server():
    Index.seen = Counter()
    Index.connections = set()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Index)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def pin(name: str, version: str) -> str:
    data = FILES[f"{name}-{version}-py3-none-any.whl"]
    return f"{name}=={version} \\\n    --hash=sha256:{hashlib.sha256(data).hexdigest()}\n"


def test_two_cells_at_once_ask_each_page_and_wheel_once(server, tmp_path):
    index = PackageIndex(f"{server}/simple", cache=tmp_path)
    lock = parse_lock(pin("demo", "1.0") + pin("big", "1.0"))
    older = parse_lock(pin("demo", "2.0"))
    with ThreadPoolExecutor(3) as pool:
        cells = [pool.submit(index.estimate, lock, "3.11", "x86_64-manylinux_2_28") for _ in "ab"]
        third = pool.submit(index.estimate, older, "3.12", "x86_64-manylinux_2_28")
        estimates = [c.result() for c in cells] + [third.result()]
    assert all(e.complete and all(p.exact for p in e.packages) for e in estimates)
    sizes = {p.name: p for p in estimates[0].packages}
    assert sizes["big"].download == len(BIG)
    assert Index.seen["GET /simple/demo/"] == 1, "one page per project per run, every version"
    assert Index.seen["GET /simple/big/"] == 1
    assert Index.seen["GET /files/demo-1.0-py3-none-any.whl range"] == 1, "the tail holds it all"
    assert Index.seen["GET /files/demo-2.0-py3-none-any.whl range"] == 1
    # The big directory needs more than the tail, yet is read by one cell only.
    assert Index.seen["GET /files/big-1.0-py3-none-any.whl range"] == 2, "tail, then the rest"
    assert len(Index.connections) <= PER_HOST, "kept alive, shared by the threads"


def test_a_connection_is_kept_alive_and_redirects_followed(server):
    fetcher = Fetcher(timeout=5)
    for _ in range(5):
        assert fetcher.get(f"{server}/simple/demo/").status == 200
    assert fetcher.get(f"{server}/simple/Demo/").status == 200
    assert fetcher.requests == 7 and fetcher.connections == 1
    assert len(Index.connections) == 1
    assert fetcher.get(f"{server}/files/demo-1.0-py3-none-any.whl", method="HEAD").headers[
        "content-length"
    ] == str(len(SMALL))


def test_a_connection_the_server_closed_is_opened_again(server):
    fetcher = Fetcher(timeout=5)
    assert fetcher.get(f"{server}/simple/demo/").status == 200
    idle = next(iter(fetcher._idle.values()))
    idle[0].sock.close()  # as a server closes an idle connection
    assert fetcher.get(f"{server}/simple/demo/").status == 200
    assert fetcher.connections == 2


def test_an_unknown_project_says_the_index_did_not_answer(server, tmp_path):
    index = PackageIndex(f"{server}/simple", cache=tmp_path)
    with pytest.raises(IndexUnavailable, match="did not answer for ghost"):
        index.release_files("ghost", "1.0")


def test_the_disk_cache_answers_the_next_run(server, tmp_path):
    lock = parse_lock(pin("demo", "1.0"))
    PackageIndex(f"{server}/simple", cache=tmp_path).estimate(lock, "3.11", "x86_64-manylinux_2_28")
    before = sum(Index.seen.values())
    again = PackageIndex(f"{server}/simple", cache=tmp_path)
    assert again.estimate(lock, "3.11", "x86_64-manylinux_2_28").complete
    assert sum(Index.seen.values()) == before


def test_once_computes_a_key_once_while_under_way():
    once, calls, started = Once(), Counter(), threading.Event()

    def slow() -> int:
        calls["slow"] += 1
        started.set()
        time.sleep(0.1)
        return 42

    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(once.get, "k", slow)
        started.wait()
        others = [pool.submit(once.get, "k", slow) for _ in range(3)]
        assert first.result() == 42 and [o.result() for o in others] == [42] * 3
    assert calls["slow"] == 1


def test_once_does_not_keep_a_failure():
    once = Once()

    def broken() -> int:
        raise OSError("dropped")

    with pytest.raises(OSError):
        once.get("k", broken)
    assert once.get("k", lambda: 7) == 7


def test_a_release_is_found_by_its_version_however_the_file_spells_it(server, tmp_path):
    index = PackageIndex(f"{server}/simple", cache=tmp_path)
    names = sorted(f.filename for f in index.release_files("demo", "3.0"))
    assert names == ["demo-3.0.0-py3-none-any.whl", "demo-3.0.0.tar.gz"]
    assert [f.filename for f in index.release_files("demo", "3.0.1")] == [
        "demo-3.0.1-py3-none-any.whl"
    ]
    assert index.release_files("demo", "4.0") == []
    assert Index.seen["GET /simple/demo/"] == 1


def test_cache_entries_are_not_synced_but_other_writes_are(server, tmp_path, monkeypatch):
    synced = []
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd))
    lock = parse_lock(pin("demo", "1.0"))
    index = PackageIndex(f"{server}/simple", cache=tmp_path / "cache")
    assert index.estimate(lock, "3.11", "x86_64-manylinux_2_28").complete
    assert list((tmp_path / "cache").rglob("*.json")) and synced == []
    atomic_write(tmp_path / "lock.toml", "sealed")
    assert len(synced) == 1, "a lock is still synced before its rename"


def test_requests_to_a_host_at_once_are_bounded_and_connections_shared(server):
    fetcher = Fetcher(timeout=5)
    with ThreadPoolExecutor(PER_HOST * 2) as pool:
        answers = list(pool.map(lambda _: fetcher.get(f"{server}/simple/demo/"), range(80)))
    assert all(a.status == 200 for a in answers)
    assert fetcher.requests == 80
    assert fetcher.connections <= PER_HOST and len(Index.connections) <= PER_HOST


def test_a_proxy_the_environment_names_is_used(server, monkeypatch):
    monkeypatch.setenv("http_proxy", server)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    fetcher = Fetcher(timeout=5)
    assert fetcher.get("http://index.invalid/simple/demo/").status == 200
    assert Index.seen["proxied"] == 1
