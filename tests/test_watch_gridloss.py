"""mlviz.watch.gridloss: many parameter sets' losses at once, equal to one plain forward
pass per set (the oracle: a copy of the model set with ``vector_to_parameters``)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from mlviz.watch.gridloss import BatchedLoss, PlanePoints, leading_affine  # noqa: E402


def small_cnn(seed=0, bias=True):
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1, bias=bias), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(4, 6, 3), torch.nn.Tanh(), torch.nn.Flatten(), torch.nn.Linear(24, 3))


def mlp(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))


def oracle(model, loss_fn, x, y, rows):
    clone = copy.deepcopy(model).eval()
    params = [p for p in clone.parameters() if p.requires_grad]
    out = []
    with torch.no_grad():
        for row in rows:
            torch.nn.utils.vector_to_parameters(row, params)
            out.append(float(loss_fn(clone(x), y)))
    return np.array(out)


def plane(model, seed=1, scale=0.5):
    g = torch.Generator().manual_seed(seed)
    base = torch.nn.utils.parameters_to_vector(
        [p for p in model.parameters() if p.requires_grad]).detach()
    dirs = torch.randn(2, len(base), generator=g) * scale / np.sqrt(len(base)) * 10
    a, b = np.meshgrid(np.linspace(-1, 1, 5), np.linspace(-2, 2, 4))
    coords = np.column_stack([a.ravel(), b.ravel()])
    rows = base + torch.as_tensor(coords, dtype=base.dtype) @ dirs
    return PlanePoints(base, dirs, coords), rows


def relative(a, b):
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-12)))


def cnn_data(n=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 8, 8, generator=g), torch.randint(0, 3, (n,), generator=g)


@pytest.mark.parametrize("bias", [True, False])
def test_a_cnn_grid_equals_one_plain_forward_pass_per_point(bias):
    model = small_cnn(bias=bias)
    x, y = cnn_data()
    loss_fn = torch.nn.CrossEntropyLoss()
    points, rows = plane(model)
    batched = BatchedLoss(model, loss_fn, x, y)
    assert batched.lead is not None and batched.lead[0] == "0"  # the combined first layer
    values = batched(points)
    expected = oracle(model, loss_fn, x, y, rows)
    assert np.ptp(expected) > 0.05  # the plane is not flat: the test can see an error
    assert relative(values, expected) < 1e-4
    assert relative(batched(rows), expected) < 1e-4  # rows given as they are, no plane


def test_a_frozen_first_layer_bias_stays_in_the_origin_only():
    model = small_cnn()
    model[0].bias.requires_grad_(False)
    with torch.no_grad():
        model[0].bias += 0.7
    x, y = cnn_data()
    loss_fn = torch.nn.CrossEntropyLoss()
    points, rows = plane(model)
    values = BatchedLoss(model, loss_fn, x, y)(points)
    assert relative(values, oracle(model, loss_fn, x, y, rows)) < 1e-4


@pytest.mark.parametrize("vectorized", [True, False])
def test_a_dense_grid_is_equal_vectorized_or_point_by_point(vectorized):
    model = mlp()
    g = torch.Generator().manual_seed(3)
    x, y = torch.randn(50, 2, generator=g), torch.randint(0, 3, (50,), generator=g)
    loss_fn = torch.nn.CrossEntropyLoss()
    points, rows = plane(model)
    batched = BatchedLoss(model, loss_fn, x, y)
    batched.vectorized = vectorized
    batched.chunk = 7  # several chunks, the last one short
    assert relative(batched(points), oracle(model, loss_fn, x, y, rows)) < 1e-4


def test_the_users_model_is_left_as_it_was():
    model = small_cnn()
    before = [p.detach().clone() for p in model.parameters()]
    order = [type(m).__name__ for m in model]
    x, y = cnn_data()
    points, _ = plane(model)
    BatchedLoss(model, torch.nn.CrossEntropyLoss(), x, y)(points)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert [type(m).__name__ for m in model] == order  # the pool-first swap is the copy's
    assert all(p.requires_grad for p in model.parameters())
    assert "forward" not in vars(model[0]) and "forward" not in vars(model[2])
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())


def test_only_a_stock_affine_layer_on_the_input_itself_is_combined():
    x = torch.randn(4, 2)
    assert leading_affine(mlp(), x)[0] == "0"

    class Scaled(torch.nn.Linear):
        def forward(self, input):
            return 2 * super().forward(input)

    assert leading_affine(torch.nn.Sequential(Scaled(2, 3), torch.nn.Tanh()), x) is None
    shifted = torch.nn.Sequential(torch.nn.Tanh(), torch.nn.Linear(2, 3))
    assert leading_affine(shifted, x) is None  # its first layer does not see x itself
    shared = torch.nn.Linear(2, 2)
    assert leading_affine(torch.nn.Sequential(shared, torch.nn.Tanh(), shared), x) is None


def test_a_model_that_calls_its_sequential_items_one_by_one_keeps_their_order():
    class ByHand(torch.nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.body = torch.nn.Sequential(
                torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                torch.nn.Flatten(), torch.nn.Linear(64, 3))

        def forward(self, x):  # by index: a reordered Sequential would pool before ReLU...
            h = self.body[1](self.body[0](x)) - 0.5  # ...and this shift would then differ
            return self.body[4](self.body[3](self.body[2](h)))

    model = ByHand()
    x, y = cnn_data()
    loss_fn = torch.nn.CrossEntropyLoss()
    points, rows = plane(model)
    batched = BatchedLoss(model, loss_fn, x, y)
    assert [type(m).__name__ for m in batched.net.body][1:3] == ["ReLU", "MaxPool2d"]
    assert relative(batched(points), oracle(model, loss_fn, x, y, rows)) < 1e-4
    plain = small_cnn()  # whose Sequential is its forward: reordered
    assert [type(m).__name__ for m in BatchedLoss(plain, loss_fn, x, y).net][1:3] == \
        ["MaxPool2d", "ReLU"]
