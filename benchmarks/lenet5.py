"""LeNet-5-Caffe on MNIST with L0 gates on channels and units (paper, Table 1), in plain torch.

The network of Louizos, Welling & Kingma (ICLR 2018), built from
:mod:`sklearn_l0.nn`: ``L0Conv2d(1, 20, 5)`` - ReLU - max pool -
``L0Conv2d(20, 50, 5)`` - ReLU - max pool - flatten (800) - ``L0Linear(800, 500)``
- ReLU - ``L0Linear(500, 10)``. The convolutions gate their output channels,
the dense layers their input units, so the pruned architecture reads as the
paper writes it: kept channels of each convolution, then kept inputs of each
dense layer (paper: 20-25-45-462 at 0.9% test error with lambda = 0.1/N,
9-18-65-25 at 1.0% with separate lambdas 10, 0.5, 0.1, 10 /N).

Training follows the paper and the authors' code: batch 100, Adam lr 0.001,
initial drop rate 0.5 on every gate, temperature 2/3, the loss
``cross_entropy + sum_l lambda_l * l0_penalty(layer_l)`` with the paper's
per-weight count (a channel costs its filter and bias, a dense input unit its
row of weights), and evaluation with an exponential moving average of the
parameters (beta 0.999, the paper's "Adam with temporal averaging"). The
reference code's L2 term on this network is ``5e-4 / N`` per weight, negligible,
and left out.

``--gate-lr`` gives the gate locations a step of their own, to prune within a
shorter CPU budget than the paper's 200 epochs (the gates move by at most
about one step size per step under Adam).

Every epoch prints the test error of the averaged network, its architecture and
its expected FLOPs. Training stops after ``--epochs`` or once ``--minutes`` of
training have passed. At the end the network is compacted
(:func:`sklearn_l0.nn.compact`) and the script reports the FLOPs of the compact
network against the dense one, and the measured CPU inference speed-up of the
compact network over the dense LeNet-5 (plain layers, the FLOP count's
reference) at batch 1000 against the FLOP reduction (median of ``--repeats``
timed passes of each network, interleaved, one thread, inputs and weights in
torch's channels-last layout, which halves the time of the first convolution
and its pooling on the CPU); the gated network in eval mode is timed alongside.
``--save PATH`` keeps the evaluated network (its ``state_dict``) after training;
``--load PATH`` skips training and redoes the compaction and the timing of a saved
network (give the same ``--config`` or ``--c``).

Run (about an hour on one CPU thread)::

    OMP_NUM_THREADS=1 python benchmarks/lenet5.py --minutes 60

Smoke test::

    python benchmarks/lenet5.py --epochs 1 --n-train 2000
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
from _common import MNIST_DATA, load_mnist

CONFIGS = {
    "shared": {"c": (0.1, 0.1, 0.1, 0.1), "paper": "20-25-45-462, 0.9%"},
    "separate": {"c": (10.0, 0.5, 0.1, 10.0), "paper": "9-18-65-25, 1.0%"},
}


def lenet5(generator):
    from torch import nn

    from sklearn_l0.nn import L0Conv2d, L0Linear

    return nn.Sequential(
        L0Conv2d(1, 20, 5, droprate_init=0.5, generator=generator),
        nn.ReLU(),
        nn.MaxPool2d(2),
        L0Conv2d(20, 50, 5, droprate_init=0.5, generator=generator),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        L0Linear(800, 500, droprate_init=0.5, generator=generator),
        nn.ReLU(),
        L0Linear(500, 10, droprate_init=0.5, generator=generator),
    )


def test_error(model, X, y, batch: int = 1000) -> float:
    import torch

    model.eval()
    wrong = 0
    with torch.no_grad():
        for i in range(0, len(y), batch):
            wrong += int((model(X[i : i + batch]).argmax(1) != y[i : i + batch]).sum())
    return 100.0 * wrong / len(y)


def median_times(fns, x, repeats: int) -> list[float]:
    """Median wall time of each function on ``x``, calls interleaved (noise hits all alike)."""
    import torch

    times = [[] for _ in fns]
    with torch.no_grad():
        for fn in fns:  # warm-up
            fn(x)
        for _ in range(repeats):
            for t, fn in zip(times, fns, strict=True):
                start = time.perf_counter()
                fn(x)
                t.append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=200, help="most epochs (paper: 200)")
    parser.add_argument("--minutes", type=float, default=None, help="training time budget")
    parser.add_argument("--config", choices=list(CONFIGS), default="shared")
    parser.add_argument(
        "--c", nargs=4, type=float, help="lambdas of your own: c / N for each of the 4 layers"
    )
    parser.add_argument("--lr", type=float, default=0.001)
    parser.add_argument(
        "--gate-lr",
        type=float,
        default=None,
        help="Adam step of the gate locations (default: --lr, as in the paper)",
    )
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--ema", type=float, default=0.999, help="0: evaluate raw parameters")
    parser.add_argument("--n-train", type=int, default=None, help="first N training images")
    parser.add_argument("--repeats", type=int, default=20, help="timed inference passes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, default=MNIST_DATA)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--save", type=Path, help="after training, save the network evaluated")
    parser.add_argument(
        "--load", type=Path, help="no training: compact and time a network saved with --save"
    )
    args = parser.parse_args(argv)

    import torch
    import torch.nn.functional as F
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    from sklearn_l0.nn import compact, expected_flops, l0_penalty, sparsity_report

    device = torch.device(args.device)
    X_train, y_train, X_test, y_test = load_mnist(args.data)
    if args.n_train is not None:
        X_train, y_train = X_train[: args.n_train], y_train[: args.n_train]
    X = torch.as_tensor(X_train).view(-1, 1, 28, 28).to(device)
    y = torch.as_tensor(y_train).to(device)
    Xt = torch.as_tensor(X_test).view(-1, 1, 28, 28).to(device)
    yt = torch.as_tensor(y_test).to(device)
    n = len(y)
    if args.c is not None:
        CONFIGS["custom"] = {"c": tuple(args.c), "paper": "-"}
        args.config = "custom"
    lambdas = [c / n for c in CONFIGS[args.config]["c"]]
    print(
        f"LeNet-5-Caffe, MNIST {n} train / {len(yt)} test, config {args.config} "
        f"(lambda = {CONFIGS[args.config]['c']} / N), batch {args.batch_size}, Adam lr "
        f"{args.lr} (gates {args.gate_lr or args.lr}), EMA {args.ema or None}, seed {args.seed}"
    )
    print(
        f"python {platform.python_version()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} torch threads, {os.cpu_count()} CPUs, device {device}"
    )

    generator = torch.Generator().manual_seed(args.seed)
    torch.manual_seed(args.seed)  # the initial weights, as for any torch network
    model = lenet5(generator).to(device)
    gated = [m for m in model if hasattr(m, "gate")]
    dense = compact(lenet5(generator).to(device))  # all gates open: the plain LeNet-5
    dense_flops = expected_flops(dense, (1, 28, 28))
    gate_params = [m.gate.log_alpha for m in gated]
    others = [p for p in model.parameters() if all(p is not g for g in gate_params)]
    optimizer = torch.optim.Adam(
        [{"params": others}, {"params": gate_params, "lr": args.gate_lr or args.lr}], lr=args.lr
    )
    average = (
        AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(args.ema), use_buffers=True)
        if args.ema
        else None
    )
    evaluated = model if average is None else average.module
    order = torch.Generator().manual_seed(args.seed + 1)

    if args.load is not None:
        evaluated.load_state_dict(torch.load(args.load, map_location=device))
    print("\nepoch | train objective | test error (%) | architecture | expected FLOPs | s")
    start, epoch_times, epoch = time.perf_counter(), [], 0
    n_epochs = 0 if args.load is not None else args.epochs  # a loaded network: no training
    for epoch in range(1, n_epochs + 1):
        t0 = time.perf_counter()
        model.train()
        total = 0.0
        for idx in torch.randperm(n, generator=order).split(args.batch_size):
            idx = idx.to(device)
            loss = F.cross_entropy(model(X[idx]), y[idx])
            loss = loss + sum(lam * l0_penalty(m) for lam, m in zip(lambdas, gated, strict=True))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if average is not None:
                average.update_parameters(model)
            total += float(loss.detach()) * len(idx)
        epoch_times.append(time.perf_counter() - t0)
        err = test_error(evaluated, Xt, yt)
        arch = sparsity_report(evaluated).architecture
        flops = expected_flops(evaluated, (1, 28, 28))
        print(
            f"{epoch:5d} | {total / n:15.4f} | {err:14.2f} | {arch:>12} | {flops:14.4g} | "
            f"{epoch_times[-1]:.1f}",
            flush=True,
        )
        if args.minutes is not None and time.perf_counter() - start > 60 * args.minutes:
            break

    if args.save is not None:
        torch.save(evaluated.state_dict(), args.save)
    err = test_error(evaluated, Xt, yt)
    plain = compact(evaluated)
    err_plain = test_error(plain, Xt, yt)
    compact_flops = expected_flops(plain, (1, 28, 28))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    channels_last = torch.channels_last  # the faster layout for CPU convolutions, for all three
    t_dense, t_gated, t_plain = median_times(
        [m.eval().to(memory_format=channels_last) for m in (dense, evaluated, plain)],
        Xt[:1000].contiguous(memory_format=channels_last),
        args.repeats,
    )
    torch.set_num_threads(threads)
    reduction, speedup = dense_flops / compact_flops, t_dense / t_plain
    per_epoch = np.median(epoch_times) if epoch_times else float("nan")
    print(
        f"\nafter {epoch} epochs ({sum(epoch_times):.0f} s of training, "
        f"{per_epoch:.1f} s/epoch): test error {err:.2f}% (compact network "
        f"{err_plain:.2f}%), architecture {sparsity_report(evaluated)} (paper "
        f"{CONFIGS[args.config]['paper']})"
    )
    print(
        f"FLOPs per image: dense {dense_flops:.4g}, compact {compact_flops:.4g} "
        f"({reduction:.2f}x fewer); CPU inference at batch 1000, 1 thread, channels last: "
        "dense network "
        f"{1000 * t_dense:.1f} ms, gated {1000 * t_gated:.1f} ms, compact "
        f"{1000 * t_plain:.1f} ms: {speedup:.2f}x faster than the dense one, "
        f"{speedup / reduction:.3f} of the FLOP reduction ({t_gated / t_plain:.2f}x faster "
        "than the gated one)"
    )
    print("\ncompact network:")
    print(plain)


if __name__ == "__main__":
    main()
