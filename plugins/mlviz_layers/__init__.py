"""A PyTorch network with 2-unit layers learning XOR: each layer's transformation, its loss
landscape, and (with many layers) vanishing gradients."""
