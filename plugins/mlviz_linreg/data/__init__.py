"""Data shipped with the linear-regression plugin (read with importlib.resources)."""
