"""The seed bug: pyglet's GL error checking on (pyglet.gl imported first), renderer in a cycle, no close().

Only empty frames are drawn, so that without the package the one failure is the one at exit.
"""
import _warp_scene as scene
import pyglet.gl  # noqa: F401 - before the renderer: Warp's debug_gl=False then has no effect

r = scene.renderer()
for frame in range(3):
    r.begin_frame(frame / 24.0)
    r.end_frame()
keep = [r]
keep.append(keep)
del r
print("left in a cycle", flush=True)
