"""Which Debian package provides a shared library: a maintained table.

Keys are sonames as they appear in DT_NEEDED (``libGL.so.1``) or ``fnmatch``
patterns for families whose version moves (FFmpeg's ``libavcodec.so.*``).
Values are Debian bookworm package names, the ones a ``python:*-slim-bookworm``
image installs with ``apt-get install``. Where the table has no answer the
doctor asks the host's package manager (``dpkg-query -S``) when there is one.

Sources: ``apt-file search`` / packages.debian.org for bookworm; the OpenCV,
LightGBM, ONNX Runtime and PyTorch wheels' DT_NEEDED entries.
"""

from __future__ import annotations

import fnmatch
import re

DEBIAN_PACKAGES: dict[str, str] = {
    # OpenGL and the X11 stack (opencv-python's GUI build, Qt)
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libGLX.so.0": "libglx0",
    "libGLdispatch.so.0": "libglvnd0",
    "libOpenGL.so.0": "libopengl0",
    "libGLU.so.1": "libglu1-mesa",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libXext.so.6": "libxext6",
    "libXrender.so.1": "libxrender1",
    "libXfixes.so.3": "libxfixes3",
    "libXi.so.6": "libxi6",
    "libXau.so.6": "libxau6",
    "libXdmcp.so.6": "libxdmcp6",
    "libxcb.so.1": "libxcb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libSM.so.6": "libsm6",
    "libICE.so.6": "libice6",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libdrm.so.2": "libdrm2",
    # GLib
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libgobject-2.0.so.0": "libglib2.0-0",
    "libgio-2.0.so.0": "libglib2.0-0",
    "libgmodule-2.0.so.0": "libglib2.0-0",
    # Compilers' runtimes, OpenMP, BLAS
    "libgomp.so.1": "libgomp1",
    "libomp.so.5": "libomp5",
    "libgfortran.so.5": "libgfortran5",
    "libquadmath.so.0": "libquadmath0",
    "libopenblas.so.0": "libopenblas0",
    "libblas.so.3": "libblas3",
    "liblapack.so.3": "liblapack3",
    "libnuma.so.1": "libnuma1",
    "libstdc++.so.6": "libstdc++6",
    "libgcc_s.so.1": "libgcc-s1",
    "libatomic.so.1": "libatomic1",
    # FFmpeg (the issue's `ffmpeg`: the package that pulls in every one of them)
    "libavcodec.so.*": "ffmpeg",
    "libavformat.so.*": "ffmpeg",
    "libavutil.so.*": "ffmpeg",
    "libavdevice.so.*": "ffmpeg",
    "libavfilter.so.*": "ffmpeg",
    "libswscale.so.*": "ffmpeg",
    "libswresample.so.*": "ffmpeg",
    "libpostproc.so.*": "ffmpeg",
    # Audio, images, text, databases, crypto
    "libsndfile.so.1": "libsndfile1",
    "libportaudio.so.2": "libportaudio2",
    "libasound.so.2": "libasound2",
    "libjpeg.so.62": "libjpeg62-turbo",
    "libpng16.so.16": "libpng16-16",
    "libtiff.so.6": "libtiff6",
    "libwebp.so.7": "libwebp7",
    "libzbar.so.0": "libzbar0",
    "libmagic.so.1": "libmagic1",
    "libtesseract.so.5": "libtesseract5",
    "liblept.so.5": "liblept5",
    "libxml2.so.2": "libxml2",
    "libxslt.so.1": "libxslt1.1",
    "libpq.so.5": "libpq5",
    "libmariadb.so.3": "libmariadb3",
    "libsqlite3.so.0": "libsqlite3-0",
    "libssl.so.3": "libssl3",
    "libcrypto.so.3": "libssl3",
    "libffi.so.8": "libffi8",
    "libcurl.so.4": "libcurl4",
    "libgssapi_krb5.so.2": "libgssapi-krb5-2",
    "libgeos_c.so.1": "libgeos-c1v5",
    "libuuid.so.1": "libuuid1",
    "libz.so.1": "zlib1g",
    "libbz2.so.1.0": "libbz2-1.0",
    "liblzma.so.5": "liblzma5",
    # glibc
    "libc.so.6": "libc6",
    "libm.so.6": "libc6",
    "libdl.so.2": "libc6",
    "libpthread.so.0": "libc6",
    "librt.so.1": "libc6",
    "libutil.so.1": "libc6",
    "libresolv.so.2": "libc6",
    "ld-linux-x86-64.so.2": "libc6",
    "ld-linux-aarch64.so.1": "libc6",
}

# Packages every python:*-slim-bookworm image already has (Priority: required,
# or what the image's CPython links): a library from one of these never needs
# an apt line.
BASE_PACKAGES = frozenset(
    {
        "libc6",
        "libgcc-s1",
        "libstdc++6",
        "zlib1g",
        "libssl3",
        "libffi8",
        "libsqlite3-0",
        "libbz2-1.0",
        "liblzma5",
        "libuuid1",
    }
)

# Libraries the NVIDIA driver brings into a container at run time (--gpus):
# never installed in an image, never missing from one.
DRIVER_LIBRARIES = ("libcuda.so.*", "libnvidia-ml.so.*", "libnvcuvid.so.*")

# CUDA toolkit libraries: from a CUDA base image or NVIDIA's wheels, not apt.
_CUDA = re.compile(
    r"^lib(cudart|cublas|cublasLt|cufft|curand|cusolver|cusparse|cudnn\w*|nvrtc\w*|nvJitLink"
    r"|nccl|nvToolsExt|cupti|nvinfer\w*|nvonnxparser|cutensor\w*)\.so"
)

# Python distributions with a variant that needs none of the GUI libraries.
HEADLESS_VARIANTS = {
    "opencv-python": "opencv-python-headless",
    "opencv-contrib-python": "opencv-contrib-python-headless",
}


def debian_package(soname: str) -> str | None:
    """The Debian package providing ``soname``, from the table; None if unknown."""
    if soname in DEBIAN_PACKAGES:
        return DEBIAN_PACKAGES[soname]
    for pattern, package in DEBIAN_PACKAGES.items():
        if "*" in pattern and fnmatch.fnmatchcase(soname, pattern):
            return package
    return None


def provided_by_driver(soname: str) -> bool:
    """True for the NVIDIA driver's libraries, mounted into GPU containers at run time."""
    return any(fnmatch.fnmatchcase(soname, pattern) for pattern in DRIVER_LIBRARIES)


def is_cuda(soname: str) -> bool:
    """True for CUDA toolkit libraries (cuBLAS, cuDNN, ...)."""
    return bool(_CUDA.match(soname))


_NOT_FOUND = re.compile(r"([\w.+-]+\.so(?:\.[\w.]+)?): cannot open shared object file")


def soname_in_error(message: str) -> str | None:
    """The library a loader error names (``libGL.so.1: cannot open shared object file``)."""
    match = _NOT_FOUND.search(message)
    return match.group(1) if match else None
