"""Two bundles scored on the same held-out data, with the plots of the Model page.

The figures per source are models.evaluate.evaluate_data's, on the part of the data that
models.evaluate.held_out_part gives (what `python -m models evaluate` scores); when either bundle
was trained on the data, both are scored only on texts held out of BOTH bundles' training. Curves,
calibration and the confusion of none / A->B / B->A are over candidate pairs: the pairs the
candidate generator proposes from each passage, labelled by the gold relations (as in training),
or the dataset's own labelled pairs where it has no passages.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.metrics import calibration_error
from core.specs import spec_format, spec_path
from core.types import Direction, LabeledData
from data.readers import read_dataset, store_filters, store_spec, text_keys, without_texts
from models.bundle import load_model, read_config
from models.classifier import CLASSES, RelationModel
from models.evaluate import evaluate_data, held_out_part
from models.training import pair_examples
from models.writer import RelationWriter

BAR_METRICS = ("causal_precision", "causal_recall", "causal_f1", "detection_f1", "sign_accuracy", "e2e_f1",
               "sentence_f1")


@dataclass
class PairScores:
    """One bundle's candidate-pair probabilities on the comparison data (for curves and confusion)."""

    gold: np.ndarray
    """Direction per pair (0 none, 1 A->B, 2 B->A)."""
    probs: np.ndarray
    """[n, 3] direction probabilities."""
    threshold: float

    @property
    def causal(self) -> np.ndarray:
        return self.probs[:, 1] + self.probs[:, 2]

    def predicted(self) -> np.ndarray:
        from models.classifier import decide

        return decide(self.probs, self.threshold) if len(self.probs) else np.zeros(0, dtype=int)

    def confusion(self) -> np.ndarray:
        """3x3 counts, rows gold none / A->B / B->A, columns predicted."""
        out = np.zeros((3, 3), dtype=int)
        for g, p in zip(self.gold, self.predicted()):
            out[int(g), int(p)] += 1
        return out


@dataclass
class Comparison:
    """Per-source and per-document figures of two bundles (labels[0] is the base, labels[1] the tuned)."""

    labels: tuple[str, str]
    model_ids: tuple[str, str]
    per_source: list[dict] = field(default_factory=list)
    per_document: list[dict] = field(default_factory=list)
    pairs: dict[str, PairScores] = field(default_factory=dict)


def common_part(spec: str, data: LabeledData, configs: list[dict]) -> tuple[str, LabeledData]:
    """The texts every bundle may be scored on: each bundle's held_out_part, intersected."""
    parts = [held_out_part(spec, data, config, lambda _m: None) for config in configs]
    held = [p for kind, p in parts if kind != "all"]
    if not held:
        return "all", data
    keep = set.intersection(*(text_keys(p) for p in held))
    return "held out of training", without_texts(data, text_keys(data) - keep)


def _documents(spec: str) -> list[tuple[str, str]]:
    """(title, spec of that document alone) for each document a store spec covers."""
    from data.store import Store

    url, annotators, documents = store_filters(spec_path(spec))
    store = Store(url)
    try:
        docs = [d for d in store.list_documents() if documents is None or d.id in documents]
    finally:
        store.close()
    return [(d.title or d.filename, store_spec(url, annotators, [d.id])) for d in docs]


def _pair_scores(model: RelationModel, data: LabeledData, fmt: str) -> PairScores:
    exs = pair_examples(data, fmt)[0]
    probs = model.predict_proba([e.candidate for e in exs])[0] if exs else np.zeros((0, 3))
    return PairScores(np.asarray([int(e.label) for e in exs], dtype=int), probs, model.thresholds["pair"])


def compare(bundles: tuple[str | Path, str | Path], specs: list[str], labels: tuple[str, str] | None = None
            ) -> Comparison:
    """Score both bundles on every spec (per source, and per document for store labels). A relation
    writer (models.writer) has end-to-end and sentence figures but no pair scores: the pair plots
    show the pair scorers only."""
    configs = [read_config(b) for b in bundles]
    models = [load_model(b) for b in bundles]
    names = labels or tuple(Path(b).name for b in bundles)
    result = Comparison(names, tuple(m.model_id for m in models))
    pooled: dict[str, list[PairScores]] = {n: [] for n, m in zip(names, models) if not isinstance(m, RelationWriter)}
    for spec in specs:
        fmt = spec_format(spec)
        part, data = common_part(spec, read_dataset(spec), configs)
        for name, model in zip(names, models):
            result.per_source.append({"data": spec, "split": part, "model": name, "model_id": model.model_id,
                                      **evaluate_data(model, data, fmt)})
            if name in pooled:
                pooled[name].append(_pair_scores(model, data, fmt))
        if fmt != "store":
            continue
        all_keys = text_keys(data)
        for title, doc_spec in _documents(spec):
            sub = without_texts(data, all_keys - text_keys(read_dataset(doc_spec)))
            if not (sub.examples or sub.passages or sub.sentences):
                continue
            for name, model in zip(names, models):
                result.per_document.append({"document": title, "model": name, **evaluate_data(model, sub, fmt)})
    for name, parts in pooled.items():
        result.pairs[name] = PairScores(np.concatenate([p.gold for p in parts]),
                                        np.concatenate([p.probs for p in parts]), parts[0].threshold)
    return result


# ------------------------------------------------------------------------------------------ plots
def _figure(width: float = 5.5, height: float = 4.0):
    from matplotlib.figure import Figure  # no pyplot: figures are not kept in a global registry

    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def pr_curves(result: Comparison):
    """Precision-recall curve of "causal" (either direction) per bundle, average precision in the legend."""
    from sklearn.metrics import average_precision_score, precision_recall_curve

    fig, ax = _figure()
    for name, scores in result.pairs.items():
        y = scores.gold != Direction.NONE
        if y.any() and (~y).any():
            p, r, _ = precision_recall_curve(y, scores.causal)
            ax.plot(r, p, label=f"{name} (AP {average_precision_score(y, scores.causal):.3f})")
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02), title="Causal pairs: precision-recall")
    ax.legend(loc="lower left")
    return fig


def calibration_plot(result: Comparison, bins: int = 10):
    """Reliability diagram of P(causal): observed causal share per score bin, against the diagonal."""
    fig, ax = _figure()
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey", label="perfectly calibrated")
    for name, scores in result.pairs.items():
        y = (scores.gold != Direction.NONE).astype(float)
        if not len(y):
            continue
        idx = np.minimum((scores.causal * bins).astype(int), bins - 1)
        filled = [b for b in range(bins) if np.any(idx == b)]
        ax.plot([scores.causal[idx == b].mean() for b in filled], [y[idx == b].mean() for b in filled], marker="o",
                label=f"{name} (ECE {calibration_error(scores.causal, y, bins):.3f})")
    ax.set(xlabel="mean P(causal) in bin", ylabel="share causal", xlim=(0, 1), ylim=(0, 1.02),
           title="Calibration of P(causal)")
    ax.legend(loc="upper left")
    return fig


def confusion_plot(result: Comparison):
    """Confusion of none / A->B / B->A per bundle (rows gold, columns predicted), counts in the cells."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.2 * max(1, len(result.pairs)), 3.8), layout="constrained")
    if not result.pairs:
        fig.text(0.5, 0.5, "no bundle here scores candidate pairs", ha="center")
    for k, (name, scores) in enumerate(result.pairs.items(), 1):
        ax = fig.add_subplot(1, len(result.pairs), k)
        matrix = scores.confusion()
        ax.imshow(matrix, cmap="Blues")
        for (i, j), v in np.ndenumerate(matrix):
            ax.text(j, i, str(v), ha="center", va="center", color="black" if v < matrix.max() / 2 else "white")
        ax.set(xticks=range(3), yticks=range(3), xticklabels=CLASSES, yticklabels=CLASSES, xlabel="predicted",
               ylabel="gold", title=name)
    return fig


def metric_bars(result: Comparison):
    """Base vs tuned, metric by metric, pooled per source (the seeds' side-by-side bars), with the
    spread over documents as box plots where there are several documents."""
    from matplotlib.figure import Figure

    metrics = [m for m in BAR_METRICS if any(m in row for row in result.per_source)]
    by_doc = len({row["document"] for row in result.per_document}) > 1
    fig = Figure(figsize=(9, 7.5 if by_doc else 4), layout="constrained")
    ax = fig.add_subplot(2 if by_doc else 1, 1, 1)
    width = 0.8 / len(result.labels)
    x = np.arange(len(metrics))
    for k, name in enumerate(result.labels):
        rows = [r for r in result.per_source if r["model"] == name]
        values = [np.mean([r[m] for r in rows if m in r]) if any(m in r for r in rows) else 0.0 for m in metrics]
        bars = ax.bar(x + (k - (len(result.labels) - 1) / 2) * width, values, width, label=name)
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    ax.set(xticks=x, ylim=(0, 1.1), ylabel="score", title="Base vs tuned (mean over sources)")
    ax.set_xticklabels(metrics, rotation=20, fontsize=8)
    ax.legend()
    if by_doc:
        box = fig.add_subplot(2, 1, 2)
        for k, name in enumerate(result.labels):
            rows = [r for r in result.per_document if r["model"] == name]
            data = [[r[m] for r in rows if m in r] or [np.nan] for m in metrics]
            box.boxplot(data, positions=x + (k - (len(result.labels) - 1) / 2) * width, widths=width * 0.9,
                        patch_artist=True, boxprops={"facecolor": f"C{k}"}, medianprops={"color": "black"})
        box.set(xticks=x, ylim=(0, 1.05), ylabel="score", title="Per document")
        box.set_xticklabels(metrics, rotation=20, fontsize=8)
    return fig


def loss_plot(points: list[dict], cv: dict):
    """The job's loss curve: LoRA validation loss by step when the backbone was tuned, and the heads'
    cross-validated log loss for each setting tried (what C / embedding weight were chosen by)."""
    from matplotlib.figure import Figure

    panels = [p for p in (points, cv) if p]
    fig = Figure(figsize=(5.5 * max(len(panels), 1), 3.5), layout="constrained")
    k = 1
    if points:
        ax = fig.add_subplot(1, len(panels), k)
        ax.plot([p["step"] for p in points], [p["valid_loss"] for p in points], marker="o")
        ax.set(xlabel="LoRA step", ylabel="validation loss", title="LoRA tuning")
        k += 1
    if cv:
        ax = fig.add_subplot(1, len(panels), k)
        for j, (head, tried) in enumerate(cv.items()):
            settings = [(s, v) for s, v in tried.items() if not s.startswith("chosen")]
            ax.plot(range(len(settings)), [v for _, v in settings], marker="o", label=f"{head} head", color=f"C{j}")
        ax.set(xlabel="setting tried (C, embedding weight)", ylabel="cross-validated log loss",
               title="Heads: log loss per setting")
        ax.legend()
    return fig


def png_bytes(fig) -> bytes:
    """The figure as PNG, for the page's download buttons."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120)
    return buffer.getvalue()
