"""PDF reading order against poppler's pdftotext: share of 12-word runs read intact.

pdftotext (poppler-utils) reads columns in order. Every run of 12 consecutive words inside one of
its body sentences (at least 12 words, ending with a full stop, mostly words rather than numbers)
is looked up in our document text; a run counts as intact when its letters and digits appear in
that order in our text (spaces and hyphens ignored, so line-end hyphenation does not count). A
sentence that mixes two columns, or a caption dropped into a paragraph, breaks the runs across it.

Measured on the files given as arguments and on generated two-column papers with full-width
floats (title block, abstract, wide tables and figures with captions, a reference list):

    flock /tmp/heavy.lock .venv/bin/python -m bench.pdf_order ../shared/data/pdfs/*.pdf --generated 5
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.papers import make_float_paper
from data.ingest import document_text, read_document
from data.sentences import split_sentences

RUN = 12
_KEY = re.compile(r"[\W_]+", re.UNICODE)
_WORDY = re.compile(r"^[^\W\d_][\w'\u2019-]*[,;:.]?$", re.UNICODE)


def _key(words: list[str]) -> str:
    return _KEY.sub("", "".join(words)).lower()


def pdftotext(pdf: bytes) -> str:
    """poppler's reading of the PDF (plain mode, pages split by form feeds)."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        out = subprocess.run(["pdftotext", "-enc", "UTF-8", f.name, "-"], check=True,
                             capture_output=True)
    return out.stdout.decode("utf-8")


def reference_runs(text: str) -> list[str]:
    """Keys of every 12-word run inside pdftotext's body sentences."""
    runs = []
    for page in text.split("\f"):
        for para in re.split(r"\n\s*\n", page):
            flat = " ".join(para.split())
            for s, e in split_sentences(flat):
                words = flat[s:e].split()
                wordy = sum(bool(_WORDY.match(w)) for w in words)
                if len(words) < RUN or not flat[s:e].endswith(".") or wordy < 0.8 * len(words):
                    continue
                runs += [_key(words[i:i + RUN]) for i in range(len(words) - RUN + 1)]
    return runs


def intact_share(pdf: bytes, name: str = "paper.pdf") -> tuple[float, int]:
    """(share of pdftotext's runs found intact in our text, number of runs)."""
    ours = _key([document_text(name, pdf)])
    runs = reference_runs(pdftotext(pdf))
    found = sum(r in ours for r in runs)
    return (found / len(runs) if runs else 1.0), len(runs)


def _report(label: str, pdf: bytes) -> float:
    t0 = time.process_time()
    (doc,) = read_document(label, pdf)
    cpu = time.process_time() - t0
    share, n = intact_share(pdf, label)
    pages = max((s.page or 0) for s in doc.sentences)
    refs = sum(s.is_reference for s in doc.sentences)
    print(f"{label}: {share:.3f} of {n} runs intact; {pages} pages, {pages / cpu:.0f} pages/s cpu; "
          f"{len(doc.sentences)} sentences, {refs} marked reference")
    return share


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pdfs", nargs="*", type=Path, help="PDF files to measure")
    ap.add_argument("--generated", type=int, default=5, help="generated papers (seeds 0..N-1)")
    ap.add_argument("--pages", type=int, default=6, help="pages of each generated paper")
    args = ap.parse_args()
    if shutil.which("pdftotext") is None:
        sys.exit("pdftotext not found: install poppler-utils")
    for path in args.pdfs:
        _report(path.name, path.read_bytes())
    shares = [_report(f"generated-{seed}.pdf", make_float_paper(args.pages, seed=seed))
              for seed in range(args.generated)]
    if shares:
        print(f"generated: mean {sum(shares) / len(shares):.3f}, min {min(shares):.3f}")


if __name__ == "__main__":
    main()
