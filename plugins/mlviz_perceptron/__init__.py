"""The perceptron for mlviz: a plane in 3D learned from its mistakes."""
