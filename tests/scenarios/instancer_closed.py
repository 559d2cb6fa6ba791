"""An instancer closed by the user (twice with --twice): nothing left for exit."""
import sys

import _scene

_scene.report_at_exit()
window = _scene.window()
inst = _scene.instancer(name="closed")
inst.close()
if "--twice" in sys.argv:
    inst.close()
assert inst.closed
