"""A PyTorch network with 2-unit layers learning XOR (or moons, circles, a spiral, or a
user's two classes): each layer's transformation, its loss landscape, and (with many
layers) vanishing gradients."""
