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


def describe(fig) -> str:
    """Alt text from what the figure says about itself: its title, each panel's title and axis labels."""
    parts = []
    if getattr(fig, "_suptitle", None) is not None and fig._suptitle.get_text():
        parts.append(fig._suptitle.get_text())
    for ax in fig.get_axes():
        titles = [ax.get_title(loc) for loc in ("left", "center", "right")]
        axes = [f"{name}: {text}" for name, text in (("x axis", ax.get_xlabel()), ("y axis", ax.get_ylabel()))
                if text]
        panel = "; ".join([t for t in titles if t] + axes)
        if panel and panel not in parts:
            parts.append(panel)
    text = ". ".join(part.replace("$", "").replace("\\", "").replace("\n", " ").strip() for part in parts)
    return f"Chart. {text}." if text else "Chart without a title."


def show(fig, alt: str | None = None) -> None:
    """The figure as a PNG in the notebook output, then closed (no second copy, no leaked figures).

    `alt` describes the image for a reader who cannot see it (the reviewer HTML's `<img alt>`); by default it
    is the figure's title and axis labels (`describe`)."""
    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    alt = alt or describe(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    display(Image(buffer.getvalue(), alt=alt))
