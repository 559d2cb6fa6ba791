"""Two Warp renderers drawn in turn and both left open."""
import _warp_scene as scene

first = scene.renderer()
second = scene.renderer()
scene.draw(first, frames=4)
scene.draw(second, frames=4)
scene.draw(first, frames=2)
print("pixels", round(float(scene.pixels(first).mean()), 4), round(float(scene.pixels(second).mean()), 4), flush=True)
