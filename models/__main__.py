"""python -m models train | evaluate | extract  (see `python -m models -h`).

    train    --data FORMAT:PATH [--data ...] [--backbone NAME] [--lora | --no-lora] --out DIR
    evaluate --model DIR --data FORMAT:PATH [--json] [--baseline tfidf]
    extract  --model DIR INPUT [INPUT ...] --out OUT.json

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

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from data.errors import InputError  # noqa: E402


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a fraction in [0, 1)")
    return value


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
                             valid_fraction=args.valid_fraction, marked=args.marked)
    if args.lora_steps is not None:
        settings = replace(settings, lora_steps=args.lora_steps)
    if args.lora_r is not None:
        settings = replace(settings, lora_r=args.lora_r)
    if args.lora_targets:
        settings = replace(settings, lora_targets=tuple(t.strip() for t in args.lora_targets.split(",") if t.strip()))
    if args.lora_epochs is not None:
        settings = replace(settings, lora_epochs=args.lora_epochs)
    if args.lora_holdout is not None:
        settings = replace(settings, lora_holdout=args.lora_holdout)
    if args.lora_seeds:
        if not args.lora:
            raise InputError("--lora-seeds", "averages LoRA runs, so it needs --lora")
        settings = replace(settings, lora_seeds=args.lora_seeds)
    model = train_model(args.data, settings, args.out, _log)
    print(json.dumps({"model": str(args.out), "model_id": model.model_id, "thresholds": model.thresholds,
                      "validation": model.info.get("validation")}))
    return 0


def _baseline(config: dict, fmt: str, data) -> dict:
    """TF-IDF + LogisticRegression on the bundle's own training data (same splits, same tuning)."""
    from models.classifier import HeadSettings, RelationModel
    from models.evaluate import evaluate_data
    from models.training import file_sha256, prepare

    items = config.get("training_data", [])
    if not items:
        return {"error": "the bundle records no training data"}
    for item in items:
        path = item["spec"].partition(":")[2]
        if item.get("format") != "store" and file_sha256(path) != item.get("sha256"):
            return {"error": f"training file {path} is not reachable or has changed since training"}
    prep = prepare([i["spec"] for i in items], items[0]["valid_fraction"], items[0]["seed"], _log)
    baseline = RelationModel(None, HeadSettings(c_grid=(1.0, 3.0, 10.0))).fit(prep.train, _log)
    return {"model": "tfidf+logreg", **evaluate_data(baseline, data, fmt)}


def cmd_evaluate(args: argparse.Namespace) -> int:
    from data.readers import read_dataset
    from models.bundle import load_model, read_config
    from models.evaluate import evaluate_data, held_out_part
    from models.training import fmt_of

    config = read_config(args.model)
    model = load_model(args.model)
    part, data = held_out_part(args.data, read_dataset(args.data), config, _log)
    fmt = fmt_of(args.data)
    result = {"model": model.model_id, "data": args.data, "split": part, **evaluate_data(model, data, fmt)}
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
    from data.types import ParsedSentence
    from models.bundle import load_model

    docs = [doc for path in args.inputs for doc in read_path(path)]  # bad input fails before the slow load
    model = load_model(args.model)
    out_docs = []
    for doc in docs:
        twosix = doc.format == "twosix"
        keep = [s for s in doc.sentences if twosix or not s.is_reference]
        found = model.extract([s.text for s in keep], progress=True)
        sentences = []
        for sent, rels in zip(keep, found):
            for rel in rels:
                rel.extra = {"score": rel.score}
            if rels or twosix:
                sentences.append(ParsedSentence(sent.text, sent.page, sent.start, sent.end, status="labeled"
                                                if rels else "no-relation", relations=rels, llm=sent.llm))
        out_docs.append(replace(doc, sentences=sentences))
    Path(args.out).write_text(write_twosix(out_docs))
    n = sum(len(s.relations) for d in out_docs for s in d.sentences)
    _log(f"{n} relations in {sum(len(d.sentences) for d in out_docs)} passages -> {args.out}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m models", description="Relation model: train, evaluate, extract.")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a relation model bundle from labelled files")
    t.add_argument("--data", action="append", required=True, metavar="FORMAT:PATH",
                   help="semeval2010, cnc, twosix, sift or store; repeatable")
    t.add_argument("--backbone", default="minilm", help="minilm, smollm2-135m or a local model folder")
    t.add_argument("--lora", action=argparse.BooleanOptionalAction, default=False,
                   help="LoRA-tune the backbone first (finetune.train_lora); default off")
    t.add_argument("--lora-steps", type=int, default=None, help="LoRA optimiser steps of 16 pairs at most (default 1000; early stopping may end sooner)")
    t.add_argument("--lora-r", type=int, default=None, help="LoRA rank (default 8; alpha = 2r)")
    t.add_argument("--lora-targets", default=None, metavar="NAMES",
                   help="comma-separated module names to adapt (default: the backbone's query,value)")
    t.add_argument("--lora-epochs", type=int, default=None, help="passes over the LoRA data at most (default 1)")
    t.add_argument("--lora-holdout", type=_fraction, default=None, metavar="FRACTION",
                   help="share of training texts kept out of LoRA to tune the heads on (default 0)")
    t.add_argument("--lora-seeds", type=_seeds, default=None, metavar="S,S,...",
                   help="several LoRA runs with these seeds, their weight changes averaged into one adapter "
                        "(default: one run with --seed)")
    t.add_argument("--marked", action=argparse.BooleanOptionalAction, default=False,
                   help="embed each candidate as its own text with the pair marked (one forward pass per pair)")
    t.add_argument("--valid-fraction", type=float, default=0.2)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--out", required=True, help="bundle folder to write")
    t.set_defaults(func=cmd_train)
    e = sub.add_parser("evaluate", help="score a bundle on a labelled file")
    e.add_argument("--model", required=True)
    e.add_argument("--data", required=True, metavar="FORMAT:PATH")
    e.add_argument("--json", action="store_true", help="print only the JSON object (always the last line)")
    e.add_argument("--baseline", choices=["tfidf"], help="also train and score TF-IDF + LR on the bundle's training data")
    e.set_defaults(func=cmd_evaluate)
    x = sub.add_parser("extract", help="find relations in documents, write TwoSix JSON")
    x.add_argument("--model", required=True)
    x.add_argument("inputs", nargs="+", metavar="INPUT", help="PDF, TXT, MD, DOCX, RTF or TwoSix JSON")
    x.add_argument("--out", required=True)
    x.set_defaults(func=cmd_extract)
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
