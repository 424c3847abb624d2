"""Linear regression by gradient descent, with its MSE surface over (w, b)."""
