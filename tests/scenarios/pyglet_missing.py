"""pyglet is not importable: the package still imports; GL use raises an ImportError naming pyglet."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.modules["pyglet"] = None  # as if it were not installed

import warp_gl_lifecycle  # noqa: E402

print("imported; drop-in installed:", warp_gl_lifecycle.installed(), flush=True)
try:
    warp_gl_lifecycle.ShapeInstancer
except ImportError as exc:
    print("ImportError:", exc, flush=True)
