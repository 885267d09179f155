"""HTTP for the package index: requests over kept-alive connections (a few per host, shared
by every thread, so that sizing hundreds of wheels does not open hundreds of TLS
connections), a remote file read in ranges, and answers computed once per run however
many cells ask.
"""

from __future__ import annotations

import http.client
import io
import ssl
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

T = TypeVar("T")
REDIRECTS = (301, 302, 303, 307, 308)
# Requests (and so connections) to one host at once, for the whole run: sizing two cells
# of 212 packages took as long with 8 as with 16 (2.4 s), and more stalled this machine's
# link for seconds (24: 5.5 s; 32: 10.6 s), worst while uv resolves beside it.
PER_HOST = 8


@dataclass(frozen=True)
class Response:
    """One answer: its status, headers (lower-case names) and body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class Fetcher:
    """GET and HEAD over connections kept alive and shared by every thread, at most
    PER_HOST to a host at once; through urllib (and so through the proxy the environment
    names) where a proxy is set. Counts requests and connections opened (what the
    benchmark and the tests read)."""

    def __init__(self, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self._idle: dict[tuple[str, str], list[http.client.HTTPConnection]] = {}
        self._slots: dict[tuple[str, str], threading.BoundedSemaphore] = {}
        self._count = threading.Lock()
        self.requests = 0
        self.connections = 0
        self._context: ssl.SSLContext | None = None

    def _counted(self, requests: int = 0, connections: int = 0) -> None:
        with self._count:
            self.requests += requests
            self.connections += connections

    def get(
        self, url: str, headers: Mapping[str, str] | None = None, *, method: str = "GET"
    ) -> Response:
        """The answer to ``url`` (redirects followed); an HTTP error status raises
        urllib's HTTPError, a failed connection an OSError."""
        for _hop in range(6):
            response = self._once(url, dict(headers or {}), method)
            location = response.headers.get("location")
            if response.status not in REDIRECTS or not location:
                break
            url = urljoin(url, location)
        if 300 <= response.status < 400:  # too many hops, or a redirect with no Location
            why = "a redirect with no end" if location else "a redirect with no Location"
            raise urllib.error.HTTPError(url, response.status, why, None, None)  # type: ignore[arg-type]
        if response.status >= 400:
            raise urllib.error.HTTPError(url, response.status, "HTTP error", None, None)  # type: ignore[arg-type]
        return response

    def _once(self, url: str, headers: dict[str, str], method: str) -> Response:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or _proxied(parts.scheme, parts.netloc):
            return self._by_urllib(url, headers, method)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        host = (parts.scheme, parts.netloc)
        with self._slot(host):
            connection, fresh = self._take(host)
            try:
                return self._ask(host, connection, path, headers, method)
            except (http.client.HTTPException, OSError) as exc:
                if fresh:
                    raise OSError(f"{url}: {exc}") from exc
            # A kept-alive connection the server closed: after an idle gap longer than its
            # keep-alive, every idle one to this host is as dead. Dropped; once more, fresh.
            self._drop_idle(host)
            try:
                return self._ask(host, self._take(host, fresh=True)[0], path, headers, method)
            except (http.client.HTTPException, OSError) as exc:
                raise OSError(f"{url}: {exc}") from exc

    def _ask(
        self,
        host: tuple[str, str],
        connection: http.client.HTTPConnection,
        path: str,
        headers: dict[str, str],
        method: str,
    ) -> Response:
        """One request on ``connection``, kept idle for the next one unless the server
        closes it; the connection is closed when the request fails."""
        try:
            self._counted(requests=1)
            connection.request(method, path, headers=headers)
            answer = connection.getresponse()
            body = answer.read()
        except BaseException:
            connection.close()
            raise
        if answer.will_close:
            connection.close()
        else:
            with self._count:
                self._idle.setdefault(host, []).append(connection)
        names = {k.lower(): v for k, v in answer.getheaders()}
        return Response(answer.status, names, body)

    def _drop_idle(self, host: tuple[str, str]) -> None:
        """Closes ``host``'s idle connections (those in use go back idle when done)."""
        with self._count:
            idle = self._idle.pop(host, [])
        for connection in idle:
            connection.close()

    def _tls(self) -> ssl.SSLContext:
        """One TLS context for every connection: making one loads the system's certificates
        (40 ms of CPU each), which urllib did for every request."""
        with self._count:
            if self._context is None:
                self._context = ssl.create_default_context()
            return self._context

    def _slot(self, host: tuple[str, str]) -> threading.BoundedSemaphore:
        """The host's share of requests at once (PER_HOST), whatever the threads asking."""
        with self._count:
            return self._slots.setdefault(host, threading.BoundedSemaphore(PER_HOST))

    def _take(
        self, host: tuple[str, str], *, fresh: bool = False
    ) -> tuple[http.client.HTTPConnection, bool]:
        """An idle kept-alive connection to ``host`` (False), or a new one (True; always
        when ``fresh``)."""
        with self._count:
            idle = self._idle.get(host)
            if idle and not fresh:
                return idle.pop(), False
            self.connections += 1
        if host[0] == "https":
            secure = http.client.HTTPSConnection(host[1], timeout=self.timeout, context=self._tls())
            return secure, True
        return http.client.HTTPConnection(host[1], timeout=self.timeout), True

    def _by_urllib(self, url: str, headers: dict[str, str], method: str) -> Response:
        self._counted(requests=1, connections=1)
        request = urllib.request.Request(url, headers=headers, method=method)
        with urllib.request.urlopen(request, timeout=self.timeout, context=self._tls()) as answer:
            names = {k.lower(): v for k, v in answer.headers.items()}
            return Response(answer.status, names, answer.read())


def _proxied(scheme: str, netloc: str) -> bool:
    proxies = urllib.request.getproxies()
    return scheme in proxies and not urllib.request.proxy_bypass(netloc.split(":")[0])


class RangeReader(io.RawIOBase):
    """A seekable read-only view of a remote file, fetched in ranges as zipfile asks: the
    last 64 kB at once (a wheel's whole zip directory, most of the time)."""

    TAIL = 65536

    def __init__(self, fetcher: Fetcher, url: str, size: int) -> None:
        self.fetcher, self.url, self.size = fetcher, url, size
        self.position = 0
        self.blocks: dict[int, bytes] = {}
        tail_start = max(0, size - self.TAIL)
        self.tail = self.blocks[tail_start] = self._fetch(tail_start, size - 1)

    def _fetch(self, start: int, end: int) -> bytes:
        response = self.fetcher.get(self.url, {"Range": f"bytes={start}-{end}"})
        if response.status != 206 and len(response.body) == self.size:
            return response.body[start : end + 1]
        return response.body

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = base + offset
        return self.position

    def tell(self) -> int:
        return self.position

    def read(self, size: int = -1) -> bytes:
        end = self.size if size < 0 else min(self.size, self.position + size)
        for start, block in self.blocks.items():
            if start <= self.position and end <= start + len(block):
                data = block[self.position - start : end - start]
                self.position = end
                return data
        data = self._fetch(self.position, end - 1) if end > self.position else b""
        self.blocks[self.position] = data
        self.position = end
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class Once:
    """Answers computed once per key for the whole run: a second caller of a key under way
    waits for the first one's answer (two cells sizing the same wheel fetch it once); a
    failure is not kept, so that a later caller tries again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._answers: dict[Hashable, Future[Any]] = {}

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            future = self._answers.get(key)
            mine = future is None
            if future is None:
                future = self._answers[key] = Future()
        if not mine:
            result: T = future.result()
            return result
        try:
            value = compute()
        except BaseException as exc:
            with self._lock:
                del self._answers[key]
            future.set_exception(exc)
            raise
        future.set_result(value)
        return value
