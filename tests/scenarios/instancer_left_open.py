"""An instancer drawn and never closed: released at exit, nothing printed."""
import _scene

_scene.report_at_exit()
window = _scene.window()
inst = _scene.instancer(name="left open")
