"""The public mesh helpers (``warp_gl_lifecycle.meshes``) and ``set_camera``: geometry checked with NumPy,
pictures drawn by a real ShapeInstancer in a headless context and compared with where an independent
projection (the OpenGL look-at and perspective formulas written out here) says the shape must be."""

import math

import numpy as np
import pytest
from pyglet import gl

import warp_gl_lifecycle as wgl
from warp_gl_lifecycle import meshes
from warp_gl_lifecycle.instancer import default_shape_shader

SIZE = 64  # the plugin's session window


# -- geometry --------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [lambda: meshes.cube(), lambda: meshes.cube(0.3), lambda: meshes.sphere(),
                                  lambda: meshes.sphere(1.5, 5, 3), lambda: meshes.sphere(0.2, 3, 2)])
def test_meshes_are_closed_outward_facing_and_in_warps_layout(make):
    vertices, indices = make()
    assert vertices.dtype == np.float32 and vertices.ndim == 2 and vertices.shape[1] == 8
    assert vertices.flags.c_contiguous
    assert indices.dtype == np.uint32 and indices.ndim == 1 and len(indices) % 3 == 0
    assert indices.max() < len(vertices)
    positions, normals, uvs = vertices[:, :3], vertices[:, 3:6], vertices[:, 6:]
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-6)
    assert ((uvs >= 0) & (uvs <= 1)).all()
    assert (np.einsum("ij,ij->i", positions, normals) > 0).all()  # centred on the origin: normals point out
    a, b, c = (positions[indices[k::3]] for k in range(3))
    face_normals = np.cross(b - a, c - a)
    areas = np.linalg.norm(face_normals, axis=1) / 2
    assert (areas > 1e-7).all(), "degenerate triangles"
    # counter-clockwise seen from outside: the face normal points away from the centre
    assert (np.einsum("ij,ij->i", face_normals, (a + b + c) / 3) > 0).all()
    # closed: every edge is shared by exactly two triangles, once in each direction (by position,
    # since seams and the cube's corners repeat positions with other normals or uvs)
    keys = {tuple(p) for p in np.round(positions, 5)}
    ids = {key: i for i, key in enumerate(sorted(keys))}
    pid = np.array([ids[tuple(p)] for p in np.round(positions, 5)])
    tri = pid[indices].reshape(-1, 3)
    edges = [(t[i], t[(i + 1) % 3]) for t in tri for i in range(3)]
    assert sorted(edges) == sorted((e[1], e[0]) for e in edges)
    assert len(set(edges)) == len(edges)


def test_cube_and_sphere_have_the_size_asked_for():
    vertices, _ = meshes.cube(0.25)
    np.testing.assert_allclose(vertices[:, :3].min(axis=0), -0.25)
    np.testing.assert_allclose(vertices[:, :3].max(axis=0), 0.25)
    vertices, indices = meshes.sphere(2.0, segments=12, rings=6)
    np.testing.assert_allclose(np.linalg.norm(vertices[:, :3], axis=1), 2.0, rtol=1e-6)
    assert len(vertices) == 7 * 13 and len(indices) == 3 * 2 * 12 * 5
    assert vertices[:, 1].max() == pytest.approx(2.0) and vertices[:, 1].min() == pytest.approx(-2.0)  # poles on y


@pytest.mark.parametrize("call, error, match", [
    (lambda: meshes.cube(0), ValueError, "half must be positive and finite, got 0.0"),
    (lambda: meshes.cube(float("nan")), ValueError, "half must be positive"),
    (lambda: meshes.cube("1"), TypeError, "half must be a number, got str"),
    (lambda: meshes.sphere(-1), ValueError, "radius must be positive"),
    (lambda: meshes.sphere(segments=2), ValueError, "segments must be at least 3, got 2"),
    (lambda: meshes.sphere(rings=1), ValueError, "rings must be at least 2, got 1"),
    (lambda: meshes.sphere(segments=8.0), TypeError, "segments must be an integer, got float"),
    (lambda: meshes.sphere(rings=True), TypeError, "rings must be an integer, got bool"),
])
def test_bad_mesh_arguments_are_named(call, error, match):
    with pytest.raises(error, match=match):
        call()


# -- pictures --------------------------------------------------------------------------------------


def reference_view_projection(eye, target, up, fov, aspect, near, far) -> np.ndarray:
    """gluLookAt and gluPerspective, written out: column vectors, clip = P @ V @ p."""
    eye, target, up = (np.asarray(v, dtype=float) for v in (eye, target, up))
    f = (target - eye) / np.linalg.norm(target - eye)
    s = np.cross(f, up)
    s /= np.linalg.norm(s)
    u = np.cross(s, f)
    view = np.eye(4)
    view[0, :3], view[1, :3], view[2, :3] = s, u, -f
    view[:3, 3] = -view[:3, :3] @ eye
    g = 1 / math.tan(math.radians(fov) / 2)
    projection = np.zeros((4, 4))
    projection[0, 0], projection[1, 1] = g / aspect, g
    projection[2, 2], projection[2, 3] = (far + near) / (near - far), 2 * far * near / (near - far)
    projection[3, 2] = -1
    return projection @ view


def projected_box(points, camera) -> tuple[float, float, float, float]:
    """Pixel bounds (x0, y0, x1, y1) of ``points`` seen by ``camera`` in a SIZE x SIZE viewport."""
    clip = reference_view_projection(**camera) @ np.c_[points, np.ones(len(points))].T
    ndc = clip[:2] / clip[3]
    pixels = (ndc + 1) / 2 * SIZE
    return pixels[0].min(), pixels[1].min(), pixels[0].max(), pixels[1].max()


@pytest.fixture
def shader(gl_context):
    """A shader of our own: the shared default one's camera is every other test's too."""
    program = default_shape_shader()
    yield program
    program.delete()


def draw(shader, mesh, camera, position=(0.0, 0.0, 0.0)) -> np.ndarray:
    """The mesh drawn once in red at ``position`` through ``camera``; which pixels it covers."""
    wgl.set_camera(shader, **camera)
    instancer = wgl.ShapeInstancer(shader, "cpu")
    try:
        instancer.register_shape(*mesh, color1=(1.0, 0.0, 0.0))
        instancer.allocate_instances(np.array([position], dtype=np.float32))
        gl.glViewport(0, 0, SIZE, SIZE)
        gl.glEnable(gl.GL_DEPTH_TEST)
        gl.glClearColor(0, 0, 0, 1)
        gl.glClear(gl.GL_COLOR_BUFFER_BIT | gl.GL_DEPTH_BUFFER_BIT)
        instancer.render()
        pixels = (gl.GLubyte * (SIZE * SIZE * 4))()
        gl.glReadPixels(0, 0, SIZE, SIZE, gl.GL_RGBA, gl.GL_UNSIGNED_BYTE, pixels)
    finally:
        gl.glDisable(gl.GL_DEPTH_TEST)
        instancer.close()
    image = np.frombuffer(pixels, np.uint8).reshape(SIZE, SIZE, 4)
    return image[:, :, 0] > 40  # rows from the bottom, as GL counts


def covered_box(mask) -> tuple[int, int, int, int]:
    rows, cols = np.nonzero(mask)
    assert len(rows), "nothing drawn"
    return cols.min(), rows.min(), cols.max() + 1, rows.max() + 1


CAMERAS = [
    dict(eye=(0, 0, 4), target=(0, 0, 0), up=(0, 1, 0), fov=45, aspect=1.0, near=0.1, far=100),
    dict(eye=(0.8, 0, 4), target=(0.8, 0, 0), up=(0, 1, 0), fov=45, aspect=1.0, near=0.1, far=100),
    dict(eye=(2, 1.5, 3), target=(0, 0, 0), up=(0, 1, 0), fov=40, aspect=1.0, near=0.5, far=20),
    dict(eye=(0, 3, 0.01), target=(0, 0, 0), up=(0, 0, -1), fov=60, aspect=1.0, near=0.1, far=10),
]


@pytest.mark.parametrize("camera", CAMERAS, ids=["ahead", "eye-moved-right", "oblique", "from-above"])
def test_the_cube_is_drawn_where_the_camera_says(shader, camera):
    vertices, indices = meshes.cube(0.5)
    mask = draw(shader, (vertices, indices), camera)
    corners = np.array([[x, y, z] for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (-0.5, 0.5)])
    expected = projected_box(corners, camera)
    got = covered_box(mask)
    assert np.allclose(got, expected, atol=1.5), (got, expected)  # a convex shape: the corners bound it


def test_the_sphere_is_round_and_as_big_as_the_camera_says(shader):
    camera = dict(eye=(0, 0, 4), target=(0, 0, 0), up=(0, 1, 0), fov=20, aspect=1.0, near=0.1, far=100)
    mask = draw(shader, meshes.sphere(0.5, segments=48, rings=24), camera)
    # a sphere of radius r at distance d subtends asin(r / d): its outline's radius in pixels
    radius = math.tan(math.asin(0.5 / 4)) / math.tan(math.radians(10)) * SIZE / 2
    assert mask.sum() == pytest.approx(math.pi * radius**2, rel=0.06)
    x0, y0, x1, y1 = covered_box(mask)
    assert (x0 + x1) / 2 == pytest.approx(SIZE / 2, abs=1) and (y0 + y1) / 2 == pytest.approx(SIZE / 2, abs=1)
    assert (x1 - x0) == pytest.approx(2 * radius, abs=2) and (y1 - y0) == pytest.approx(2 * radius, abs=2)


def test_an_instance_moved_off_centre_moves_in_the_picture(shader):
    camera = CAMERAS[0]
    mask = draw(shader, meshes.cube(0.25), camera, position=(-1.0, 0.5, 0.0))
    corners = np.array([[x, y, z] for x in (-1.25, -0.75) for y in (0.25, 0.75) for z in (-0.25, 0.25)])
    assert np.allclose(covered_box(mask), projected_box(corners, camera), atol=1.5)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(eye=(0, 0, 0)), ValueError, r"eye and target must differ, both are \(0.0, 0.0, 0.0\)"),
    (dict(eye=(0, 3, 0)), ValueError, "up .* must not be parallel to the view direction"),
    (dict(eye=(0, 0, 1), fov=180), ValueError, "fov must be between 0 and 180 degrees, got 180.0"),
    (dict(eye=(0, 0, 1), near=0), ValueError, "need 0 < near < far, got near=0.0, far=100.0"),
    (dict(eye=(0, 0, 1), near=5, far=2), ValueError, "need 0 < near < far"),
    (dict(eye=(0, 0, 1), aspect=-1), ValueError, "aspect must be positive, got -1.0"),
    (dict(eye=(0, 0)), ValueError, r"eye must be 3 numbers \(x, y, z\), got 2"),
    (dict(eye=(0, 0, float("inf"))), ValueError, "eye must be finite"),
    (dict(eye=3), TypeError, r"eye must be 3 numbers \(x, y, z\), got int"),
    (dict(eye=(0, 0, 1), target=("a", 0, 0)), TypeError, "target must be a number, got str"),
])
def test_bad_camera_arguments_are_named_and_change_nothing(shader, kwargs, error, match):
    before = {name: list(shader[name]) for name in ("view", "projection")}
    with pytest.raises(error, match=match):
        wgl.set_camera(shader, **kwargs)
    assert {name: list(shader[name]) for name in ("view", "projection")} == before


def test_set_camera_refuses_what_is_not_a_shader(gl_context):
    with pytest.raises(TypeError, match="shader must be a pyglet ShaderProgram with a 'view' uniform"):
        wgl.set_camera(object(), eye=(0, 0, 1))
