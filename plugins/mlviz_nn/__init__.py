"""A from-scratch numpy neural network fitting a saddle surface, with a PyTorch twin."""
