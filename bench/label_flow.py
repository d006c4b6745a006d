"""Label page speed in a real browser: keys per relation, save-to-row latency, first paint.

    .venv/bin/python bench/label_flow.py [--sentences 500] [--relations 10] [--model PATH]

Builds an invented N-sentence document in a fresh SQLite file, starts `streamlit run app/main.py`
on it and drives Debian's chromium with Playwright:
- first paint: a new browser tab opening the Label page until its last element (the key help
  line) is in the page, timed by the page's own clock from navigation start; "settled" adds the
  wait until the page's script run has ended (the current sentence's suggestions, which the page
  fills in last, are then on screen); "interactive" the wait until its key shortcuts answer. The
  first load of a server (spaCy, model loading) is reported apart. Warm paints reopen sentence 1
  (a reload: the model was asked about it already) and, apart, sentences never opened before
  (the model is asked while the page is shown).
- per relation: the keys pressed on the common path (chip digit, chip digit, Enter) and the
  time from the Enter keydown to the saved row's text being in the page (in-page clock).
Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from app_server import browser_page, chromium, running_app, wait_idle, wait_interactive  # noqa: E402

CAUSES = ["Warmer water", "Offshore wind farms", "Stricter quotas", "Nutrient runoff", "Bottom trawling",
          "Seal predation", "Marine protected areas", "Fuel prices", "Storm frequency", "Noise from piling"]
EFFECTS = ["cod recruitment", "fishing effort", "algae growth", "the income of fishers", "seabed habitat",
           "herring landings", "tourism revenue", "larval survival", "vessel traffic", "sprat abundance"]
VERBS = ["increase", "reduce", "raise", "lower", "boost", "limit"]


def invented_document(n: int, seed: int = 0) -> str:
    """n invented sentences with two noun phrases each (no text from any dataset)."""
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        lines.append(f"{rng.choice(CAUSES)} {rng.choice(VERBS)} {rng.choice(EFFECTS)} "
                     f"in survey area {i + 1}.")
    return " ".join(lines) + "\n"


def first_paint(browser, url: str) -> tuple[float, float, float]:
    """Seconds from opening the Label page in a new tab to its last element being visible, to its
    script run having ended (suggestions shown), and to its key shortcuts answering."""
    with browser_page(browser, timeout_ms=300_000) as page:
        page.goto(url)
        page.wait_for_function("document.body.textContent.includes('Keys: 1–9')", polling="raf")
        painted = page.evaluate("performance.now()") / 1000  # since this tab's navigation started
        wait_idle(page, timeout=300)
        settled = page.evaluate("performance.now()") / 1000
        wait_interactive(page)
        return painted, settled, page.evaluate("performance.now()") / 1000


_WATCH_SAVE = """() => {
  // Times in the page itself, from the Enter keydown to the saved row's text being in the DOM,
  // so the figure does not include Playwright's polling.
  window.__saveLatency = null;
  let t0 = null;
  document.addEventListener("keydown", e => { if (e.key === "Enter") t0 = performance.now(); },
                            {capture: true, once: true});
  const obs = new MutationObserver(() => {
    if (t0 !== null && document.body.textContent.includes("Your relations in this sentence: 1")) {
      window.__saveLatency = performance.now() - t0; obs.disconnect();
    }
  });
  obs.observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


def label_relations(browser, url: str, n: int, count: int) -> tuple[list[int], list[float]]:
    """Label `count` sentences by keys only (chip, chip, Enter; Right to go on): keys pressed per
    relation and seconds from Enter to the saved row on screen."""
    from playwright.sync_api import expect

    expect.set_options(timeout=60_000)
    keys, latencies = [], []
    with browser_page(browser, timeout_ms=300_000) as page:
        page.goto(url)
        page.get_by_text("Keys: 1–9").wait_for()
        wait_interactive(page)
        for k in range(count):
            expect(page.get_by_text(f"Sentence {k + 1} of {n}")).to_be_visible()
            wait_idle(page)
            pressed = 0
            for key, box in (("1", "Source"), ("2", "Target")):
                page.keyboard.press(key)
                pressed += 1
                expect(page.get_by_role("combobox", name=box)).not_to_have_value("")
                wait_idle(page)
            page.evaluate(_WATCH_SAVE)
            page.keyboard.press("Enter")
            pressed += 1
            page.get_by_text("Your relations in this sentence: 1").wait_for()
            latencies.append(page.evaluate("window.__saveLatency") / 1000)
            wait_idle(page)
            keys.append(pressed)
            page.keyboard.press("ArrowRight")
    return keys, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sentences", type=int, default=500)
    parser.add_argument("--relations", type=int, default=10)
    parser.add_argument("--paints", type=int, default=3, help="warm first-paint repeats")
    parser.add_argument("--model", default=str(ROOT / "models" / "default"),
                        help="model bundle for suggestions (a missing path = LLM-block stand-in)")
    args = parser.parse_args()

    from data.ingest import read_document
    from data.store import Store

    tmp = Path(tempfile.mkdtemp(prefix="label_flow_"))
    db = tmp / "bench.db"
    store = Store(str(db))
    (doc_id,) = store.import_documents(read_document("bench.txt", invented_document(args.sentences).encode()))
    n = len(store.sentences(doc_id))
    label_url = f"/label?annotator=bench&doc={doc_id}&s=1"

    with running_app(db, FUZZYMAP_MODEL=args.model) as url, chromium() as browser:
        cold, cold_settled, cold_interactive = first_paint(browser, url + label_url)
        warm = [first_paint(browser, url + label_url) for _ in range(args.paints)]
        fresh = [first_paint(browser, url + label_url.replace("s=1", f"s={(n // 2 + 10 * i) % n + 1}"))
                 for i in range(args.paints)]  # 10 apart: none was asked ahead of time (prefetch asks 3)

        keys, latencies = label_relations(browser, url + label_url, n, args.relations)

    saved = len(store.relations(document_id=doc_id))
    print(json.dumps({
        "sentences": n, "relations_saved": saved, "keys_per_relation": statistics.median(keys),
        "save_to_row_ms_median": round(1000 * statistics.median(latencies)),
        "save_to_row_ms_max": round(1000 * max(latencies)),
        "first_paint_s_cold_server": round(cold, 2), "settled_s_cold_server": round(cold_settled, 2),
        "interactive_s_cold_server": round(cold_interactive, 2),
        "first_paint_s_warm_median": round(statistics.median(w[0] for w in warm), 2),
        "settled_s_warm_median": round(statistics.median(w[1] for w in warm), 2),
        "interactive_s_warm_median": round(statistics.median(w[2] for w in warm), 2),
        "first_paint_s_warm_new_sentence_median": round(statistics.median(w[0] for w in fresh), 2),
        "settled_s_warm_new_sentence_median": round(statistics.median(w[1] for w in fresh), 2),
        "cpu_count": os.cpu_count(), "load_avg_1min": round(os.getloadavg()[0], 1),
    }, indent=1))


if __name__ == "__main__":
    main()
