"""The package index, asked over HTTP: its JSON simple API for a release's files and sizes,
a wheel's zip directory by range request for what it unpacks to, a direct URL's size,
an sdist's contents for what it needs to build. Every answer is cached on disk: a
release's files and a wheel's contents do not change.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import threading
import urllib.error
import urllib.request
import zipfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from packaging.tags import Tag
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    canonicalize_version,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from noxgrid.errors import IndexUnavailable
from noxgrid.files import atomic_write, cache_dir
from noxgrid.model.lockfile import Lock, LockedPackage
from noxgrid.model.sizes import (
    FALLBACK_EXPANSION,
    SDIST_LIMIT,
    DistFile,
    PackageSize,
    SizeEstimate,
    build_needs,
    installed_bytes,
    platform_tags,
    select_file,
)
from noxgrid.model.zipdir import directory_offset, member_sizes
from noxgrid.tools.httpfetch import Fetcher, Once, RangeReader

WORKERS = 16  # requests to the index at once, per cell


class PackageIndex:
    """The index's JSON simple API and wheel directories, behind a disk cache."""

    def __init__(
        self,
        url: str = "https://pypi.org/simple",
        *,
        cache: Path | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.cache = cache or cache_dir()
        self.timeout = timeout
        self._lock = threading.Lock()
        self._others: dict[str, PackageIndex] = {}
        # Shared by every cell of the run and every index: connections kept alive, and
        # each page, file and wheel directory asked for once however many cells ask.
        self.fetcher = Fetcher(timeout)
        self.once = Once()

    def for_url(self, url: str | None) -> PackageIndex:
        """The index at ``url`` (this one when None or the same), sharing the disk cache."""
        if url is None or url.rstrip("/") == self.url:
            return self
        with self._lock:
            if url not in self._others:
                other = PackageIndex(url, cache=self.cache, timeout=self.timeout)
                other.fetcher, other.once = self.fetcher, self.once
                self._others[url] = other
            return self._others[url]

    def url_file(self, url: str, hashes: Sequence[str]) -> DistFile:
        """A direct-URL archive as a DistFile: its size from the server (HEAD, once a run)."""
        address = url.split("#", 1)[0]
        try:
            head = lambda: self.fetcher.get(address, method="HEAD")  # noqa: E731
            length = self.once.get(("head", address), head).headers.get("content-length", "")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise IndexUnavailable(
                f"{url} did not answer: {exc}",
                fix="check the network, or the URL in the requirement file",
            ) from exc
        if not length.isdigit():
            raise IndexUnavailable(f"{url} did not say its size", fix="serve Content-Length")
        name = url.split("#", 1)[0].split("?", 1)[0].rsplit("/", 1)[-1]
        sha = hashes[0].removeprefix("sha256:") if hashes else ""
        return DistFile(filename=name, url=url.split("#", 1)[0], size=int(length), sha256=sha)

    def _cached(self, path: Path) -> Any:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def _simple_page(self, key: str) -> tuple[str, dict[str, list[dict[str, Any]]]]:
        """One project's page URL and files by version (canonical text), fetched once a
        run: every version and every cell reads the same page."""
        return self.once.get(("page", self.url, key), lambda: self._fetch_page(key))

    def _fetch_page(self, key: str) -> tuple[str, dict[str, list[dict[str, Any]]]]:
        """One project's files from the index: its JSON simple API (PEP 691), or the HTML
        page of a plain mirror (PEP 503), whose files have no size until asked (HEAD).
        Retried: many cells ask at once."""
        url = f"{self.url}/{key}/"
        accept = {"Accept": "application/vnd.pypi.simple.v1+json, text/html;q=0.1"}
        for attempt in range(3):
            try:
                response = self.fetcher.get(url, accept)
                kind, body = response.headers.get("content-type", ""), response.body
                if "json" in kind:
                    files: list[dict[str, Any]] = json.loads(body).get("files", [])
                else:
                    files = _html_files(body.decode("utf-8", errors="replace"))
                return url, _by_version(files)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                if attempt == 2:
                    raise IndexUnavailable(
                        f"the index {self.url} did not answer for {key}: {exc}",
                        fix="check the network, or the index (index-url, or uv's settings)",
                    ) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def release_files(self, name: str, version: str) -> list[DistFile]:
        """The files of ``name==version`` (cached once fetched; asked once a run)."""
        key = ("files", self.url, canonicalize_name(name), version)
        return self.once.get(key, lambda: self._release_files(name, version))

    def _release_files(self, name: str, version: str) -> list[DistFile]:
        key = canonicalize_name(name)
        index_key = hashlib.sha256(self.url.encode()).hexdigest()[:12]
        path = self.cache / "index" / index_key / key / f"{version}.json"
        cached = self._cached(path)
        if cached is None:
            wanted = Version(version)
            cached = []
            page, files = self._simple_page(key)
            for entry in files.get(canonicalize_version(version), []):
                if not _is_version(entry.get("filename", ""), wanted):
                    continue
                sha = (entry.get("hashes") or {}).get("sha256")
                size = entry.get("size")
                if sha and size is None:  # a plain mirror: the server says the size
                    size = self.url_file(urljoin(page, entry["url"]), [sha]).size
                if sha and size is not None:
                    cached.append(
                        {
                            "filename": entry["filename"],
                            "url": urljoin(page, entry["url"]),
                            "size": int(size),
                            "sha256": sha,
                        }
                    )
            atomic_write(path, json.dumps(cached), durable=False)
        return [DistFile(**item) for item in cached]

    def wheel_contents_size(self, file: DistFile) -> tuple[int, int] | None:
        """(bytes of all members, bytes of .py members) of a wheel, from its zip directory.

        Cached by the wheel's hash (and read once a run); None when the directory cannot be
        read: kept for the run when the file is no zip, tried again by a later caller when
        the download failed.
        """
        try:
            return self.once.get(("wheel", file.sha256), lambda: self._wheel_contents_size(file))
        except IndexUnavailable:  # not kept by Once: a later caller tries again
            return None

    def _wheel_contents_size(self, file: DistFile) -> tuple[int, int] | None:
        path = self.cache / "wheels" / f"{file.sha256}.json"
        cached = self._cached(path)
        if cached is not None and "total" in cached:
            return int(cached["total"]), int(cached["py"])
        contents: dict[str, int] | None = None
        for attempt in range(3):  # many cells size at once: a dropped connection is likely
            try:
                reader = RangeReader(self.fetcher, file.url, file.size)
                # The tail holds the whole directory, most of the time: read it as it is.
                contents = member_sizes(reader.tail, file.size)
                start = directory_offset(reader.tail) if contents is None else None
                if start is not None and 0 <= start < file.size - len(reader.tail):
                    reader.seek(start)  # the rest of the directory in one more request
                    contents = member_sizes(reader.read(file.size - start), file.size)
                if contents is None:
                    with zipfile.ZipFile(reader) as archive:
                        contents = {i.filename: i.file_size for i in archive.infolist()}
                break
            except zipfile.BadZipFile:
                return None
            except (urllib.error.URLError, OSError, ValueError) as exc:
                if attempt == 2:
                    raise _unread(file, exc) from exc
        if contents is None:
            return None
        total = sum(contents.values())
        py = sum(size for name, size in contents.items() if name.endswith(".py"))
        entry = {"total": total, "py": py, "files": len(contents)}
        atomic_write(path, json.dumps(entry), durable=False)
        return total, py

    def sdist_needs(self, file: DistFile) -> str:
        """What building ``file`` (an sdist) needs, read from the archive (cached by hash,
        read once a run; a failed download is not kept: a later caller tries again)."""
        try:
            return self.once.get(("sdist", file.sha256), lambda: self._sdist_needs(file))
        except IndexUnavailable:  # not kept by Once: a later caller tries again
            return "unknown (the sdist could not be read)"

    def _sdist_needs(self, file: DistFile) -> str:
        path = self.cache / "sdists" / f"{file.sha256}.json"
        cached = self._cached(path)
        if cached is not None and "needs" in cached:
            return str(cached["needs"])
        if file.size > SDIST_LIMIT:
            return f"unknown (the sdist is {file.size // 2**20} MB; not inspected)"
        try:
            data = self.fetcher.get(file.url).body
        except (urllib.error.URLError, OSError) as exc:
            raise _unread(file, exc) from exc
        try:
            needs = build_needs(*_sdist_contents(data, file.filename))
        except (OSError, EOFError, ValueError, tarfile.TarError, zipfile.BadZipFile):
            return "unknown (the sdist could not be read)"  # its answer: kept for the run
        atomic_write(path, json.dumps({"needs": needs}), durable=False)
        return needs

    def size_of(
        self,
        name: str,
        version: str,
        hashes: Sequence[str],
        tags: Sequence[Tag],
        python: str,
        url: str | None = None,
    ) -> PackageSize | None:
        """The sizes of one locked package, or None when the index has no matching file."""
        if url is not None:
            chosen: DistFile | None = self.url_file(url, hashes)
        else:
            chosen = select_file(self.release_files(name, version), tags, hashes)
        if chosen is None:
            return None
        contents = None
        if chosen.filename.endswith(".whl"):
            contents = self.wheel_contents_size(chosen)
        exact = contents is not None
        if contents is None:
            installed = int(chosen.size * FALLBACK_EXPANSION)
        else:
            installed = installed_bytes(*contents, python)
        return PackageSize(
            name=name,
            version=version,
            filename=chosen.filename,
            download=chosen.size,
            installed=installed,
            exact=exact,
            url=chosen.url,
            sha256=chosen.sha256,
        )

    def estimate(self, lock: Lock, python: str, platform: str) -> SizeEstimate:
        """Sizes of every package of ``lock`` for ``python`` on ``platform``."""
        tags = platform_tags(python, platform)
        packages = list(lock.packages.values())
        # Waiting on the network, not the CPU: many at once (each on its kept connection).
        with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="index") as pool:
            results = list(pool.map(lambda p: (p, _try_size(self, p, tags, python)), packages))
        sized = tuple(size for _, (size, _) in results if size is not None)
        unknown = tuple(_pin(p) for p, (size, _) in results if size is None)
        errors = tuple(dict.fromkeys(error for _, (_, error) in results if error))
        return SizeEstimate(packages=sized, unknown=unknown, errors=errors)


def _unread(file: DistFile, exc: Exception) -> IndexUnavailable:
    """A file that could not be downloaded: raised through Once, so that the failure is not
    kept for the run, and turned into the soft answer outside it."""
    return IndexUnavailable(f"{file.url} could not be read: {exc}", fix="check the network")


def _sdist_contents(data: bytes, filename: str) -> tuple[list[str], str | None]:
    """(member names, the top pyproject.toml's text or None) of an sdist archive."""
    members: list[str] = []
    pyproject = None
    if filename.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.namelist()
            top = [m for m in members if m.count("/") == 1 and m.endswith("/pyproject.toml")]
            if top:
                pyproject = archive.read(top[0]).decode("utf-8", errors="replace")
        return members, pyproject
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        for member in archive.getmembers():
            members.append(member.name)
            if member.name.count("/") == 1 and member.name.endswith("/pyproject.toml"):
                stream = archive.extractfile(member)
                if stream is not None:
                    pyproject = stream.read().decode("utf-8", errors="replace")
    return members, pyproject


class _Anchors(HTMLParser):
    """The file links of a PEP 503 simple page: href (with #sha256=...) and text."""

    def __init__(self) -> None:
        super().__init__()
        self.files: list[dict[str, Any]] = []
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href")

    def handle_data(self, data: str) -> None:
        if self._href and data.strip():
            url, _, fragment = self._href.partition("#")
            algorithm, _, digest = fragment.partition("=")
            hashes = {algorithm: digest} if algorithm == "sha256" and digest else {}
            self.files.append({"filename": data.strip(), "url": url, "hashes": hashes})
            self._href = None


def _html_files(text: str) -> list[dict[str, Any]]:
    parser = _Anchors()
    parser.feed(text)
    return parser.files


def _pin(package: LockedPackage) -> str:
    return (
        f"{package.name} @ {package.url}" if package.url else f"{package.name}=={package.version}"
    )


def _try_size(
    index: PackageIndex, package: LockedPackage, tags: Sequence[Tag], python: str
) -> tuple[PackageSize | None, str | None]:
    """(sizes, None), (None, None) when no file matches, or (None, why the index failed)."""
    try:
        size = index.for_url(package.index).size_of(
            package.name, package.version, package.hashes, tags, python, url=package.url
        )
        return size, None
    except IndexUnavailable as error:
        return None, error.message
    except InvalidVersion:  # a version packaging cannot read: unsized
        return None, None


def _by_version(files: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """A page's files by the canonical text of the version their name carries: a release's
    files are looked up, not every file's name parsed for every release (grpcio's page
    lists thousands of files)."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    canonical: dict[str, str] = {}
    for entry in files:
        filename = entry.get("filename", "")
        if filename.endswith(".whl"):
            parts = filename.split("-")
            text = parts[1] if len(parts) in (5, 6) else ""
        else:
            stem = filename.removesuffix(".tar.gz").removesuffix(".zip")
            text = stem.rpartition("-")[2]
        if text not in canonical:
            canonical[text] = canonicalize_version(text)
        # Kept for the run: only what a release's files need (a page's entry holds more).
        slim = {
            "filename": filename,
            "url": entry.get("url", ""),
            "hashes": {"sha256": (entry.get("hashes") or {}).get("sha256")},
            "size": entry.get("size"),
        }
        grouped.setdefault(canonical[text], []).append(slim)
    return grouped


def _is_version(filename: str, wanted: Version) -> bool:
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[1] == wanted
        return parse_sdist_filename(filename)[1] == wanted
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return False
