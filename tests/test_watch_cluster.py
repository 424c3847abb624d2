"""A watched run's landscape on a Dask cluster (``scheduler=ADDRESS``): the same grid as a
local run. Skipped where ``distributed`` (the ``mlviz[dask]`` extra) is not installed."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
distributed = pytest.importorskip("distributed")

from mlviz.watch import WatchError  # noqa: E402
from mlviz.watch.cluster import grid_losses  # noqa: E402
from mlviz.watch.gridloss import BatchedLoss  # noqa: E402


def cnn():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 3, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(48, 3))


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as local:
        yield local


def test_a_grid_on_a_dask_cluster_equals_the_local_one(cluster):
    model = cnn()
    g = torch.Generator().manual_seed(1)
    x, y = torch.rand(30, 1, 8, 8, generator=g), torch.randint(0, 3, (30,), generator=g)
    loss_fn = torch.nn.CrossEntropyLoss()
    base = torch.nn.utils.parameters_to_vector(model.parameters()).detach()
    dirs = torch.randn(2, len(base), generator=g) * 0.2
    alphas, betas = np.linspace(-1, 1, 6), np.linspace(-2, 1, 5)

    def grid(scheduler):
        loss = BatchedLoss(model, loss_fn, x, y)
        loss.chunk = 12  # two rows a part: three parts, two of them on the cluster
        return grid_losses(loss, base, dirs, alphas, betas, scheduler, model=model,
                           loss_fn=loss_fn, memory=2**20)

    local, remote = grid(None), grid(cluster.scheduler_address)
    assert local.shape == (5, 6) and np.ptp(local) > 0.01
    np.testing.assert_array_equal(remote, local)
    # and the grid is the loss at each point: one corner by a plain forward pass
    clone = cnn()
    torch.nn.utils.vector_to_parameters(base + alphas[-1] * dirs[0] + betas[0] * dirs[1],
                                        clone.parameters())
    with torch.no_grad():
        assert local[0, -1] == pytest.approx(float(loss_fn(clone(x), y)), rel=1e-5)


def test_a_worker_failure_is_one_line(cluster):
    model = cnn()
    x, y = torch.rand(4, 1, 8, 8), torch.randint(0, 3, (4,))

    def failing(out, target):  # fails on the workers only
        try:
            distributed.get_worker()
        except ValueError:  # not in a worker: here
            return torch.nn.functional.cross_entropy(out, target)
        raise ValueError("bad loss\nsecond line")

    base = torch.nn.utils.parameters_to_vector(model.parameters()).detach()
    loss = BatchedLoss(model, failing, x, y)
    loss.chunk = 3
    dirs = torch.zeros(2, len(base))
    with pytest.raises(WatchError, match=r"on the Dask cluster at .*: ValueError: bad loss$"):
        grid_losses(loss, base, dirs, np.zeros(3), np.zeros(3), cluster.scheduler_address,
                    model=model, loss_fn=failing, memory=2**20)


def test_a_watched_run_with_a_scheduler_records_the_local_landscape(cluster):
    import mlviz

    model = cnn()
    g = torch.Generator().manual_seed(2)
    x, y = torch.rand(24, 1, 8, 8, generator=g), torch.randint(0, 3, (24,), generator=g)
    loss_fn = torch.nn.CrossEntropyLoss()
    recorder = mlviz.watch(model, data=(x, y), loss=loss_fn, resolution=5, memory=1)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    for _ in range(5):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        recorder.epoch(loss=loss)
    local = recorder.prepared().run.dataset.extra["landscape"]
    recorder.scheduler = cluster.scheduler_address
    remote = recorder.prepared().run.dataset.extra["landscape"]
    assert "grid_part" in cluster.scheduler.task_prefixes  # the cluster did compute rows
    np.testing.assert_array_equal(remote, local)
