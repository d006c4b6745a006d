"""Refit the relation model's heads under other HeadSettings on one (cached) tuned adapter.

    python bench/heads.py --adapter DIR --data FORMAT:PATH [--data ...] [--lora-holdout 0.25] '{"embed_weight": 0.1}' [...]

Same splits as `python -m models train` (valid fraction, seed), same training set, same embedding
cache: only the heads change, so each setting costs minutes, not a LoRA run. Prints one JSON line
per setting with its tuned thresholds and the validation figures of every file (twosix files,
whose validation splits hold a handful of relations, are left out unless --twosix). With the
--lora-holdout the adapter was tuned with (`make model`: 0.25), C, the embedding weight and the
thresholds are chosen on the texts that adapter never saw, exactly as `train` chooses them.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

KEEP = ("causal_f1", "sentence_f1", "e2e_f1", "e2e_precision", "e2e_recall", "sign_accuracy")


def main() -> None:
    from core.specs import spec_format
    from embedding.cache import default_cache_dir
    from embedding.features import CandidateEmbedder
    from models.classifier import HeadSettings, RelationModel
    from models.evaluate import evaluate_data
    from models.training import held_out_texts, prepare

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--adapter", help="LoRA adapter folder (none: the frozen backbone)")
    p.add_argument("--backbone", default="minilm")
    p.add_argument("--data", action="append", required=True, metavar="FORMAT:PATH")
    p.add_argument("--valid-fraction", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--lora-holdout", type=float, default=0.0, metavar="FRACTION",
                   help="the share of training texts the adapter's LoRA stage left out (make model: 0.25)")
    p.add_argument("--twosix", action="store_true", help="also report the twosix validation splits")
    p.add_argument("settings", nargs="+", help="HeadSettings fields as a JSON object, one per run")
    args = p.parse_args()
    runs = [json.loads(s) for s in args.settings]  # bad JSON fails before the slow part
    prep = prepare(args.data, args.valid_fraction, args.seed, progress=lambda _: None)
    prep.train.held_out = held_out_texts(prep.train, args.lora_holdout, args.seed)
    embedder = CandidateEmbedder(args.backbone, adapter=args.adapter, cache_dir=str(default_cache_dir()),
                                 batch_size=64)
    for fields in runs:
        model = RelationModel(embedder, HeadSettings(**fields)).fit(prep.train, progress=lambda _: None)
        figures = {}
        for spec, (fmt, data) in prep.valid.items():
            if fmt != "twosix" or args.twosix:
                result = evaluate_data(model, data, fmt)
                figures[spec_format(spec) + ":" + Path(spec).name] = {k: result[k] for k in KEEP if k in result}
        print(json.dumps({"settings": fields, "thresholds": model.thresholds, "validation": figures}), flush=True)


if __name__ == "__main__":
    main()
