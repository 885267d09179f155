"""The Debian packages a Dockerfile installs."""

from __future__ import annotations

from noxgrid.model.dockerapt import apt_packages, dockerfile_apt

DOCKERFILE = """\
FROM python:3.11-slim-bookworm
# apt-get install -y commented
RUN apt-get update && apt-get install -y --no-install-recommends \\
        libgl1 \\
        libglib2.0-0=2.74.6-2 \\
        python3-dev \\
    && rm -rf /var/lib/apt/lists/*
RUN apt install -o Dpkg::Options::=--force-confold -y ffmpeg $EXTRA libgl1
RUN pip install -r requirements.txt && echo apt-get install nothing
RUN sudo apt-get -y install tesseract-ocr; apt-get purge -y gcc
"""


def test_every_install_with_its_run_line():
    assert apt_packages(DOCKERFILE) == [
        ("libgl1", 3),
        ("libglib2.0-0", 3),
        ("ffmpeg", 8),
        ("tesseract-ocr", 10),
    ]


def test_no_dockerfile_no_packages(tmp_path):
    assert dockerfile_apt(tmp_path / "Dockerfile") == []
    (tmp_path / "Dockerfile").write_text("FROM python:3.11\nRUN apt-get install -y curl\n")
    assert dockerfile_apt(tmp_path / "Dockerfile") == [("curl", 2)]
