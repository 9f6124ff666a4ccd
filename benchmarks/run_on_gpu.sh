#!/usr/bin/env bash
# The checks that need a CUDA GPU, in one go, for a machine lent with one (see benchmarks/README.md).
# Run from the repository root without installing the project: bash benchmarks/run_on_gpu.sh
# Outputs go to $OUT (default: gpu_results/). Order: the quick CUDA tests first, then the
# throughput benchmark, then MNIST (the long part; EPOCHS to shorten it, MNIST for the folder of
# the IDX files where ../shared/data/mnist is absent).
set -uo pipefail
OUT=${OUT:-gpu_results}
EPOCHS=${EPOCHS:-200}
PYTHON=${PYTHON:-python3}
mkdir -p "$OUT"
export PYTHONPATH=${PYTHONPATH:-$PWD} PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$OUT/gpu.txt" 2>&1
"$PYTHON" -m pytest -q -p no:cacheprovider -rfE -k cuda tests tests/test_partial_fit.py 2>&1 \
    | tee "$OUT/cuda_tests.txt" | tail -3
"$PYTHON" benchmarks/bench_gpu.py --profile 2>&1 | tee "$OUT/bench_gpu.txt"
"$PYTHON" benchmarks/mnist_mlp.py --epochs "$EPOCHS" --device cuda --config shared \
    ${MNIST:+--data "$MNIST"} 2>&1 | tee "$OUT/mnist_mlp.txt"
