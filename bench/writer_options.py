"""Cheap changes to a trained relation writer, measured on the validation passages it was not tuned on.

The relation writer (models.writer) writes every relation it thinks of, and over-writes passages
that state none (README, "Relation writer"). This bench asks whether something that needs no new
tuning lifts its end-to-end F1 or its speed, each scored by the held-out rule (core.metrics.e2e_scores)
on the part of each file the bundle may be scored on (models.evaluate.held_out_part: a training file's
validation split):

- threshold: drop written lines whose score (mean token probability) is below t;
- none gate: skip a passage when the writer's probability of answering "none" is at least g (one
  forward pass over the prompt, no writing);
- with the pair scorer (--pair): the union of both models' relations, the writer's relations that the
  pair scorer also finds (core.matching.relations_match: same sign, a content word shared
  or spans overlapping at each end), and the writer's relations
  only where the pair scorer finds any;
- int8: the writer's decoder layers quantised to int8 (torch dynamic quantisation), time and F1.

    python bench/writer_options.py --writer var/models/writer [--pair models/default] --data FORMAT:PATH [--data ...]

A threshold or gate chosen from this table would be chosen on the very passages it reports: the
figures say whether a knob is worth a tuning split, not what it would score. Prints one line per
option and data file.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.matching import relations_match  # noqa: E402
from core.metrics import e2e_scores  # noqa: E402
from core.relation_text import NONE, prompt  # noqa: E402
from core.types import PassageRelation  # noqa: E402

THRESHOLDS = (0.0, 0.7, 0.8, 0.85, 0.9)
GATES = (1.0, 0.5, 0.3, 0.1)


def none_probability(writer, texts: list[str]) -> list[float]:
    """The writer's probability that its answer is "none" (the answer's first line), per text."""
    import torch

    tok = writer.tokenizer_
    first = tok("\n" + NONE, add_special_tokens=False)["input_ids"]
    # the answer starts with a newline (core.relation_text.target); "none" is the token after it
    newline, none = first[0], first[1]
    out: list[float] = []
    with torch.inference_mode():
        for i in range(0, len(texts), writer.writing.batch_size):
            enc = tok([prompt(t) for t in texts[i:i + writer.writing.batch_size]], return_tensors="pt", padding=True)
            ids = torch.cat([enc["input_ids"], torch.full((len(enc["input_ids"]), 1), newline)], 1)
            mask = torch.cat([enc["attention_mask"], torch.ones(len(ids), 1, dtype=enc["attention_mask"].dtype)], 1)
            logits = writer.model_(input_ids=ids, attention_mask=mask).logits
            p_newline = logits[:, -2].float().softmax(-1)[:, newline]
            p_none = logits[:, -1].float().softmax(-1)[:, none]
            out += (p_newline * p_none).tolist()
    return out


def row(name: str, found: list[list[PassageRelation]], gold: list, extra: str = "") -> str:
    s = e2e_scores(found, gold)
    return (f"  {name:40s} written {sum(map(len, found)):4d}  F1 {s['e2e_f1']:.3f}  "
            f"P {s['e2e_precision']:.3f}  R {s['e2e_recall']:.3f}{extra}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--writer", required=True, help="a relation-writer bundle")
    ap.add_argument("--pair", help="a relation-model bundle to combine with (e.g. models/default)")
    ap.add_argument("--data", action="append", required=True, help="FORMAT:PATH of a file with passages")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)

    import torch

    from data.readers import read_dataset
    from models.bundle import load_model, read_config
    from models.evaluate import held_out_part

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    writer, config = load_model(args.writer), read_config(args.writer)
    pair = load_model(args.pair) if args.pair else None
    parts = []
    for spec in args.data:
        part, data = held_out_part(spec, read_dataset(spec), config, lambda *a: None)
        if not data.passages:
            sys.exit(f"{spec}: no passages to score")
        parts.append((spec, part, [p.text for p in data.passages], [p.relations for p in data.passages]))
    for spec, part, texts, gold in parts:
        print(f"{spec} ({part}: {len(texts)} passages, {sum(map(len, gold))} relations)", flush=True)
        start = time.perf_counter()
        lines = writer.write(texts)
        took = time.perf_counter() - start
        for t in THRESHOLDS:
            print(row(f"threshold {t}", [writer.relations_in(ls, t) for ls in lines], gold,
                      f"  ({took:.1f} s)" if t == 0 else ""), flush=True)
        p_none = none_probability(writer, texts)
        for label, keep in (("with", True), ("without", False)):
            ps = [p for p, g in zip(p_none, gold) if bool(g) == keep]
            if ps:
                print(f"  mean P(none) of passages {label} relations: {sum(ps) / len(ps):.2f} ({len(ps)})")
        for g in GATES:
            print(row(f"none gate {g}", [writer.relations_in(ls) if p < g else [] for ls, p in zip(lines, p_none)],
                      gold, f"  (passages written {sum(p < g for p in p_none)})"), flush=True)
        if pair is not None:
            ours = [writer.relations_in(ls) for ls in lines]
            theirs = pair.extract(texts)
            print(row("pair scorer alone", theirs, gold))
            print(row("union", [a + [r for r in b if not any(relations_match(r, x) for x in a)] for a, b in zip(ours, theirs)], gold))
            print(row("writer, agreed by the pair scorer", [[r for r in a if any(relations_match(r, x) for x in b)]
                                                           for a, b in zip(ours, theirs)], gold))
            print(row("writer where the pair scorer finds any", [a if b else [] for a, b in zip(ours, theirs)], gold),
                  flush=True)
    writer.model_.model = torch.ao.quantization.quantize_dynamic(writer.model_.model, {torch.nn.Linear},
                                                                 dtype=torch.qint8)
    for spec, _, texts, gold in parts:
        start = time.perf_counter()
        lines = writer.write(texts)
        print(f"{spec}\n" + row("int8 decoder layers", [writer.relations_in(ls) for ls in lines], gold,
                                 f"  ({time.perf_counter() - start:.1f} s)"), flush=True)


if __name__ == "__main__":
    main()
