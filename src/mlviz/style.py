"""mlviz 0.1's colour constants, kept for plugins written against it.

They are the ``light`` theme's and do not follow ``--theme``: a panel should read its
colours from ``self.theme`` instead (see :mod:`mlviz.theme`).
"""

from .theme import LIGHT

#: The light theme's matplotlib rc settings.
STYLE: dict[str, object] = dict(LIGHT.rc)
#: The light theme's categorical colours (Okabe & Ito's colour-blind-safe palette).
CATEGORICAL = LIGHT.palette
#: Colours of the two classes of a binary problem, and of a loss curve (light theme).
NEGATIVE, POSITIVE = LIGHT.negative, LIGHT.positive
LOSS = LIGHT.loss
