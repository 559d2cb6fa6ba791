"""The camera of a shader with Warp's layout (uniforms ``view`` and ``projection``): ``set_camera``.

Instancers made without a shader share their object space's default shader
(:func:`~warp_gl_lifecycle.instancer.shared_shape_shader`), so one call sets the camera for all of
them, as Warp's renderer sets it for all its shapes.
"""

from __future__ import annotations

import math
import numbers

__all__ = ["set_camera"]


def set_camera(shader, *, eye, target=(0.0, 0.0, 0.0), up=(0.0, 1.0, 0.0), fov: float = 45.0,
               aspect: float = 1.0, near: float = 0.1, far: float = 100.0) -> None:
    """Look from ``eye`` at ``target`` with ``up`` roughly up, through a perspective of ``fov``
    degrees vertically, ``aspect`` = width / height, depth from ``near`` to ``far`` (right-handed,
    as OpenGL and ``pyglet.math.Mat4.look_at``/``perspective_projection``).

    ``shader``: a pyglet ``ShaderProgram`` with ``view`` and ``projection`` uniforms, e.g. an
    instancer's ``shape_shader``. Main thread, with a context of the shader's object space current
    (pyglet sets uniforms by using the program). Every argument is checked before anything is set:
    ``ValueError``/``TypeError`` naming it, and the shader is left as it was.
    """
    eye, target, up = _vec3(eye, "eye"), _vec3(target, "target"), _vec3(up, "up")
    fov = _number(fov, "fov")
    if not 0.0 < fov < 180.0:
        raise ValueError(f"fov must be between 0 and 180 degrees, got {fov}")
    aspect = _number(aspect, "aspect")
    if aspect <= 0.0:
        raise ValueError(f"aspect must be positive, got {aspect}")
    near, far = _number(near, "near"), _number(far, "far")
    if not 0.0 < near < far:
        raise ValueError(f"need 0 < near < far, got near={near}, far={far}")
    forward = [t - e for t, e in zip(target, eye)]
    if _length(forward) == 0.0:
        raise ValueError(f"eye and target must differ, both are {eye}")
    if _length(_cross(forward, up)) <= 1e-9 * _length(forward) * max(_length(up), 1e-300):
        raise ValueError(f"up {up} must not be parallel to the view direction {tuple(forward)}")
    for uniform in ("view", "projection"):
        if uniform not in getattr(shader, "uniforms", {}):
            raise TypeError(f"shader must be a pyglet ShaderProgram with a {uniform!r} uniform, got {shader!r}")
    from pyglet.math import Mat4, Vec3  # noqa: PLC0415

    shader["view"] = Mat4.look_at(Vec3(*eye), Vec3(*target), Vec3(*up))
    shader["projection"] = Mat4.perspective_projection(aspect, near, far, fov)


def _number(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return float(value)


def _vec3(value, name: str) -> tuple[float, float, float]:
    try:
        items = tuple(value)
    except TypeError:
        raise TypeError(f"{name} must be 3 numbers (x, y, z), got {type(value).__name__}") from None
    if len(items) != 3:
        raise ValueError(f"{name} must be 3 numbers (x, y, z), got {len(items)}")
    x, y, z = (_number(item, name) for item in items)
    return x, y, z


def _length(v) -> float:
    return math.sqrt(sum(c * c for c in v))


def _cross(a, b) -> tuple[float, float, float]:
    return a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]
