"""Learning curve: how fast a model learns a new field from a data scientist's labels.

    python bench/learning_curve.py --data FORMAT:PATH [--data ...] [--source habitus_ph1]
        [--ks 0,25,50,100] [--weights 1,10] [--seeds 0,1,2] [--c-grid 1,4] [--plot FILE.png]
        [--work DIR] [--rows FILE.jsonl] [--lexicon] [--lora-steps N] [--labelable N]

One SIFT source is held out the leave-one-source-out way (models.loso.make_folds: every file less
that source's texts and their near-identical copies). Its passages are shuffled (seeded); the first
max(ks) (or --labelable N) are the passages an annotator may label, the rest are scored end-to-end
(the same rest for every k, less any passage near-identical to a labelable one). For each k the first k
labelable passages are written into a new SQLite store the way the Label page writes them (an
imported document, then each relation saved by an annotator, or the sentence marked no-relation),
read back as `store:PATH` training data and added to the base training set with each store weight
(models.training.add_split, what `train --data store:PATH --store-weight W` does); frozen-MiniLM
heads are fitted and the rest is extracted and scored (core.metrics.e2e_scores, the held-out check's rule).
With --lexicon the rest is extracted with the store's concepts as the concept lexicon, as the Label
page's suggestions are (workspace.suggest: the store's concepts are the lexicon): the names the
annotator gave are then candidate spans wherever they occur.
With --lora-steps N each fit first tunes MiniLM with a LoRA stage of at most N steps on that fit's
training set, store labels drawn by their weight (models.training.tune_backbone, the LOSO per-fold
shape: r 16 on query, key, value and dense, a quarter of the texts held out to tune the heads on), and
the heads are fitted on the tuned features: what `train --lora --data store:PATH` does.
Each seed is one shuffle; with several, their mean is given too. Prints the tables, writes the plot
and prints the JSON as its last line.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.types import LabeledData, ParsedDocument, ParsedSentence, PassageRelation  # noqa: E402
from models.loso import Fold, make_folds, near_identical  # noqa: E402

ANNOTATOR = "curve"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def split_source(passages: Sequence[ParsedSentence], labelable: int, seed: int
                 ) -> tuple[list[ParsedSentence], list[ParsedSentence], int]:
    """(labelable, scored, dropped): a seeded shuffle's first `labelable` passages and the rest,
    less every passage of the rest near-identical to a labelable one (models.loso.near_identical;
    `dropped` counts them), so no scored text is ever trained on at any k."""
    order = list(passages)
    random.Random(seed).shuffle(order)
    pool, rest = order[:labelable], order[labelable:]
    clash = near_identical([p.text for p in pool], [p.text for p in rest])
    scored = [p for p in rest if p.text not in clash]
    if not scored:
        raise SystemExit(f"{len(passages)} passages leave none to score after {labelable} labelable ones")
    return pool, scored, len(rest) - len(scored)


def curve_split(passages: Sequence[ParsedSentence], ks: Sequence[int], labelable: int | None, seed: int
                ) -> tuple[list[ParsedSentence], list[ParsedSentence], int]:
    """split_source with `labelable` passages to label (default: the largest k): runs that give the
    same number score the same passages, whichever ks each runs."""
    labelable = max(ks) if labelable is None else labelable
    if labelable < max(ks):
        raise SystemExit(f"--labelable {labelable} is fewer than the largest k ({max(ks)})")
    pool, scored, dropped = split_source(passages, labelable, seed)
    if len(pool) < labelable:
        raise SystemExit(f"only {len(pool)} passages for {labelable} labelable ones")
    return pool, scored, dropped


def write_labels(db: Path, passages: Sequence[ParsedSentence]) -> int:
    """A store at db holding the passages as one document, labeled by one annotator through the
    store API: each signed relation saved, a passage without relations marked no-relation.
    Relations with no sign (SIFT influence/affect) cannot be saved there and are left out (a
    passage with only such relations stays unlabeled, not "no relation"); returns how many."""
    from data.store import Store

    store = Store(str(db))
    try:
        sentences, at = [], 0
        for p in passages:
            sentences.append(ParsedSentence(text=p.text, start=at, end=at + len(p.text)))
            at += len(p.text) + 2
        text = "\n\n".join(p.text for p in passages)
        doc = ParsedDocument(filename="labels.txt", sha256=hashlib.sha256(text.encode()).hexdigest(),
                             sentences=sentences, format="txt")
        [doc_id] = store.import_documents([doc])
        store.ensure_annotator(ANNOTATOR)
        unsigned = 0
        for row, p in zip(store.sentences(doc_id), passages):
            signed = [r for r in p.relations if r.sign in (1, -1)]
            unsigned += len(p.relations) - len(signed)
            for r in signed:
                store.add_relation(row.id, PassageRelation(r.src, r.tgt, r.sign, annotator=ANNOTATOR))
            if not p.relations:
                store.set_status(row.id, "no-relation", ANNOTATOR)
        return unsigned
    finally:
        store.close()


def without_sentences(data: LabeledData) -> LabeledData:
    """Extraction does not use the sentence head, so its labels need not be fitted (as in LOSO)."""
    return LabeledData(name=data.name, examples=data.examples, passages=data.passages)


def setup_key(specs: Sequence[str], source: str, seed: int, c_grid: Sequence[float], lexicon: bool = False,
              lora_steps: int = 0, labelable: int = 0) -> str:
    """What makes two fits of the same (k, weight) the same: data files' bytes, source, seed, C grid,
    whether the store's concepts are the lexicon, the LoRA stage's steps and how many passages are
    labelable (the rest is scored)."""
    from core.hashing import file_sha256

    files = [[s.partition(":")[0], file_sha256(s.partition(":")[2])] for s in specs]
    setup = [files, source, seed, list(c_grid)] + (["lexicon"] if lexicon else []) + (
        [f"lora:{lora_steps}"] if lora_steps else []) + [f"labelable:{labelable}"]
    return hashlib.sha256(json.dumps(setup).encode()).hexdigest()[:16]


def run(fold: Fold, source: str, ks: Sequence[int], weights: Sequence[float], seed: int,
        c_grid: Sequence[float], work: Path, rows: Path | None = None, lexicon: bool = False,
        lora_steps: int = 0, labelable: int | None = None) -> dict:
    """Every (k, weight) fit on `fold` (models.loso.Fold holding `source` out; one for every seed);
    with rows (a JSON-lines file) fits already there for the same setup are taken from it and
    each new one is appended as soon as it is done."""
    from data.readers import read_dataset
    from data.store import Store
    from embedding.cache import default_cache_dir
    from embedding.features import CandidateEmbedder
    from models.classifier import HeadSettings, RelationModel, TrainingSet
    from core.metrics import e2e_scores
    from models.training import TrainSettings, add_split, held_out_texts, tune_backbone

    pool, scored, dropped = curve_split(fold.data.passages, ks, labelable, seed)
    labelable = len(pool)
    gold = [p.relations for p in scored]
    log(f"{source}: {len(pool)} labelable passages; {len(scored)} scored ({dropped} more left out, being "
        f"near-identical to a labelable one) with {sum(map(len, gold))} gold relations")
    embedder = CandidateEmbedder("minilm", cache_dir=str(default_cache_dir()), batch_size=64)
    heads = HeadSettings(c_grid=tuple(c_grid), seed=seed)
    out: dict = {"source": source, "seed": seed, "labelable": len(pool), "scored_left_out_near_identical": dropped,
                 "scored_passages": len(scored), "scored_gold_relations": sum(map(len, gold)),
                 "c_grid": list(c_grid), "specs": [s.split("/")[-1] for s in fold.specs], "runs": []}
    out["lexicon"], out["lora_steps"] = lexicon, lora_steps
    key = setup_key(fold.specs, source, seed, c_grid, lexicon, lora_steps, labelable)
    done = {}
    if rows and rows.is_file():
        for line in rows.read_text().splitlines():
            row = json.loads(line)
            if row.pop("setup", None) == key:
                done[(row["k"], row["weight"])] = row
    for k in ks:
        for w in (weights if k else weights[:1]):
            if (k, w if k else None) in done:
                out["runs"].append(done[(k, w if k else None)])
                continue
            clock = time.perf_counter()
            train = TrainingSet(examples=list(fold.train.examples), passages=list(fold.train.passages))
            unsigned = relations = 0
            terms: list[str] = []
            if k:
                db = work / f"labels-{source}-{seed}-{k}.db"
                if not db.exists():
                    write_labels(db, pool[:k])
                labels = read_dataset(f"store:{db}")
                relations = sum(len(p.relations) for p in labels.passages)
                unsigned = sum(len(p.relations) for p in pool[:k]) - relations
                add_split(train, without_sentences(labels), "store", weight=w)
                if lexicon:
                    store = Store(str(db))
                    terms = store.concepts()
                    store.close()
            fit_embedder = embedder
            if lora_steps:
                train.held_out = held_out_texts(train, 0.25, seed)
                ts = TrainSettings(backbone="minilm", lora=True, seed=seed, lora_steps=lora_steps, lora_r=16,
                                   lora_targets=("query", "key", "value", "dense"), lora_epochs=3, lora_holdout=0.25)
                adapter = tune_backbone(ts, train, fold.specs, log)
                fit_embedder = CandidateEmbedder("minilm", adapter=str(adapter), cache_dir=str(default_cache_dir()),
                                                 batch_size=64)
            model = RelationModel(fit_embedder, heads).fit(train, progress=lambda _: None)
            found = model.extract([p.text for p in scored], lexicon=terms)
            s = e2e_scores(found, gold)
            row = {"k": k, "weight": w if k else None, "store_relations": relations,
                   "unsigned_left_out": unsigned, "lexicon_terms": len(terms), "e2e_f1": round(s["e2e_f1"], 4),
                   "precision": round(s["e2e_precision"], 4), "recall": round(s["e2e_recall"], 4),
                   "predicted": sum(map(len, found)), "thresholds": model.thresholds,
                   "seconds": round(time.perf_counter() - clock)}
            out["runs"].append(row)
            log(json.dumps(row))
            if rows:
                with rows.open("a") as handle:
                    handle.write(json.dumps({"setup": key, **row}) + "\n")
    return out


def table(result: dict) -> str:
    """Markdown table: one row per store weight, one column per k (k=0 is shared)."""
    ks = sorted({r["k"] for r in result["runs"]})
    base = next((r for r in result["runs"] if r["k"] == 0), None)
    weights = sorted({r["weight"] for r in result["runs"] if r["weight"] is not None})
    head = "| store weight | " + " | ".join(f"k={k}" for k in ks) + " |"
    lines = [head, "|" + "---|" * (len(ks) + 1)]
    for w in weights:
        cells = []
        for k in ks:
            r = base if k == 0 else next((x for x in result["runs"] if x["k"] == k and x["weight"] == w), None)
            cells.append("" if r is None else f"{r['e2e_f1']:.3f} (P {r['precision']:.3f}, R {r['recall']:.3f})")
        lines.append(f"| {w:g} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def mean_result(results: Sequence[dict]) -> dict:
    """The runs of several shuffles averaged per (k, weight): the curve with less of one shuffle's luck."""
    runs = []
    for k, weight in dict.fromkeys((r["k"], r["weight"]) for r in results[0]["runs"]):
        same = [r for res in results for r in res["runs"] if (r["k"], r["weight"]) == (k, weight)]
        runs.append({"k": k, "weight": weight, "n": len(same),
                     **{m: round(sum(r[m] for r in same) / len(same), 4) for m in ("e2e_f1", "precision", "recall")}})
    return {"source": results[0]["source"], "seeds": [r["seed"] for r in results],
            "scored_passages": [r["scored_passages"] for r in results], "runs": runs}


def _curve(result: dict, weight: float) -> list[dict]:
    base = next((r for r in result["runs"] if r["k"] == 0), None)
    return ([base] if base else []) + sorted((r for r in result["runs"] if r["weight"] == weight),
                                             key=lambda r: r["k"])


def plot(results: Sequence[dict], path: Path) -> None:
    """One line per store weight: the mean over the shuffles, each shuffle faint behind it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mean = mean_result(results)
    fig, ax = plt.subplots(figsize=(5.5, 3.6), dpi=100)
    for w in sorted({r["weight"] for r in mean["runs"] if r["weight"] is not None}):
        line = ax.plot(*zip(*[(r["k"], r["e2e_f1"]) for r in _curve(mean, w)]), marker="o",
                       label=f"store weight {w:g}" + (f", mean of {len(results)} shuffles" if len(results) > 1 else ""))
        for result in results if len(results) > 1 else []:
            ax.plot(*zip(*[(r["k"], r["e2e_f1"]) for r in _curve(result, w)]), color=line[0].get_color(),
                    alpha=0.3, linewidth=1)
    ax.set_xlabel(f"labeled passages of {mean['source']}")
    ax.set_ylabel("end-to-end F1 on the rest")
    tuned = results[0].get("lora_steps")
    ax.set_title("Learning from labels (" + (f"LoRA, {tuned} steps" if tuned else "frozen MiniLM") + " + heads)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def _numbers(text: str, kind: type) -> list:
    try:
        values = [kind(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of numbers") from None
    if not values or any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"{text!r}: give non-negative numbers")
    return values


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", action="append", required=True, metavar="FORMAT:PATH",
                   help="base training files, the SIFT file holding --source among them")
    p.add_argument("--source", default="habitus_ph1", help="the SIFT source held out and labeled")
    p.add_argument("--ks", type=lambda t: _numbers(t, int), default=[0, 25, 50, 100])
    p.add_argument("--weights", type=lambda t: _numbers(t, float), default=[1.0, 10.0])
    p.add_argument("--c-grid", type=lambda t: _numbers(t, float), default=[1.0, 4.0])
    p.add_argument("--seeds", type=lambda t: _numbers(t, int), default=[0],
                   help="shuffles of the held-out source (comma-separated); several are also averaged")
    p.add_argument("--plot", type=Path, default=None, help="PNG to write")
    p.add_argument("--work", type=Path, default=None, help="folder for the stores (default: a temporary one)")
    p.add_argument("--rows", type=Path, default=None,
                   help="JSON-lines file of finished fits: a rerun skips those of the same setup (resume, add weights)")
    p.add_argument("--lexicon", action="store_true",
                   help="extract with the store's concepts as the concept lexicon (as the Label page's suggestions do)")
    p.add_argument("--lora-steps", type=int, default=0,
                   help="a LoRA stage of at most N steps before each fit, store labels drawn by weight (0: frozen MiniLM)")
    p.add_argument("--labelable", type=int, default=None,
                   help="passages an annotator may label, the rest scored (default: the largest k); the same N "
                        "gives the same scored passages, so one k at a time can run in its own process")
    args = p.parse_args(argv)
    if 0 in args.weights:
        p.error("--weights must be positive")
    if args.lora_steps < 0:
        p.error("--lora-steps must be 0 or more")
    with tempfile.TemporaryDirectory(prefix="curve-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        [fold] = make_folds(args.data, [args.source], sentences=False, progress=log, files=False)
        results = [run(fold, args.source, sorted(set(args.ks)), args.weights, seed, args.c_grid, work,
                       args.rows, args.lexicon, args.lora_steps, args.labelable) for seed in args.seeds]
    for result in results:
        print(f"seed {result['seed']} ({result['scored_passages']} passages scored):\n{table(result)}")
    if len(results) > 1:
        print(f"mean of the {len(results)} shuffles:\n{table(mean_result(results))}")
    if args.plot:
        plot(results, args.plot)
        print(f"plot: {args.plot}")
    print(json.dumps(results[0] if len(results) == 1 else {"seeds": results, "mean": mean_result(results)}))
    return 0


if __name__ == "__main__":
    from core.errors import run_script

    run_script(main)
