"""python -m models train | evaluate | extract  (see `python -m models -h`).

    train    --data FORMAT:PATH [--data ...] [--backbone NAME] [--lora | --no-lora] --out DIR
    train-writer --data FORMAT:PATH [--data ...] --out DIR [--base NAME] [--epochs N] [--r N] [--lr LR]
    evaluate --model DIR --data FORMAT:PATH [--json] [--baseline tfidf]
    evaluate --loso --data FORMAT:PATH [--data ...] [--adapter DIR | --lora] [--json]
    extract  --model DIR INPUT [INPUT ...] --out OUT.json
    extract-corpus --model DIR SOURCE [SOURCE ...] --out OUT.jsonl [--engine local|ray] [--address ADDR]
                   [--workers N] [--db URL]

Bad input (a missing or malformed file, a tampered bundle) -> one line on stderr, exit status 2.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from core.errors import InputError  # noqa: E402
from models.candidates import CandidateSettings  # noqa: E402

if TYPE_CHECKING:
    from models.corpus import Engine


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a fraction in [0, 1)")
    return value


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return value


def _names(text: str) -> tuple[str, ...]:
    """A comma-separated list of names (LoRA target modules), blanks dropped."""
    return tuple(t.strip() for t in text.split(",") if t.strip())


def _seeds(text: str) -> tuple[int, ...]:
    try:
        seeds = tuple(int(t) for t in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of integer seeds") from None
    if len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"{text!r} names a seed twice")
    return seeds


def cmd_train(args: argparse.Namespace) -> int:
    from models.training import TrainSettings, train_model

    settings = TrainSettings(backbone=args.backbone, lora=args.lora, seed=args.seed,
                             valid_fraction=args.valid_fraction, marked=args.marked,
                             candidates=_candidates(args), heads=_heads(args.heads))
    if args.store_weight is not None:
        settings = replace(settings, store_weight=args.store_weight)
    if args.lora_steps is not None:
        settings = replace(settings, lora_steps=args.lora_steps)
    if args.lora_r is not None:
        settings = replace(settings, lora_r=args.lora_r)
    if args.lora_targets:
        settings = replace(settings, lora_targets=args.lora_targets)
    if args.lora_epochs is not None:
        settings = replace(settings, lora_epochs=args.lora_epochs)
    if args.lora_holdout is not None:
        settings = replace(settings, lora_holdout=args.lora_holdout)
    if args.lora_seeds:
        if not args.lora:
            raise InputError("--lora-seeds", "averages LoRA runs, so it needs --lora")
        settings = replace(settings, lora_seeds=args.lora_seeds)
    loso = _loso_report(args.loso_report, args.data) if args.loso_report else None
    model = train_model(args.data, settings, args.out, _log, loso=loso)
    from models.bundle import redact

    print(json.dumps({"model": str(args.out), "model_id": model.model_id, "thresholds": model.thresholds,
                      "validation": {redact(k): v for k, v in (model.info.get("validation") or {}).items()}}))
    return 0


def _loso_report(path: str, specs: list[str]) -> dict:
    """The JSON line `evaluate --loso --json` printed last, checked to be about these training files."""
    try:
        lines = Path(path).read_text(encoding="utf-8").strip().splitlines()
        report = json.loads(lines[-1]) if lines else None
    except (OSError, ValueError) as exc:
        raise InputError(path, f"not a leave-one-source-out report ({type(exc).__name__})") from None
    if not isinstance(report, dict) or not isinstance(report.get("folds"), dict) or "mean_e2e_f1" not in report:
        raise InputError(path, "not a leave-one-source-out report (the last line of `evaluate --loso --json`)")
    if sorted(report.get("settings", {}).get("data") or []) != sorted(specs):
        raise InputError(path, "this leave-one-source-out report was measured on other training files")
    return report


def _baseline(config: dict, fmt: str, data) -> dict:
    """TF-IDF + LogisticRegression on the bundle's own training data (same splits, same tuning)."""
    from core.hashing import file_sha256
    from core.specs import spec_path
    from models.classifier import HeadSettings, RelationModel
    from models.evaluate import evaluate_data
    from models.training import prepare

    items = config.get("training_data", [])
    if not items:
        return {"error": "the bundle records no training data"}
    for item in items:
        if "***" in item["spec"]:
            return {"error": f"training source {item['spec']} was recorded without its password"}
        path = spec_path(item["spec"])
        if item.get("format") != "store" and file_sha256(path) != item.get("sha256"):
            return {"error": f"training file {path} is not reachable or has changed since training"}
    prep = prepare([i["spec"] for i in items], items[0]["valid_fraction"], items[0]["seed"], _log)
    baseline = RelationModel(None, HeadSettings(c_grid=(1.0, 3.0, 10.0))).fit(prep.train, _log)
    return {"model": "tfidf+logreg", **evaluate_data(baseline, data, fmt)}


def _heads(text: str):
    """HeadSettings from the --heads JSON object (InputError otherwise)."""
    from models.classifier import HeadSettings

    try:
        return HeadSettings(**{k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(text).items()})
    except (ValueError, TypeError, AttributeError) as exc:
        raise InputError("--heads", f"not a JSON object of HeadSettings fields ({exc})") from None


def cmd_loso(args: argparse.Namespace) -> int:
    from models.loso import SIFT_SOURCES, LosoSettings, run_loso

    heads = _heads(args.heads)
    if args.adapter and args.lora:
        raise InputError("--adapter", "a fixed adapter and a LoRA stage per fold exclude each other")
    if args.adapter and not Path(args.adapter, "adapter_config.json").is_file():
        raise InputError(args.adapter, "not a LoRA adapter folder (no adapter_config.json)")
    settings = LosoSettings(backbone=None if args.backbone == "none" else args.backbone, adapter=args.adapter,
                            lora=args.lora, lora_steps=args.lora_steps, lora_r=args.lora_r,
                            lora_targets=args.lora_targets,
                            lora_holdout=args.lora_holdout,
                            heads=heads, candidates=_candidates(args), seed=args.seed)
    sources = tuple(s.strip() for s in args.sources.split(",") if s.strip()) if args.sources else SIFT_SOURCES
    result = run_loso(args.data, settings, sources, _log)
    result["settings"] = {"backbone": settings.backbone, "adapter": settings.adapter, "lora": settings.lora,
                          "lora_steps": settings.lora_steps if settings.lora else None,
                          "lora_r": settings.lora_r if settings.lora else None,
                          "lora_targets": list(settings.lora_targets) if settings.lora else None,
                          "heads": json.loads(args.heads), "granular": settings.candidates.granular,
                          "states": settings.candidates.states, "verb_phrases": settings.candidates.verb_phrases,
                          "seed": settings.seed, "data": args.data}
    if not args.json:
        for name, fold in result["folds"].items():
            print(f"{name}: e2e_f1 {fold['e2e_f1']} (P {fold['precision']}, R {fold['recall']})")
        print(f"mean_e2e_f1: {result['mean_e2e_f1']}")
    print(json.dumps(result))
    return 0


def cmd_train_writer(args: argparse.Namespace) -> int:
    import torch

    from finetune.writer import WriterTuning
    from models.training import train_writer

    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        tuning = WriterTuning(r=args.r, epochs=args.epochs, batch_size=args.batch, lr=args.lr, seed=args.seed)
    except ValueError as exc:
        raise InputError("train-writer", str(exc)) from None
    if not args.none_share >= 0:
        raise InputError("train-writer", f"--none-share must be >= 0, got {args.none_share}")
    writer = train_writer(args.data, args.out, args.base, tuning, valid_fraction=args.valid_fraction,
                          none_share=args.none_share, progress=_log)
    print(json.dumps({"model_id": writer.model_id, "out": str(args.out), "validation": writer.info["validation"]}))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from core.specs import spec_format
    from data.readers import read_dataset
    from models.bundle import load_model, read_config
    from models.evaluate import evaluate_data, held_out_part

    if args.loso:
        return cmd_loso(args)
    if not args.model:
        raise InputError("evaluate", "--model DIR is required (or --loso to train one per held-out source)")
    if len(args.data) != 1:
        raise InputError("evaluate", "--data is given once, except with --loso")
    spec = args.data[0]
    config = read_config(args.model)
    model = load_model(args.model)
    part, data = held_out_part(spec, read_dataset(spec), config, _log)
    fmt = spec_format(spec)
    result = {"model": model.model_id, "data": spec, "split": part, **evaluate_data(model, data, fmt)}
    if args.baseline == "tfidf":
        result["baseline"] = _baseline(config, fmt, data)
    if not args.json:
        for key, value in result.items():
            print(f"{key}: {value}")
    print(json.dumps(result))
    return 0


def cmd_extract(args: argparse.Namespace) -> int:
    from data.formats import write_twosix
    from data.ingest import read_path
    from models.extractor import Extractor, with_relations

    docs = [doc for path in args.inputs for doc in read_path(path)]  # bad input fails before the slow load
    # spaCy finds the candidate concepts in a second process while this one loads the model
    extractor = Extractor.load(args.model, ahead=[[s.text for s in doc.sentences if not s.is_reference]
                                                  for doc in docs])
    from tqdm import tqdm

    out_docs = []
    for doc in docs:
        with tqdm(total=sum(not s.is_reference for s in doc.sentences), desc=doc.filename, unit="sentence",
                  file=sys.stderr) as bar:
            found = extractor.document(doc, on_progress=lambda done, total: bar.update(done - bar.n))
        out_docs.append(replace(doc, sentences=with_relations(doc, found)))
    Path(args.out).write_text(write_twosix(out_docs))
    n = sum(len(s.relations) for d in out_docs for s in d.sentences)
    _log(f"{n} relations in {sum(len(d.sentences) for d in out_docs)} passages -> {args.out}")
    return 0


def engine_for(name: str, model: str | Path, keep_documents: bool, workers: int | None = None,
               address: str | None = None) -> Engine:
    """The engine by name; Ray is imported only when asked for."""
    from models.corpus import local_engine

    if name == "ray":
        from models.ray_engine import ray_engine

        return ray_engine(model, keep_documents, workers, address)
    if workers not in (None, 1) or address is not None:
        raise InputError("--engine local", "runs in this process: --workers and --address need --engine ray")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    return local_engine(model, keep_documents)


def cmd_extract_corpus(args: argparse.Namespace) -> int:
    from models.bundle import read_config
    from models.corpus import expand_sources, failures_path, run_corpus

    sources = expand_sources(args.sources)  # bad input fails before the slow load
    if args.workers is not None and args.workers < 1:
        raise InputError("--workers", f"{args.workers} is not a positive number of workers")
    if args.db is not None:
        from data.store import Store

        Store(args.db).close()  # an unusable --db fails before the run, not after the first document
    engine = engine_for(args.engine, args.model, args.db is not None, args.workers, args.address)
    model_id = read_config(args.model).get("model_id") if args.db is not None else None
    summary = run_corpus(sources, args.out, engine, args.db, model_id=model_id)
    print(json.dumps({"out": str(args.out), "failures_report": str(failures_path(args.out)), "files": summary.files,
                      "skipped_already_done": summary.skipped, "documents": summary.documents,
                      "sentences": summary.sentences, "failed": len(summary.failures), "seconds": summary.seconds}))
    return 1 if summary.failures else 0


def _concept_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--granular", action="store_true",
                   help="candidate concepts at several granularities (with of/for/in/on/to attachments...)")
    p.add_argument("--states", action="store_true",
                   help="state words (low, scarcity of, rising...) become a concept's direction, not its name")
    p.add_argument("--verb-phrases", action="store_true",
                   help="verb phrases are candidate concepts too, named as gerund phrases (go to X -> going to X)")


def _candidates(args: argparse.Namespace) -> CandidateSettings:
    """The candidate settings _concept_options parsed."""
    return CandidateSettings(granular=args.granular, states=args.states, verb_phrases=args.verb_phrases)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m models", description="Relation model: train, evaluate, extract, extract-corpus.")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a relation model bundle from labelled files")
    t.add_argument("--data", action="append", required=True, metavar="FORMAT:PATH",
                   help="semeval2010, cnc, twosix, sift or store; repeatable")
    t.add_argument("--backbone", default="minilm", help="minilm, smollm2-135m or a local model folder")
    t.add_argument("--lora", action=argparse.BooleanOptionalAction, default=False,
                   help="LoRA-tune the backbone first (finetune.train_lora); default off")
    t.add_argument("--lora-steps", type=int, default=None, help="LoRA optimiser steps of 16 pairs at most (default 1000; early stopping may end sooner)")
    t.add_argument("--lora-r", type=int, default=None, help="LoRA rank (default 8; alpha = 2r)")
    t.add_argument("--lora-targets", type=_names, default=None, metavar="NAMES",
                   help="comma-separated module names to adapt (default: the backbone's query,value)")
    t.add_argument("--lora-epochs", type=int, default=None, help="passes over the LoRA data at most (default 1)")
    t.add_argument("--lora-holdout", type=_fraction, default=None, metavar="FRACTION",
                   help="share of training texts kept out of LoRA to tune the heads on (default 0)")
    t.add_argument("--lora-seeds", type=_seeds, default=None, metavar="S,S,...",
                   help="several LoRA runs with these seeds, their weight changes averaged into one adapter "
                        "(default: one run with --seed)")
    t.add_argument("--marked", action=argparse.BooleanOptionalAction, default=False,
                   help="embed each candidate as its own text with the pair marked (one forward pass per pair)")
    _concept_options(t)
    t.add_argument("--heads", default="{}", metavar="JSON",
                   help="HeadSettings fields, e.g. '{\"concept_head\": true}' (default: the defaults)")
    t.add_argument("--loso-report", metavar="FILE",
                   help="output of `evaluate --loso --json` on the same files, stated in the bundle and its card")
    t.add_argument("--store-weight", type=_positive, default=None, metavar="W",
                   help="weight of each store label's rows beside the files' rows in the heads' fits "
                        "(default 10)")
    t.add_argument("--valid-fraction", type=float, default=0.2)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--out", required=True, help="bundle folder to write")
    t.set_defaults(func=cmd_train)
    w = sub.add_parser("train-writer", help="tune a relation writer (opt-in, slower): a small LM that writes the relations")
    w.add_argument("--data", action="append", required=True, metavar="FORMAT:PATH",
                   help="files with labelled passages: sift, twosix or store; repeatable")
    w.add_argument("--out", required=True, help="bundle folder to write")
    w.add_argument("--base", default="smollm2-135m", help="the causal LM to tune: smollm2-135m or a local folder")
    w.add_argument("--epochs", type=int, default=8)
    w.add_argument("--r", type=int, default=16, help="LoRA rank (alpha = 2r), on every linear layer")
    w.add_argument("--lr", type=float, default=3e-4)
    w.add_argument("--batch", type=int, default=8, help="passages per optimiser step")
    w.add_argument("--none-share", type=float, default=0.1,
                   help="passages without relations kept, at most this share of those with (seeded)")
    w.add_argument("--valid-fraction", type=_fraction, default=0.2)
    w.add_argument("--seed", type=int, default=0)
    w.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    w.set_defaults(func=cmd_train_writer)
    e = sub.add_parser("evaluate", help="score a bundle on a labelled file, or leave one source out (--loso)")
    _concept_options(e)
    e.add_argument("--model", help="bundle folder to score (not with --loso)")
    e.add_argument("--data", action="append", required=True, metavar="FORMAT:PATH",
                   help="the file to score; with --loso every training file (repeatable)")
    e.add_argument("--loso", action="store_true",
                   help="train per held-out source (SIFT --sources, each twosix file) without its texts, "
                        "score end-to-end on it")
    e.add_argument("--sources", default=None, metavar="A,B,...",
                   help="--loso: the SIFT sources that are folds (default habitus_ph1,atlantic_council,rise,nyt)")
    e.add_argument("--backbone", default="minilm", help="--loso: embedding backbone, or none (TF-IDF only)")
    e.add_argument("--adapter", help="--loso: one fixed LoRA adapter for every fold (leaks, if it saw the sources)")
    e.add_argument("--lora", action="store_true", help="--loso: a LoRA stage per fold on its training set")
    e.add_argument("--lora-steps", type=int, default=300, help="--loso --lora: steps per fold (default 300)")
    e.add_argument("--lora-r", type=int, default=16, help="--loso --lora: LoRA rank (default 16, as make model)")
    e.add_argument("--lora-targets", type=_names, default="query,key,value,dense", metavar="NAMES",
                   help="--loso --lora: target modules (default make model's: query,key,value,dense)")
    e.add_argument("--lora-holdout", type=_fraction, default=0.25,
                   help="--loso: share of training texts the LoRA stage leaves out to tune the heads on")
    e.add_argument("--heads", default="{}", metavar="JSON", help="--loso: HeadSettings fields, e.g. '{\"c_grid\": [4.0]}'")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--json", action="store_true", help="print only the JSON object (always the last line)")
    e.add_argument("--baseline", choices=["tfidf"], help="also train and score TF-IDF + LR on the bundle's training data")
    e.set_defaults(func=cmd_evaluate)
    x = sub.add_parser("extract", help="find relations in documents, write TwoSix JSON")
    x.add_argument("--model", required=True)
    x.add_argument("inputs", nargs="+", metavar="INPUT", help="PDF, TXT, MD, DOCX, RTF or TwoSix JSON")
    x.add_argument("--out", required=True)
    x.set_defaults(func=cmd_extract)
    c = sub.add_parser("extract-corpus", help="extract from many papers: one JSON line per document, resumable")
    c.add_argument("--model", required=True)
    c.add_argument("sources", nargs="+", metavar="SOURCE", help="a file, a folder (recursive) or a glob")
    c.add_argument("--out", required=True, metavar="OUT.jsonl",
                   help="appended to; files already in it (by content hash) are skipped; failures go to OUT.failures.jsonl")
    c.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="local: this process (default); ray: a pool of Ray workers, one model load each")
    c.add_argument("--address", default=None, help="an existing Ray cluster (default: start a local Ray)")
    c.add_argument("--workers", type=int, default=None, help="Ray workers (default: the cluster's CPUs)")
    c.add_argument("--db", default=None, metavar="URL",
                   help="also import each document with its relations as suggestions (one transaction per document)")
    c.set_defaults(func=cmd_extract_corpus)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    try:
        return args.func(args)
    except (InputError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
