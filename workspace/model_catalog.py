"""The relation-model bundles the app can use, and what each one's card says (the Model page).

Bundles live in models/ (shipped: models/default) and in VAR/models/ (retrained from the Model
page; VAR is $FUZZYMAP_VAR or var/). Each is checked with the loader's own integrity check
(bundle.read_config), so a tampered or foreign folder is listed as refused with its reason.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.errors import InputError
from core.paths import MODELS, var_root
from core.specs import spec_path
from models.bundle import WRITER_FORMAT, read_config

VALIDATION_COLUMNS = ("n", "causal_precision", "causal_recall", "causal_f1", "detection_f1", "sign_accuracy",
                      "e2e_precision", "e2e_recall", "e2e_f1", "sentence_f1", "causal_ece")


def trained_root() -> Path:
    return var_root() / "models"


@dataclass
class BundleEntry:
    """One folder found under a bundle root: usable (config set) or refused (reason set)."""

    path: Path
    config: dict | None = None
    reason: str | None = None
    active: bool = False

    @property
    def ok(self) -> bool:
        return self.config is not None

    @property
    def model_id(self) -> str | None:
        return self.config.get("model_id") if self.config else None


def _same(a: str | Path, b: str | Path) -> bool:
    return Path(a).resolve() == Path(b).resolve()


def check_bundle(path: str | Path) -> BundleEntry:
    """The bundle at path, read through the loader's hash and format checks."""
    try:
        return BundleEntry(Path(path), config=read_config(path))
    except InputError as exc:
        return BundleEntry(Path(path), reason=exc.reason)


def list_bundles(active: str | Path | None = None, roots: tuple[Path, ...] | None = None) -> list[BundleEntry]:
    """Every folder under the roots (default: models/ and VAR/models/) that looks like a bundle (it
    holds a config.json, or is a direct child of VAR/models/), checked; `active` is flagged."""
    roots = roots if roots is not None else (MODELS, trained_root())
    found: list[BundleEntry] = []
    for root in roots:
        if not root.is_dir():
            continue
        for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
            if (folder / "config.json").is_file() or root == trained_root():
                entry = check_bundle(folder)
                entry.active = active is not None and _same(folder, active)
                found.append(entry)
    return found


@dataclass
class Card:
    """What a data scientist asks first about a bundle, as plain values for tables."""

    model_id: str
    backbone: str | None
    adapter: str | None
    thresholds: dict
    data: list[dict] = field(default_factory=list)
    validation: list[dict] = field(default_factory=list)
    leave_one_source_out: list[dict] = field(default_factory=list)
    settings: dict = field(default_factory=dict)


def _figures(table: dict) -> list[dict]:
    """{source: {metric: value}} -> rows with the usual metric columns (those present)."""
    rows = []
    for source, figures in (table or {}).items():
        if isinstance(figures, dict):
            rows.append({"data": source, **{k: figures[k] for k in VALIDATION_COLUMNS if k in figures}})
    return rows


def display_rows(rows: list[dict]) -> list[dict]:
    """Rows for a table on the page: figures to three decimals and "–" where a figure is undefined
    (a split without pairs), never "None"."""
    return [{k: "–" if v is None else f"{v:.3f}" if isinstance(v, float) else v for k, v in row.items()}
            for row in rows]


def card(config: dict) -> Card:
    """The card of a bundle from its (checked) config."""
    adapter = None
    if config.get("format") == WRITER_FORMAT:
        tuning = config.get("tuning") or {}
        adapter = "LoRA relation writer " + ", ".join(f"{k}={tuning[k]}" for k in ("r", "epochs", "lr") if k in tuning)
    elif config.get("adapter"):
        lora = {k: v for k, v in (config.get("train_settings") or {}).items() if k.startswith("lora") and v is not None}
        adapter = "LoRA " + ", ".join(f"{k[5:]}={','.join(map(str, v)) if isinstance(v, list) else v}"
                                      for k, v in lora.items() if k != "lora")
    data = [{"data": item.get("spec"), "format": item.get("format"), "licence": item.get("license"),
             "train pairs": sum((item.get("train") or {}).get("pairs", {}).values()),
             "train sentences": (item.get("train") or {}).get("sentences"),
             "train passages": (item.get("train") or {}).get("passages"),
             "validation pairs": (item.get("valid") or {}).get("pairs"),
             "validation sentences": (item.get("valid") or {}).get("sentences"),
             "validation passages": (item.get("valid") or {}).get("passages")}
            for item in config.get("training_data", [])]
    loso = config.get("loso") if isinstance(config.get("loso"), dict) else {}
    folds = {source: {"e2e_precision": f.get("precision"), "e2e_recall": f.get("recall"), "e2e_f1": f.get("e2e_f1")}
             for source, f in (loso.get("folds") or {}).items() if isinstance(f, dict)}
    if folds:
        folds["mean"] = {"e2e_f1": loso.get("mean_e2e_f1")}
    return Card(model_id=config.get("model_id", "?"), backbone=config.get("backbone") or config.get("base"),
                adapter=adapter,
                thresholds=dict(config.get("thresholds") or {}), data=data,
                validation=_figures(config.get("validation") or {}), leave_one_source_out=_figures(folds),
                settings=dict(config.get("train_settings") or {}))


def shared_datasets(config: dict) -> list[str]:
    """The training files of a bundle (not store labels) that are still present on this machine:
    the ones a retrain may add to the labels."""
    return [item["spec"] for item in config.get("training_data", [])
            if item.get("format") != "store" and Path(spec_path(item["spec"])).is_file()]
