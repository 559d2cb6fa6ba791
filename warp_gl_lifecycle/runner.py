"""``python -m warp_gl_lifecycle run``: run an unmodified program with the drop-in installed first.

``run script.py [args...]`` and ``run -m module [args...]`` behave as ``python script.py`` and
``python -m module``: the program sees its own ``sys.argv``, ``sys.path[0]`` and ``__main__``;
its exceptions print only its own traceback and exit 1; ``sys.exit(n)`` exits ``n``. The module
globals it leaves stay alive until exit, as under plain ``python``, so the exit hook releases what
they hold.
"""

from __future__ import annotations

import os
import runpy
import sys

__all__ = ["add_arguments", "main"]

_kept_globals: list[dict] = []


def add_arguments(parser) -> None:
    parser.add_argument("-m", dest="module", metavar="MODULE", help="run a module as a script, like python -m")
    parser.add_argument("target", nargs="?", help="the script to run (unless -m)")
    parser.add_argument("args", nargs="...", help="arguments passed to the program")


def main(args) -> int:
    from . import dropins  # noqa: PLC0415

    if args.module is None and args.target is None:
        print("run: give a script, or -m MODULE", file=sys.stderr)
        return 2
    dropins.install()
    try:
        if args.module is not None:
            program_args = ([args.target] if args.target is not None else []) + args.args
            sys.argv = [args.module, *program_args]
            sys.path[0] = os.getcwd()
            _kept_globals.append(runpy.run_module(args.module, run_name="__main__", alter_sys=True))
        else:
            path = args.target
            if not os.path.exists(path):
                print(f"{sys.executable}: can't open file {os.path.abspath(path)!r}: [Errno 2] No such file or directory", file=sys.stderr)
                return 2
            sys.argv = [path, *args.args]
            sys.path[0] = os.path.dirname(os.path.abspath(path))
            _kept_globals.append(runpy.run_path(path, run_name="__main__"))
    except BaseException as exc:  # noqa: BLE001 - print it as python would, without our frames
        tb = _user_frames(exc.__traceback__)
        if tb is not None:  # keep the program's globals alive until exit, as python does
            _kept_globals.append(tb.tb_frame.f_globals)
        if isinstance(exc, SystemExit):
            raise
        sys.excepthook(type(exc), exc.with_traceback(tb), tb)
        return 1
    return 0


def _user_frames(tb):
    """Drop the leading frames of this module and runpy from a traceback."""
    ours = os.path.abspath(__file__)
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename != ours and "runpy" not in filename:
            break
        tb = tb.tb_next
    return tb

