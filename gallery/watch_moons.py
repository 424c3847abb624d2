"""Your own PyTorch loop, watched: an MLP on moons, SGD with momentum, 80 epochs.

No plugin and no trainer: ``mlviz.watch`` records the loop with three calls (make the
recorder, ``recorder.epoch(...)`` once an epoch, ``recorder.save(...)``), and the record
renders like any run (here from Python; ``mlviz render watch-moons.npz -o run.gif`` does
the same). The scene: the loss landscape on the PCA plane of the trajectory with the path
on it, the decision regions, the last hidden layer, weight and gradient norms, the loss and
accuracy, and the loss on the plane against the true loss (see the "Watch your own model"
page).

.. image:: _static/watch_moons.png
   :alt: The watched MLP on moons, its last frame.

Run: python gallery/watch_moons.py [OUTDIR]  (writes OUTDIR/watch-moons.npz, .gif and .png)
"""

import sys
from pathlib import Path

import torch
from sklearn.datasets import make_moons

import mlviz

out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
X, y = make_moons(400, noise=0.2, random_state=0)
X, y = torch.tensor(X, dtype=torch.float32), torch.tensor(y)
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(),
                            torch.nn.Linear(16, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2))
loss_fn = torch.nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

recorder = mlviz.watch(model, data=(X, y), loss=loss_fn)
for _ in range(80):
    total = 0.0
    for i in range(0, len(X), 50):
        optimizer.zero_grad()
        loss = loss_fn(model(X[i:i + 50]), y[i:i + 50])
        loss.backward()
        optimizer.step()
        total += loss.item()
    with torch.no_grad():
        accuracy = (model(X).argmax(1) == y).float().mean()
    recorder.epoch(loss=total / 8, accuracy=accuracy)
record = recorder.save(out / "watch-moons.npz")

prepared = mlviz.load_run(record)
for name in ("watch-moons.gif", "watch-moons.png"):
    with mlviz.open_writer(out / name, fps=prepared.fps) as writer:
        frames = mlviz.Renderer(prepared.scene, prepared.run).render(writer)
    print(f"wrote {out / name} ({frames} frames)")
