"""The seed bug: pyglet's GL error checking on (pyglet.gl imported first), renderer in a cycle, no close().

Only empty frames are drawn, so that without the package the one failure is the one at exit.
"""
import _warp_scene as scene
import pyglet.gl  # noqa: F401 - before the renderer: Warp's debug_gl=False then has no effect

r = scene.renderer()
scene.empty_frames(r, 3)
keep = [r]
keep.append(keep)
del r
print("left in a cycle", flush=True)
