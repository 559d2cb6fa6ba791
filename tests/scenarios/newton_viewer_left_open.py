"""A Newton viewer draws and the program ends without close()."""
import _newton_scene as scene

v = scene.viewer()
scene.draw(v, frames=3)
print("pixels", scene.pixels(v).shape, flush=True)
