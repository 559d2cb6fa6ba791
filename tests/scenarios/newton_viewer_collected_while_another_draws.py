"""A user drops viewer A without close() while viewer B draws: B's pixels must not change and no GL
error may follow. Prints PIXELS_SAME and the GL error state; exits 0 unless B's frame raises."""
import gc

import _newton_scene as scene
from pyglet import gl

a = scene.viewer()
scene.draw(a, frames=2)
b = scene.viewer()
scene.draw(b, frames=2)
before = scene.pixels(b)
b.renderer.window.switch_to()  # B's context is current while A is collected
del a
gc.collect()
scene.more_frames(b, frames=2)
error = gl.glGetError()
after = scene.pixels(b)
print("GL_ERROR", hex(error), flush=True)
print("PIXELS_SAME", bool((before == after).all()), flush=True)
b.close()
