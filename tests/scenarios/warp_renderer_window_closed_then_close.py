"""The renderer's window is closed first (window.close()), then the renderer's close()."""
import _warp_scene as scene

r = scene.renderer()
scene.draw(r, frames=4)
r.window.close()
r.close()
print("closed after its window", flush=True)
