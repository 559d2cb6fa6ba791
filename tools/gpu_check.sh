#!/usr/bin/env bash
# Everything this project checks on a lent GPU machine, in one call (see ../shared/device/README.md):
# the cuda-marked tests, the GPU benchmark keys, the probe of alternatives and the demo on CUDA.
# Run from the project root on that machine after device call 1; results land in $OUT.
set -u
source .dev/b/setup.sh || exit 1
out=${OUT:-/tmp/out}
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"
step() { echo "== $1 ($(date +%T))"; }
step "cuda tests"
timeout 200 python3 -m pytest -q -m cuda -p no:cacheprovider tests \
    2>&1 | tee "$out/cuda.log" | tail -30
step "bench gpu"
timeout 100 python3 -m warp_gl_lifecycle bench --only gpu --json "$out/bench_gpu.json" 2>&1 | tee "$out/bench_gpu.log" | tail -8
step "probe"
timeout 100 python3 tools/gpu_probe.py --json "$out/probe.json" 2>&1 | tee "$out/probe.log"
step "60 renderer cycles: Warp alone (WGL_IMPORT=0), with the package, plain pyglet windows"
WGL_IMPORT=0 WGL_DEVICE=cuda:0 WGL_CYCLES=60 timeout 60 python3 tests/scenarios/warp_renderer_30_cycles.py 2>&1 | grep -E "FIGURES|Error" | tail -3
WGL_PLAIN=1 WGL_DEVICE=cuda:0 WGL_CYCLES=60 timeout 60 python3 tests/scenarios/warp_renderer_30_cycles.py 2>&1 | grep -E "FIGURES|Error" | tail -3
WGL_DEVICE=cuda:0 WGL_CYCLES=60 timeout 60 python3 tests/scenarios/warp_renderer_30_cycles.py 2>&1 | grep -E "FIGURES|Error" | tail -3
WGL_PLAIN=1 WGL_DEVICE=cuda:0 WGL_CYCLES=60 timeout 60 python3 tests/scenarios/warp_renderer_30_cycles.py 2>&1 | grep -E "FIGURES|Error" | tail -3
step "doctor"
timeout 30 python3 -m warp_gl_lifecycle doctor 2>&1 | tail -15
step "demo"
timeout 45 python3 -m warp_gl_lifecycle demo --out "$out/demo.png" 2>&1 | tail -12
timeout 45 python3 -m warp_gl_lifecycle demo --interop shared --out "$out/demo-shared.png" 2>&1 | tail -12
step "bench frame"
timeout 60 python3 -m warp_gl_lifecycle bench --only frame --json "$out/bench_frame.json" 2>&1 | tail -4
step "done"
