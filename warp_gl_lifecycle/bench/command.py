"""The ``bench`` command: its arguments, their checks before any work, and the run that measures the
chosen groups, prints the table and writes ``--json``/``--plot``."""

from __future__ import annotations

import json
from typing import Any

from . import newton as bench_newton
from .common import GOALS, Progress
from .cpu import bench_cpu_update, size_label
from .exit import bench_exit_release
from .creation import bench_creation_overhead
from .diagnostics import bench_owner_counts_per_frame
from .frame import bench_frame_overhead
from .gpu import bench_gpu
from .plot import measure_curves, plot, plot_suffixes
from .registry import bench_track_release
from .report import machine, parent, print_table

__all__ = ["GROUPS", "add_arguments", "check_arguments", "main"]


GROUPS = ("registry", "exit", "frame", "cpu", "gpu", "newton")


def _groups(text: str) -> tuple[str, ...]:
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [part for part in chosen if part not in GROUPS]
    if unknown or not chosen:
        import argparse  # noqa: PLC0415

        raise argparse.ArgumentTypeError(f"choose from {', '.join(GROUPS)}; got {text!r}")
    return chosen


def add_arguments(parser) -> None:
    parser.add_argument("--quick", action="store_true", help="small sizes and few repeats (a smoke test)")
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON")
    parser.add_argument("--plot", metavar="PATH", help="plot time against N (needs matplotlib: pip install '.[plot]')")
    parser.add_argument("--only", metavar="GROUPS", type=_groups, default=GROUPS,
                        help=f"comma-separated subset of {','.join(GROUPS)} (default all)")
    parser.add_argument("--device", default=None, help="CUDA device for the GPU keys (default cuda:0 when present)")


def check_arguments(args) -> str | None:
    """What can be checked before the long run: ``--json`` and ``--plot`` can be written (their
    directories are made), ``--plot`` has matplotlib and a format it writes, ``--device`` is a
    CUDA device. Returns the CUDA device for the GPU keys, or None. Raises
    ``argparse.ArgumentTypeError`` naming the option (``__main__`` makes it a usage error)."""
    import argparse  # noqa: PLC0415
    import importlib.util  # noqa: PLC0415

    from .. import cli  # noqa: PLC0415

    if args.json:
        cli.output_file(args.json, "--json", make_parents=True)
    if args.plot:
        if importlib.util.find_spec("matplotlib") is None:
            raise argparse.ArgumentTypeError("--plot needs matplotlib: pip install 'warp-gl-lifecycle[plot]'")
        cli.output_file(args.plot, "--plot", suffixes=plot_suffixes(), make_parents=True)
    if args.device is not None:
        return str(cli.warp_device(args.device, cuda_only=True))
    import warp as wp  # noqa: PLC0415

    cli.warp_device(None)  # initialises Warp
    return "cuda:0" if wp.is_cuda_available() else None


def main(args) -> int:
    """Run the chosen benchmarks, print the table, write ``--json``/``--plot``. Checks every
    argument first (:func:`check_arguments`)."""
    import pyglet  # noqa: PLC0415

    cuda = check_arguments(args)
    pyglet.options["headless"] = True
    window = pyglet.window.Window(32, 32, visible=False)
    quick = args.quick
    repeats = 3 if quick else 5
    update_sizes = [10_000, 100_000] if quick else [100_000, 1_000_000]
    only = args.only

    newton = bench_newton.newton_available()
    steps = {"registry": 1, "exit": 2, "frame": 3, "cpu": len(update_sizes), "gpu": 1 if cuda else 0,
             "newton": 2 if newton else 0}
    progress = Progress(sum(steps[group] for group in only) + (1 if args.plot else 0))
    results: dict[str, Any] = {}
    curves: dict[str, Any] = {"update": {}, "release": {"release_all()": {"n": [], "seconds": []}}}

    if "registry" in only:
        progress.step("track_release_vs_finalize")
        results["track_release_vs_finalize"] = bench_track_release(20_000 if quick else 100_000, repeats)
    if "exit" in only:
        progress.step("exit_release_overhead")
        window.switch_to()
        overhead, scaling, curve = bench_exit_release(1_000 if quick else 10_000, 100 if quick else 1_000, repeats, progress)
        results["exit_release_overhead"], results["exit_release_scaling"] = overhead, scaling
        curves["release"] = {"release_all()": curve}
    if "frame" in only:
        progress.step("frame_overhead")
        results["frame_overhead"] = bench_frame_overhead(5 if quick else 15, repeats, cuda)
        progress.step("owner_counts_per_frame")
        results["owner_counts_per_frame"] = bench_owner_counts_per_frame(10 if quick else 40, repeats, cuda)
        progress.step("creation_overhead")
        results["creation_overhead"] = bench_creation_overhead(quick, repeats)
    window.switch_to()
    for n in update_sizes if "cpu" in only else []:
        progress.step(f"cpu updates at {n}")
        vs_numpy, vs_warp, seconds = bench_cpu_update(n, repeats)
        label = size_label(n)
        results[f"cpu_update_vs_numpy@{label}"] = vs_numpy
        results[f"cpu_update_vs_warp@{label}"] = vs_warp
        for key, value in seconds.items():
            curves["update"].setdefault(f"cpu {key}", {"n": [], "seconds": []})
            curves["update"][f"cpu {key}"]["n"].append(n)
            curves["update"][f"cpu {key}"]["seconds"].append(value)
    if cuda and "gpu" in only:
        progress.step("gpu")
        window.switch_to()
        n = 100_000 if quick else 1_000_000
        results["gpu_kernel_vs_bandwidth"], results["gpu_update_vs_warp"], seconds = bench_gpu(cuda, n, repeats)
        for key, value in seconds.items():
            if key.endswith("_update"):
                label = f"gpu {key[:-7].replace('_', ' ')}"  # "gpu ours auto", "gpu warp"
                curves["update"].setdefault(label, {"n": [], "seconds": []})
                curves["update"][label]["n"].append(n)
                curves["update"][label]["seconds"].append(value)
    elif "gpu" in only:
        for key in ("gpu_kernel_vs_bandwidth", "gpu_update_vs_warp"):
            results[key] = {"goal": GOALS[key], "skipped": "no CUDA device"}
    if "newton" in only:
        for key, bench in (("newton_frame_overhead", lambda: bench_newton.bench_newton_frame_overhead(3 if quick else 10, repeats)),
                           ("newton_cycle_rss", lambda: bench_newton.bench_newton_cycle_rss(2 if quick else 3, 1 if quick else 3))):
            if newton:
                progress.step(key)
                results[key] = bench()
            else:
                results[key] = {"goal": GOALS[key], "skipped": "newton is not installed"}
    if args.plot:
        progress.step("plot curve")
        measure_curves(curves, window, only, quick, cuda, update_sizes)
    progress.finish()
    window.switch_to()
    report = {"machine": machine(), "quick": quick, "results": results,
              **({"curves": curves} if args.plot else {})}  # to plot again elsewhere
    print_table(results)
    if args.json:
        with open(parent(args.json), "w") as file:
            json.dump(report, file, indent=2)
    if args.plot:
        plot(args.plot, curves)
    window.close()
    return 0
