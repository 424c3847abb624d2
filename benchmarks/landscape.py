"""Benchmark: a loss landscape evaluated in one batched call vs one forward pass per grid point.

Usage: python benchmarks/landscape.py [--resolution N] [--repeat R]

Two models, each on the same N × N grid around its trained parameters:
* the from-scratch numpy network of ``neural-network`` (broadcast matrix products), and
* the PyTorch XOR network of ``layer-transformations`` (``functional_call`` + ``vmap``).
The per-point loop is what the notebooks do: set the weights, run the model, read the loss.
Both must give the same values; the script prints times and the speed-up (target ≥ 50×).
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def best_time(fn, repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def numpy_case(resolution: int, kind: str):
    import mlviz
    from mlviz import landscape as ls
    from mlviz_nn import network as nn
    from mlviz_nn.trainer import landscape_loss

    run = mlviz.prepare("neural-network", epochs=200).run
    params = run.snapshots[-1].params
    plane = (ls.random_directions(params, seed=0) if kind == "random" else
             ls.weight_directions(params, ("layer3.weight", (0, 0)), ("layer3.weight", (0, 1))))
    grid = ls.centered_grid(1.0, resolution)
    batched = landscape_loss(run)
    x, targets = run.dataset.X, run.dataset.y[:, None]
    count = len(run.config.layers) - 1

    def one(point):
        weights = [(point[f"layer{k}.weight"], point[f"layer{k}.bias"]) for k in range(1, count + 1)]
        return nn.mse(targets, nn.forward(nn.build(weights, "tanh", "tanh"), x))

    def one_per_sample(point):  # the notebook: one sample at a time
        weights = [(point[f"layer{k}.weight"], point[f"layer{k}.bias"]) for k in range(1, count + 1)]
        layers = nn.build(weights, "tanh", "tanh")
        return sum(nn.mse(t, nn.forward(layers, s[None])) for s, t in zip(x, targets)) / len(x)

    return (lambda: ls.evaluate(batched, params, plane, grid, grid),
            lambda: ls.evaluate_loop(one, params, plane, grid, grid),
            lambda: ls.evaluate_loop(one_per_sample, params, plane, grid, grid[:2]))


def torch_case(resolution: int, kind: str):
    import torch

    import mlviz
    from mlviz import landscape as ls
    from mlviz.torchutil import torch_threads
    from mlviz_layers.trainer import build_model, landscape_loss

    run = mlviz.prepare("layer-transformations", epochs=30).run
    params = run.snapshots[-1].params
    plane = (ls.random_directions(params, seed=0) if kind == "random" else
             ls.weight_directions(params, ("layers.0.weight", (0, 0)), ("layers.0.weight", (0, 1))))
    grid = ls.centered_grid(1.0, resolution)
    batched = landscape_loss(run)
    model = build_model(run.config)
    x = torch.as_tensor(np.array(run.dataset.X), dtype=torch.float32)
    y = torch.as_tensor(np.array(run.dataset.y), dtype=torch.float32)
    loss_fn = torch.nn.functional.binary_cross_entropy_with_logits
    named = dict(model.named_parameters())

    def one(point):
        with torch.no_grad():
            for name, value in point.items():
                named[name].copy_(torch.from_numpy(np.asarray(value, dtype=np.float32)))
            return float(loss_fn(model(x), y))

    def one_per_sample(point):  # the notebook: one sample at a time
        with torch.no_grad():
            for name, value in point.items():
                named[name].copy_(torch.from_numpy(np.asarray(value, dtype=np.float32)))
            return sum(float(loss_fn(model(s[None]), t[None])) for s, t in zip(x, y)) / len(y)

    def loop(rows=grid, one=one):
        with torch_threads(1):
            return ls.evaluate_loop(one, params, plane, grid, rows)

    return (lambda: ls.evaluate(batched, params, plane, grid, grid), loop,
            lambda: loop(grid[:2], one_per_sample))


CASES = (
    ("numpy 2-12-2-1, random plane", numpy_case, "random"),
    ("numpy 2-12-2-1, 2 output weights", numpy_case, "weights"),
    ("torch XOR net, random plane", torch_case, "random"),
    ("torch XOR net, 2 first-layer weights", torch_case, "weights"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=int, default=41)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n = args.resolution
    print(f"{'model, plane':<38}{'grid':>7}{'batched s':>11}{'loop s':>9}{'speed-up':>10}"
          f"{'notebook s':>12}{'speed-up':>10}{'max |Δ|':>10}")
    for label, case, kind in CASES:
        batched, loop, notebook = case(n, kind)
        t_fast, fast = best_time(batched, args.repeat)
        t_slow, slow = best_time(loop, 1)
        t_nb, nb = best_time(notebook, 1)
        t_nb *= n / 2  # measured on 2 of the n grid rows
        diff = max(float(np.max(np.abs(fast.losses - slow.losses))),
                   float(np.max(np.abs(fast.losses[:2] - nb.losses))))
        print(f"{label:<38}{f'{n}×{n}':>7}{t_fast:>11.4f}{t_slow:>9.3f}{t_slow / t_fast:>9.0f}×"
              f"{t_nb:>12.1f}{t_nb / t_fast:>9.0f}×{diff:>10.1e}", flush=True)
    print("loop: one forward pass over all the data per grid point. notebook: one forward pass "
          "per grid point and per sample, as in the reference notebooks (timed on 2 grid rows, "
          "scaled to the whole grid). max |Δ|: largest difference between the methods' losses.")


if __name__ == "__main__":
    main()
