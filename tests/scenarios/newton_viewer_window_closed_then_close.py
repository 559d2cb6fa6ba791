"""The viewer's window is closed first (as the user would), then the viewer's close(), twice."""
import _newton_scene as scene

v = scene.viewer()
scene.draw(v, frames=3)
v.renderer.window.close()
v.close()
v.close()
print("closed after its window", flush=True)
