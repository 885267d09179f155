"""The Python a Dockerfile builds, where its base is an OS image (model.dockerpython)."""

from __future__ import annotations

import pytest

from noxgrid.model.dockerpython import distro_python, instructions, read_dockerfile

CUDA_APT = """\
FROM nvidia/cuda:12.1.0-runtime-ubuntu22.04
# the service's interpreter
RUN apt-get update && apt-get install -y --no-install-recommends \\
    python3.10 python3.10-venv python3-pip \\
    && rm -rf /var/lib/apt/lists/*
CMD ["python3", "app.py"]
"""

DEADSNAKES = """\
ARG CUDA=12.4.1
FROM nvidia/cuda:${CUDA}-devel-ubuntu20.04
RUN add-apt-repository ppa:deadsnakes/ppa && apt-get install -y python3.11 python3.11-dev \\
    python3-pip
"""

DISTRO = """\
FROM nvidia/cuda:12.1-runtime-ubuntu22.04
RUN apt-get update && apt-get install -y python3 python3-pip
RUN pip3 install -r requirements.txt
"""

JETSON = """\
FROM nvcr.io/nvidia/l4t-pytorch:r35.2.1-pth2.0-py3
RUN pip3 install fastapi
"""


@pytest.mark.parametrize(
    ("text", "statements"),
    [
        (CUDA_APT, [(3, "3.10")]),
        (DEADSNAKES, [(3, "3.11")]),  # python3-pip's own python3 is not the image's
        (DISTRO, [(2, "3.10")]),  # Ubuntu 22.04's python3
        ("FROM ubuntu:jammy\nRUN apt install -y python3-venv\n", [(2, "3.10")]),
        ("FROM debian:bookworm-slim\nRUN apt-get install -y python3\n", [(2, "3.11")]),
        ("FROM continuumio/miniconda3\nRUN conda create -n app python=3.10 -y\n", [(2, "3.10")]),
        ("FROM ghcr.io/astral-sh/uv:python3.12-bookworm-slim\n", [(1, "3.12")]),
        ("FROM ubuntu:24.04\nRUN uv python install 3.13\n", [(2, "3.13")]),
    ],
)
def test_an_os_base_is_read_for_what_it_installs(text, statements):
    read = read_dockerfile(text)
    assert read.statements == statements
    assert read.unreadable == []


def test_the_cuda_version_is_never_taken_for_a_python_version():
    read = read_dockerfile("FROM nvidia/cuda:12.1-runtime-ubuntu22.04\nRUN nvidia-smi\n")
    assert read.statements == [] and read.unreadable == [], "no Python run: nothing to say"


def test_a_base_whose_python_cannot_be_read_is_named():
    assert read_dockerfile(JETSON).unreadable == [
        (1, "nvcr.io/nvidia/l4t-pytorch:r35.2.1-pth2.0-py3")
    ]
    unknown = "FROM nvidia/cuda:12.1-runtime-rockylinux9\nRUN dnf install -y python3\n"
    assert read_dockerfile(unknown).unreadable == [(1, "nvidia/cuda:12.1-runtime-rockylinux9")]


def test_an_arg_is_the_statement_and_its_uses_read_it():
    text = "ARG PYTHON_VERSION=3.11\nFROM ubuntu:22.04\nRUN apt-get install -y python${PYTHON_VERSION}\n"
    read = read_dockerfile(text)
    assert (read.statements, read.unreadable) == ([(1, "3.11")], [])
    image = "ARG PYTHON_VERSION=3.12\nFROM python:${PYTHON_VERSION}-slim\n"
    assert read_dockerfile(image).statements == [(1, "3.12")]


def test_stages_built_on_a_python_stage_or_without_python_are_fine():
    text = (
        "FROM python:3.11-slim AS builder\nRUN pip install x\n"
        'FROM builder AS final\nCMD ["python", "-m", "app"]\n'
        "FROM node:20 AS web\nRUN npm ci\n"
    )
    read = read_dockerfile(text)
    assert (read.statements, read.unreadable) == ([(1, "3.11")], [])


def test_instructions_join_continuations_and_skip_comments():
    assert instructions("# c\nRUN a \\\n  # note\n  b\nCMD x\n") == [(2, "RUN a b"), (5, "CMD x")]
    assert distro_python("nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu18.04") == "3.6"
    assert distro_python("nvcr.io/nvidia/l4t-base:r32.7.1") is None


def test_a_stage_that_copies_its_interpreter_from_a_python_stage_is_fine():
    text = (
        "FROM python:3.11-slim AS build\nRUN pip install --prefix=/install x\n"
        'FROM ubuntu:22.04\nCOPY --from=build /usr/local /usr/local\nCMD ["python3", "app.py"]\n'
    )
    assert read_dockerfile(text).unreadable == []
    alone = 'FROM ubuntu:22.04\nCOPY --from=assets /x /x\nCMD ["python3", "app.py"]\n'
    assert read_dockerfile(alone).unreadable == [(1, "ubuntu:22.04")]
