"""Your own PyTorch loop, watched: a CNN on scikit-learn's 8×8 digits (22,602 parameters).

The inputs are images, not points of a plane, so the scene has no decision regions: the
loss landscape on the PCA plane of the trajectory with the path on it, the last hidden
layer's activations coloured by digit, weight and gradient norms per layer, the loss, and
the loss on the plane against the true loss. The data comes from a ``DataLoader``; the
recorder takes a fixed evaluation subset of it (here 512 images, stated in the record)
for the landscape and the activations, and leaves the loader's shuffling as it was.

.. image:: _static/watch_digits.png
   :alt: The watched digits CNN, its last frame.

Run: python gallery/watch_digits.py [OUTDIR]  (writes OUTDIR/watch-digits.npz, .gif and .png)
"""

import sys
from pathlib import Path

import torch
from sklearn.datasets import load_digits

import mlviz

out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
digits = load_digits()
X = torch.tensor(digits.images[:, None] / 16.0, dtype=torch.float32)   # (1797, 1, 8, 8)
y = torch.tensor(digits.target)
torch.manual_seed(0)
model = torch.nn.Sequential(
    torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
    torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
    torch.nn.Flatten(), torch.nn.Linear(128, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
loss_fn = torch.nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=64,
                                     shuffle=True)

with mlviz.watch(model, data=loader, loss=loss_fn, eval_size=512,
                 path=out / "watch-digits.npz") as recorder:
    for _ in range(15):
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
        recorder.epoch(loss=loss)

prepared = mlviz.load_run(out / "watch-digits.npz")
for name in ("watch-digits.gif", "watch-digits.png"):
    with mlviz.open_writer(out / name, fps=prepared.fps) as writer:
        frames = mlviz.Renderer(prepared.scene, prepared.run).render(writer)
    print(f"wrote {out / name} ({frames} frames)")
