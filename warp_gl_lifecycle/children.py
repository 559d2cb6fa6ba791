"""The child Python processes of a program started by ``python -m warp_gl_lifecycle run``: covered
as the program itself is (the drop-ins installed, the exit hook and after-fork guard registered).

:func:`cover_children` (the launcher calls it once, before the program runs) sets
``WARP_GL_LIFECYCLE_RUN=1`` and puts :data:`STARTUP_DIR` first on ``PYTHONPATH``. Every Python
process started from then on with that environment (multiprocessing's spawn and forkserver
workers, ``subprocess.run([sys.executable, ...])``, their own children) imports the
``sitecustomize`` module there at start-up (stdlib only): it takes the directory off ``sys.path``
again, runs the ``sitecustomize`` the directory hides (if the environment has one), and, while
``WARP_GL_LIFECYCLE_RUN=1``, imports this package, whose drop-ins then wait for Warp's import
(a process that never imports Warp pays the package's import alone, not Warp's). This works the same for editable and regular
installs (the directory is package data). ``python -I``/``-E`` children ignore ``PYTHONPATH`` and
run plain Warp, as do children given an environment without these two variables.
"""

from __future__ import annotations

import os

__all__ = ["ENV", "STARTUP_DIR", "cover_children"]

#: Set by :func:`cover_children`; the start-up hook does nothing without it.
ENV = "WARP_GL_LIFECYCLE_RUN"
#: The directory that holds the start-up ``sitecustomize`` (nothing else).
STARTUP_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_startup")


def cover_children() -> None:
    """Have every Python process started from now on with this environment covered.
    Main thread, once, before the program runs; idempotent."""
    os.environ[ENV] = "1"
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if STARTUP_DIR not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([STARTUP_DIR, *paths])
