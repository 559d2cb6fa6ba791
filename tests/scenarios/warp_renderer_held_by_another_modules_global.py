"""Warp's renderer kept in another module's global until the interpreter shuts down (as a test that
stores it on an imported module does): exits clean, the renderer released once at exit."""
import json

import _warp_scene as scene

r = scene.renderer()
scene.draw(r)
json.kept_renderer = r  # outlives __main__'s globals: collected only while modules are torn down
