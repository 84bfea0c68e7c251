"""Benchmark: one SGD training step of the volume model at 300x600, batch 1, float32 vs bf16.

Run from the repository root: .venv/bin/python -m tests.benchmarks.train_step [--steps 5]
Each precision gets a fresh model compiled exactly as models/training.py does (BCE, SGD with
momentum and decoupled weight decay); a few warm-up steps (tracing, oneDNN primitive
creation) are discarded, then ``--steps`` steps are timed with ``train_on_batch``. Prints the
median and mean seconds per step for each precision and their ratio (float32 / bf16).
Target from the issue: mixed_bfloat16 <= 1.5 s per step on the project's CPU.
"""

from __future__ import annotations

import argparse
import os
import time

import keras
import numpy as np
import tensorflow as tf

from models.training import HEADS, build_model, compile_model


def forward_flops(model: keras.Model) -> float:
    """Multiply-adds x 2 of the model's convolutions for one image (the forward pass)."""
    total = 0.0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2DTranspose):
            _, h, w, _ = layer.input.shape
        elif isinstance(layer, keras.layers.Conv2D):
            _, h, w, _ = layer.output.shape
        else:
            continue
        total += 2.0 * h * w * float(np.prod(layer.kernel.shape))
    return total


def time_steps(precision: str, height: int, width: int, outputs: int, warmup: int,
               steps: int) -> list[float]:
    """Seconds of each timed training step for one precision."""
    keras.utils.set_random_seed(0)
    model = build_model(outputs, height, width, precision)
    compile_model(model, HEADS["volume"]["lr"])
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (1, height, width, 3)).astype(np.float32)
    y = rng.uniform(0, 1, (1, height, width, outputs)).astype(np.float32)
    for _ in range(warmup):
        model.train_on_batch(x, y)
    times = []
    for _ in range(steps):
        began = time.perf_counter()
        loss = model.train_on_batch(x, y)
        times.append(time.perf_counter() - began)
    if not np.isfinite(float(np.asarray(loss).reshape(-1)[0])):
        raise SystemExit(f"{precision}: loss is not finite")
    return times


def main() -> None:
    """Time both precisions in one run and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--height", type=int, default=300)
    parser.add_argument("--width", type=int, default=600)
    parser.add_argument("--outputs", type=int, default=12, help="12 (volume) or 1 (map)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, {os.cpu_count()} CPUs, "
          f"threads intra={tf.config.threading.get_intra_op_parallelism_threads()} "
          f"inter={tf.config.threading.get_inter_op_parallelism_threads()}")
    print(f"input {args.height}x{args.width}, batch 1, {args.outputs} outputs, "
          f"{args.warmup} warm-up + {args.steps} timed steps")
    flops = 3 * forward_flops(build_model(args.outputs, args.height, args.width))
    print(f"forward {flops / 3e9:.0f} GFLOP; a training step ~3x forward = {flops / 1e9:.0f} GFLOP")
    results = {}
    for precision in ("float32", "mixed_bfloat16"):
        times = time_steps(precision, args.height, args.width, args.outputs, args.warmup,
                           args.steps)
        results[precision] = float(np.median(times))
        print(f"{precision:>15}: median {np.median(times):.3f} s/step, mean {np.mean(times):.3f}"
              f" (min {min(times):.3f}, max {max(times):.3f}), "
              f"~{flops / np.median(times) / 1e9:.0f} GFLOP/s")
    ratio = results["float32"] / results["mixed_bfloat16"]
    print(f"float32 / mixed_bfloat16 = {ratio:.2f}x; bf16 target <= 1.5 s/step: "
          f"{'met' if results['mixed_bfloat16'] <= 1.5 else 'NOT met'} (needs "
          f"~{flops / 1.5 / 1e9:.0f} GFLOP/s)")


if __name__ == "__main__":
    main()
