"""What the taste model learnt, for a human: a text table and a one-file HTML report.

The HTML embeds every plot as a base64 PNG so it can be mailed or opened from
the data dir with no server.  Each plot that the data cannot support (too few
ratings, no reducer, no valence column) is replaced by a sentence saying why,
never by an empty axis.
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
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.inspection import permutation_importance
from sklearn.model_selection import KFold, learning_curve
from sklearn.pipeline import Pipeline

from models.evaluate import METRICS, CandidateResult, Evaluation
from models.pipeline import Array, TasteModel, describe_params, quiet_fit

if TYPE_CHECKING:  # matplotlib loads only when a report is drawn, not in every daemon
    from matplotlib.figure import Figure


@dataclass(frozen=True)
class VersionPoint:
    """One model version for the "score over time" plot."""

    created: datetime
    version: str
    kind: str
    score: float | None
    promoted: bool


def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}f}"


def candidate_rows(evaluation: Evaluation) -> list[list[str]]:
    """Header + one row per candidate, best nested R2 first; the chosen one marked."""
    header = ["candidate", "family", "R2 (nested)", "+-", "MSE", "MAE", "Spearman"]
    if evaluation.binary:
        header.append("ROC AUC")
    rows = [header]
    ordered = sorted(
        evaluation.candidates.values(),
        key=lambda c: -math.inf if math.isnan(c.score) else c.score,
        reverse=True,
    )
    for c in ordered:
        mark = " *" if c.name == evaluation.chosen else ""
        row = [c.name + mark, c.family, _fmt(c.nested.r2), _fmt(c.nested_std.r2)]
        row += [_fmt(getattr(c.nested, m)) for m in METRICS[1:]]
        if evaluation.binary:
            row.append(_fmt(c.nested.roc_auc))
        rows.append(row)
    leak = evaluation.leaky_seed_protocol
    rows.append(
        [
            "seed protocol (leaky)",
            "reference",
            _fmt(leak.r2),
            "",
            _fmt(leak.mse),
            _fmt(leak.mae),
            _fmt(leak.spearman),
        ]
        + ([""] if evaluation.binary else [])
    )
    return rows


def gap_rows(candidates: Sequence[CandidateResult]) -> list[list[str]]:
    """The seed's train-vs-test table: R2 and MSE on training and test folds, gap in %."""
    rows = [["candidate", "R2 train", "R2 test", "R2 gap %", "MSE train", "MSE test", "MSE gap %"]]
    for c in candidates:
        g = c.gap()
        rows.append(
            [c.name]
            + [
                _fmt(g[k], 1 if k.endswith("pct") else 3)
                for k in (
                    "r2_train",
                    "r2_test",
                    "r2_gap_pct",
                    "mse_train",
                    "mse_test",
                    "mse_gap_pct",
                )
            ]
        )
    return rows


def text_table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def comparison_text(evaluation: Evaluation) -> str:
    """The terminal summary ``bachbot train`` / ``evaluate`` print."""
    o = evaluation.options
    chosen = evaluation.chosen_result
    parts = [
        f"{evaluation.n_samples} ratings, {len(evaluation.columns)} features; nested CV: "
        f"outer {o.outer_splits}-fold x {o.outer_repeats}, inner {o.inner_splits}-fold "
        f"(seed {o.seed})",
        "",
        text_table(candidate_rows(evaluation)),
        "",
        f"chosen: {chosen.name} ({'setting model=' + o.choose})  "
        f"params: {describe_params(evaluation.final_params) or '-'}",
        "",
        "train vs test (the seed's gap table):",
        text_table(gap_rows([c for c in evaluation.candidates.values() if c.family != "baseline"])),
    ]
    best = max(
        evaluation.candidates.values(), key=lambda c: -math.inf if math.isnan(c.score) else c.score
    )
    if best.name != chosen.name and best.family != "experiment":
        parts += [
            "",
            f"note: {best.name} beats the chosen {chosen.name} by "
            f"{best.score - chosen.score:.3f} nested R2 (set model=auto to use it)",
        ]
    return "\n".join(parts)


# --- plots -----------------------------------------------------------------------------

PlotFn = Callable[["Figure"], None]


def _png(draw: PlotFn) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.5, 4), dpi=90)
    draw(fig)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def plot_predicted_vs_given(evaluation: Evaluation, y: Array) -> PlotFn:
    chosen = evaluation.chosen_result
    folds = [f for f in chosen.folds if f.repeat == 0]

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        for f in folds:
            ax.scatter(y[f.test_index], f.y_pred, s=14, alpha=0.8, label=f"fold {f.fold + 1}")
        lo, hi = float(np.min(y)), float(np.max(y))
        ax.plot([lo, hi], [lo, hi], color="grey", lw=1)
        ax.set(
            xlabel="given rating",
            ylabel="predicted (never saw it)",
            title=f"{chosen.name}: predicted vs given, per outer fold",
        )
        ax.legend(fontsize=7)

    return draw


def plot_components(model: TasteModel, X: Array, y: Array) -> PlotFn:
    final = model.final
    if isinstance(final, Pipeline) and "reduce" in final.named_steps:
        Z = Pipeline(final.steps[:-1]).transform(X)
        reducer = str(final.named_steps["reduce"].kind)
    elif isinstance(final, Pipeline) and "scale" in final.named_steps:
        Z = Pipeline(final.steps[:-1]).transform(X)
        reducer = "none"
    else:
        raise ValueError("the chosen model has no feature space to draw")
    if reducer == "none":
        Z = PCA(n_components=min(2, Z.shape[1])).fit_transform(Z)
        reducer = "none (PCA for display only)"

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        second = Z[:, 1] if Z.shape[1] > 1 else y
        points = ax.scatter(Z[:, 0], second, c=y, cmap="viridis", s=18)
        fig.colorbar(points, ax=ax, label="rating")
        ax.set(
            xlabel="component 1",
            ylabel="component 2" if Z.shape[1] > 1 else "rating",
            title=f"tracks in the reducer's space: {reducer}",
        )

    return draw


def find_column(columns: Sequence[str], name: str) -> int | None:
    """Index of ``name`` or of ``<block>.name`` (the matrix prefixes columns by provider)."""
    for i, column in enumerate(columns):
        if column == name or column.endswith("." + name):
            return i
    return None


def plot_valence_mode(columns: Sequence[str], X: Array, y: Array) -> PlotFn:
    iv, im = find_column(columns, "valence"), find_column(columns, "mode")
    if iv is None or im is None:
        raise ValueError("no valence and mode descriptors (Spotify audio features) available")
    v, m = X[:, iv], X[:, im]
    ok = np.isfinite(v) & np.isfinite(m)
    if ok.sum() < 3:
        raise ValueError("fewer than 3 rated tracks have valence and mode")
    jitter = np.random.default_rng(0).uniform(-0.08, 0.08, ok.sum())

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        points = ax.scatter(m[ok] + jitter, v[ok], c=y[ok], cmap="viridis", s=18)
        fig.colorbar(points, ax=ax, label="rating")
        ax.set_xticks([0, 1], ["minor", "major"])
        ax.set(xlabel="mode", ylabel="valence", title="valence against mode (as in the seed)")

    return draw


def plot_importance(evaluation: Evaluation, X: Array, y: Array, top: int = 15) -> PlotFn:
    """Permutation importance on each first-repeat outer test fold, averaged."""
    folds = [f for f in evaluation.chosen_result.folds if f.repeat == 0]
    per_fold = []
    for f in folds:
        if len(f.test_index) < 3:
            continue
        result = permutation_importance(
            f.model,
            X[f.test_index],
            y[f.test_index],
            scoring="neg_mean_squared_error",
            n_repeats=3,
            random_state=evaluation.options.seed,
        )
        per_fold.append(result.importances_mean)
    if not per_fold:
        raise ValueError("test folds are too small for permutation importance")
    mean = np.mean(per_fold, axis=0)
    order = np.argsort(mean)[::-1][:top]
    names = [evaluation.columns[i] for i in order]

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        ax.barh(names[::-1], mean[order][::-1])
        ax.set(
            xlabel="increase in test MSE when shuffled",
            title="permutation importance (outer test folds)",
        )
        ax.tick_params(axis="y", labelsize=7)

    return draw


def plot_learning_curve(evaluation: Evaluation, model: TasteModel, X: Array, y: Array) -> PlotFn:
    """Score against number of ratings, with the chosen configuration held fixed."""
    splits = evaluation.options.outer_splits
    smallest = int(len(y) * (splits - 1) / splits)
    if smallest < 10:
        raise ValueError(f"only {len(y)} ratings; a learning curve needs at least 13")
    sizes = np.unique(np.linspace(max(8, smallest // 4), smallest, 5).astype(int))
    cv = KFold(n_splits=splits, shuffle=True, random_state=evaluation.options.seed)
    counts, train, test = learning_curve(
        clone(model.final), X, y, train_sizes=sizes, cv=cv, scoring="neg_mean_squared_error"
    )

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        ax.plot(counts, -train.mean(axis=1), "o-", label="training folds")
        ax.plot(counts, -test.mean(axis=1), "o-", label="test folds")
        ax.set(
            xlabel="number of ratings",
            ylabel="MSE",
            title="learning curve (chosen configuration fixed)",
        )
        ax.legend()

    return draw


def plot_history(history: Sequence[VersionPoint]) -> PlotFn:
    scored = [h for h in history if h.score is not None and not math.isnan(h.score)]
    if not scored:
        raise ValueError("no trained model versions with a nested score yet")

    def draw(fig: Figure) -> None:
        from matplotlib.dates import date2num

        ax = fig.add_subplot()
        when = date2num([h.created for h in scored])  # type: ignore[no-untyped-call]
        score = np.array([h.score for h in scored], dtype=float)
        promoted = np.array([h.promoted for h in scored], dtype=bool)
        ax.plot(when, score, "-", color="grey")
        ax.scatter(when[promoted], score[promoted], marker="o", label="promoted")
        ax.scatter(when[~promoted], score[~promoted], marker="x", label="not promoted")
        ax.xaxis_date()
        ax.set(xlabel="trained at", ylabel="nested R2", title="every model version")
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
    "body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.2em .5em;"
    "text-align:right}td:first-child,th:first-child{text-align:left}.note{color:#a33}"
)


def render_report(
    *,
    evaluation: Evaluation | None,
    model: TasteModel | None,
    X: Array | None,
    y: Array | None,
    history: Sequence[VersionPoint] = (),
    message: str | None = None,
    generated: datetime | None = None,
) -> str:
    """A self-contained HTML page; ``evaluation=None`` gives the too-little-data page."""
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>bachbot taste model"
        f"</title><style>{STYLE}</style></head><body><h1>bachbot taste model</h1>"
    ]
    if generated is not None:
        parts.append(f"<p>Generated {html.escape(generated.isoformat(timespec='seconds'))}</p>")
    if message:
        parts.append(f"<p class='note'>{html.escape(message)}</p>")
    if evaluation is not None and X is not None and y is not None:
        parts.append(f"<pre>{html.escape(comparison_text(evaluation))}</pre>")
        parts.append("<h2>Every candidate (nested scores)</h2>")
        parts.append(_html_table(candidate_rows(evaluation)))
        parts.append("<h2>PCA vs LDA vs none</h2>")
        red = [["reducer", "R2", "MSE", "MAE", "Spearman"]] + [
            [r["reducer"], *(_fmt(r.get(m)) for m in METRICS)] for r in evaluation.reducer_table()
        ]
        parts.append(_html_table(red))
        parts.append("<h2>Train vs test gap</h2>")
        parts.append(_html_table(gap_rows(list(evaluation.candidates.values()))))
        parts.append("<h2>Plots</h2>")
        parts.append(
            _figure("Predicted vs given rating", lambda: plot_predicted_vs_given(evaluation, y))
        )
        if model is not None:
            parts.append(
                _figure("Reducer's first two components", lambda: plot_components(model, X, y))
            )
        parts.append(
            _figure("Valence against mode", lambda: plot_valence_mode(evaluation.columns, X, y))
        )
        parts.append(_figure("Permutation importance", lambda: plot_importance(evaluation, X, y)))
        if model is not None:
            parts.append(
                _figure("Learning curve", lambda: plot_learning_curve(evaluation, model, X, y))
            )
    elif not message:
        parts.append("<p class='note'>No evaluation to show.</p>")
    parts.append(_figure("Score of every model version", lambda: plot_history(history)))
    parts.append("</body></html>")
    return "".join(parts)


def history_points(rows: Sequence[Any]) -> list[VersionPoint]:
    """ModelVersion-like rows (attributes created_at, version, kind, metrics, promoted)."""
    points = []
    for row in rows:
        metrics = row.metrics or {}
        r2 = metrics.get("r2")
        points.append(
            VersionPoint(
                row.created_at,
                row.version,
                row.kind,
                float(r2) if r2 is not None else None,
                bool(row.promoted),
            )
        )
    return points
