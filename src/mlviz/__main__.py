"""``python -m mlviz``: the same command as ``mlviz``."""

from mlviz.cli import main

raise SystemExit(main())
