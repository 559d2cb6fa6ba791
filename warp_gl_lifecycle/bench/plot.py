"""``bench --plot``: time against N for instance updates and exit release, measured at more sizes than
the keys use, drawn with matplotlib."""

from __future__ import annotations

import numpy as np

from .cpu import bench_cpu_update
from .exit import time_direct_delete, time_release_all
from .gpu import gpu_update_curve
from .report import parent

__all__ = ["measure_curves", "plot", "plot_suffixes"]


def plot(path: str, curves: dict) -> None:
    try:
        import matplotlib  # noqa: PLC0415

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        raise SystemExit("--plot needs matplotlib: pip install 'warp-gl-lifecycle[plot]'") from None
    fig, (updates, release) = plt.subplots(1, 2, figsize=(11, 4.2))
    for axes, panel, title, xlabel in ((updates, "update", "instance update (kernel + upload)", "instances"),
                                        (release, "release", "exit release of tracked instancers", "owners")):
        drawn = [(name, points) for name, points in curves[panel].items() if points["n"]]
        for name, points in drawn:
            axes.loglog(points["n"], [s * 1e3 for s in points["seconds"]], marker="o", label=name)
        axes.set(title=title if drawn else f"{title}: not measured in this run", xlabel=xlabel, ylabel="ms")
        if drawn:
            axes.legend()
    fig.tight_layout()
    fig.savefig(parent(path), dpi=110)


def plot_suffixes() -> tuple[str, ...]:
    from matplotlib.figure import Figure  # noqa: PLC0415

    return tuple(f".{kind}" for kind in Figure().canvas.get_supported_filetypes())


def measure_curves(curves: dict, window, only: tuple[str, ...], quick: bool, cuda: str | None,
                   update_sizes: list[int]) -> None:
    """Add to ``curves`` the sizes the keys did not measure (updates on CPU and ``cuda``, exit release
    of ours and of deletion by hand), for the chosen groups, in ``window``'s context; sorts each curve by N."""
    window.switch_to()
    for n in ([1_000, 10_000] if quick else [1_000, 10_000, 100_000, 1_000_000]) if "cpu" in only else []:
        if n in update_sizes:
            continue
        _, _, seconds = bench_cpu_update(n, 1)
        for key, value in seconds.items():
            entry = curves["update"].setdefault(f"cpu {key}", {"n": [], "seconds": []})
            entry["n"].append(n)
            entry["seconds"].append(value)
    for n in ([1_000, 10_000] if quick else [1_000, 10_000, 100_000]) if cuda and "gpu" in only else []:
        window.switch_to()
        for key, value in gpu_update_curve(cuda, n).items():
            entry = curves["update"].setdefault(f"gpu {key}", {"n": [], "seconds": []})
            entry["n"].append(n)
            entry["seconds"].append(value)
    window.switch_to()
    from ..instancer import default_shape_shader  # noqa: PLC0415

    shader = default_shape_shader()
    release_curve = curves["release"]["release_all()"]
    direct_curve = curves["release"].setdefault("deleted by hand", {"n": [], "seconds": []})
    for n in ([30, 300] if quick else [100, 300, 1_000, 3_000, 10_000]) if "exit" in only else []:
        if n not in release_curve["n"]:
            release_curve["n"].append(n)
            release_curve["seconds"].append(time_release_all(n, shader))
        direct_curve["n"].append(n)
        direct_curve["seconds"].append(time_direct_delete(n, shader))
    shader.delete()
    for entry in [*curves["update"].values(), *curves["release"].values()]:
        order = np.argsort(entry["n"])
        entry["n"] = [entry["n"][i] for i in order]
        entry["seconds"] = [entry["seconds"][i] for i in order]
