"""What a bench run prints and writes besides the measurements: the machine, the table, output paths."""

from __future__ import annotations

import platform

__all__ = ["ctypes_string", "machine", "parent", "print_table"]


def machine() -> dict:
    import warp as wp  # noqa: PLC0415
    from pyglet import gl  # noqa: PLC0415

    def text(name):
        return ctypes_string(gl.glGetString(name))

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "warp": wp.config.version,
        "gl_renderer": text(gl.GL_RENDERER),
        "gl_version": text(gl.GL_VERSION),
        "cuda_devices": [str(d) for d in wp.get_cuda_devices()],
    }


def ctypes_string(pointer) -> str:
    import ctypes  # noqa: PLC0415

    return ctypes.cast(pointer, ctypes.c_char_p).value.decode(errors="replace")


def print_table(results: dict) -> None:
    print(f"{'key':<28} {'median':>8} {'min':>8} {'max':>8} {'goal':>6}  met")
    for key, value in results.items():
        if "skipped" in value:
            print(f"{key:<28} {'-':>8} {'-':>8} {'-':>8} {value['goal']:>6}  skipped: {value['skipped']}")
            continue
        met = "yes" if value["met"] else "NO"
        print(f"{key:<28} {value['median']:>8.3f} {value['min']:>8.3f} {value['max']:>8.3f} {value['goal']:>6}  {met}")


def parent(path: str) -> str:
    import os  # noqa: PLC0415

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    return path
