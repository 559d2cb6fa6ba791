"""Command line: ``demo`` (the main job), ``run`` (an unmodified program, drop-in installed), ``bench``,
``doctor``."""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    from . import __version__  # noqa: PLC0415

    parser = argparse.ArgumentParser(prog="python -m warp_gl_lifecycle", description=__doc__)
    parser.add_argument("--version", action="version", version=f"warp-gl-lifecycle {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    from . import demo  # noqa: PLC0415

    demo_parser = commands.add_parser("demo", help="draw an animated instanced grid headless and report")
    demo.add_arguments(demo_parser)
    demo_parser.set_defaults(usage_error=demo_parser.error)
    from . import runner  # noqa: PLC0415

    runner.add_arguments(
        commands.add_parser("run", help="run script.py or -m module with Warp's renderer made lifecycle-safe")
    )
    from . import bench  # noqa: PLC0415

    bench_parser = commands.add_parser("bench", help="measure cost ratios side by side (lower is better)")
    bench.add_arguments(bench_parser)
    bench_parser.set_defaults(usage_error=bench_parser.error)
    from . import doctor  # noqa: PLC0415

    doctor.add_arguments(commands.add_parser("doctor", help="check versions, GL, CUDA interop and the Warp drop-in"))
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["run"]:  # everything after the program is the program's: split as python does
        from . import runner  # noqa: PLC0415

        return runner.main(runner.parse(argv[1:]))
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        from . import demo  # noqa: PLC0415

        return _checked(demo.main, args)
    if args.command == "doctor":
        from . import doctor  # noqa: PLC0415

        return doctor.main(args)
    if args.command == "bench":
        from . import bench  # noqa: PLC0415

        return _checked(bench.main, args)
    return 2


def _checked(command, args) -> int:
    """Run ``command``; an ``argparse.ArgumentTypeError`` from its argument checks (raised before
    its work starts) ends as argparse ends: the command's usage, one error line, exit 2."""
    try:
        return command(args)
    except argparse.ArgumentTypeError as exc:
        args.usage_error(str(exc))
        raise  # pragma: no cover - usage_error exits


if __name__ == "__main__":
    sys.exit(main())
