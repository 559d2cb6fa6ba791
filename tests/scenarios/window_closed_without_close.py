"""The window is closed (its context destroyed) while its instancer is left open until exit."""
import _scene

_scene.report_at_exit()
window = _scene.window()
inst = _scene.instancer(name="orphaned")
window.close()
