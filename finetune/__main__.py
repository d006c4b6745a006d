"""python -m finetune run|merge: staged base-vs-tuned comparison, and adapter merging.

    python -m finetune run --data semeval2010:TRAIN_FILE.TXT --backbone minilm --out runs/ft
    python -m finetune merge --backbone minilm --adapter runs/ft/tune/adapter --out runs/ft/merged
"""
from __future__ import annotations

import argparse
import logging
import os
import shlex
import sys
from pathlib import Path

from core.errors import InputError


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(x) for x in text.split(",") if x)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m finetune", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="embed with the base backbone, tune LoRA, embed again, compare")
    r.add_argument("--data", action="append", required=True, metavar="FORMAT:PATH",
                   help="labeled data (semeval2010, cnc, twosix, sift, store); repeatable")
    r.add_argument("--backbone", default="minilm", help="minilm, smollm2-135m or a local model folder")
    r.add_argument("--out", required=True, type=Path, help="run folder (stages, adapter, report)")
    r.add_argument("--stages", default="base,tune,tuned,compare", help="comma-separated subset, in order")
    r.add_argument("--valid-fraction", type=float, default=0.15)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--epochs", type=int, default=2)
    r.add_argument("--max-train", type=int, default=None, help="cap on training examples (seeded sample)")
    r.add_argument("--max-valid", type=int, default=None, help="cap on validation examples (seeded sample)")
    r.add_argument("--max-steps", type=int, default=None)
    r.add_argument("--eval-every", type=int, default=None, help="steps between validation checks (default: epoch)")
    r.add_argument("--r", type=int, default=8)
    r.add_argument("--alpha", type=int, default=16)
    r.add_argument("--dropout", type=float, default=0.1)
    r.add_argument("--lr", type=float, default=5e-4)
    r.add_argument("--batch-size", type=int, default=16)
    r.add_argument("--patience", type=int, default=1)
    r.add_argument("--class-weight", default="sqrt", choices=("none", "sqrt", "balanced"))
    r.add_argument("--target-modules", default=None, help="comma-separated; default: the backbone's own")
    q = r.add_mutually_exclusive_group()
    q.add_argument("--qlora", dest="qlora", action="store_true", default=None, help="force QLoRA (needs CUDA)")
    q.add_argument("--no-qlora", dest="qlora", action="store_false", help="plain LoRA even with CUDA")
    r.add_argument("--layers", type=int, default=4, help="pooling: mean of the last k hidden layers")
    r.add_argument("--parts", default="sentence,a,b,a*b,a-b", help="pooling parts")
    r.add_argument("--marked", action="store_true", help="pooling: marked-text variant")
    r.add_argument("--cv-folds", type=int, default=3)
    r.add_argument("--c-grid", type=_floats, default=None, help="LogisticRegression C values, e.g. 0.01,0.1,1")
    r.add_argument("--merge", action="store_true", help="also save the merged model (safetensors) in tune/merged")
    m = sub.add_parser("merge", help="merge an adapter into its backbone and save a plain model folder")
    m.add_argument("--backbone", default="minilm")
    m.add_argument("--adapter", required=True, type=Path)
    m.add_argument("--out", required=True, type=Path)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    from embedding.pooling import PoolingConfig
    from finetune.lora import LoraSettings, QLoRAUnavailable, merge_adapter
    from finetune.pipeline import C_GRID, RunConfig, run

    try:
        if args.command == "merge":
            merge_adapter(args.backbone, args.adapter, args.out)
            return 0
        settings = LoraSettings(
            r=args.r, alpha=args.alpha, dropout=args.dropout, epochs=args.epochs, lr=args.lr,
            batch_size=args.batch_size, seed=args.seed, patience=args.patience, qlora=args.qlora,
            max_steps=args.max_steps, max_train=args.max_train, eval_every=args.eval_every,
            class_weight=args.class_weight,
            target_modules=args.target_modules.split(",") if args.target_modules else None)
        pooling = PoolingConfig(layers=args.layers, parts=tuple(args.parts.split(",")), marked=args.marked)
        config = RunConfig(data=args.data, backbone=args.backbone, out=args.out, lora=settings, pooling=pooling,
                           valid_fraction=args.valid_fraction, max_valid=args.max_valid, cv_folds=args.cv_folds,
                           c_grid=args.c_grid or C_GRID, merge=args.merge,
                           command="python -m finetune " + shlex.join(argv if argv is not None else sys.argv[1:]))
        run(config, [s.strip() for s in args.stages.split(",") if s.strip()])
    except (InputError, QLoRAUnavailable, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
