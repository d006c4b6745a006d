"""Extraction speed: a 600-sentence paper through the relation model, model load included,
beside a plain forward pass of the same backbone over the same sentences.

    python bench/extract.py [--model models/default] [--input PAPER] [--sentences 600]

Without --input an invented paper is generated (seeded templates). Prints one JSON line. The
machine is shared, so CPU seconds are printed beside wall-clock ones (and the load average).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SUBJECTS = ["offshore wind farms", "warmer sea temperatures", "the new fishing quota", "coastal erosion",
            "nutrient runoff", "tourism in the bay", "the turbine foundations", "storm frequency",
            "local employment", "seabird populations", "ocean acidification", "the fishing fleet"]
VERBS = ["increased", "reduced", "led to a rise in", "caused a decline in", "had no clear effect on",
         "was measured together with", "improved", "threatened"]
TAILS = ["across the study area", "during the survey years", "according to most respondents",
         "in the northern sites", "as reported by the regional agency", ""]


def invented_paper(n: int, seed: int = 0) -> str:
    """n sentences of plausible environmental-science prose, as paragraphs."""
    rng = random.Random(seed)
    sentences = []
    for i in range(n):
        a, b = rng.sample(SUBJECTS, 2)
        s = f"{a[0].upper()}{a[1:]} {rng.choice(VERBS)} {b} {rng.choice(TAILS)}".strip() + "."
        if rng.random() < 0.3:
            s = s[:-1] + f", while {rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(SUBJECTS)}."
        sentences.append(s)
    return "\n\n".join(" ".join(sentences[i:i + 6]) for i in range(0, n, 6)) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="models/default")
    ap.add_argument("--input", help="a paper (PDF, TXT, MD, DOCX, RTF); default: an invented one")
    ap.add_argument("--sentences", type=int, default=600)
    args = ap.parse_args()

    from data.ingest import read_path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.input) if args.input else Path(tmp) / "paper.txt"
        if not args.input:
            path.write_text(invented_paper(args.sentences))
        start = time.perf_counter()
        docs = read_path(path)
        texts = [s.text for d in docs for s in d.sentences if not s.is_reference]
        t_read = time.perf_counter() - start

    start, cpu = time.perf_counter(), time.process_time()
    from models import load_model

    model = load_model(args.model)
    t_load = time.perf_counter() - start
    start = time.perf_counter()
    found = model.extract(texts)
    t_extract = time.perf_counter() - start
    cpu_model = time.process_time() - cpu

    import torch

    backbone = model.pair_[0].transformer_list[0][1][0].get_backbone()
    start, cpu = time.perf_counter(), time.process_time()
    with torch.inference_mode():
        for i in range(0, len(texts), 64):
            enc = backbone.tokenizer(texts[i:i + 64], padding=True, truncation=True, return_tensors="pt")
            backbone.model(**enc)
    t_forward = time.perf_counter() - start
    cpu_forward = time.process_time() - cpu

    total = t_load + t_extract
    print(json.dumps({
        "sentences": len(texts), "relations": sum(map(len, found)), "threads": torch.get_num_threads(),
        "read_s": round(t_read, 2), "load_s": round(t_load, 2), "extract_s": round(t_extract, 2),
        "sentences_per_s_with_load": round(len(texts) / total, 1),
        "sentences_per_s_extract_only": round(len(texts) / t_extract, 1),
        "backbone_forward_s": round(t_forward, 2),
        "backbone_sentences_per_s": round(len(texts) / t_forward, 1),
        "cpu_s_load_and_extract": round(cpu_model, 1), "cpu_s_backbone_forward": round(cpu_forward, 1),
        "load_avg_1min": round(os.getloadavg()[0], 2),
    }))


if __name__ == "__main__":
    main()
