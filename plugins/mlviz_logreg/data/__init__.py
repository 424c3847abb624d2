"""Data files shipped with the logistic-regression plugin (see breast_cancer.csv's header)."""
