"""Warp renderers in every state exist when warp_gl_lifecycle is imported: one made with
``OpenGLRenderer.__new__`` (as Warp's own unit tests make them), one closed with Warp's own
``close()`` and still referenced, and two live ones, made oldest first but listed youngest first
by ``gc.get_objects()``. Every glDeleteVertexArrays call is recorded with the context current."""
import gc
import json
import os

os.environ["WGL_IMPORT"] = "0"
import _warp_scene as scene  # noqa: E402
import numpy as np  # noqa: E402
import warp.render  # noqa: E402
from pyglet import gl  # noqa: E402

partly_built = warp.render.OpenGLRenderer.__new__(warp.render.OpenGLRenderer)
partly_built._instances = {}
partly_built._shape_geo_hash = {}

closed_by_warp = scene.renderer()
scene.empty_frames(closed_by_warp, 1)
closed_by_warp.close()  # Warp's own close(): its window's context is gone, its names partly leaked

first = scene.renderer()
scene.empty_frames(first, 2)
gc.collect()  # first moves to the oldest generation: gc.get_objects() now lists it after second
second = scene.renderer()
scene.empty_frames(second, 2)

deleted = []  # (context that was current, VAO names)
_delete_vaos = gl.glDeleteVertexArrays


def recording_delete_vaos(count, names):
    values = [names.value] if isinstance(names, gl.GLuint) else list(names)[:count]
    deleted.append((gl.current_context, values))
    return _delete_vaos(count, names)


gl.glDeleteVertexArrays = recording_delete_vaos

import warp_gl_lifecycle as wgl  # noqa: E402 - adopts them all

renderers = {"first": first, "second": second, "closed_by_warp": closed_by_warp, "partly_built": partly_built}
order = []
for t in wgl.live():
    owner = t()
    for label, r in renderers.items():
        if owner is r:
            order.append(label)
        elif owner is getattr(r, "_axis_instancer", None):
            order.append(label + " axis")

before = scene.pixels(second)  # on a CPU device plain Warp cannot read pixels: after the import

# The renderer Warp closed is collected: its release must not delete anyone else's vertex arrays.
del closed_by_warp, renderers
gc.collect()
wgl.flush()
first.close()  # its axis instancer's VAO lives in first's context, not in second's (current at import)
second_vaos = {int(second._grid_vao.value), int(second._sky_vao.value), int(second._frame_vao.value),
               int(second._axis_instancer.vao.value)}
foreign = [(values) for context, values in deleted if context is second.window.context and set(values) & second_vaos]
scene.empty_frames(second, 2)
after = scene.pixels(second)
print("FIGURES " + json.dumps({
    "order": order,
    "foreign_vao_deletes": foreign,
    "first_deletes_in_own_context": all(context is not second.window.context for context, _ in deleted),
    "second_draws_as_before": bool(np.array_equal(before, after)),
}), flush=True)
