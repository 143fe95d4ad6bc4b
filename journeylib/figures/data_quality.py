"""Notebook 00's figures: what became of each table's rows, and events per month and per dealer."""

from __future__ import annotations

KEPT_COLOUR = "#4c9a2a"
DEALER_COLOUR = "#3b75af"


def row_fates(accounting, reasons):
    """Stacked bars per table: the share of its exported rows kept or set aside, by reason. Returns the figure."""
    import matplotlib.pyplot as plt

    shares = accounting[["kept", *reasons]].div(accounting["raw"].where(accounting["raw"] > 0), axis=0).fillna(0)
    shares = shares.loc[:, (shares > 0).any()]
    ax = (100 * shares).plot.barh(stacked=True, figsize=(9, 0.45 * len(shares) + 1.8), width=0.7,
                                  color=[KEPT_COLOUR] + list(plt.get_cmap("tab10").colors)[1:shares.shape[1]])
    ax.set_title("Share of exported rows kept or set aside, by reason")
    ax.set_xlabel("% of the table's exported rows")
    ax.set_ylabel("table")
    ax.set_xlim(0, 100)
    ax.invert_yaxis()
    ax.legend(title="row fate", bbox_to_anchor=(1.01, 1), loc="upper left")
    return ax.figure


def events(by_month, by_dealer):
    """Events per month stacked by source (left) and per dealer (right). Returns the figure."""
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [2, 1]})
    if not by_month.empty:
        by_month.plot.bar(stacked=True, ax=left, width=0.85)
    left.set_title("Events per month, by source")
    left.set_xlabel("month (UTC)")
    left.set_ylabel("events")
    left.legend(title="source")
    by_dealer.iloc[::-1].plot.barh(ax=right, color=DEALER_COLOUR)
    right.set_title("Events per dealer")
    right.set_xlabel("events")
    right.set_ylabel("dealer")
    fig.tight_layout()
    return fig
