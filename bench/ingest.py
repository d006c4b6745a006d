"""Ingestion speed: pages per second for a generated two-column paper.

The PDF is built with reportlab (a test-only dependency) so the benchmark needs no data files:
a title block, running header and footer with page numbers, two text columns and a reference list.

    .venv/bin/python -m bench.ingest --pages 50 --repeat 3
"""
from __future__ import annotations

import argparse
import io
import os
import random
import time

from data.ingest import read_document

_SUBJECTS = ["turbine construction", "pile driving noise", "sediment resuspension", "fishing effort",
             "cod biomass", "seabed habitat", "scour protection", "trawling closure", "seal foraging",
             "larval dispersal", "cable heat", "benthic diversity", "lobster catch", "vessel traffic"]
_VERBS = ["increases", "reduces", "changes", "is associated with", "leads to higher",
          "leads to lower", "does not affect", "was compared with"]
_TAILS = ["near the foundations", "within the wind farm area", "in the first two years",
          "relative to reference sites (Fig. 2)", "according to Smith et al. (2019)",
          "by approx. 12.5 per cent", "at most sampling stations", "during the spawning season"]


def _sentences(rng: random.Random, n: int) -> str:
    out = []
    for _ in range(n):
        s, o = rng.sample(_SUBJECTS, 2)
        out.append(f"{s.capitalize()} {rng.choice(_VERBS)} {o} {rng.choice(_TAILS)}.")
    return " ".join(out)


def make_two_column_pdf(pages: int, seed: int = 0) -> bytes:
    """A reportlab paper with `pages` pages of two-column text, header, footer and references."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph

    rng = random.Random(seed)
    width, height = A4
    margin, gutter = 50, 20
    col = (width - 2 * margin - gutter) / 2

    def running(canvas, doc):
        canvas.setFont("Helvetica", 8)
        canvas.drawString(margin, height - 30, "Journal of Offshore Energy and Fisheries 12 (2024)")
        canvas.drawCentredString(width / 2, 25, str(doc.page))

    buf = io.BytesIO()
    doc = BaseDocTemplate(buf, pagesize=A4, title="Benchmark paper", author="Bench, A.")
    frames = [Frame(margin, 50, col, height - 100, id="left"),
              Frame(margin + col + gutter, 50, col, height - 100, id="right")]
    doc.addPageTemplates([PageTemplate(id="two", frames=frames, onPage=running)])
    styles = getSampleStyleSheet()
    story = []
    # ~11.5 paragraphs of 6 sentences fill one two-column page in 10 pt Helvetica.
    for i in range(int(pages * 11.5)):
        if i % 12 == 0:
            story.append(Paragraph(f"{i // 12 + 1} Section {i // 12 + 1}", styles["Heading2"]))
        story.append(Paragraph(_sentences(rng, 6), styles["BodyText"]))
    story.append(Paragraph("References", styles["Heading2"]))
    for i in range(20):
        story.append(Paragraph(f"Author{i}, A., Other, B. (20{i:02d}) A study of wind farms. "
                               f"Mar. Ecol. Prog. Ser. {i + 100}, 1-10.", styles["BodyText"]))
    doc.build(story)
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=50, help="approximate body pages to generate")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs; the best is reported")
    args = ap.parse_args()
    pdf = make_two_column_pdf(args.pages)
    wall, cpu = [], []
    for _ in range(args.repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        (doc,) = read_document("bench.pdf", pdf)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    n_pages = max(s.page or 0 for s in doc.sentences)
    refs = sum(s.is_reference for s in doc.sentences)
    print(f"pdf: {len(pdf) / 1e6:.2f} MB, {n_pages} pages, {len(doc.sentences)} sentences "
          f"({refs} in references)")
    # CPU time is reported too: on a shared machine wall time mostly measures the neighbours.
    print(f"best of {args.repeat}: wall {min(wall):.2f} s = {n_pages / min(wall):.1f} pages/s; "
          f"cpu {min(cpu):.2f} s = {n_pages / min(cpu):.1f} pages/s "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
