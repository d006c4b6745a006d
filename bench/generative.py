"""A generative extractor measured by leave-one-source-out: does writing the relations beat picking them?

The relation model scores candidate spans, and `bench/ceiling.py` shows that about half the gold
names on the largest folds are not spans of the passage at all. A model that writes
"src -> tgt (+|-)" lines can name concepts the way the annotators do. This bench tunes SmolLM2-135M
(LoRA on every linear layer of its 30 layers) to write a passage's relations, on the training set of
one `evaluate --loso` fold (models.loso.make_folds: no text of the held-out source, nor any
near-identical copy), then writes the held-out passages' relations greedily and scores them by the
held-out check's rule (core.metrics.e2e_scores). The writer is models.writer.RelationWriter, the
one `python -m models train-writer` ships (tuning: finetune.writer), tuned here per fold.

    python bench/generative.py --data FORMAT:PATH [--data ...] --fold habitus_ph1 [--epochs 8] [--none-share 0.1]
        [--cnc PATH [--cnc-n N]] [--model DIR|FILE.gguf] [--train-share F]

--fold random: instead of a held-out source, the random in-file split `make model` validates on (every
file split by text with data.readers.split_apart, 20%, seed 0, as models.training.prepare splits): tuned on the training splits,
scored on each file's validation passages. The second figure, beside models/default's validation
end-to-end F1: it says what the generator does on passages of sources it was tuned on.

--model: another causal LM to tune in SmolLM2's place, a local Hugging Face folder or a GGUF file
(dequantised once into the backbone cache, as SmolLM2's is); LoRA goes on the same seven projections,
so a Llama-, Qwen- or Gemma-style model. The loss is taken on the answer tokens only, and only their
logits are computed: a 262k-token vocabulary (Gemma 3) would otherwise cost most of each step.

--cnc PATH: Causal News Corpus subtask 2 (train_subtask2.csv) cause/effect spans as more tuning
examples, under their own prompt (UNSIGNED: CNC has no sign). Epochs, rank and learning rate are fixed before any fold is
scored; nothing is tuned on the held-out passages. Prints progress and, as its last line, the JSON
{"fold": ..., "e2e_f1": ..., "precision": ..., "recall": ..., "f1_any_sign": ..., "passages_per_s": ...}
(f1_any_sign: the same with the sign not checked).
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from core.errors import InputError, run_script  # noqa: E402
from core.metrics import e2e_scores  # noqa: E402
from core.types import PassageRelation  # noqa: E402
from data.readers import read_dataset, split_apart  # noqa: E402
from embedding.backbones import convert_gguf, convert_smollm2  # noqa: E402
from finetune.writer import WriterTuning, keep_none  # noqa: E402
from models.loso import make_folds  # noqa: E402
from models.writer import RelationWriter  # noqa: E402

CNC_SPAN = re.compile(r"<(ARG[01])>(.*?)</ARG[01]>", re.S)


def cnc_examples(path: str) -> list[tuple[str, list[PassageRelation]]]:
    """CNC subtask 2 sentences with their cause (ARG0) -> effect (ARG1) spans, sign 0 (unknown)."""
    by_text: dict[str, list[PassageRelation]] = {}
    with open(path, newline="", encoding="utf-8-sig") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            if not isinstance(row.get("text"), str) or not isinstance(row.get("text_w_pairs"), str):
                raise InputError(path, f"line {line}: needs 'text' and 'text_w_pairs' (CNC train_subtask2.csv)")
            spans = {tag: re.sub(r"</?\w+>", "", s).strip() for tag, s in CNC_SPAN.findall(row["text_w_pairs"])}
            if "ARG0" in spans and "ARG1" in spans:
                by_text.setdefault(row["text"], []).append(PassageRelation(spans["ARG0"], spans["ARG1"], 0))
    return list(by_text.items())


def share_of(examples: list[tuple[str, list[PassageRelation]]], share: float, seed: int
             ) -> list[tuple[str, list[PassageRelation]]]:
    """A seeded sample of `share` of the examples, in their order; a smaller share's sample is part
    of a larger one's (one shuffle, cut at different lengths), so a learning curve only adds data."""
    order = list(range(len(examples)))
    random.Random(seed).shuffle(order)
    kept = sorted(order[:round(share * len(examples))])
    return [examples[i] for i in kept]


def random_split(specs: Sequence[str], valid_fraction: float = 0.2, seed: int = 0
                 ) -> tuple[list[tuple[str, list[PassageRelation]]], dict[str, list]]:
    """(training passages of every file, {file: its validation passages}), split as `make model` splits."""
    splits = split_apart({spec: read_dataset(spec) for spec in specs}, valid_fraction, seed)
    train = [(p.text, list(p.relations)) for tr, _, _ in splits.values() for p in tr.passages]
    return train, {spec: list(va.passages) for spec, (_, va, _) in splits.items()}


def held_out(specs: Sequence[str], fold: str) -> tuple[list[tuple[str, list[PassageRelation]]], dict[str, list]]:
    """(training passages, {file or source: held-out passages}) for a LOSO fold or the random split."""
    if fold == "random":
        return random_split(specs)
    folds = make_folds(specs, sentences=False, progress=lambda m: print(m, flush=True))
    found = next((f for f in folds if f.name == fold), None)
    if found is None:
        raise InputError("--fold", f"no fold {fold!r} (folds: random, {', '.join(f.name for f in folds)})")
    return [(t, list(rels)) for t, rels, _ in found.train.passages], {found.name: list(found.data.passages)}


def model_folder(name: str | None) -> Path:
    """The folder of the model to tune: SmolLM2-135M by default, else a local folder or a GGUF file."""
    if name is None:
        return convert_smollm2()
    path = Path(name).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        try:
            return convert_gguf(path)
        except Exception as exc:  # noqa: BLE001 - the GGUF reader's errors on a damaged file are of many kinds
            raise InputError("--model", f"{name}: not a readable GGUF model ({exc})") from None
    if not (path / "config.json").is_file():
        raise InputError("--model", f"{name}: not a .gguf file nor a folder with config.json")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", action="append", required=True, help="FORMAT:PATH (sift / twosix files)")
    ap.add_argument("--fold", required=True,
                    help="the held-out source or TwoSix file stem, or 'random' for make model's in-file split")
    ap.add_argument("--cnc", help="CNC train_subtask2.csv: cause/effect spans as more tuning examples")
    ap.add_argument("--cnc-n", type=int, default=300, help="CNC sentences drawn (seeded) from --cnc")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--none-share", type=float, default=0.1,
                    help="keep passages without relations up to this share of those with (seeded; a large value keeps all)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--r", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", help="write each held-out passage's generated text and gold here (JSONL)")
    ap.add_argument("--train-share", type=float, default=1.0,
                    help="tune on this seeded share of the fold's passages (a learning curve: is data the limit?)")
    ap.add_argument("--model", help="a local causal-LM folder or .gguf file to tune instead of SmolLM2-135M")
    args = ap.parse_args(argv)
    if args.epochs < 1 or args.batch < 1 or args.r < 1:
        ap.error("--epochs, --batch and --r must be >= 1")
    if not args.none_share >= 0 or args.cnc_n < 0:
        ap.error("--none-share and --cnc-n must be >= 0")
    if not 0 < args.train_share <= 1:
        ap.error("--train-share must be in (0, 1]")
    torch.set_num_threads(args.threads)
    train, held = held_out(args.data, args.fold)
    extra = cnc_examples(args.cnc) if args.cnc else []
    random.Random(args.seed).shuffle(extra)
    extra = extra[:args.cnc_n]
    path = model_folder(args.model)
    examples = share_of(keep_none(train, args.none_share, args.seed), args.train_share, args.seed) + extra
    passages = [p for part in held.values() for p in part]
    print(f"fold {args.fold}: {len(train)} training passages, {len(extra)} CNC sentences, "
          f"{len(passages)} held out", flush=True)
    writer = RelationWriter(str(path), WriterTuning(r=args.r, epochs=args.epochs, batch_size=args.batch, lr=args.lr,
                                                    seed=args.seed))
    writer.fit([t for t, _ in examples], [r for _, r in examples], progress=lambda m: print(m, flush=True))
    texts = [p.text for p in passages]
    t0 = time.time()
    written = writer.write(texts)
    seconds = time.time() - t0
    pred = [writer.relations_in(lines) for lines in written]
    gold = [list(p.relations) for p in passages]
    scores = e2e_scores(pred, gold)
    unsigned = e2e_scores(pred, [[replace(r, sign=0) for r in g] for g in gold])  # a gold sign 0 accepts either
    parts, at = {}, 0
    for name, part in held.items():
        parts[name] = round(e2e_scores(pred[at:at + len(part)], gold[at:at + len(part)])["e2e_f1"], 4)
        at += len(part)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            for t, w, g in zip(texts, written, gold):
                f.write(json.dumps({"text": t, "written": "\n".join(line for line, _ in w),
                                    "gold": [[r.src, r.tgt, r.sign] for r in g]}) + "\n")
    print(json.dumps({"fold": args.fold, "e2e_f1": round(scores["e2e_f1"], 4),
                      "precision": round(scores["e2e_precision"], 4), "recall": round(scores["e2e_recall"], 4),
                      "f1_any_sign": round(unsigned["e2e_f1"], 4), "e2e_f1_by_file": parts,
                      "predicted": sum(map(len, pred)), "gold": sum(map(len, gold)), "epochs": args.epochs,
                      "cnc": len(extra), "none_share": args.none_share, "model": args.model or "smollm2-135m",
                      "training_examples": len(examples), "train_share": args.train_share,
                      "passages_per_s": round(len(texts) / seconds, 2)}))
    return 0


if __name__ == "__main__":
    run_script(main)
