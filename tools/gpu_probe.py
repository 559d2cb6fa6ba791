"""Measures, on a CUDA machine, the alternatives the instancer's CUDA path chose between.

Not part of the package: the benchmark reports the shipped path, this script the roads not taken,
so that the choice can be checked again on another GPU or driver. Run from the project root with
``PYGLET_HEADLESS=true python tools/gpu_probe.py [N] [--json PATH]``. It prints one line per
measurement and, with ``--json``, writes them all.

* kernels: one thread per instance (16 scattered stores per thread), one per matrix row (4: the shipped one), one
  per float (1, fully coalesced but 16 times the instructions), Warp's ``update_vbo_transforms``; device copies of
  half and all of the kernel's bytes for scale.
* interop: map + unmap of a 64 B x N GL buffer by buffer kind (``glBufferData`` usage hints,
  immutable ``glBufferStorage``), registration flags (``WRITE_DISCARD``, ``NONE``) and size; where
  the device time of an update goes (map, kernel, unmap, by CUDA events); what glFlush, glFinish,
  a stream sync, another current context or several kernels under one mapping change; whether
  GL could import CUDA memory instead (``GL_EXT_memory_object_fd``).
* shared memory (``warp_gl_lifecycle.shared_buffer``): GL reads what CUDA wrote; an update with
  no map, with a GL fence round trip before it, with a glFinish before it.
* frames: update + instanced draw + ``glFinish``: ours (shared, and ``interop="map"``), Warp's.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import statistics
import sys
from typing import Callable

import numpy as np
import pyglet

pyglet.options["headless"] = True
import warp as wp  # noqa: E402
from pyglet import gl  # noqa: E402

from warp_gl_lifecycle.bench import cpu as bench_cpu, gpu as bench_gpu  # noqa: E402
from warp_gl_lifecycle.kernels import instance_matrices, instance_matrix_rows  # noqa: E402
from warp_gl_lifecycle.warp_compat import quiet_warp, warp_update_vbo_transforms  # noqa: E402


@wp.kernel
def matrix_elements(
    transforms: wp.array(dtype=wp.transform),
    scalings: wp.array(dtype=wp.vec3),
    out: wp.array(dtype=wp.float32),
):
    """One thread per float (16 per instance), one store each; same output as the others."""
    t = wp.tid()
    i = t >> 4
    r = (t >> 2) & 3
    c = t & 3
    x = transforms[i]
    s = scalings[i]
    axis = wp.vec3(wp.where(r == 0, 1.0, 0.0), wp.where(r == 1, 1.0, 0.0), wp.where(r == 2, 1.0, 0.0))
    scale = wp.where(r == 0, s[0], wp.where(r == 1, s[1], s[2]))
    column = wp.quat_rotate(wp.transform_get_rotation(x), axis) * scale
    last = 0.0
    if r == 3:
        column = wp.transform_get_translation(x)
        last = 1.0
    out[t] = wp.where(c == 0, column[0], wp.where(c == 1, column[1], wp.where(c == 2, column[2], last)))


results: dict[str, float] = {}


def report(key: str, seconds: list[float]) -> None:
    results[key] = round(statistics.median(seconds) * 1e3, 4)
    print(f"{key:<52} {results[key]:>9.4f} ms  (min {min(seconds) * 1e3:.4f}, max {max(seconds) * 1e3:.4f})", flush=True)


def kernels(device: str, n: int, repeats: int) -> None:
    transforms = wp.array(bench_cpu.random_transforms(n), dtype=wp.transform, device=device)
    scalings = wp.array(np.random.default_rng(1).uniform(0.5, 2, (n, 3)).astype(np.float32), dtype=wp.vec3, device=device)
    flat = wp.empty(16 * n, dtype=wp.float32, device=device)
    matrices = wp.empty(n, dtype=wp.mat44, device=device)
    ids = wp.array(np.arange(n, dtype=np.int32), dtype=wp.int32, device=device)
    moved = n * 104
    half = wp.empty(moved // 8, dtype=wp.float32, device=device), wp.empty(moved // 8, dtype=wp.float32, device=device)
    full = wp.empty(moved // 4, dtype=wp.float32, device=device), wp.empty(moved // 4, dtype=wp.float32, device=device)
    rec = {"device": device, "record_cmd": True}
    cases = {
        "kernel per instance": wp.launch(instance_matrices, dim=n, inputs=[transforms, scalings], outputs=[matrices], **rec).launch,
        "kernel per row (shipped)": wp.launch(instance_matrix_rows, dim=4 * n, inputs=[transforms, scalings], outputs=[flat], **rec).launch,
        "kernel per float": wp.launch(matrix_elements, dim=16 * n, inputs=[transforms, scalings], outputs=[flat], **rec).launch,
        "kernel warp update_vbo_transforms": wp.launch(
            warp_update_vbo_transforms(), dim=n, inputs=[ids, None, transforms, scalings, None], outputs=[matrices], **rec
        ).launch,
        "copy of half the kernel's bytes": lambda: wp.copy(half[1], half[0]),
        "copy of all the kernel's bytes": lambda: wp.copy(full[1], full[0]),
    }
    for name, fn in cases.items():
        report(f"{name} @{n}", [bench_gpu.gpu_seconds(device, fn) for _ in range(repeats)])
    # the three of ours agree
    wp.launch(instance_matrices, dim=n, inputs=[transforms, scalings], outputs=[matrices], device=device)
    reference = matrices.numpy().reshape(n, 16)
    for kernel, dim in ((instance_matrix_rows, 4 * n), (matrix_elements, 16 * n)):
        wp.launch(kernel, dim=dim, inputs=[transforms, scalings], outputs=[flat], device=device)
        error = float(np.abs(flat.numpy().reshape(n, 16) - reference).max())
        print(f"{kernel.key} max |difference| from per-instance kernel: {error:.3g}", flush=True)
        results[f"{kernel.key} max error"] = error


def make_buffer(nbytes: int, kind: str) -> int:
    buffer = gl.GLuint()
    gl.glGenBuffers(1, buffer)
    gl.glBindBuffer(gl.GL_ARRAY_BUFFER, buffer)
    if kind == "storage":
        gl.glBufferStorage(gl.GL_ARRAY_BUFFER, nbytes, None, 0)
    else:
        gl.glBufferData(gl.GL_ARRAY_BUFFER, nbytes, None, {"dynamic": gl.GL_DYNAMIC_DRAW, "stream": gl.GL_STREAM_DRAW, "static": gl.GL_STATIC_DRAW}[kind])
    gl.glBindBuffer(gl.GL_ARRAY_BUFFER, 0)
    return buffer.value


def interop(device: str, n: int, repeats: int) -> None:
    for kind in ("dynamic", "stream", "storage"):
        for flags_name in ("WRITE_DISCARD", "NONE"):
            buffer = make_buffer(64 * n, kind)
            registration = wp.RegisteredGLBuffer(buffer, device, getattr(wp.RegisteredGLBuffer, flags_name), fallback_to_copy=False)

            def map_unmap(registration=registration) -> None:
                registration.map(dtype=wp.float32, shape=(16 * n,))
                registration.unmap()

            report(f"map+unmap {kind} {flags_name} @{n}", [bench_gpu.wall_seconds(device, map_unmap) for _ in range(repeats)])
            del registration
            gl.glDeleteBuffers(1, gl.GLuint(buffer))


def interop_costs(device: str, n: int, repeats: int) -> None:
    """Where the map + unmap time goes, and what changes it."""
    transforms = wp.array(bench_cpu.random_transforms(n), dtype=wp.transform, device=device)
    scalings = wp.ones(n, dtype=wp.vec3, device=device)
    flags = wp.RegisteredGLBuffer.WRITE_DISCARD
    for size in (1_000, 100_000, n):
        buffer = make_buffer(64 * size, "dynamic")
        registration = wp.RegisteredGLBuffer(buffer, device, flags, fallback_to_copy=False)

        def map_unmap(registration=registration, size=size) -> None:
            registration.map(dtype=wp.float32, shape=(16 * size,))
            registration.unmap()

        report(f"map+unmap by size @{size}", [bench_gpu.wall_seconds(device, map_unmap) for _ in range(repeats)])
        del registration
        gl.glDeleteBuffers(1, gl.GLuint(buffer))
    buffer = make_buffer(64 * n, "dynamic")
    registration = wp.RegisteredGLBuffer(buffer, device, flags, fallback_to_copy=False)
    out = registration.map(dtype=wp.float32, shape=(16 * n,))
    launch = wp.launch(instance_matrix_rows, dim=4 * n, inputs=[transforms, scalings], outputs=[out], device=device, record_cmd=True)
    registration.unmap()
    stream = wp.get_stream(device)
    events = [wp.Event(device, enable_timing=True) for _ in range(4)]
    phases: dict[str, list[float]] = {"map": [], "kernel": [], "unmap": []}
    for _ in range(50):
        stream.record_event(events[0])
        launch.set_param_at_index(2, registration.map(dtype=wp.float32, shape=(16 * n,)))
        stream.record_event(events[1])
        launch.launch()
        stream.record_event(events[2])
        registration.unmap()
        stream.record_event(events[3])
        wp.synchronize_event(events[3])
        for key, (a, b) in zip(phases, ((0, 1), (1, 2), (2, 3))):
            phases[key].append(wp.get_event_elapsed_time(events[a], events[b]) / 1e3)
    for key, values in phases.items():
        report(f"update phase (device events) {key} @{n}", values)

    def update(before=None, after=None) -> Callable[[], None]:
        def run() -> None:
            if before:
                before()
            launch.set_param_at_index(2, registration.map(dtype=wp.float32, shape=(16 * n,)))
            launch.launch()
            registration.unmap()
            if after:
                after()

        return run

    report(f"update map+kernel+unmap @{n}", [bench_gpu.wall_seconds(device, update()) for _ in range(repeats)])
    report(f"update then glFlush @{n}", [bench_gpu.wall_seconds(device, update(after=gl.glFlush)) for _ in range(repeats)])
    report(f"glFinish then update @{n}", [bench_gpu.wall_seconds(device, update(before=gl.glFinish)) for _ in range(repeats)])
    report(f"update then stream sync @{n}", [bench_gpu.wall_seconds(device, update(after=lambda: wp.synchronize_stream(stream))) for _ in range(repeats)])

    def ten_under_one_mapping() -> None:
        launch.set_param_at_index(2, registration.map(dtype=wp.float32, shape=(16 * n,)))
        for _ in range(10):
            launch.launch()
        registration.unmap()

    report(f"10 kernels under one map+unmap, per kernel @{n}",
           [bench_gpu.wall_seconds(device, ten_under_one_mapping) / 10 for _ in range(repeats)])
    window = gl.current_context
    other = pyglet.window.Window(16, 16, visible=False)  # another context current while mapping
    report(f"map+unmap with another context current @{n}",
           [bench_gpu.wall_seconds(device, lambda: (registration.map(dtype=wp.float32, shape=(16 * n,)), registration.unmap())) for _ in range(repeats)])
    other.close()
    window.set_current()
    del registration
    gl.glDeleteBuffers(1, gl.GLuint(buffer))


def extensions(device: str, n: int, repeats: int) -> None:
    """Whether GL could import CUDA memory (EXT_memory_object_fd), which needs no map per update."""
    info = gl.current_context.get_info()
    for name in ("GL_EXT_memory_object", "GL_EXT_memory_object_fd", "GL_EXT_semaphore", "GL_EXT_semaphore_fd",
                 "GL_NV_gpu_multicast", "GL_ARB_buffer_storage"):
        results[name] = info.have_extension(name)
        print(f"{name:<30} {'yes' if results[name] else 'no'}", flush=True)
    for fn in ("glCreateMemoryObjectsEXT", "glImportMemoryFdEXT", "glNamedBufferStorageMemEXT", "glBufferStorageMemEXT"):
        print(f"pyglet.gl.{fn:<27} {'yes' if hasattr(gl, fn) else 'no'}", flush=True)


def external_memory(device: str, n: int, repeats: int) -> None:
    """The shipped SharedBuffer (CUDA memory imported by GL): GL reads what CUDA wrote, and what
    an update costs with a host sync after it, and with a GL fence waited on before it."""
    from warp_gl_lifecycle.shared_buffer import SharedBuffer  # noqa: PLC0415

    shared = SharedBuffer(64 * n, wp.get_device(device))
    print(repr(shared), flush=True)
    transforms = wp.array(bench_cpu.random_transforms(n), dtype=wp.transform, device=device)
    scalings = wp.ones(n, dtype=wp.vec3, device=device)
    out = shared.array(wp.float32, 16 * n)
    launch = wp.launch(instance_matrix_rows, dim=4 * n, inputs=[transforms, scalings], outputs=[out], device=device, record_cmd=True)
    launch.launch()
    shared.written()
    count = min(n, 100_000)
    readback = np.empty((count, 16), np.float32)
    gl.glBindBuffer(gl.GL_ARRAY_BUFFER, shared.gl_buffer)
    gl.glGetBufferSubData(gl.GL_ARRAY_BUFFER, 0, readback.nbytes, readback.ctypes.data)
    gl.glBindBuffer(gl.GL_ARRAY_BUFFER, 0)
    same = bool(np.array_equal(readback, out.numpy().reshape(n, 16)[:count]))
    print(f"GL reads what CUDA wrote: {same} (first {count} instances)", flush=True)
    results["shared buffer GL reads CUDA writes"] = same

    def update() -> None:
        launch.launch()
        shared.written()

    def fenced_update() -> None:  # a GL round trip first, as a map does
        fence = gl.glFenceSync(gl.GL_SYNC_GPU_COMMANDS_COMPLETE, 0)
        gl.glClientWaitSync(fence, gl.GL_SYNC_FLUSH_COMMANDS_BIT, 10**9)
        gl.glDeleteSync(fence)
        update()

    def finished_update() -> None:  # glFinish with nothing drawn, as after an idle frame
        gl.glFinish()
        update()

    report(f"shared: kernel + stream sync @{n}", [bench_gpu.wall_seconds(device, update) for _ in range(repeats)])
    report(f"shared: GL fence wait + kernel + sync @{n}", [bench_gpu.wall_seconds(device, fenced_update) for _ in range(repeats)])
    report(f"shared: glFinish + kernel + sync @{n}", [bench_gpu.wall_seconds(device, finished_update) for _ in range(repeats)])
    del out, launch
    shared.release()
    gl.glDeleteBuffers(1, gl.GLuint(shared.gl_buffer))


def frames(device: str, n: int, repeats: int) -> None:
    updates = bench_gpu.GpuUpdates(device, n)
    for mode, why in updates.unavailable.items():
        print(f"ours interop={mode} unavailable: {why}", flush=True)

    def frame(update, instancer) -> Callable[[], None]:
        def run() -> None:
            update()
            instancer.render()
            gl.glFinish()

        return run

    for mode, instancer in updates.ours.items():
        report(f"frame ours interop={mode} (update+draw+glFinish) @{n}",
               [bench_gpu.wall_seconds(device, frame(updates.update(mode), instancer)) for _ in range(repeats)])
    report(f"frame warp (update+draw+glFinish) @{n}",
           [bench_gpu.wall_seconds(device, frame(updates.warp_update, updates.theirs)) for _ in range(repeats)])
    updates.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args()
    quiet_warp()
    wp.init()
    if not wp.is_cuda_available():
        print("no CUDA device: nothing to probe", file=sys.stderr)
        return 1
    window = pyglet.window.Window(64, 64, visible=False)
    device = "cuda:0"
    print(wp.get_device(device).name, ctypes.string_at(gl.glGetString(gl.GL_RENDERER)).decode(), flush=True)
    for part in (kernels, interop, interop_costs, extensions, external_memory, frames):
        window.switch_to()
        try:
            part(device, args.n, args.repeats)
        except Exception as exc:  # noqa: BLE001 - one failed part must not hide the others' figures
            print(f"{part.__name__} failed: {type(exc).__name__}: {exc}", flush=True)
    if args.json:
        with open(args.json, "w") as file:
            json.dump(results, file, indent=2)
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
