"""Weight nudging for mlviz: learn w in f(x) = w·x by fixed ±0.05 nudges (act 1), then by
gradient descent on the MSE (act 2), to see why gradients beat fixed steps."""
