"""Start-up hook for the child processes of ``python -m warp_gl_lifecycle run``, first on their
``PYTHONPATH`` (see :mod:`warp_gl_lifecycle.children`): leaves ``sys.path`` as it would be without
it, runs the ``sitecustomize`` it hides, then, while ``WARP_GL_LIFECYCLE_RUN=1``, imports
warp_gl_lifecycle. Never raises: a child must start whatever happens here."""
import importlib.machinery
import importlib.util
import os
import sys


def _is_here(path, here=os.path.dirname(os.path.abspath(__file__))):
    try:
        return os.path.samefile(path or os.curdir, here)
    except OSError:
        return False


def _run_hidden_sitecustomize():
    """Run the ``sitecustomize`` module this one hides (the environment's own), as ``site`` would."""
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", sys.path)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules["sitecustomize"] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - reported as site.execsitecustomize reports it
        sys.modules.pop("sitecustomize", None)
        print(f"Error in sitecustomize; set PYTHONVERBOSE for traceback:\n{type(exc).__name__}: {exc}",
              file=sys.stderr)


sys.path[:] = [p for p in sys.path if not _is_here(p)]
_run_hidden_sitecustomize()
if os.environ.get("WARP_GL_LIFECYCLE_RUN") == "1":
    try:
        import warp_gl_lifecycle  # noqa: F401 - drop-ins installed when Warp is imported
    except Exception as exc:  # noqa: BLE001
        print(f"warp_gl_lifecycle: not installed in this process: {type(exc).__name__}: {exc}", file=sys.stderr)
