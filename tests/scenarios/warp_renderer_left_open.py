"""Warp's renderer draws 24 frames of shapes, points and lines, reads pixels, exits without close()."""
import _warp_scene as scene

r = scene.renderer()
scene.draw(r)
image = scene.pixels(r)
print("pixels", image.shape, round(float(image.mean()), 4), flush=True)
