"""Logistic regression for mlviz: gradient descent on the mean binary cross-entropy."""
