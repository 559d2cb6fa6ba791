"""pyglet's GL error checking on (pyglet.gl imported first), the viewer in a reference cycle, no close()."""
import _newton_scene as scene
import pyglet.gl  # noqa: F401 - before the viewer: Newton's debug_gl=False then has no effect

v = scene.viewer()
scene.draw(v, frames=3)
keep = [v]
keep.append(keep)
del v
print("left in a cycle", flush=True)
