"""The comparison report: report.json (everything), report.md (the table a person reads), report.png.

Every figure is labelled as a validation figure: the split is held out from the given data and was
used for early stopping, so it is an honest model-selection number, not a test score.
"""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

NOTE = ("Validation figures: the validation split is held out (by sentence) from the given data and was "
        "also used for early stopping of the LoRA tuning. They are not test scores.")
METRICS = ("causal_precision", "causal_recall", "causal_f1", "detection_f1")


def _table(rows: list[dict]) -> str:
    head = "| features | causal precision | causal recall | causal F1 | detection F1 | C | CV F1 (train) |"
    lines = [head, "|" + "---|" * 7]
    for r in rows:
        c = f"{r['C']:g}" if "C" in r else "-"
        cv = f"{r['cv_f1']:.3f}" if "cv_f1" in r else "-"
        lines.append(f"| {r['state']} | {r['causal_precision']:.3f} | {r['causal_recall']:.3f} | {r['causal_f1']:.3f} | "
                     f"{r['detection_f1']:.3f} | {c} | {cv} |")
    return "\n".join(lines)


def plot(rows: list[dict], history: list[dict], path: Path) -> None:
    """Grouped bars of the validation metrics per state, and the tuning curve on validation."""
    fig, (bars, curve) = plt.subplots(1, 2, figsize=(11, 4))
    width = 0.8 / max(len(rows), 1)
    for i, row in enumerate(rows):
        xs = [m + i * width for m in range(len(METRICS))]
        bars.bar(xs, [row[m] for m in METRICS], width, label=row["state"])
    bars.set_xticks([m + width * (len(rows) - 1) / 2 for m in range(len(METRICS))])
    bars.set_xticklabels(["causal P", "causal R", "causal F1", "detection F1"])
    bars.set_ylim(0, 1.15)
    bars.set_title("validation split")
    bars.legend(fontsize=8, ncol=len(rows), loc="upper center")
    if history:
        steps = [h["step"] for h in history]
        curve.plot(steps, [h["loss"] for h in history], marker="o", label="valid loss")
        curve.plot(steps, [h["causal_f1"] for h in history], marker="s", label="valid causal F1 (head)")
        curve.set_xlabel("optimiser step")
        curve.legend(fontsize=8)
    curve.set_title("LoRA tuning")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_report(out_dir: str | Path, rows: list[dict], info: dict, history: list[dict]) -> dict[str, Path]:
    """Write report.json, report.md and report.png into out_dir; return their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "report.json", "md": out / "report.md", "png": out / "report.png"}
    paths["json"].write_text(json.dumps({"note": NOTE, "rows": rows, **info, "history": history},
                                        indent=2, default=str))
    data = info.get("data", {})
    lines = [f"# Base vs LoRA-tuned backbone: {info.get('backbone', '?')}", "", f"_{NOTE}_", "",
             _table(rows), "",
             "Causal precision / recall / F1 count a causal prediction as right only with the right direction; "
             "detection F1 asks only whether the pair is causal. Rows `base` and `tuned` are the same "
             "classifier (StandardScaler + LogisticRegression, C by stratified CV on the training split) on "
             "each backbone's features; `tuned head` is the linear head trained with the adapter.", "",
             f"- data: {', '.join(data.get('sources', []))}",
             f"- train examples: {data.get('train', {}).get('n', '?')} {data.get('train', {}).get('labels', '')}",
             f"- validation examples: {data.get('valid', {}).get('n', '?')} {data.get('valid', {}).get('labels', '')}",
             f"- seed: {info.get('seed')}; pooling: {info.get('pooling')}",
             f"- LoRA: {info.get('lora')}",
             f"- stage seconds: {info.get('stage_seconds')}",
             f"- command: `{info.get('command', '')}`", "",
             "![validation metrics and tuning curve](report.png)", ""]
    paths["md"].write_text("\n".join(lines))
    plot(rows, history, paths["png"])
    return paths
