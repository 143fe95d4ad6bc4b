"""Every figure the notebooks draw, in one style, each from a result's tables.

Figures take DataFrames with fixed columns (an analysis result's tables) and an
optional `ax`; they compute nothing a metric depends on. `show(fig)` puts a
figure into the notebook as a PNG whatever the matplotlib backend (the runner's
kernels use Agg, where `plt.show()` shows nothing).

Modules: `forest` (ratios or means with intervals), and one module per kind of
figure the analyses add (KM panels, rate bars, heatmaps, sankey, the poster).
"""

from __future__ import annotations

import io

from journeylib.figures.style import percent_axis, plain  # noqa: F401 - the helpers notebooks use
from journeylib.figures.forest import forest  # noqa: F401


def show(fig) -> None:
    """The figure as a PNG in the notebook output, then closed (no second copy, no leaked figures)."""
    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    display(Image(buffer.getvalue()))
