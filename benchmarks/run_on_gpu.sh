#!/usr/bin/env bash
# The checks that need a CUDA GPU, in one go, for a machine lent with one (see benchmarks/README.md).
# Run from the repository root without installing the project: PYTHONPATH=. bash benchmarks/run_on_gpu.sh
# Outputs go to $OUT (default: gpu_results/). Order: the quick CUDA tests first, then the
# throughput benchmark, then MNIST (the long part; --epochs to shorten it).
set -uo pipefail
OUT=${OUT:-gpu_results}
EPOCHS=${EPOCHS:-200}
mkdir -p "$OUT"
export PYTHONPATH=${PYTHONPATH:-.}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$OUT/gpu.txt" 2>&1
python -m pytest -q -p no:cacheprovider -k cuda tests 2>&1 | tee "$OUT/cuda_tests.txt" | tail -3
python benchmarks/bench_gpu.py 2>&1 | tee "$OUT/bench_gpu.txt"
python benchmarks/mnist_mlp.py --epochs "$EPOCHS" --device cuda 2>&1 | tee "$OUT/mnist_mlp.txt"
