"""Two Newton viewers draw, both left open at exit."""
import _newton_scene as scene

a = scene.viewer()
scene.draw(a, frames=2)
b = scene.viewer()
scene.draw(b, frames=2)
scene.more_frames(a, frames=1)
print("two open", flush=True)
