"""A Warp renderer created before warp_gl_lifecycle is imported (error checking on, in a cycle)."""
import os

os.environ["WGL_IMPORT"] = "0"
import _warp_scene as scene  # noqa: E402
import pyglet.gl  # noqa: E402, F401 - error checking stays on

r = scene.renderer()
scene.empty_frames(r, 2)
keep = [r]
keep.append(keep)
del r

import warp_gl_lifecycle  # noqa: E402 - adopts the renderer and its instancers

print("adopted", len(warp_gl_lifecycle.live()), flush=True)
