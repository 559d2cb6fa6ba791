"""User code calls sys.exit(3) while a Newton viewer is open."""
import sys

import _newton_scene as scene

v = scene.viewer()
scene.draw(v, frames=3)
sys.exit(3)
