"""Backbones side by side: load time, embedding sentences/s, and full extraction where a bundle uses the backbone.

    nice -n 10 .venv/bin/python bench/backbones.py [--backbones minilm,smollm2-135m] [--sentences 600]
        [--threads 1,2] [--extract-threads 2] [--bundle minilm=models/default] [--repeats 2] [--probe 12x384]

Why: a backbone is only worth switching to when the F1 it buys outweighs what it costs in speed, and
extraction of a 600-sentence paper must stay at 40 sentences/s or more including load. Each backbone is
measured in its own fresh process (one loaded backbone cannot slow or warm another):
- load s: load_base_model (tokenizer + float32 weights; imports not counted, SmolLM2's one-time GGUF
  conversion done before timing);
- embedding sentences/s: the invented paper of bench/extract.py, batches of 64, one forward pass with
  all hidden states (what pooling reads), per torch thread count, best of --repeats;
- extraction sentences/s incl. load: Extractor.load(bundle) + pipe over the same sentences (candidates,
  backbone, heads), at --extract-threads (default: the largest of --threads), only for a backbone
  given a --bundle (default: models/default when its config names the backbone).
--probe LAYERSxHIDDEN adds a randomly initialised BERT of that shape with MiniLM's tokenizer (12x384 is
the shape of all-MiniLM-L12-v2, bge-small-en-v1.5, e5-small-v2 and gte-small): what such an encoder would
cost before any package ships one. Speed does not depend on the weights' values; with MiniLM's hidden size
it also gets a copy of models/default re-pointed at it, so extraction is timed too (its relations mean
nothing). Prints one JSON line per backbone, then a Markdown table.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from bench.extract import invented_paper  # noqa: E402


def sentences(n: int) -> list[str]:
    """The invented paper's sentences (one per line of the paragraphs), as extraction reads them."""
    from data.ingest import read_document

    docs = read_document("paper.txt", invented_paper(n).encode())
    return [s.text for d in docs for s in d.sentences if not s.is_reference]


def measure_one(name: str, bundle: str | None, n: int, threads: list[int], repeats: int,
                extract_threads: int) -> dict:
    """Everything for one backbone, in this (fresh) process."""
    import torch

    from embedding.backbones import SMOLLM2, clear_backbones, convert_smollm2, load_base_model

    texts = sentences(n)
    if name == SMOLLM2:
        convert_smollm2()  # one-time, cached; not part of a load a user meets twice
    start = time.perf_counter()
    tokenizer, model, kind = load_base_model(name)
    load_s = time.perf_counter() - start
    model.eval()
    row: dict = {"backbone": name, "kind": kind, "layers": model.config.num_hidden_layers,
                 "hidden": model.config.hidden_size,
                 "params_m": round(sum(p.numel() for p in model.parameters()) / 1e6, 1),
                 "sentences": len(texts), "load_s": round(load_s, 2)}
    for th in threads:
        torch.set_num_threads(th)
        best = float("inf")
        with torch.inference_mode():
            model(**tokenizer(texts[:8], padding=True, truncation=True, return_tensors="pt"))  # warm-up
            for _ in range(repeats):
                start = time.perf_counter()
                for i in range(0, len(texts), 64):
                    enc = tokenizer(texts[i:i + 64], padding=True, truncation=True, return_tensors="pt")
                    model(**enc, output_hidden_states=True)
                best = min(best, time.perf_counter() - start)
        row[f"embed_sent_s_{th}t"] = round(len(texts) / best, 1)
    del model
    if bundle:
        from models.extractor import Extractor

        torch.set_num_threads(extract_threads)
        clear_backbones()
        start = time.perf_counter()
        extractor = Extractor.load(bundle)
        found = extractor.pipe(texts)
        total = time.perf_counter() - start
        row.update({"bundle": bundle, "extract_s_with_load": round(total, 2),
                    "extract_sent_s_with_load": round(len(texts) / total, 1),
                    "relations": sum(map(len, found)), "extract_threads": extract_threads})
    row["load_avg_1min"] = round(os.getloadavg()[0], 2)
    return row


def make_probe(shape: str, root: Path) -> tuple[str, str | None]:
    """(model folder, bundle folder or None) for a random BERT of shape LAYERSxHIDDEN under root."""
    import torch
    from transformers import BertModel

    from embedding.backbones import load_base_model
    from models.bundle import copy_bundle

    layers, hidden = (int(x) for x in shape.lower().split("x"))
    tokenizer, minilm, _ = load_base_model("minilm")
    config = minilm.config.__class__.from_dict(minilm.config.to_dict())
    config.num_hidden_layers, config.hidden_size = layers, hidden
    config.num_attention_heads, config.intermediate_size = hidden // 32, 4 * hidden
    folder = root / f"probe-{layers}x{hidden}"
    torch.manual_seed(0)
    BertModel(config).save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    default = ROOT / "models" / "default"
    if bundle_backbone(default) != "minilm" or hidden != minilm.config.hidden_size:
        return str(folder), None
    bundle = copy_bundle(default, root / f"bundle-{layers}x{hidden}", {"backbone": str(folder)})
    return str(folder), str(bundle)


def bundle_backbone(path: Path) -> str | None:
    config = path / "config.json"
    return json.loads(config.read_text()).get("backbone") if config.is_file() else None


def table(rows: list[dict], threads: list[int], extract_threads: int) -> str:
    head = ("| backbone | layers x hidden | params (M) | load s | "
            + " | ".join(f"embedding sent/s, {t} thread{'s' if t > 1 else ''}" for t in threads)
            + f" | extraction sent/s incl. load ({extract_threads} thread{'s' if extract_threads > 1 else ''}) |")
    lines = [head, "|" + "---|" * (5 + len(threads))]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['backbone']} | not available: {r['error']} |")
            continue
        extract = f"{r['extract_sent_s_with_load']} ({r['bundle']})" if "bundle" in r else "no bundle"
        rates = " | ".join(str(r[f"embed_sent_s_{t}t"]) for t in threads)
        lines.append(f"| {r.get('label', r['backbone'])} | {r['layers']} x {r['hidden']} | {r['params_m']} "
                     f"| {r['load_s']} | {rates} | {extract} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backbones", default="minilm,smollm2-135m", help="comma-separated backbone names")
    ap.add_argument("--sentences", type=int, default=600)
    ap.add_argument("--threads", default="1,2", help="comma-separated torch thread counts")
    ap.add_argument("--extract-threads", type=int, help="torch threads for extraction (default: largest --threads)")
    ap.add_argument("--bundle", action="append", default=[], metavar="NAME=DIR",
                    help="a relation-model bundle to time extraction with for backbone NAME (repeatable)")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--probe", action="append", default=[], metavar="LAYERSxHIDDEN",
                    help="add a random-weight BERT of this shape (speed only; repeatable)")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--one-bundle", help=argparse.SUPPRESS)
    args = ap.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    extract_threads = args.extract_threads or max(threads)
    if args.one:
        print(json.dumps(measure_one(args.one, args.one_bundle, args.sentences, threads, args.repeats,
                                     extract_threads)))
        return

    bundles = dict(b.split("=", 1) for b in args.bundle)
    default = ROOT / "models" / "default"
    if not args.bundle and bundle_backbone(default):
        bundles[bundle_backbone(default)] = "models/default"
    names = [b for b in args.backbones.split(",") if b]
    labels = {}
    with tempfile.TemporaryDirectory() as tmp:
        for shape in args.probe:
            folder, bundle = make_probe(shape, Path(tmp))
            names.append(folder)
            labels[folder] = f"random BERT {shape} (probe)"
            if bundle:
                bundles[folder] = bundle
        rows = run_all(names, bundles, labels, args, extract_threads)
    print()
    print(table(rows, threads, extract_threads))


def run_all(names: list[str], bundles: dict[str, str], labels: dict[str, str], args: argparse.Namespace,
            extract_threads: int) -> list[dict]:
    """One fresh process per backbone; a backbone that fails is a row saying why."""
    rows = []
    for name in names:
        cmd = [sys.executable, __file__, "--one", name, "--sentences", str(args.sentences), "--threads",
               args.threads, "--extract-threads", str(extract_threads), "--repeats", str(args.repeats)]
        if name in bundles:
            cmd += ["--one-bundle", bundles[name]]
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["failed"])[-1]
            rows.append({"backbone": name, "error": last[:120]})
        else:
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        if name in labels:
            rows[-1]["label"] = labels[name]
            if "bundle" in rows[-1]:
                rows[-1]["bundle"] = "models/default re-pointed"
        print(json.dumps(rows[-1]), flush=True)
    return rows


if __name__ == "__main__":
    main()
