"""What the taste model learnt, for a human: a terminal table and a one-file HTML report.

The HTML embeds every plot as a base64 PNG so it can be mailed or opened from
the data dir with no server.  Each plot that the data cannot support (too few
ratings, no valence column) is replaced by a sentence saying why, never by an
empty axis.  Differences between models are shown with their paired standard
error, and the report only suggests another model when the paired test says
the difference is real.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.inspection import permutation_importance
from sklearn.model_selection import learning_curve
from sklearn.pipeline import Pipeline

from models.evaluate import PRIMARY, Evaluation, FamilyResult
from models.folds import stratified_splits
from models.metrics import LABELS
from models.nested import out_of_fold
from models.pipeline import Array, TasteModel, quiet_fit
from models.study import r2_text

if TYPE_CHECKING:  # matplotlib loads only when a report is drawn, not in every daemon
    from matplotlib.figure import Figure

SIGNIFICANT = 0.05
"""p-value below which the report calls a difference between two models real."""


@dataclass(frozen=True)
class VersionPoint:
    """One model version for the "score over time" plot."""

    created: datetime
    version: str
    kind: str
    score: float | None
    was_in_use: bool
    metric: str = PRIMARY


def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}f}"


def _diff(family: FamilyResult) -> tuple[str, str]:
    d = family.vs_chosen
    if d is None or not math.isfinite(d.mean):
        return "-", ""
    se = "" if not math.isfinite(d.se) else f" ({d.se:.3f})"
    p = "" if not math.isfinite(d.p) else f"{d.p:.2f}"
    return f"{d.mean:+.3f}{se}", p


def candidate_rows(evaluation: Evaluation) -> list[list[str]]:
    """Header + one row per family, best nested ROC AUC first; the chosen one marked."""
    header = [
        "model",
        "ROC AUC",
        "fold SD",
        "vs chosen (SE)",
        "p",
        "precision@k",
        "NDCG@k",
        "Brier",
        "train AUC",
    ]
    ordered = sorted(
        evaluation.families.values(),
        key=lambda f: -math.inf if math.isnan(f.score) else f.score,
        reverse=True,
    )
    rows = [header]
    for f in ordered:
        mark = " *" if f.name == evaluation.chosen else ""
        diff, p = _diff(f)
        s = f.summary
        rows.append(
            [
                f.name + mark,
                _fmt(s["roc_auc"].mean),
                _fmt(s["roc_auc"].sd),
                diff,
                p,
                _fmt(s["precision_at_k"].mean),
                _fmt(s["ndcg_at_k"].mean),
                _fmt(s["brier"].mean),
                _fmt(f.train.mean),
            ]
        )
    return rows


def text_table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def choices_text(family: FamilyResult) -> str:
    total = len(family.folds)
    return ", ".join(f"{key} {n}/{total}" for key, n in family.choices().items())


def better_alternative(evaluation: Evaluation) -> FamilyResult | None:
    """A family significantly better than the chosen one by the paired test, if any."""
    best: FamilyResult | None = None
    for f in evaluation.families.values():
        d = f.vs_chosen
        if f.role in {"experiment", "floor", "reducer"} or d is None:
            continue
        if d.mean > 0 and d.significant(SIGNIFICANT) and (best is None or f.score > best.score):
            best = f
    return best


def comparison_text(evaluation: Evaluation) -> str:
    """The terminal summary ``bachbot train`` / ``evaluate`` print."""
    o = evaluation.options
    chosen = evaluation.chosen_result
    parts = [
        f"{evaluation.n_samples} ratings ({evaluation.n_positive} loved), "
        f"{len(evaluation.columns)} features; nested CV: {evaluation.cv_text()} "
        f"({evaluation.grouping.n_groups} groups; seed {o.seed})",
        "",
        text_table(candidate_rows(evaluation)),
        "",
        f"chosen: {chosen.name} (setting model={o.choose}); ROC AUC {_fmt(chosen.score)} "
        f"(fold SD {_fmt(chosen.summary[PRIMARY].sd)}); k = min({o.playlist_size}, a fifth "
        "of each test fold); p: paired test over the same folds (corrected resampled t)",
        f"configurations the outer folds chose: {choices_text(chosen)}",
    ]
    if evaluation.final_config is not None:
        parts.append(
            f"model in use (chosen the same way on all ratings): {evaluation.final_config.key}"
        )
    calibration = evaluation.calibration
    if calibration is not None:
        parts.append(
            f"probabilities (calibrated out of fold): Brier {_fmt(calibration.brier)}, "
            f"expected calibration error {_fmt(calibration.ece)}"
        )
    study = r2_text(evaluation.study)
    if study:
        parts.append(study)
    parts.extend(f"note: {note}" for note in evaluation.notes)
    alternative = better_alternative(evaluation)
    if alternative is not None and alternative.vs_chosen is not None:
        d = alternative.vs_chosen
        parts.append(
            f"note: {alternative.name} ranks better than the chosen {chosen.name} by "
            f"{d.mean:+.3f} ROC AUC (SE {d.se:.3f}, p {d.p:.3f}); BACHBOT_MODEL=auto lets "
            "the better model be chosen"
        )
    return "\n".join(parts)


# --- plots -----------------------------------------------------------------------------

PlotFn = Callable[["Figure"], None]


def _png(draw: PlotFn) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.2), dpi=90)
    draw(fig)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def plot_separation(evaluation: Evaluation, y: NDArray[np.int64]) -> PlotFn:
    """Out-of-fold probability of love for loved and not-loved tracks."""
    raw, fold_of = out_of_fold(evaluation.chosen_result.folds, len(y))
    seen = fold_of >= 0
    yy = np.tile(y, len(raw) // len(y))[seen]
    prob = raw[seen]
    calibration = evaluation.calibration
    if calibration is not None:
        prob = calibration.platt(prob)

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        bins = np.linspace(0, 1, 21).tolist()
        ax.hist(prob[yy == 1], bins=bins, alpha=0.6, label="loved")
        ax.hist(prob[yy == 0], bins=bins, alpha=0.6, label="not loved")
        ax.set(xlabel="probability of love (never saw the track)", ylabel="tracks")
        ax.set_title("out-of-fold probabilities", fontsize=10)
        ax.legend()

    return draw


def plot_reliability(evaluation: Evaluation) -> PlotFn:
    calibration = evaluation.calibration
    if calibration is None or not calibration.bins:
        raise ValueError("no calibration to show")
    bins = calibration.bins

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, 1], color="grey", lw=1)
        ax.plot([b.predicted for b in bins], [b.observed for b in bins], "o-")
        for b in bins:
            ax.annotate(str(b.n), (b.predicted, b.observed), fontsize=7, xytext=(3, 3),
                        textcoords="offset points")  # fmt: skip
        ax.set(xlabel="predicted probability", ylabel="share actually loved", xlim=(0, 1))
        ax.set_title("calibration (cross-fitted; numbers: tracks per bin)", fontsize=10)

    return draw


def plot_components(model: TasteModel, X: Array, y: NDArray[np.int64]) -> PlotFn:
    final = model.final
    if not (isinstance(final, Pipeline) and "scale" in final.named_steps):
        raise ValueError(f"the model in use ({model.kind}) has no feature space to draw")
    Z = Pipeline(final.steps[:-1]).transform(X)
    reducer = str(final.named_steps["reduce"].kind) if "reduce" in final.named_steps else "none"
    if reducer != "lda" and Z.shape[1] > 2:
        Z = PCA(n_components=2).fit_transform(Z)
        reducer = f"{reducer} (PCA for display)"

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        second = Z[:, 1] if Z.shape[1] > 1 else np.random.default_rng(0).uniform(-1, 1, len(Z))
        for label, name in ((1, "loved"), (0, "not loved")):
            ax.scatter(Z[y == label, 0], second[y == label], s=16, alpha=0.8, label=name)
        ax.set(xlabel="component 1", ylabel="component 2" if Z.shape[1] > 1 else "(jitter)")
        ax.set_title(f"rated tracks in the model's space: {reducer}", fontsize=10)
        ax.legend()

    return draw


def find_column(columns: Sequence[str], name: str) -> int | None:
    """Index of ``name`` or of ``<block>.name`` (the matrix prefixes columns by provider)."""
    for i, column in enumerate(columns):
        if column == name or column.endswith("." + name):
            return i
    return None


def plot_valence_mode(columns: Sequence[str], X: Array, y: NDArray[np.int64]) -> PlotFn:
    iv, im = find_column(columns, "valence"), find_column(columns, "mode")
    if iv is None or im is None:
        raise ValueError("no valence and mode descriptors (Spotify-style audio features) available")
    v, m = X[:, iv], X[:, im]
    ok = np.isfinite(v) & np.isfinite(m)
    if ok.sum() < 3:
        raise ValueError("fewer than 3 rated tracks have valence and mode")
    jitter = np.random.default_rng(0).uniform(-0.08, 0.08, ok.sum())

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        for label, name in ((1, "loved"), (0, "not loved")):
            sel = y[ok] == label
            ax.scatter(m[ok][sel] + jitter[sel], v[ok][sel], s=16, alpha=0.8, label=name)
        ax.set_xticks([0, 1], ["minor", "major"])
        ax.set(xlabel="mode", ylabel="valence")
        ax.set_title("valence against mode (as in the study)", fontsize=10)
        ax.legend()

    return draw


def plot_importance(
    evaluation: Evaluation, model: TasteModel, X: Array, y: NDArray[np.int64], top: int = 15
) -> PlotFn:
    """Permutation importance (drop in ROC AUC) on each first-repeat outer test fold."""
    folds = [f for f in evaluation.chosen_result.folds if f.repeat == 0]
    per_fold = []
    for fold, fitted in zip(folds, model.fold_models, strict=False):
        test_y = y[fold.test_index]
        if len(np.unique(test_y)) < 2:
            continue
        result = permutation_importance(
            fitted,
            X[fold.test_index],
            test_y,
            scoring="roc_auc",
            n_repeats=3,
            random_state=evaluation.options.seed,
        )
        per_fold.append(result.importances_mean)
    if not per_fold:
        raise ValueError("no outer test fold holds both loved and not-loved tracks")
    mean = np.mean(per_fold, axis=0)
    order = np.argsort(mean)[::-1][:top]
    names = [evaluation.columns[i] for i in order]

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        ax.barh(names[::-1], mean[order][::-1])
        ax.set(xlabel="drop in test ROC AUC when the column is shuffled")
        ax.set_title("what the model relies on (outer test folds)", fontsize=10)
        ax.tick_params(axis="y", labelsize=7)

    return draw


def plot_learning_curve(
    evaluation: Evaluation, model: TasteModel, X: Array, y: NDArray[np.int64]
) -> PlotFn:
    """ROC AUC against number of ratings, with the configuration in use held fixed."""
    o = evaluation.options
    smallest = int(len(y) * (o.outer_splits - 1) / o.outer_splits)
    if smallest < 20:
        raise ValueError(f"only {len(y)} ratings; a learning curve needs at least 25")
    splits = stratified_splits(
        y, evaluation.grouping.ids, n_splits=o.outer_splits, n_repeats=1, seed=o.seed
    )
    cv = [(s.train, s.test) for s in splits]
    sizes = np.unique(np.linspace(max(12, smallest // 4), smallest, 5).astype(int))
    counts, train, test = learning_curve(
        clone(model.final), X, y, train_sizes=sizes, cv=cv, scoring="roc_auc",
        shuffle=True, random_state=o.seed, error_score=np.nan,
    )  # fmt: skip

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        ax.plot(counts, np.nanmean(train, axis=1), "o-", label="training folds")
        ax.plot(counts, np.nanmean(test, axis=1), "o-", label="test folds")
        ax.set(xlabel="number of ratings", ylabel="ROC AUC")
        ax.set_title("learning curve (configuration in use, fixed)", fontsize=10)
        ax.legend()

    return draw


def plot_history(history: Sequence[VersionPoint]) -> PlotFn:
    scored = [h for h in history if h.score is not None and not math.isnan(h.score)]
    if not scored:
        raise ValueError("no trained model versions with a nested score yet")
    latest = scored[-1].metric
    scored = [h for h in scored if h.metric == latest]  # older versions scored another way
    metric = LABELS.get(latest, latest)

    def draw(fig: Figure) -> None:
        from matplotlib.dates import date2num

        ax = fig.add_subplot()
        when = date2num([h.created for h in scored])  # type: ignore[no-untyped-call]
        score = np.array([h.score for h in scored], dtype=float)
        used = np.array([h.was_in_use for h in scored], dtype=bool)
        ax.plot(when, score, "-", color="grey")
        ax.scatter(when[used], score[used], marker="o", label="was in use")
        ax.scatter(when[~used], score[~used], marker="x", label="kept out by the gate")
        ax.xaxis_date()
        ax.set(xlabel="trained at", ylabel=f"nested {metric}")
        ax.set_title("every model version", fontsize=10)
        ax.legend()
        fig.autofmt_xdate()

    return draw


# --- HTML --------------------------------------------------------------------------------


def _html_table(rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows[1:]
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure(title: str, make: Callable[[], PlotFn]) -> str:
    try:
        with quiet_fit():
            image = _png(make())
    except (ValueError, IndexError) as err:
        return (
            f"<h3>{html.escape(title)}</h3><p class='note'>Not drawn: {html.escape(str(err))}</p>"
        )
    return (
        f"<h3>{html.escape(title)}</h3>"
        f"<img alt='{html.escape(title)}' src='data:image/png;base64,{image}'>"
    )


STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:62em;margin:2em auto;padding:0 1em;"
    "color:#222}img{max-width:100%}table{border-collapse:collapse;margin:1em 0}"
    "td,th{border:1px solid #ccc;padding:.2em .5em;text-align:right}"
    "td:first-child,th:first-child{text-align:left}.note{color:#a33}"
)


def _summary_html(evaluation: Evaluation) -> str:
    lines = comparison_text(evaluation).split("\n")
    table_end = next(i for i, line in enumerate(lines[3:], start=3) if not line.strip())
    keep = [lines[0], *lines[table_end + 1 :]]
    return "".join(f"<p>{html.escape(line)}</p>" for line in keep if line.strip())


def render_report(
    *,
    evaluation: Evaluation | None,
    model: TasteModel | None,
    X: Array | None,
    y: NDArray[np.int64] | None,
    history: Sequence[VersionPoint] = (),
    message: str | None = None,
    generated: datetime | None = None,
) -> str:
    """A self-contained HTML page; ``evaluation=None`` gives the too-little-data page."""
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>bachbot taste model</title><style>{STYLE}</style></head><body>"
        "<h1>bachbot taste model</h1>"
    ]
    if generated is not None:
        parts.append(f"<p>Generated {html.escape(generated.isoformat(timespec='seconds'))}</p>")
    if message:
        parts.append(f"<p class='note'>{html.escape(message)}</p>")
    if evaluation is not None and X is not None and y is not None:
        parts.append("<h2>Every model on the same folds (nested scores)</h2>")
        parts.append(_summary_html(evaluation))
        parts.append(_html_table(candidate_rows(evaluation)))
        parts.append("<h2>Plots</h2>")
        parts.append(
            _figure("How well loved tracks separate", lambda: plot_separation(evaluation, y))
        )
        parts.append(_figure("Calibration", lambda: plot_reliability(evaluation)))
        if model is not None:
            parts.append(
                _figure("Rated tracks in the model's space", lambda: plot_components(model, X, y))
            )
            parts.append(
                _figure("Permutation importance", lambda: plot_importance(evaluation, model, X, y))
            )
            parts.append(
                _figure("Learning curve", lambda: plot_learning_curve(evaluation, model, X, y))
            )
        parts.append(
            _figure("Valence against mode", lambda: plot_valence_mode(evaluation.columns, X, y))
        )
    elif not message:
        parts.append("<p class='note'>No evaluation to show.</p>")
    parts.append(_figure("Score of every model version", lambda: plot_history(history)))
    parts.append("</body></html>")
    return "".join(parts)


def history_points(rows: Sequence[Any]) -> list[VersionPoint]:
    """ModelVersion-like rows (created_at, version, kind, metrics, promoted_at)."""
    points = []
    for row in rows:
        metrics = row.metrics or {}
        metric = str(metrics.get("metric", "r2"))
        value = metrics.get("score", metrics.get("r2"))
        points.append(
            VersionPoint(
                row.created_at,
                row.version,
                row.kind,
                float(value) if isinstance(value, int | float) else None,
                row.promoted_at is not None,
                metric,
            )
        )
    return points
