"""SGD, momentum, RMSprop and Adam (torch.optim) racing on a 2D test surface."""
