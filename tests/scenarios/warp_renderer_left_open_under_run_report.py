"""Warp's renderer draws a few frames and is left open; run under ``run --report``, which names this line."""
import _warp_scene as scene
import warp.render

r = warp.render.OpenGLRenderer(screen_width=scene.WIDTH, screen_height=scene.HEIGHT, headless=True, device=scene.DEVICE, vsync=False)  # left open: reported
scene.draw(r, frames=3)
print("pixels", scene.pixels(r).shape, flush=True)
