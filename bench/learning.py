"""How well bachbot learns a real person's taste, against scikit-learn on the same folds.

    python -m bench.learning --dataset FILE.csv --target COLUMN [--features a,b] \
        [--group a,b] [--name NAME] [--out bench/learning.json]

Runs ``bachbot evaluate``'s own code (:func:`models.evaluate.train_model`) on
a public personal-taste table twice - ``model=mlp`` (the default) and
``model=auto`` - and, in the same run, scikit-learn's
``HistGradientBoostingClassifier()`` with its defaults on exactly the outer
folds the evaluation used.  Reports each nested ROC AUC, the difference to
scikit-learn's with its paired standard error, the best baseline's fold SD,
and the wall time.  Results for several tables accumulate in one JSON file
(keyed by ``--name``) and a Markdown table beside it.

The tables themselves are not shipped (they are other people's data); the
README of ``bench/`` says where the measured ones came from.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from models.datasets import dataset_labels, read_table
from models.evaluate import Evaluation, train_model
from models.folds import Split, default_repeats, stratified_splits
from models.metrics import paired_difference, roc_auc
from models.options import ModelOptions
from models.pipeline import quiet_fit
from models.target import DEFAULT_LOVE_THRESHOLD, Labels

DEFAULT_OUT = Path(__file__).with_name("learning.json")


def _splits(evaluation: Evaluation, y: np.ndarray) -> list[Split]:
    o = evaluation.options
    return stratified_splits(
        y,
        evaluation.grouping.ids,
        n_splits=o.outer_splits,
        n_repeats=default_repeats(len(y), o.outer_repeats),
        seed=o.seed,
    )


def sklearn_hgb(X: np.ndarray, y: np.ndarray, splits: list[Split], seed: int) -> list[float]:
    """scikit-learn's HistGradientBoostingClassifier, defaults, on the given folds."""
    out = []
    with quiet_fit():
        for s in splits:
            model = HistGradientBoostingClassifier(random_state=seed).fit(X[s.train], y[s.train])
            out.append(roc_auc(y[s.test], model.predict_proba(X[s.test])[:, 1]))
    return out


def measure(
    X: np.ndarray, labels: Labels, columns: tuple[str, ...], options: ModelOptions, groupings: Any
) -> dict[str, Any]:
    """Both settings of ``model`` and scikit-learn's HGB on the same folds."""
    figures: dict[str, Any] = {}
    hgb: list[float] | None = None
    for choice in ("mlp", "auto"):
        started = time.perf_counter()
        result = train_model(
            X, labels, options=replace(options, choose=choice), columns=columns,
            groupings=groupings,
        )  # fmt: skip
        took = time.perf_counter() - started
        evaluation = result.evaluation
        chosen = evaluation.chosen_result
        if hgb is None:  # the folds depend only on the data and the seed
            hgb = sklearn_hgb(X, labels.loved, _splits(evaluation, labels.loved), options.seed)
        diff = paired_difference(chosen.primary_by_fold(), hgb, test_train_ratio=evaluation.ratio)
        baselines = [f for f in evaluation.families.values() if f.role == "baseline"]
        best = max(baselines, key=lambda f: f.score)
        figures[choice] = {
            "roc_auc": round(chosen.score, 4),
            "fold_sd": round(chosen.summary["roc_auc"].sd, 4),
            "vs_sklearn_hgb": round(diff.mean, 4),
            "se": round(diff.se, 4),
            "best_baseline": best.name,
            "best_baseline_roc_auc": round(best.score, 4),
            "best_baseline_fold_sd": round(best.summary["roc_auc"].sd, 4),
            "within_one_fold_sd_of_best_baseline": bool(
                chosen.score >= best.score - best.summary["roc_auc"].sd
            ),
            "chosen_by_folds": chosen.choices(),
            "final_config": None
            if evaluation.final_config is None
            else evaluation.final_config.key,
            "seconds": round(took, 1),
            "grouping": evaluation.grouping.name,
            "folds": f"{options.outer_splits}x{evaluation.repeats}",
        }
    assert hgb is not None
    figures["sklearn_hgb_roc_auc"] = round(float(np.mean(hgb)), 4)
    return figures


def render(results: dict[str, Any]) -> str:
    lines = [
        "# How well bachbot learns a real taste",
        "",
        "Nested ROC AUC of bachbot's `model=mlp` (the default) and `model=auto` against "
        "scikit-learn's `HistGradientBoostingClassifier()` with its defaults on the same "
        "outer folds, in the same run (`python -m bench.learning`). Difference: bachbot - "
        "scikit-learn, with the paired standard error (Nadeau-Bengio corrected).",
        "",
        "| table | rows | model | ROC AUC | fold SD | sklearn HGB | difference (SE) "
        "| best baseline (fold SD) | time |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        for choice in ("mlp", "auto"):
            f = r["figures"][choice]
            lines.append(
                f"| {name} | {r['rows']} | {choice} | {f['roc_auc']:.3f} | {f['fold_sd']:.3f} | "
                f"{r['figures']['sklearn_hgb_roc_auc']:.3f} | {f['vs_sklearn_hgb']:+.3f} "
                f"({f['se']:.3f}) | {f['best_baseline']} {f['best_baseline_roc_auc']:.3f} "
                f"({f['best_baseline_fold_sd']:.3f}) | {f['seconds']:.0f} s |"
            )
    lines.append("")
    for name, r in results.items():
        lines.append(
            f"- **{name}**: {r['source']}; {r['machine']}, {r['date']}; folds "
            f"{r['figures']['mlp']['folds']}, grouping {r['figures']['mlp']['grouping']}; "
            f"configurations the mlp folds chose: {r['figures']['mlp']['chosen_by_folds']}; "
            f"auto: {r['figures']['auto']['chosen_by_folds']}."
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--features")
    parser.add_argument("--group")
    parser.add_argument("--name")
    parser.add_argument("--source", default="")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    features = [f for f in (args.features or "").split(",") if f] or None
    group = [g for g in (args.group or "").split(",") if g] or None
    table = read_table(args.dataset, target=args.target, features=features, group=group)
    labels = dataset_labels(table.y, None, DEFAULT_LOVE_THRESHOLD, args.target)
    options = ModelOptions(n_jobs=args.jobs)
    figures = measure(table.X, labels, table.columns, options, table.groupings)
    results: dict[str, Any] = {}
    if args.out.exists():
        results = json.loads(args.out.read_text())
    results[args.name or args.dataset.stem] = {
        "rows": len(table.y),
        "features": list(table.columns),
        "source": args.source or str(args.dataset.name),
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "figures": figures,
    }
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(render(results))
    print(render(results))
    for choice in ("mlp", "auto"):
        f = figures[choice]
        if not math.isfinite(f["roc_auc"]):
            raise SystemExit(f"{choice}: no ROC AUC")


if __name__ == "__main__":
    main()
