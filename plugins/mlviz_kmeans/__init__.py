"""k-means clustering for mlviz: Lloyd's algorithm for K = 1 … k_max, with an elbow plot."""
