"""Customer personas: per-customer features, k-means segments, rule-based names.

`write_personas(processed_dir)` runs right after `journey prepare` (the runner
calls it) and writes `personas.parquet` (customer_id, persona) so every
notebook can segment by persona. The notebook rebuilds the same features with
`load_features` and draws the persona cards with `persona_profile`; the
k-selection chart and the stability check recompute on those features with
the same seed (`select_k`, `stability`). Definitions: docs/personas_and_feedback.md.

Model: numeric features standardised (median-imputed), yes/no flags left as
0/1, one-hot categories scaled so a differing category weighs one standard
deviation, k-means; k chosen over a range by the highest
silhouette score. Fitting uses at most `fit_size` customers (a seeded sample)
and every customer is then assigned to the nearest centre, so 1M customers
cost one pass of `predict`. Names: the rule names of `NAMING_RULES` where a
cluster fits one; otherwise plain words from the cluster's most distinctive
indicator (`plain_name`), e.g. "mostly_digital_shoppers".
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from journeylib import feedback, tables
from journeylib.stats import levels
from journeylib.errors import NotEstimable

UNCLASSIFIED = "unclassified"
MIN_LEVEL_CUSTOMERS = 20  # a category with fewer customers is pooled into "other" before clustering
MIN_CUSTOMERS = 20        # fewer classifiable customers than this: no personas (everyone unclassified)
PERSONAS_TABLE = "personas"

# Feature blocks (columns of `customer_features`).
NUMERIC_FEATURES = ("age", "channels", "digital_share", "social_share", "in_person_share",
                    "vdp_views", "build_and_price", "price_tools", "days_to_purchase")
FLAG_FEATURES = ("test_drive",)  # plus one pain_<theme> flag per feedback theme
CATEGORICAL_FEATURES = ("income_band", "gender", "region", "acquisition_channel", "finance_type")
# Counts with long right tails are clustered on log(1 + x) so a few heavy users do not make their own cluster.
LOG_FEATURES = ("vdp_views", "build_and_price", "price_tools", "days_to_purchase")
# Research counts: events of these types while shopping (price_tools: the deal-hunting tools).
RESEARCH_EVENTS = {"vdp_views": ("vdp_view",), "build_and_price": ("build_and_price",),
                   "price_tools": ("trade_in_estimate", "finance_calculator")}

# Channel groups for the "channels used" shares (shares of shopping events before purchase).
DIGITAL_CHANNELS = ("website", "search", "third_party", "display", "email", "sms", "chat")
SOCIAL_CHANNELS = ("social",)
IN_PERSON_CHANNELS = ("walk_in", "phone", "referral")
SHOPPING_STAGES = ("awareness", "consideration")

# Naming rules: a persona's score is the mean, over its listed features, of
# sign * z, where z = (cluster mean - population mean) / population sd and
# "column=value" means the share of the cluster with that category. Names are
# matched to clusters one-to-one (highest total score) and kept only when the
# score reaches MIN_NAME_SCORE; other clusters get a plain-words name (PLAIN_NAMES).
NAMING_RULES = {
    "digital_researcher": {"vdp_views": +1, "build_and_price": +1, "digital_share": +1},
    "walk_in_decider": {"in_person_share": +1, "acquisition_channel=walk_in": +1, "days_to_purchase": -1,
                        "vdp_views": -1},
    "deal_hunter": {"price_tools": +1, "acquisition_channel=third_party": +1, "pain_price": +1},
    "social_browser": {"social_share": +1, "acquisition_channel=social": +1, "test_drive": -1},
}
MIN_NAME_SCORE = 0.5
ONE_HOT_WEIGHT = 1 / np.sqrt(2)

# Plain-words names for a cluster that fits no rule, from its most distinctive indicator:
# (name when the cluster is above the average customer, name when below).
PLAIN_NAMES = {
    "age": ("older_shoppers", "younger_shoppers"),
    "channels": ("many_channel_shoppers", "few_channel_shoppers"),
    "digital_share": ("mostly_digital_shoppers", "less_digital_shoppers"),
    "social_share": ("social_media_shoppers", "rarely_social_media_shoppers"),
    "in_person_share": ("in_person_shoppers", "rarely_in_person_shoppers"),
    "vdp_views": ("heavy_vehicle_page_viewers", "light_vehicle_page_viewers"),
    "build_and_price": ("build_and_price_users", "build_and_price_skippers"),
    "price_tools": ("price_tool_users", "price_tool_skippers"),
    "days_to_purchase": ("slow_deciders", "quick_deciders"),
    "test_drive": ("test_drivers", "shoppers_skipping_test_drives"),
    "finance_type=none": ("non_buyers", "mostly_buyers"),
    "gender=f": ("mostly_women", "few_women"),
    "gender=m": ("mostly_men", "few_men"),
}
# Other "column=value" indicators: templates filled with the value in words ("<50k" -> "under_50k").
PLAIN_CATEGORY_NAMES = {
    "acquisition_channel": ("{value}_leads", "few_{value}_leads"),
    "income_band": ("{value}_earners", "few_{value}_earners"),
    "finance_type": ("{value}_buyers", "few_{value}_buyers"),
    "region": ("mostly_{value}_customers", "few_{value}_customers"),
}


# ---------------------------------------------------------------- features

def _age(customers: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    age = as_of.year - pd.to_numeric(customers["birth_year"], errors="coerce")
    return age.where(age.between(16, 100)).astype("float64")  # implausible ages are missing, not outliers


def _channel_shares(shopping: pd.DataFrame) -> pd.DataFrame:
    groups = {"digital_share": DIGITAL_CHANNELS, "social_share": SOCIAL_CHANNELS,
              "in_person_share": IN_PERSON_CHANNELS}
    flags = pd.DataFrame({name: shopping["channel"].isin(channels) for name, channels in groups.items()})
    flags["customer_id"] = shopping["customer_id"].to_numpy()
    return flags.groupby("customer_id").mean()


def customer_features(customers, journeys, touchpoints, sales, surveys, as_of, taxonomy=None,
                      dealers=None, min_level_customers: int = MIN_LEVEL_CUSTOMERS) -> pd.DataFrame:
    """One row per customer (index customer_id): the interpretable features the personas are built on.

    Also carries `touchpoints` (who can be classified) and `purchased` (conversion, shown on the
    cards but not a clustering feature: a persona is how people shop, not whether they bought yet).
    Categories with fewer than `min_level_customers` customers are pooled into `other`
    (`pool_categories`; the pooled levels are in `attrs["levels_pooled"]`).
    """
    as_of = pd.Timestamp(as_of)
    index = pd.Index(customers["customer_id"].astype(str), name="customer_id")
    out = pd.DataFrame(index=index)
    cust = customers.set_index(customers["customer_id"].astype(str))
    out["age"] = _age(cust, as_of)
    for column in ("income_band", "gender"):
        values = cust[column] if column in cust else pd.Series(index=index, dtype="object")
        out[column] = values.astype("object").where(values.notna(), "missing")

    jour = journeys.set_index(journeys["customer_id"].astype(str)).reindex(index)
    out["region"] = _region(cust, jour, dealers, index)
    out["touchpoints"] = jour["touchpoints"].fillna(0).astype("int64")
    out["acquisition_channel"] = jour["acquisition_channel"].astype("object").where(
        jour["acquisition_channel"].notna(), "none")
    out["channels"] = jour["channels"].fillna(0).astype("float64")
    out["purchased"] = jour["purchased"].fillna(False).astype(bool)
    # Time to purchase for buyers only; non-buyers are imputed (neutral), their censored time is not a choice.
    out["days_to_purchase"] = jour["days_to_purchase"].where(out["purchased"]).astype("float64")
    out["test_drive"] = jour["first_test_drive_at"].notna().astype("float64")

    shopping = touchpoints[touchpoints["stage"].isin(SHOPPING_STAGES) & (touchpoints["source"] == "touchpoints")]
    shopping = shopping.assign(customer_id=shopping["customer_id"].astype(str))
    out = out.join(_channel_shares(shopping))
    for column, events in RESEARCH_EVENTS.items():
        counts = shopping[shopping["event_type"].isin(events)].groupby("customer_id").size()
        out[column] = counts.reindex(index).fillna(0).astype("float64")

    first_sales = sales.sort_values(["sold_at", "deal_id"]).drop_duplicates("customer_id")
    finance = first_sales.set_index(first_sales["customer_id"].astype(str))["finance_type"].reindex(index)
    out["finance_type"] = finance.astype("object").where(finance.notna(), "none")

    pains = feedback.customer_pain_points(surveys, taxonomy)
    for theme in feedback.load_taxonomy(taxonomy):
        column = pains[theme] if theme in pains else pd.Series(dtype="float64")
        out[f"pain_{theme}"] = column.reindex(index).fillna(0.0).astype("float64")
    return pool_categories(out, min_level_customers)


def pool_categories(features: pd.DataFrame, min_count: int) -> pd.DataFrame:
    """Categories with fewer than `min_count` customers become `other` (a one-customer channel would
    otherwise get its own one-hot column); the pooled levels per feature go to `attrs["levels_pooled"]`.
    The placeholders `none` (no first touch, no purchase) and `missing` are kept: they are not levels."""
    out = features.copy()
    pooled = {}
    for column in CATEGORICAL_FEATURES:
        out[column], rare = levels.pool_rare(out[column], min_count, keep=("none", "missing"))
        if rare:
            pooled[column] = rare
    out.attrs["levels_pooled"] = pooled
    return out


def _region(customers: pd.DataFrame, journeys: pd.DataFrame, dealers, index) -> pd.Series:
    """The region of the customer's dealer (their own, else their journey's); 'missing' where unknown."""
    dealer = customers["dealer_id"].reindex(index) if "dealer_id" in customers else pd.Series(index=index)
    if "dealer_id" in journeys:
        dealer = dealer.fillna(journeys["dealer_id"])
    regions = {} if dealers is None or "region" not in dealers else \
        dealers.dropna(subset=["region"]).set_index("dealer_id")["region"].to_dict()
    return dealer.map(regions).astype("object").fillna("missing")


def load_features(processed_dir=None, taxonomy=None, min_level_customers: int = MIN_LEVEL_CUSTOMERS) -> pd.DataFrame:
    """`customer_features` for a processed folder, at the as-of date it was prepared with."""
    names = ("customers", "journeys", "touchpoints", "sales", "surveys", "dealers")
    data = {name: tables.load(name, processed_dir) for name in names}
    return customer_features(**data, as_of=tables.as_of(processed_dir), taxonomy=taxonomy,
                             min_level_customers=min_level_customers)


def classifiable(features: pd.DataFrame) -> pd.Series:
    """Customers with at least one event: the rest have no behaviour to segment on (persona 'unclassified')."""
    return features["touchpoints"] > 0


def pain_columns(features: pd.DataFrame) -> list[str]:
    return [c for c in features.columns if c.startswith("pain_")]


# ---------------------------------------------------------------- model

def _log_counts(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for column in LOG_FEATURES:
        frame[column] = np.log1p(frame[column].clip(lower=0))
    return frame


def _weight_one_hot(matrix):
    return matrix * ONE_HOT_WEIGHT


def preprocessor(features: pd.DataFrame) -> Pipeline:
    """Features -> model matrix in which a differing flag or category weighs as much as one standard deviation.

    Numeric features are standardised; flags stay 0/1 (standardising a rare flag would make it shout);
    one-hot columns are scaled by 1/sqrt(2) because a different category differs in two columns.
    """
    columns = ColumnTransformer([
        ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), list(NUMERIC_FEATURES)),
        ("flags", "passthrough", list(FLAG_FEATURES) + pain_columns(features)),
        ("categories", make_pipeline(OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                                     FunctionTransformer(_weight_one_hot)), list(CATEGORICAL_FEATURES)),
    ])
    return make_pipeline(FunctionTransformer(_log_counts), columns)


def _fit_sample(n: int, fit_size: int, seed: int) -> np.ndarray:
    if n <= fit_size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=fit_size, replace=False))


def _kmeans(k: int, seed: int) -> KMeans:
    return KMeans(n_clusters=k, n_init=10, random_state=seed)


def select_k(matrix: np.ndarray, k_min: int = 2, k_max: int = 8, seed: int = 0,
             silhouette_size: int = 3000) -> pd.DataFrame:
    """Silhouette score (higher = better separated) and inertia for each k; `chosen` marks the best (ties: smaller k)."""
    n = len(matrix)
    distinct = len(np.unique(np.round(matrix, 9), axis=0))
    if min(k_max, n - 1, distinct - 1) < k_min:
        raise NotEstimable(f"Only {n} customers with events ({distinct} distinct profiles): too few to form "
                           f"at least {k_min} personas, so every customer is unclassified.")
    rows = []
    for k in range(k_min, min(k_max, n - 1, distinct - 1) + 1):
        model = _kmeans(k, seed).fit(matrix)
        score = silhouette_score(matrix, model.labels_, sample_size=min(n, silhouette_size), random_state=seed)
        rows.append({"k": k, "silhouette": float(score), "inertia": float(model.inertia_)})
    table = pd.DataFrame(rows)
    if table.empty:
        raise ValueError(f"cannot choose k in {k_min}..{k_max} with {n} customers")
    best = table["silhouette"].round(6).idxmax()  # idxmax returns the first maximum: the smaller k
    table["chosen"] = table.index == best
    return table


def _relabel_by_size(labels: np.ndarray) -> np.ndarray:
    """Cluster 0 = the largest (ties: the lower original label), so labels do not depend on k-means' order."""
    sizes = pd.Series(labels).value_counts()
    order = sorted(sizes.index, key=lambda label: (-sizes[label], label))
    mapping = {old: new for new, old in enumerate(order)}
    return np.array([mapping[label] for label in labels])


def fit_clusters(features: pd.DataFrame, k: int | None = None, k_min: int = 2, k_max: int = 8, seed: int = 0,
                 fit_size: int = 20000) -> dict:
    """Cluster the classifiable customers. Returns labels (Series on their customer_id), k, the k table, the model."""
    rows = features[classifiable(features)]
    if len(rows) < MIN_CUSTOMERS:
        raise NotEstimable(f"Only {len(rows)} customers with events (personas need at least {MIN_CUSTOMERS}), "
                           "so every customer is unclassified.")
    prep = preprocessor(rows)
    fit_rows = rows.iloc[_fit_sample(len(rows), fit_size, seed)]
    matrix = prep.fit_transform(fit_rows)
    k_table = select_k(matrix, k_min, k_max, seed) if k is None else None
    if k is None:
        k = int(k_table.loc[k_table["chosen"], "k"].iloc[0])
    model = _kmeans(k, seed).fit(matrix)
    labels = _relabel_by_size(model.predict(prep.transform(rows)))
    return {"labels": pd.Series(labels, index=rows.index, name="cluster"), "k": k, "k_table": k_table,
            "model": model, "preprocessor": prep}


def stability(features: pd.DataFrame, k: int, seeds=range(1, 6), fraction: float = 0.8,
              reference_seed: int = 0) -> pd.DataFrame:
    """Adjusted Rand index between the reference segmentation and refits on seeded 80% subsamples.

    ARI 1 = the same segments, 0 = no better than chance. Each refit uses a different seed for both
    the subsample and k-means' starts, then assigns every customer, so the two labelings are comparable.
    """
    rows = features[classifiable(features)]
    reference = fit_clusters(features, k=k, seed=reference_seed)["labels"]
    out = []
    for seed in seeds:
        pick = _fit_sample(len(rows), max(k + 1, int(fraction * len(rows))), seed)
        prep = preprocessor(rows)
        matrix = prep.fit_transform(rows.iloc[pick])
        labels = _kmeans(k, seed).fit(matrix).predict(prep.transform(rows))
        out.append({"seed": seed, "ari": float(adjusted_rand_score(reference.to_numpy(), labels))})
    return pd.DataFrame(out)


# ---------------------------------------------------------------- naming

def indicator_frame(features: pd.DataFrame) -> pd.DataFrame:
    """Interpretable numeric view: numeric features (median-imputed), flags, and a 0/1 column per `column=value`."""
    numeric = features[list(NUMERIC_FEATURES)].apply(lambda c: c.fillna(c.median()))
    flags = features[list(FLAG_FEATURES) + pain_columns(features)]
    dummies = [pd.get_dummies(features[c], prefix=c, prefix_sep="=").astype("float64") for c in CATEGORICAL_FEATURES]
    return pd.concat([numeric, flags, *dummies], axis=1).fillna(0.0)


def cluster_z(features: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    """Rows: clusters; columns: (cluster mean - population mean) / population sd of each indicator."""
    view = indicator_frame(features.loc[labels.index])
    sd = view.std(ddof=0).replace(0, np.nan)
    return ((view.groupby(labels.to_numpy()).mean() - view.mean()) / sd).fillna(0.0)


def rule_scores(z: pd.DataFrame, rules=NAMING_RULES) -> pd.DataFrame:
    """Rows: clusters; columns: persona names; each cell the mean signed z over the rule's features present."""
    scores = {}
    for name, rule in rules.items():
        present = [f for f in rule if f in z.columns]
        scores[name] = (sum(rule[f] * z[f] for f in present) / len(present)) if present else pd.Series(0.0, z.index)
    return pd.DataFrame(scores, index=z.index)


def _words(text: str) -> str:
    """snake_case words safe as a metrics key: '<50k' -> 'under_50k', '150k+' -> '150k_plus'."""
    text = str(text).lower().replace("<", " under ").replace(">", " over ").replace("+", " plus ")
    return re.sub(r"[^0-9a-z]+", "_", text).strip("_")


def plain_name(feature: str, above: bool) -> str:
    """The plain-words name of a cluster whose most distinctive indicator is `feature` (above or below average).

    Named features use `PLAIN_NAMES`; pain_<theme> -> '<theme>_complainers' / 'few_<theme>_complaints';
    other 'column=value' indicators use `PLAIN_CATEGORY_NAMES` ('third_party_leads', 'under_50k_earners'),
    a missing value reads 'unknown_<column>', and anything else 'mostly_<column>_<value>' or 'more_<feature>' /
    'less_<feature>'.
    """
    side = 0 if above else 1
    if feature in PLAIN_NAMES:
        return PLAIN_NAMES[feature][side]
    if feature.startswith("pain_"):
        theme = _words(feature.removeprefix("pain_"))
        return (f"{theme}_complainers", f"few_{theme}_complaints")[side]
    if "=" in feature:
        column, value = feature.split("=", 1)
        if value == "missing":
            return (f"mostly_unknown_{_words(column)}", f"few_unknown_{_words(column)}")[side]
        if column in PLAIN_CATEGORY_NAMES:
            return PLAIN_CATEGORY_NAMES[column][side].format(value=_words(value))
        return (f"mostly_{_words(column)}_{_words(value)}", f"few_{_words(column)}_{_words(value)}")[side]
    return (f"more_{_words(feature)}", f"less_{_words(feature)}")[side]


def _descriptive_name(z_row: pd.Series, taken: set) -> str:
    """Plain-words name from the cluster's most distinctive indicator whose name is not yet used, else segment_<n>."""
    for feature in z_row.abs().sort_values(ascending=False, kind="stable").index:
        if z_row[feature] == 0:
            break
        name = plain_name(str(feature), z_row[feature] > 0)
        if name and name not in taken:
            return name
    suffix = 2
    while f"segment_{suffix}" in taken:
        suffix += 1
    return f"segment_{suffix}"


def name_clusters(z: pd.DataFrame, rules=NAMING_RULES, min_score: float = MIN_NAME_SCORE) -> dict:
    """Cluster -> unique persona name: rule names by best one-to-one match, plain-words names for the rest."""
    scores = rule_scores(z, rules)
    rows, cols = linear_sum_assignment(-scores.to_numpy())  # maximise the total score
    names, taken = {}, {UNCLASSIFIED}
    for r, c in zip(rows, cols):
        if scores.iat[r, c] >= min_score:
            names[scores.index[r]] = scores.columns[c]
            taken.add(scores.columns[c])
    for cluster in z.index:
        if cluster not in names:
            names[cluster] = _descriptive_name(z.loc[cluster], taken)
            taken.add(names[cluster])
    return names


# ---------------------------------------------------------------- the table

def assign_personas(features: pd.DataFrame, seed: int = 0, k: int | None = None, k_min: int = 2, k_max: int = 8,
                    fit_size: int = 20000) -> pd.DataFrame:
    """customer_id, persona for every customer in `features` (no events -> 'unclassified').

    With too few customers to cluster (`fit_clusters` raises NotEstimable) everyone is 'unclassified'.
    """
    personas = pd.DataFrame({"customer_id": features.index.astype(str)})
    try:
        fit = fit_clusters(features, k=k, k_min=k_min, k_max=k_max, seed=seed, fit_size=fit_size)
    except NotEstimable:
        personas["persona"] = UNCLASSIFIED
        return personas.sort_values("customer_id", ignore_index=True)
    names = name_clusters(cluster_z(features, fit["labels"]))
    labels = fit["labels"].reindex(features.index)
    personas["persona"] = labels.map(names).fillna(UNCLASSIFIED).astype(str).to_numpy()
    return personas.sort_values("customer_id", ignore_index=True)


def write_personas(processed_dir=None, seed: int = 0, k: int | None = None, k_min: int = 2, k_max: int = 8,
                   taxonomy=None) -> pd.DataFrame:
    """Build personas from the processed tables and write `<processed_dir>/personas.parquet`."""
    from journeylib import paths

    features = load_features(processed_dir, taxonomy)
    personas = assign_personas(features, seed=seed, k=k, k_min=k_min, k_max=k_max)
    folder = paths.processed_dir(processed_dir)
    personas.astype({"customer_id": "string", "persona": "string"}).to_parquet(
        folder / f"{PERSONAS_TABLE}.parquet", index=False)
    return personas


# ---------------------------------------------------------------- cards

def _top(values: pd.Series) -> str:
    counts = values.value_counts()
    return str(counts.index[0]) if len(counts) else "n/a"


def persona_profile(features: pd.DataFrame, personas: pd.DataFrame, top_pains: int = 2) -> pd.DataFrame:
    """One row per persona (largest first): size and the card's demographics, channels, conversion, pains."""
    persona = personas.set_index("customer_id")["persona"].reindex(features.index)
    rows = []
    pains = pain_columns(features)
    for name, group in features.groupby(persona.to_numpy()):
        buyers = group[group["purchased"]]
        pain_share = group[pains].mean().sort_values(ascending=False, kind="stable") if pains else pd.Series()
        rows.append({
            "persona": name,
            "customers": len(group),
            "median_age": group["age"].median(),
            "top_income_band": _top(group["income_band"]),
            "top_gender": _top(group["gender"]),
            "top_region": _top(group["region"]),
            "top_acquisition_channel": _top(group["acquisition_channel"]),
            "channels_used": group["channels"].mean(),
            "digital_share": group["digital_share"].mean(),
            "social_share": group["social_share"].mean(),
            "in_person_share": group["in_person_share"].mean(),
            "vdp_views": group["vdp_views"].mean(),
            "build_and_price": group["build_and_price"].mean(),
            "price_tools": group["price_tools"].mean(),
            "test_drive_rate": group["test_drive"].mean(),
            "conversion": group["purchased"].mean(),
            "median_days_to_purchase": buyers["days_to_purchase"].median() if len(buyers) else np.nan,
            "top_finance_type": _top(buyers["finance_type"]) if len(buyers) else "n/a",
            "top_pain_points": ", ".join(p.removeprefix("pain_") for p in pain_share.index[:top_pains]
                                         if pain_share[p] > 0) or "none",
        })
    profile = pd.DataFrame(rows).set_index("persona")
    profile.insert(1, "share", profile["customers"] / profile["customers"].sum())
    return profile.sort_values(["customers"], ascending=False, kind="stable")
