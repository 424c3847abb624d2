"""Benchmarks of mlviz.watch (issue 21), each measured in this whole process.

    python benchmarks/watch_bench.py [overhead|landscape|points|memory|all]

* overhead: ``recorder.epoch`` per epoch against the training loop alone (MLP on moons and
  the digits CNN), median of interleaved repeats.
* landscape: the moons MLP, then the digits CNN (22,602 parameters, all 1,797 images), on
  a 31 x 31 grid:
  ours (:mod:`mlviz.watch.gridloss`: the leading affine layer combined from three passes,
  then ``vmap`` or point by point, whichever a probe finds faster) against one full
  forward pass per grid point, sequentially (tomgoldstein/loss-landscape's method, without
  its MPI), on the same data, interleaved row by row; then the whole ``save`` of an
  8-epoch watched run.
* points: one grid point of the digits CNN, ours against one plain pass, and the parts of
  each that matter (the plain pass's first convolution and max-pool, which ours removes,
  and the second convolution, which both keep), interleaved.
* memory: 10,000 epochs with the default budget: the recorder's bytes and the process's
  peak traced memory at 1,000, 5,000 and 10,000 epochs.

Prints one line per measurement and the load average (the machine is shared). PyTorch
uses WATCH_THREADS threads (default 1: on a shared 2-core machine two threads contend).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import torch

import mlviz


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def digits():
    from sklearn.datasets import load_digits

    data = load_digits()
    return (torch.tensor(data.images[:, None] / 16.0, dtype=torch.float32),
            torch.tensor(data.target))


def digits_cnn(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(128, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))


def moons():
    from sklearn.datasets import make_moons

    X, y = make_moons(400, noise=0.2, random_state=0)
    return torch.tensor(X, dtype=torch.float32), torch.tensor(y)


def mlp(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(2, 32), torch.nn.Tanh(), torch.nn.Linear(32, 32),
                               torch.nn.Tanh(), torch.nn.Linear(32, 2))


def train(model, X, y, epochs, batch, recorder=None, lr=0.05):
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    start = time.perf_counter()
    for _ in range(epochs):
        for i in range(0, len(X), batch):
            opt.zero_grad()
            loss = loss_fn(model(X[i:i + batch]), y[i:i + batch])
            loss.backward()
            opt.step()
        if recorder is not None:
            recorder.epoch(loss=loss)
    return time.perf_counter() - start


def overhead() -> None:
    for name, data, make, epochs, batch in (("moons MLP", moons(), mlp, 60, 50),
                                            ("digits CNN", digits(), digits_cnn, 4, 128)):
        X, y = data
        plain, watched = [], []
        for _ in range(3):  # interleaved, so load changes hit both alike
            plain.append(train(make(), X, y, epochs, batch) / epochs)
            model = make()
            recorder = mlviz.watch(model, data=(X, y), loss=torch.nn.CrossEntropyLoss())
            watched.append(train(model, X, y, epochs, batch, recorder) / epochs)
        p, w = np.median(plain), np.median(watched)
        model = make()
        recorder = mlviz.watch(model, data=(X, y), loss=torch.nn.CrossEntropyLoss())
        train(model, X, y, 1, batch)  # gradients are present, as in a loop
        start = time.perf_counter()
        for _ in range(200):
            recorder.epoch(loss=0.5)
        call = (time.perf_counter() - start) / 200
        print(f"overhead {name}: loop {1e3 * p:.2f} ms/epoch, with recorder.epoch "
              f"{1e3 * w:.2f} ms/epoch: {1e3 * (w - p):+.2f} ms ({100 * (w - p) / p:+.1f}%); "
              f"one recorder.epoch call alone {1e3 * call:.3f} ms; {load()}", flush=True)


def landscape() -> None:
    for name, data, make, batch, lr in (("moons MLP", moons(), mlp, 50, 0.05),
                                        ("digits CNN", digits(), digits_cnn, 128, 0.02)):
        grid_versus_loop(name, data, make, batch, lr)


def grid_versus_loop(name, data, make, batch, lr) -> None:
    from mlviz.watch.compute import grid_axes, pca_plane
    from mlviz.watch.gridloss import BatchedLoss, PlanePoints

    X, y = data
    model = make()
    loss_fn = torch.nn.CrossEntropyLoss()
    recorder = mlviz.watch(model, data=(X, y), loss=loss_fn)
    train(model, X, y, 8, batch, recorder, lr=lr)
    params = sum(p.numel() for p in model.parameters())
    _, rows = recorder.trace.kept()
    plane = pca_plane(rows)
    alphas, betas = grid_axes(plane.coords, 31)
    a, b = np.meshgrid(alphas, betas)
    coords = np.column_stack([a.ravel(), b.ravel()])
    base = torch.as_tensor(plane.origin, dtype=torch.float32)
    dirs = torch.as_tensor(plane.directions, dtype=torch.float32)

    # Ours and the sequential method interleaved grid row by grid row, so changes of the
    # (shared) machine's load hit both alike; ours' setup is counted in its time.
    start = time.perf_counter()
    batched_loss = BatchedLoss(model, loss_fn, X, y)
    t_batched = time.perf_counter() - start
    clone = make().eval()
    t_sequential = 0.0
    batched, sequential = [], []
    for row in np.split(coords, 31):
        start = time.perf_counter()
        batched.append(batched_loss(PlanePoints(base, dirs, row)))
        t_batched += time.perf_counter() - start
        start = time.perf_counter()
        with torch.no_grad():
            for ca, cb in row:
                point = base + float(ca) * dirs[0] + float(cb) * dirs[1]
                torch.nn.utils.vector_to_parameters(point, clone.parameters())
                sequential.append(float(loss_fn(clone(X), y)))
        t_sequential += time.perf_counter() - start
    batched, sequential = np.concatenate(batched), np.array(sequential)
    error = float(np.max(np.abs(batched - sequential) / np.maximum(np.abs(sequential), 1e-12)))
    print(f"landscape {name} ({params:,} parameters, {len(X):,} samples, 31x31 grid = "
          f"{31 * 31 * len(X):,} sample-forwards): ours {t_batched:.2f} s (chunk "
          f"{batched_loss.chunk} points, {'vmap' if batched_loss.vectorized else 'point by point'}), sequential {t_sequential:.2f} s: "
          f"{t_sequential / t_batched:.1f}x; max relative difference {error:.1e}; {load()}",
          flush=True)

    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        recorder.save(Path(folder) / "run.npz")
        print(f"save of the watched {name} (8 epochs, 31x31 landscape, frames of "
              f"activations): {time.perf_counter() - start:.2f} s; {load()}", flush=True)


def points() -> None:
    """Per grid point of the digits CNN, interleaved: ours, one plain pass, and the parts
    of each (the plain pass's first convolution and max-pool, the second convolution)."""
    import torch.nn.functional as F

    from mlviz.watch.gridloss import BatchedLoss, PlanePoints

    X, y = digits()
    model, loss_fn = digits_cnn(), torch.nn.CrossEntropyLoss()
    base = torch.nn.utils.parameters_to_vector(model.parameters()).detach()
    dirs = torch.randn(2, len(base), generator=torch.Generator().manual_seed(0)) * 0.01
    coords = np.column_stack([np.linspace(-1, 1, 31), np.zeros(31)])
    ours = BatchedLoss(model, loss_fn, X, y)
    ours(PlanePoints(base, dirs, coords[:1]))  # warm: the leading layer's passes, buffers
    rows = base + torch.as_tensor(coords, dtype=torch.float32) @ dirs
    h = torch.relu(torch.randn(len(X), 16, 4, 4))
    weight, bias = model[3].weight.detach(), model[3].bias.detach()
    clone = digits_cnn().eval()
    times = dict.fromkeys(("ours", "plain pass", "its first conv", "its first pool",
                           "second conv (NCHW)", "second conv (channels-last)"), 0.0)
    with torch.no_grad():
        for k in range(31):
            start = time.perf_counter()
            ours(PlanePoints(base, dirs, coords[k:k + 1]))
            times["ours"] += time.perf_counter() - start
            start = time.perf_counter()
            torch.nn.utils.vector_to_parameters(rows[k], clone.parameters())
            float(loss_fn(clone(X), y))
            times["plain pass"] += time.perf_counter() - start
            start = time.perf_counter()
            a = clone[0](X)
            times["its first conv"] += time.perf_counter() - start
            start = time.perf_counter()
            clone[2](clone[1](a))
            times["its first pool"] += time.perf_counter() - start
            for name, x in (("second conv (NCHW)", h),
                            ("second conv (channels-last)",
                             h.contiguous(memory_format=torch.channels_last))):
                start = time.perf_counter()
                F.conv2d(x, weight, bias, padding=1)
                times[name] += time.perf_counter() - start
    print("per grid point of the digits CNN: " + ", ".join(
        f"{name} {1e3 * t / 31:.2f} ms" for name, t in times.items()) + f"; {load()}")


def memory() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(2, 32), torch.nn.Tanh(), torch.nn.Linear(32, 2))
    X, y = moons()
    recorder = mlviz.watch(model, data=(X, y), loss=torch.nn.CrossEntropyLoss())
    tracemalloc.start()
    start = time.perf_counter()
    for epoch in range(1, 10_001):
        with torch.no_grad():
            model[0].bias += 1e-4
        recorder.epoch(loss=1.0 / epoch)
        if epoch in (1_000, 5_000, 10_000):
            current, peak = tracemalloc.get_traced_memory()
            print(f"memory after {epoch:,} epochs: parameter trace {recorder.trace.nbytes:,} B "
                  f"(stride {recorder.trace.stride}), per-epoch scalars "
                  f"{recorder.nbytes - recorder.trace.nbytes:,} B, traced now "
                  f"{current / 2**20:.2f} MiB, peak {peak / 2**20:.2f} MiB; "
                  f"{time.perf_counter() - start:.1f} s", flush=True)
    print(load())


if __name__ == "__main__":
    torch.set_num_threads(int(os.environ.get("WATCH_THREADS", "1")))
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    jobs = (("overhead", overhead), ("landscape", landscape), ("points", points),
            ("memory", memory))
    for name, job in jobs:
        if which in (name, "all"):
            job()
