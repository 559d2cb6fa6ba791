"""User code raises while a Newton viewer is open: exit 1 with only the user's traceback."""
import _newton_scene as scene


def simulate(v):
    scene.draw(v, frames=3)
    raise ValueError("user bug in simulate()")


v = scene.viewer()
simulate(v)
