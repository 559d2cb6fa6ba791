"""A Newton viewer draws and is closed, twice."""
import _newton_scene as scene

v = scene.viewer()
scene.draw(v, frames=3)
v.close()
v.close()
print("closed twice", flush=True)
