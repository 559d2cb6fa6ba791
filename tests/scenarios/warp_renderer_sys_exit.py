"""User code calls sys.exit(3) while a Warp renderer is open."""
import sys

import _warp_scene as scene

r = scene.renderer()
scene.draw(r, frames=3)
sys.exit(3)
