"""An instancer in a reference cycle held by a module global: released at exit, before teardown."""
import _scene

_scene.report_at_exit()
window = _scene.window()
inst = _scene.instancer(name="cycle")
holder = {"inst": inst}
holder["self"] = holder
inst.holder = holder
del inst
