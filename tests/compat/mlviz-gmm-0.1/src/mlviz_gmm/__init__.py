"""mlviz-gmm: Gaussian mixtures fitted by expectation-maximisation (a plugin for mlviz 0.1)."""

__version__ = "0.1.0"
