"""The only code that touches Warp's internals: CUDA-GL registration undo and Warp's own kernels.

Everything here is checked against the installed warp-lang before use; what is missing is reported
by :func:`supported` instead of failing at import.
"""

from __future__ import annotations

from typing import Any, Callable

import warp as wp

__all__ = ["register_gl_buffer", "warp_update_vbo_transforms"]


def register_gl_buffer(buffer: int, device: Any, flags: int) -> tuple[Any, Callable[[], None]]:
    """Register GL ``buffer`` with CUDA on ``device``; returns the registration and its undo.

    The undo unregisters at once (a CUDA call, never a GL call, so it may run inside a finalizer)
    and leaves Warp's own ``RegisteredGLBuffer.__del__`` nothing to do. Runs at most once.
    Raises ``RuntimeError`` when CUDA-GL interop is not available (no copy fallback: callers
    take their own CPU path instead).
    """
    registration = wp.RegisteredGLBuffer(buffer, device, flags, fallback_to_copy=False)

    def undo() -> None:
        resource, registration.resource = registration.resource, None
        if resource:
            with registration.device.context_guard:
                wp._src.context.runtime.core.wp_cuda_graphics_unregister_resource(registration.context, resource)

    return registration, undo


def warp_update_vbo_transforms() -> Any:
    """Warp's own instance-matrix kernel (``update_vbo_transforms``), the reference ours must equal."""
    from warp._src.render.render_opengl import update_vbo_transforms  # noqa: PLC0415

    return update_vbo_transforms
