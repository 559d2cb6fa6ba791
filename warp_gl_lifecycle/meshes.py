"""Meshes for users' own programs, in Warp's vertex layout: ``register_shape(*meshes.cube())``.

Each function returns ``(vertices, indices)``: ``vertices`` a C-contiguous float32 array (N, 8) of
position, normal and uv per vertex, as ``ShapeInstancer.register_shape`` (ours and Warp's) takes
it; ``indices`` a uint32 array (3 T,) of whole triangles, counter-clockwise seen from outside
(OpenGL's front faces), normals of unit length pointing outwards. Pure NumPy: no GL, no Warp, any
thread. Bad arguments raise ``ValueError``/``TypeError`` naming the argument.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["cube", "sphere"]


def cube(half: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """An axis-aligned cube centred on the origin with half-extent ``half``: 24 vertices (four per
    face, so each face has its own normal and uvs 0..1) and 12 triangles."""
    half = _positive_float(half, "half")
    vertices, indices = [], []
    for axis in range(3):
        for sign in (-1.0, 1.0):
            normal = [0.0, 0.0, 0.0]
            normal[axis] = sign
            u_axis, v_axis = (axis + 1) % 3, (axis + 2) % 3  # u x v = +axis: counter-clockwise from outside
            base = len(vertices)
            for u, v in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
                p = [0.0, 0.0, 0.0]
                p[axis], p[u_axis], p[v_axis] = sign * half, u * half, v * half * sign
                vertices.append([*p, *normal, (u + 1) / 2, (v + 1) / 2])
            indices += [base, base + 1, base + 2, base, base + 2, base + 3]
    return np.ascontiguousarray(vertices, dtype=np.float32), np.array(indices, dtype=np.uint32)


def sphere(radius: float = 0.5, segments: int = 32, rings: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """A UV sphere centred on the origin, poles on the y axis (Warp's up axis): ``segments`` around
    (at least 3), ``rings`` from pole to pole (at least 2). (rings + 1) x (segments + 1) vertices
    (the seam is doubled so that uvs run 0..1), 2 x segments x (rings - 1) triangles."""
    radius = _positive_float(radius, "radius")
    segments = _count(segments, "segments", 3)
    rings = _count(rings, "rings", 2)
    theta = np.linspace(0.0, math.pi, rings + 1)  # from the north pole (+y) down
    phi = np.linspace(0.0, 2.0 * math.pi, segments + 1)
    t, p = np.meshgrid(theta, phi, indexing="ij")
    normals = np.stack([np.sin(t) * np.sin(p), np.cos(t), np.sin(t) * np.cos(p)], axis=-1)
    uvs = np.stack([p / (2.0 * math.pi), 1.0 - t / math.pi], axis=-1)
    vertices = np.concatenate([normals * radius, normals, uvs], axis=-1).reshape(-1, 8)
    row = segments + 1
    triangles = []
    for ring in range(rings):
        for segment in range(segments):
            a = ring * row + segment  # upper left; b: upper right; c, d: lower left, lower right
            b, c, d = a + 1, a + row, a + row + 1
            if ring > 0:  # the top ring's upper edge is the pole: one triangle per quad
                triangles.append((a, c, b))
            if ring < rings - 1:
                triangles.append((b, c, d))
    return np.ascontiguousarray(vertices, dtype=np.float32), np.array(triangles, dtype=np.uint32).reshape(-1)


def _positive_float(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    value = float(value)
    if not (math.isfinite(value) and value > 0.0):
        raise ValueError(f"{name} must be positive and finite, got {value}")
    return value


def _count(value, name: str, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < least:
        raise ValueError(f"{name} must be at least {least}, got {value}")
    return int(value)
