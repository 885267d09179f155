"""The two ways out of OpenCV's GUI build in a server image, for the gui-opencv finding.

Either the headless variant (the same ``cv2`` without the GUI libraries), or an
allowance, on purpose with a reason (a dependency requires the GUI build), with the
Debian packages of the libraries the GUI build links installed in the image. Those
packages come from the generated soname table (``model.sonames``); only the library
names the GUI build's ``cv2`` and its bundled libraries need are written here.

Pure: names in, text out.
"""

from __future__ import annotations

from noxgrid.model.sonames import BASE_PACKAGES, HEADLESS_VARIANTS, debian_package

# What opencv-python's GUI build (and the X/Qt libraries its wheel bundles) loads
# from the system that the headless build does not: OpenGL, GLib's threads, X11/ICE/SM.
GUI_SONAMES = (
    "libGL.so.1",
    "libgthread-2.0.so.0",
    "libSM.so.6",
    "libICE.so.6",
    "libX11.so.6",
    "libXext.so.6",
    "libxcb.so.1",
)


def gui_apt() -> list[str]:
    """The Debian packages of :data:`GUI_SONAMES` a slim image lacks, in table order."""
    found = (debian_package(name) for name in GUI_SONAMES)
    return list(dict.fromkeys(p for p in found if p and p not in BASE_PACKAGES))


def gui_fix(gui: str, profile: str) -> str:
    """The gui-opencv finding's fix: the headless variant, or the allowance and apt lines."""
    headless = HEADLESS_VARIANTS.get(gui, f"{gui}-headless")
    apt = ", ".join(f'"{package}"' for package in gui_apt())
    return (
        f"use {headless} instead (the same cv2, no GUI libraries); or, where a dependency "
        f'requires {gui}, keep it on purpose: [[tool.noxgrid.allow]] rule = "gui-opencv", '
        f'packages = ["{gui}"], reason = "..." and apt = [{apt}] in '
        f"[tool.noxgrid.profile.{profile}] (the libraries the GUI build loads)"
    )
