"""A Warp renderer closed, then closed again."""
import _warp_scene as scene

r = scene.renderer()
scene.draw(r, frames=4)
r.close()
r.close()
print("closed twice", flush=True)
