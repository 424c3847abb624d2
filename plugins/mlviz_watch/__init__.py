"""The built-in plugin of watched runs: ``watched-model`` draws a PyTorch model recorded
by :func:`mlviz.watch` (its metrics, layer norms, loss landscape, regions, activations)."""
