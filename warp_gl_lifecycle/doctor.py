"""``python -m warp_gl_lifecycle doctor``: what this machine offers, and how to fix what is missing.

Checks, each printed as ``ok``, ``--`` (optional, absent) or ``MISSING`` with a fix: Python,
warp-lang, pyglet and numpy versions; a headless GL context and its vendor, renderer and version;
CUDA devices and whether CUDA-GL interop works; whether the Warp drop-in is supported and
installed; Newton's version and whether its drop-in is installed; the owners still live after the
checks (:func:`~.diagnostics.report`: none, when the checks released all they made). Exits 1 when
something needed (not merely optional, like CUDA) is missing.
"""

from __future__ import annotations

import ctypes
import importlib
import os
import platform
import sys
from importlib import metadata

__all__ = ["add_arguments", "main"]


def add_arguments(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")


class Findings:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str]] = []  # (status, what, detail)

    def ok(self, what: str, detail: str) -> None:
        self.rows.append(("ok", what, detail))

    def optional(self, what: str, detail: str) -> None:
        self.rows.append(("--", what, detail))

    def missing(self, what: str, detail: str) -> None:
        self.rows.append(("MISSING", what, detail))

    @property
    def healthy(self) -> bool:
        return all(status != "MISSING" for status, _, _ in self.rows)


_MODULES = {"warp-lang": "warp", "pyglet": "pyglet", "numpy": "numpy"}


def _version(package: str) -> str | None:
    """The installed distribution's version; else, for a package only on ``sys.path`` (unpacked,
    not installed), the imported module's own; None when it cannot be imported."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        pass
    try:
        module = importlib.import_module(_MODULES[package])
    except ImportError:
        return None
    version = getattr(getattr(module, "config", None), "version", None) or getattr(module, "__version__", "unknown")
    return f"{version} (on sys.path at {os.path.dirname(module.__file__ or '')}, not installed)"


def check_packages(findings: Findings) -> None:
    findings.ok("python", f"{platform.python_version()} ({sys.executable})")
    for package, fix in (
        ("warp-lang", "pip install warp-lang"),
        ("pyglet", "pip install 'pyglet>=2.1'"),
        ("numpy", "pip install numpy"),
    ):
        version = _version(package)
        if version is None:
            findings.missing(package, f"not installed: {fix}")
        else:
            findings.ok(package, version)


def check_gl(findings: Findings) -> object | None:
    try:
        import pyglet  # noqa: PLC0415

        pyglet.options["headless"] = True
        window = pyglet.window.Window(16, 16, visible=False)
        from pyglet import gl  # noqa: PLC0415
    except Exception as exc:  # noqa: BLE001 - report, do not crash
        findings.missing(
            "headless GL context",
            f"{type(exc).__name__}: {exc}. Install Mesa's EGL and GL drivers "
            "(Debian/Ubuntu: apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri) or an NVIDIA driver",
        )
        return None

    def text(name: int) -> str:
        return ctypes.cast(gl.glGetString(name), ctypes.c_char_p).value.decode(errors="replace")

    findings.ok("headless GL context", "EGL context created")
    findings.ok("GL vendor", text(gl.GL_VENDOR))
    findings.ok("GL renderer", text(gl.GL_RENDERER))
    findings.ok("GL version", text(gl.GL_VERSION))
    return window


def check_cuda(findings: Findings, window) -> None:
    try:
        from .warp_compat import quiet_warp  # noqa: PLC0415

        wp = quiet_warp()
        wp.init()
    except Exception as exc:  # noqa: BLE001
        findings.missing("warp", f"cannot initialise: {type(exc).__name__}: {exc}")
        return
    devices = wp.get_cuda_devices()
    if not devices:
        findings.optional("CUDA devices", "none (no CUDA driver or GPU): the CPU paths are used")
        return
    findings.ok("CUDA devices", ", ".join(f"{d} ({d.name})" for d in devices))
    if window is None:
        findings.optional("CUDA-GL interop", "not checked: no GL context")
        return
    from pyglet import gl  # noqa: PLC0415

    from .warp_compat import register_gl_buffer  # noqa: PLC0415

    buffer = gl.GLuint()
    gl.glGenBuffers(1, buffer)
    gl.glBindBuffer(gl.GL_ARRAY_BUFFER, buffer)
    gl.glBufferData(gl.GL_ARRAY_BUFFER, 64, None, gl.GL_DYNAMIC_DRAW)
    try:
        registration, undo = register_gl_buffer(buffer.value, devices[0], 0)
        registration.map(dtype=wp.float32, shape=(16,)).fill_(1.0)
        registration.unmap()
        undo()
        findings.ok("CUDA-GL interop", f"a GL buffer registered, mapped and written on {devices[0]}")
    except Exception as exc:  # noqa: BLE001
        findings.optional(
            "CUDA-GL interop",
            f"unavailable ({type(exc).__name__}: {exc}); the GL context must be on the NVIDIA driver "
            "(EGL vendor nvidia) for interop; without it CUDA devices upload through the CPU",
        )
    finally:
        gl.glDeleteBuffers(1, buffer)
    check_shared_memory(findings, devices[0])


def check_shared_memory(findings: Findings, device) -> None:
    """Whether GL can draw from CUDA memory (the instancer's default; a GL context current)."""
    import numpy as np  # noqa: PLC0415
    import warp as wp  # noqa: PLC0415
    from pyglet import gl  # noqa: PLC0415

    from .shared_buffer import SharedBuffer, SharedBufferUnavailable  # noqa: PLC0415

    try:
        shared = SharedBuffer(64, device)
    except SharedBufferUnavailable as exc:
        findings.optional("CUDA-GL shared memory", f"unavailable ({exc}); instancers map a registered buffer instead")
        return
    try:
        shared.array(wp.float32, 16).fill_(2.0)
        shared.written()
        readback = np.zeros(16, np.float32)
        gl.glBindBuffer(gl.GL_ARRAY_BUFFER, shared.gl_buffer)
        gl.glGetBufferSubData(gl.GL_ARRAY_BUFFER, 0, readback.nbytes, readback.ctypes.data)
        gl.glBindBuffer(gl.GL_ARRAY_BUFFER, 0)
        if (readback == 2.0).all():
            findings.ok("CUDA-GL shared memory", f"GL read what {device} wrote to its memory (no map per update)")
        else:
            findings.optional("CUDA-GL shared memory", "GL did not read what CUDA wrote; use ShapeInstancer(interop='map')")
    finally:
        shared.release()
        gl.glDeleteBuffers(1, gl.GLuint(shared.gl_buffer))


def check_drop_in(findings: Findings) -> None:
    from . import warp_compat  # noqa: PLC0415

    supported, why = warp_compat.supported()
    if not supported:
        findings.missing("Warp drop-in", f"unsupported: {why}. Use warp-lang 1.19 (pip install 'warp-lang==1.19.*')")
        return
    if warp_compat.installed():
        findings.ok("Warp drop-in", f"installed ({why})")
    else:
        findings.optional("Warp drop-in", f"supported ({why}) but not installed: WARP_GL_LIFECYCLE=0 is set, "
                                          "or uninstall() was called")


def check_newton_drop_in(findings: Findings) -> None:
    """Newton's version and whether its drop-in is installed (without importing Newton)."""
    from . import newton_compat  # noqa: PLC0415

    found = newton_compat.version()
    if found is None:
        findings.optional("newton", "not installed (optional): pip install 'warp-gl-lifecycle[newton]'")
        return
    findings.ok("newton", found)
    supported, why = newton_compat.version_supported()
    if not supported:
        findings.optional("Newton drop-in", f"not applied: {why}; Newton's viewer is left as it is")
    elif newton_compat.patched():
        findings.ok("Newton drop-in", f"installed ({why}): ViewerGL is patched")
    elif newton_compat.installed():
        findings.ok("Newton drop-in", f"installed ({why}): ViewerGL is patched when Newton is imported")
    else:
        findings.optional("Newton drop-in", f"supported ({why}) but not installed: WARP_GL_LIFECYCLE=0 is set, "
                                            "or uninstall() was called")


def check_owners(findings: Findings) -> dict:
    """The owners still live after the checks, as :mod:`.diagnostics` reports them (the checks
    release what they make: any listed here is a leak). Returns the counts."""
    from . import diagnostics  # noqa: PLC0415

    counts = diagnostics.owner_counts()
    if counts["owners"] == 0:
        findings.ok("live owners", "none: the checks released every GL object they made")
    else:
        findings.optional("live owners", diagnostics.report(title="left by the checks").replace("\n", "\n    "))
    return counts


def main(args) -> int:
    import contextlib  # noqa: PLC0415

    findings = Findings()
    # What the checks print goes to stderr; stdout is the report alone (Warp before 1.10 prints its
    # warnings, such as "Insufficient CUDA driver version", to stdout, which broke --json).
    with contextlib.redirect_stdout(sys.stderr):
        check_packages(findings)
        window = check_gl(findings) if _version("pyglet") else None
        if _version("warp-lang"):
            check_cuda(findings, window)
            check_drop_in(findings)
        check_newton_drop_in(findings)
        if window is not None:
            window.close()
        owners = check_owners(findings)
    if getattr(args, "json", False):
        import json  # noqa: PLC0415

        print(json.dumps({"healthy": findings.healthy, "owners": owners,
                          "checks": [dict(zip(("status", "what", "detail"), row)) for row in findings.rows]}, indent=2))
    else:
        width = max(len(what) for _, what, _ in findings.rows)
        for status, what, detail in findings.rows:
            print(f"{status:<8} {what:<{width}}  {detail}")
        print("healthy" if findings.healthy else "something needed is missing: see MISSING above")
    return 0 if findings.healthy else 1
