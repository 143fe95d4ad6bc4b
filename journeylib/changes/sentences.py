"""Plain sentences for reviewers: one per flagged change, the headline and the thresholds (methods of
`changes.Result`, from `Sentences`), the 'nothing flagged' reading and what could not be compared."""

from __future__ import annotations

import math

from journeylib.labels import label, period_text

MINUS = "\u2212"
GROUP_NAMES = {"dealer_id": ("Dealer", "Other dealers"), "acquisition_channel": ("Channel", "Other channels")}


def _signed(value: float, digits: int = 0) -> str:
    text = f"{abs(value):.{digits}f}"
    if float(text) == 0:
        return text
    return (MINUS if value < 0 else "+") + text


def _plain(value: float, digits: int = 0) -> str:
    """A number with a true minus sign and never a negative zero ('−0' reads '0')."""
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text.replace("-", MINUS)


def level_label(group_by: str, level) -> str:
    """A dealer id as it is (D01); a channel or other code as a label (Walk-in); '(none)' as 'not recorded'."""
    text = label(level)
    if group_by == "dealer_id" and text not in ("Not recorded",):
        return str(level)
    return text if text != "Not recorded" else "not recorded"


def group_label(row: dict) -> str:
    """'Dealer D05', 'Channel Walk-in', 'Other dealers (D07, not recorded)', 'All leads'."""
    if row["group_by"] == "all":
        return f"All {row['unit']}"
    single, pooled = GROUP_NAMES.get(row["group_by"], (label(row["group_by"]), f"Other {label(row['group_by'])}"))
    if row["group"] == "other":
        return f"{pooled} ({', '.join(level_label(row['group_by'], m) for m in row['members'])})"
    return f"{single} {level_label(row['group_by'], row['group'])}"


def explained_sentence(row: dict, parent: dict) -> str:
    """A change explained by a larger one: '... ; without Dealer D01's leads it is not flagged'; or, when the
    rest moved the other way: '... ; without Dealer D01's leads it rose instead (+5 points), so its fall is
    part of that change'."""
    start = f"{group_label(row)}: {change_text(row)} in {period_text(row['latest_period'])}; without " \
            f"{group_label(parent)}'s {row['unit']} it "
    rest = row.get("rest_estimate")
    if rest is None or not math.isfinite(rest):
        return start + "is not flagged, so it is part of that change"
    up = rest > (1 if row["kind"] == "count" else 0)
    return (f"{start}{'rose' if up else 'fell'} instead ({_size_text(row['kind'], rest)}), so its "
            f"{'fall' if up else 'rise'} is part of that change")


def _size_text(kind: str, estimate: float) -> str:
    if kind == "share":
        return f"{_signed(100 * estimate)} points"
    if kind == "nps":
        return f"{_signed(estimate)} points"
    return f"{_signed(100 * (estimate - 1))}%" if math.isfinite(estimate) else "∞"


def _ratio(value: float) -> str:
    return "∞" if math.isinf(value) else f"{value:.2f}"


def change_text(row: dict) -> str:
    """'<measure> fell from 21% to 14% (−7 points, 95% CI −11 to −3)'."""
    direction = "rose" if row["estimate"] > 0 else "fell"
    if row["kind"] == "share":
        return (f"{row['label']} {direction} from {100 * row['before']:.0f}% to {100 * row['after']:.0f}% "
                f"({_signed(100 * row['estimate'])} points, 95% CI {_plain(100 * row['ci_low'])} to "
                f"{_plain(100 * row['ci_high'])})")
    if row["kind"] == "nps":
        return (f"{row['label']} {direction} from {_plain(row['before'])} to {_plain(row['after'])} "
                f"({_signed(row['estimate'])} points, 95% CI {_plain(row['ci_low'])} to {_plain(row['ci_high'])})")
    direction = "rose" if row["estimate"] > 1 else "fell"
    change = 100 * (row["estimate"] - 1)
    return (f"{row['label']} {direction} from {row['per_period_before']:.1f} to {row['n_after']} a period "
            f"({_signed(change)}%, rate ratio {_ratio(row['estimate'])}, 95% CI {_ratio(row['ci_low'])} to "
            f"{_ratio(row['ci_high'])})")


def change_sentence(row: dict, flagged: int, comparisons: int, q: float) -> str:
    """The issue's form: 'Dealer D05: consideration → purchase within 90 days fell from 21% to 14% (−7 points,
    95% CI −11 to −3); 3 of 48 comparisons flagged, q = 0.1', with the periods compared."""
    return (f"{group_label(row)}: {change_text(row)} in {period_text(row['latest_period'])} against "
            f"{_span(row)}; {flagged} of {comparisons} comparisons flagged, q = {q:g}")


def _span(row: dict) -> str:
    if row["baseline_periods"] == 1:
        return period_text(row["baseline_from"])
    return f"{period_text(row['baseline_from'])} to {period_text(row['baseline_to'])}"


def size(row: dict) -> float:
    """How big a change is, for ranking: points for shares and NPS, percent for counts."""
    if row["kind"] == "share":
        return abs(100 * row["estimate"])
    if row["kind"] == "nps":
        return abs(row["estimate"])
    return abs(100 * (row["estimate"] - 1)) if math.isfinite(row["estimate"]) else float("inf")


def nothing_flagged(comparisons: int, q: float) -> str:
    if comparisons == 0:
        return "No comparison could be made on this export, so nothing is flagged (the reasons are listed below)."
    return (f"Nothing changed beyond chance: none of the {comparisons} comparisons passed the false-discovery "
            f"control at q = {q:g}.")


DETECTABLE = {"share": "a change of about {:.0f} points or more", "nps": "a change of about {:.0f} NPS points or more",
              "count": "a fall of about {:.0f}% or more"}  # shares and counts are given in percent


def detectable_sentence(label: str, kind: str, value: float) -> str:
    if not math.isfinite(value):
        return f"{label}: too little data to say what change could have been detected."
    scaled = value if kind == "nps" else 100 * value
    return f"{label}: {DETECTABLE.get(kind, DETECTABLE['count']).format(scaled)}."


def related_sentence(row: dict) -> str:
    """A change of the same group in the same period as a bigger one, listed beneath it."""
    return f"{group_label(row)}: {change_text(row)} in {period_text(row['latest_period'])}, with the change above"


def with_related(sentence: str, related: int) -> str:
    """The headline of a group and period, saying how many of its other measures are listed beneath it."""
    if not related:
        return sentence
    measures = "1 related measure" if related == 1 else f"{related} related measures"
    return f"{sentence}; with {measures} of the same group and period beneath it"


def flagged_sentences(flagged, comparisons: int, q: float) -> list[str]:
    """One sentence per flagged comparison (`nesting.relate` order): its change (a headline says how many
    related measures are beneath it), the change that explains it, or a related measure's change."""
    records = flagged.to_dict("records")
    by_key = {f"{r['group_by']}={r['group']}|{r['measure']}": r for r in records}
    cell = (lambda r: (r["group_by"], r["group"], r["latest_period"]))
    out = []
    for r in records:
        if r["explained_by"] is not None:
            out.append(explained_sentence(r, by_key[f"{r['explained_by']}|{r['measure']}"]))
        elif r.get("related_to") is not None:
            out.append(related_sentence(r))
        else:
            related = sum(1 for m in records if m.get("related_to") == r["measure"] and cell(m) == cell(r))
            out.append(with_related(change_sentence(r, len(flagged), comparisons, q), related))
    return out


PLURAL = {"dealer_id": ("dealer", "dealers"), "acquisition_channel": ("channel", "channels")}


def names(group_by: str, levels) -> str:
    """'channels Chat, Email and Walk-in', 'dealer D07'; a missing value last, as 'not recorded'."""
    listed = sorted((level_label(group_by, v) for v in levels), key=lambda n: (n == "not recorded", n))
    one, many = PLURAL.get(group_by, (group_by, group_by))
    text = listed[0] if len(listed) == 1 else f"{', '.join(listed[:-1])} and {listed[-1]}"
    return f"{one if len(listed) == 1 else many} {text}"


def skipped_sentences(skipped: dict, pop, min_latest: int, min_baseline: int, window: list) -> list[str]:
    """One sentence per kind of unit (`pop`, a cohorts.Population): the small groups compared together, and
    the groups not compared (`skipped`: compare_measure's, merged over the measures)."""
    features = sorted({g for kind in skipped.values() for g, _ in kind})
    parts, missing = [], []
    for group_by in features:
        small = {lvl for kind in ("pooled", "left_out") for g, lvl in skipped[kind] if g == group_by}
        if small:
            parts.append(names(group_by, small))
        latest_only = {lvl for g, lvl in skipped["only_latest"] if g == group_by}
        if latest_only:
            missing.append(f"{names(group_by, latest_only)} (none in the baseline)")
        baseline_only = {lvl for g, lvl in skipped["only_baseline"] if g == group_by}
        if baseline_only:
            missing.append(f"{names(group_by, baseline_only)} (none in {pop.latest})")
    unit = pop.unit[0].upper() + pop.unit[1:]
    text = []
    if parts:
        text.append(f"fewer than {min_latest} in {pop.latest} or {min_baseline} in the baseline for at least one "
                    f"measure, so compared together as 'other' (left out when even that is too small): "
                    f"{'; '.join(parts)}")
    if missing:
        text.append(f"not compared: {'; '.join(missing)}")
    if not text:
        return []
    return [f"{unit} ({period_text(pop.latest)} against {period_text(window[0])} to {period_text(window[-1])}): "
            f"{'. Also '.join(text)}."]


class Sentences:
    """The headline and the thresholds, mixed into `changes.Result` (properties: the notebook prints them)."""

    @property
    def summary(self) -> str:
        """The headline sentence: how many changes, how many comparisons flagged."""
        if self.flagged_.empty:
            return nothing_flagged(len(self.comparisons_), self.q)
        reported, flagged = len(self.reported_), len(self.flagged_)
        text = (f"{flagged} of {len(self.comparisons_)} comparisons flagged at a false-discovery rate "
                f"q = {self.q:g}")
        if reported == flagged:
            return text + "."
        changes = "1 change" if reported == 1 else f"{reported} changes"
        return (f"{changes} flagged ({text}; the rest are part of a larger change, or the same group's other "
                "measures in the same period, and listed beneath it).")

    @property
    def detectable_heading(self) -> str:
        """With nothing flagged, the heading of what could have been detected; else nothing."""
        return ("The smallest change each main measure could have detected (overall, 80% power)"
                if self.flagged_.empty else "")

    @property
    def detectable_sentences(self) -> list[str]:
        return [item["sentence"] for item in self.detectable_.values()] if self.flagged_.empty else []

    @property
    def compared_sentence(self) -> str:
        """Said when no measure or group was left out or pooled (else the notes say which)."""
        return "" if self.notes_ else "Every measure and group had enough data to be compared."

    @property
    def screen_sentence(self) -> str:
        """The practical thresholds, and how many comparisons beyond chance they or the season set aside."""
        table = self.comparisons_
        significant = table["significant"]
        small = int((significant & ~table["material"]).sum())
        seasonal = int((significant & table["material"] & table["seasonal"]).sum())
        text = self.thresholds.sentence()
        if self.params.year_over_year:
            text += (" Where the data reaches back a year, shares and volumes must also differ by that much from "
                     "the same period a year earlier, so a seasonal swing is not flagged.")
        if small or seasonal:
            parts = [f"{small} below the threshold" if small else "",
                     f"{seasonal} matching the same period a year earlier" if seasonal else ""]
            text += (f" Of {int(significant.sum())} comparisons beyond chance, "
                     f"{' and '.join(p for p in parts if p)} {'were' if small + seasonal > 1 else 'was'} not flagged.")
        return text
