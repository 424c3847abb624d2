"""Neural-network regression for mlviz: a 1-3-1 tanh network learns y = x^(1/3) with Adam,
compared with a Levenberg–Marquardt least-squares fit of the same ten-parameter model."""
