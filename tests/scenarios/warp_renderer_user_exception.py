"""User code raises while a Warp renderer is open: exit 1 with only the user's traceback."""
import _warp_scene as scene


def simulate(r):
    scene.draw(r, frames=3)
    raise ValueError("user bug in simulate()")


r = scene.renderer()
simulate(r)
