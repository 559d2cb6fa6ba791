"""Three Warp renderers, one after another, each running ``while renderer.is_running():`` for up to
5 frames, reading its pixels and closed; then an exit the user asks for while a window is open."""
import hashlib
import sys

import _warp_scene as scene
import pyglet

drawn, images = [], []
for _ in range(3):
    renderer = scene.renderer()
    frames = 0
    while renderer.is_running() and frames < 5:
        renderer.begin_frame(0.0)
        renderer.end_frame()
        frames += 1
    drawn.append(frames)
    if frames and "warp_gl_lifecycle" in sys.modules:  # plain Warp cannot read pixels on a CPU device
        images.append(hashlib.sha1(scene.pixels(renderer).round(3).tobytes()).hexdigest()[:12])
    renderer.close()
print("FRAMES", drawn, flush=True)
print("SAME_PIXELS", len(images) == 3 and len(set(images)) == 1, images, flush=True)

first = scene.renderer()
pyglet.app.exit()  # the user asks to exit while first's window is open: a new renderer keeps that
second = scene.renderer()
print("EXIT_KEPT", not second.is_running() and not first.is_running(), flush=True)
second.close()
first.close()
