"""Build local stand-ins for python:X-slim-bookworm where no image registry can be reached.

    python scripts/base_images.py                  # 3.9, 3.10 and 3.11
    python scripts/base_images.py --pythons 3.11

1. ``noxgrid-local/debian:bookworm-slim``: debootstrap's minbase of Debian
   bookworm, pruned (no .debs, docs, man pages or locales), imported.
2. ``noxgrid-local/python:X-slim-bookworm``: that base, the runtime libraries
   CPython links against, this machine's extra certificate authorities, and a
   local interpreter (pyenv's, found as noxgrid
   finds interpreters) copied to its own prefix (its rpath finds libpython
   there), without its test suite and static library so image sizes mean
   something. The prefix's parents are opened so a non-root user can run it.

Projects then map their base image to these with NOXGRID_BASE_IMAGE_MAP or
``base-image-map`` in [tool.noxgrid.docker]. Needs root, debootstrap and a
Docker engine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from noxgrid.tools.interpreters import find_interpreter

PREFIX = "noxgrid-local"
# What a stand-in for python:X-slim may weigh (the real ones are about 130 MB).
SIZE_LIMIT = 250_000_000
# Prefixes that hold far more than one interpreter: never copied whole.
SYSTEM_PREFIXES = {Path("/"), Path("/usr"), Path("/usr/local"), Path("/opt"), Path("/bin")}
# The programs of an interpreter's own bin/ (not the console scripts pip put there).
OWN_PROGRAMS = ("python", "pip", "pydoc", "2to3", "idle")
RUNTIME_LIBS = (
    "ca-certificates libssl3 libsqlite3-0 libffi8 zlib1g libbz2-1.0 liblzma5 "
    "libreadline8 libncursesw6 libgdbm6 libuuid1 tzdata"
)
PRUNE = (
    "var/cache/apt/archives",
    "usr/share/doc",
    "usr/share/man",
    "usr/share/locale",
    "usr/share/info",
    "var/lib/apt/lists",
)

DOCKERFILE = """\
FROM {base}
RUN apt-get update \\
 && apt-get install -y --no-install-recommends {libs} \\
 && apt-get clean \\
 && rm -rf /var/lib/apt/lists/*
COPY python/ {prefix}/
COPY certs/ /usr/local/share/ca-certificates/
RUN update-ca-certificates > /dev/null \\
 && for d in {parents}; do chmod 755 "$d"; done \\
 && ln -s {prefix}/bin/python{version} /usr/local/bin/python3 \\
 && ln -s {prefix}/bin/python{version} /usr/local/bin/python \\
 && ln -s {prefix}/bin/pip{version} /usr/local/bin/pip
ENV PATH={prefix}/bin:$PATH LANG=C.UTF-8 SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
CMD ["python3"]
"""


def run(argv: list[str], **kwargs: object) -> None:
    print("+", " ".join(argv), flush=True)
    subprocess.run(argv, check=True, **kwargs)  # type: ignore[call-overload]


def has_image(docker: str, name: str) -> bool:
    return (
        subprocess.run(
            [docker, "image", "inspect", name], capture_output=True, check=False
        ).returncode
        == 0
    )


def debian_base(docker: str, suite: str) -> str:
    name = f"{PREFIX}/debian:{suite}-slim"
    if has_image(docker, name):
        return name
    with tempfile.TemporaryDirectory(prefix="noxgrid-rootfs-") as rootfs:
        run(
            ["debootstrap", "--variant=minbase", suite, rootfs, "http://deb.debian.org/debian"],
            stdout=subprocess.DEVNULL,
        )
        for part in PRUNE:
            target = Path(rootfs) / part
            if target.is_dir():
                for child in target.iterdir():
                    if child.is_dir() and not child.is_symlink():
                        shutil.rmtree(child)
                    else:
                        child.unlink()
        tar = subprocess.Popen(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
        run([docker, "import", "-", name], stdin=tar.stdout)
        tar.wait()
    return name


def python_image(docker: str, base: str, version: str) -> str:
    name = f"{PREFIX}/python:{version}-slim-bookworm"
    interpreter = find_interpreter(version).path.resolve()
    prefix = interpreter.parent.parent
    if prefix in SYSTEM_PREFIXES or len(prefix.parts) < 3:
        sys.exit(
            f"{interpreter} lives in the system prefix {prefix}: copying its prefix would copy "
            f"all of {prefix} into the image; fix: install Python {version} with pyenv or "
            f"`uv python install {version}` (a prefix of its own), or point "
            f"NOXGRID_PYTHON_{version.replace('.', '_')} at one"
        )
    parents = " ".join(str(p) for p in reversed(prefix.parents) if str(p) != "/")
    skip = shutil.ignore_patterns(
        "test",
        "tests",
        "idle_test",
        "__pycache__",
        "*.a",
        "idlelib",
        "tkinter",
        "turtledemo",
        "*.pyc",
    )

    def ignore(folder: str, names: list[str]) -> set[str]:
        ignored = set(skip(folder, names))
        if Path(folder) == prefix / "bin":
            # The interpreter's own programs only: the console scripts of whatever was
            # pip-installed into it (uv, ruff, zizmor: 100 MB) are not the interpreter.
            ignored |= {n for n in names if not n.startswith(OWN_PROGRAMS)}
        if Path(folder).name == "site-packages":
            # Whatever was pip-installed into the local interpreter stays out: the
            # stand-in carries pip, as the real slim image does.
            ignored |= {n for n in names if not n.startswith(("pip", "README"))}
        return ignored

    with tempfile.TemporaryDirectory(prefix="noxgrid-python-") as context:
        shutil.copytree(prefix, Path(context) / "python", symlinks=True, ignore=ignore)
        # This machine's own certificate authorities (a proxy's, say) go into the
        # stand-in too, so pip and uv inside builds trust what the host trusts.
        certs = Path(context) / "certs"
        certs.mkdir()
        local = Path("/usr/local/share/ca-certificates")
        for cert in local.glob("*.crt") if local.is_dir() else []:
            shutil.copy(cert, certs / cert.name)
        (Path(context) / "Dockerfile").write_text(
            DOCKERFILE.format(
                base=base, libs=RUNTIME_LIBS, prefix=prefix, parents=parents, version=version
            )
        )
        run(
            [docker, "build", "-q", "-t", name, context],
            env={**os.environ, "DOCKER_BUILDKIT": "1"},
            stdout=subprocess.DEVNULL,
        )
    size = image_size(docker, name)
    if size > SIZE_LIMIT:
        sys.exit(
            f"{name} is {size / 1e6:.0f} MB, over the {SIZE_LIMIT / 1e6:.0f} MB a slim base "
            f"may be (python:{version}-slim-bookworm is about 130 MB); look at what "
            f"{prefix} holds (`du -sh {prefix}/*`) and add it to the ignore rules here"
        )
    print(f"{name}: {size / 1e6:.0f} MB", flush=True)
    return name


def image_size(docker: str, name: str) -> int:
    """The image's size in bytes, as the engine reports it."""
    done = subprocess.run(
        [docker, "image", "inspect", "--format", "{{.Size}}", name],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pythons", nargs="+", default=["3.9", "3.10", "3.11"])
    parser.add_argument(
        "--docker",
        default=os.environ.get("NOXGRID_DOCKER", "docker"),
        help="the docker client (one with BuildKit)",
    )
    args = parser.parse_args()
    if not shutil.which(args.docker):
        sys.exit(f"no docker client {args.docker!r}")
    base = debian_base(args.docker, "bookworm")
    for version in args.pythons:
        print(python_image(args.docker, base, version), flush=True)


if __name__ == "__main__":
    main()
