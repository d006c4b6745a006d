"""Extraction speed: a 600-sentence paper through the relation model, model load included,
beside a plain forward pass of the same backbone over the same sentences.

    python bench/extract.py [--model models/default] [--input PAPER] [--sentences 600] [--repeat 3]

Without --input an invented paper is generated (seeded templates). Prints one JSON line. The
machine is shared, so CPU seconds are printed beside wall-clock ones (and the load average).

The ratio is measured as a user meets it, from fresh processes, --repeat times alternately:
`python -m models extract --model M PAPER --out X` (start-up, imports, model load, reading,
extraction, writing) against a plain forward pass in its own fresh process (import torch and
transformers, load the same backbone with the bundle's adapter merged, tokenise and run the
sentences in batches of 64). ratio = plain seconds / extract seconds (1.0: extraction costs no
more than the backbone alone); the medians are reported. CLI start-up (`python -m models
--help`) is timed on its own too.

A relation-writer bundle (`python -m models train-writer`) has no encoder to compare with: for it
only the in-process load and extraction speeds are printed (use a smaller --sentences: it writes
some 2 sentences a second).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
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


PLAIN_FORWARD = """
import sys, time
start = time.perf_counter()
import torch
from embedding.backbones import load_backbone
texts = [line for line in open(sys.argv[2], encoding="utf-8").read().split("\\n") if line]
adapter = sys.argv[1] + "/adapter"
import os
backbone = load_backbone("minilm", adapter if os.path.isdir(adapter) else None)
with torch.inference_mode():
    for i in range(0, len(texts), 64):
        enc = backbone.tokenizer(texts[i:i + 64], padding=True, truncation=True, return_tensors="pt")
        backbone.model(**enc)
"""


def _wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def fresh_process_ratio(model: str, paper: Path, texts: list[str], repeat: int, tmp: Path) -> dict:
    """Wall seconds of the CLI and of the plain forward pass, each in fresh processes, alternately."""
    sentences = tmp / "sentences.txt"
    sentences.write_text("\n".join(t.replace("\n", " ") for t in texts) + "\n", encoding="utf-8")
    cli = [sys.executable, "-m", "models", "extract", "--model", model, str(paper), "--out", str(tmp / "out.json")]
    plain = [sys.executable, "-c", PLAIN_FORWARD, model, str(sentences)]
    help_s, cli_s, plain_s = [], [], []
    for _ in range(repeat):
        help_s.append(_wall([sys.executable, "-m", "models", "--help"]))
        plain_s.append(_wall(plain))
        cli_s.append(_wall(cli))
    ratios = [p / c for p, c in zip(plain_s, cli_s)]
    return {"cli_startup_s": round(statistics.median(help_s), 2),
            "cli_extract_with_load_s": round(statistics.median(cli_s), 2),
            "cli_sentences_per_s_with_load": round(len(texts) / statistics.median(cli_s), 1),
            "plain_forward_with_load_s": round(statistics.median(plain_s), 2),
            "ratio_to_plain_forward": round(statistics.median(ratios), 2),
            "ratios": [round(r, 2) for r in ratios]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="models/default")
    ap.add_argument("--input", help="a paper (PDF, TXT, MD, DOCX, RTF); default: an invented one")
    ap.add_argument("--sentences", type=int, default=600)
    ap.add_argument("--repeat", type=int, default=3, help="fresh-process runs of each side (medians reported)")
    args = ap.parse_args()

    from data.ingest import read_path
    from models.bundle import WRITER_FORMAT, read_config

    writer = read_config(args.model)["format"] == WRITER_FORMAT
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.input) if args.input else Path(tmp) / "paper.txt"
        if not args.input:
            path.write_text(invented_paper(args.sentences))
        start = time.perf_counter()
        docs = read_path(path)
        texts = [s.text for d in docs for s in d.sentences if not s.is_reference]
        t_read = time.perf_counter() - start
        fresh = {} if writer else fresh_process_ratio(args.model, path, texts, args.repeat, Path(tmp))

    start, cpu = time.perf_counter(), time.process_time()
    from models.extractor import Extractor

    extractor = Extractor.load(args.model)
    model = extractor.model
    t_load = time.perf_counter() - start
    start = time.perf_counter()
    found = extractor.pipe(texts)
    t_extract = time.perf_counter() - start
    cpu_model = time.process_time() - cpu

    import torch

    if writer:
        print(json.dumps({
            "model": "relation writer", "sentences": len(texts), "relations": sum(map(len, found)),
            "threads": torch.get_num_threads(), "load_s": round(t_load, 2), "extract_s": round(t_extract, 2),
            "sentences_per_s_with_load": round(len(texts) / (t_load + t_extract), 2),
            "sentences_per_s_extract_only": round(len(texts) / t_extract, 2),
            "cpu_s_load_and_extract": round(cpu_model, 1), "load_avg_1min": round(os.getloadavg()[0], 2),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}))
        return
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
        **fresh, "load_avg_1min": round(os.getloadavg()[0], 2),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }))


if __name__ == "__main__":
    main()
