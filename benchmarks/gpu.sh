#!/usr/bin/env bash
# On a machine with a GPU: every figure of the README's GPU row in one command, in under 5 minutes.
#
#   bash benchmarks/gpu.sh
#
# 1. frame times at 1920x1080 and 3840x2160 for 10k, 100k and 1M spheres, the full look and bare,
#    as the README's table (`metamorph bench --markdown`, its caption naming the GPU);
# 2. the capture pipeline's frames a second at 4K (render, encode and both overlapped);
# 3. the tiny diffusers pipeline's steps a second on CUDA against the CPU.
# It sets up .venv as the README's test command does when it is missing (torch: the build for
# this machine's GPU must be installed first, see the README's diffusers section).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
    .venv/bin/pip install --quiet -e '.[diffusion,test]'
fi
# A GPU machine without a display: EGL on the GPU's own driver, not a window.
export SDL_VIDEODRIVER=offscreen PYOPENGL_PLATFORM=egl
echo "== the renderer (metamorph bench --markdown)"
timeout 150 .venv/bin/python -m installation bench --markdown --seconds 1
echo "== the capture pipeline at 4K (benchmarks/capture.py)"
timeout 90 .venv/bin/python benchmarks/capture.py --frames 60
echo "== the tiny diffusers pipeline (benchmarks/diffusers_cuda.py)"
timeout 60 .venv/bin/python benchmarks/diffusers_cuda.py
