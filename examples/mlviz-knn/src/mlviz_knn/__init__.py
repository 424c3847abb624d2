"""mlviz-knn: k-nearest-neighbour classification for mlviz (an example third-party plugin)."""

__version__ = "0.2.0"
