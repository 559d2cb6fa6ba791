"""An instancer kept in another module's global."""
import sys
import types

import _scene

_scene.report_at_exit()
window = _scene.window()
cache = types.ModuleType("user_cache")
sys.modules["user_cache"] = cache
cache.instancer = _scene.instancer(name="module global")
