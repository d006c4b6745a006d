"""Label page in a real browser: are relations typed without pausing saved as typed?

    .venv/bin/python bench/fast_keys.py [--runs 8] [--gap-ms 0] [--burst]

Each run starts from a fresh database holding one invented three-sentence document, opens it on
the Label page (Debian's chromium, Playwright) and types three relations on the first sentence:
the source digit, a wait until the Source box shows it and the page is idle, then the target digit
and Enter `--gap-ms` apart, then a wait for the saved row. With `--burst` all nine keys (digit,
digit, Enter, three times) are typed in one go, `--gap-ms` apart, and only then is the page
watched. A run counts as right when the store holds exactly the three relations typed, each with
its own source, target and sign +. Prints one JSON object: runs, right, and per run the relations found.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from app_server import browser_page, chromium, running_app, wait_idle, wait_interactive  # noqa: E402

SENTENCES = ("Offshore wind farms reduce the fishing effort of local trawlers.",
             "Warmer water increases the growth of algae.", "Stricter quotas lower the landings of cod.")
CHIPS = {"1": "Offshore wind farms", "2": "fishing effort", "3": "local trawlers"}
PAIRS = (("1", "2"), ("3", "2"), ("2", "3"))


def one_run(browser, gap_ms: int, burst: bool) -> list[tuple[str, str, int]]:
    """Type PAIRS on a fresh app; the relations the store then holds (sorted)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    from core.types import ParsedDocument, ParsedSentence
    from data.store import Store

    with tempfile.TemporaryDirectory(prefix="fastkeys-") as tmp:
        db = Path(tmp) / "app.db"
        store = Store(str(db))
        store.import_documents([ParsedDocument("fish.txt", "sha-fish", [ParsedSentence(t) for t in SENTENCES],
                                               title="Fish")])
        with running_app(db, FUZZYMAP_MODEL=str(Path(tmp) / "no-model")) as url, \
                browser_page(browser) as page:
            page.goto(f"{url}/label?annotator=bench")
            page.get_by_text("Keys: 1–9").wait_for()
            wait_idle(page)
            wait_interactive(page)
            try:
                if burst:
                    for key in [k for pair in PAIRS for k in (*pair, "Enter")]:
                        page.keyboard.press(key)
                        page.wait_for_timeout(gap_ms)
                    page.get_by_text(f"Your relations in this sentence: {len(PAIRS)}").wait_for(timeout=30_000)
                    wait_idle(page)
                for n, (source, target) in enumerate([] if burst else PAIRS, start=1):
                    page.keyboard.press(source)
                    page.get_by_role("combobox", name="Source").and_(
                        page.locator(f"[value='{CHIPS[source]}']")).wait_for(timeout=15_000)
                    wait_idle(page)
                    page.keyboard.press(target)
                    page.wait_for_timeout(gap_ms)
                    page.keyboard.press("Enter")
                    page.get_by_text(f"Your relations in this sentence: {n}").wait_for(timeout=15_000)
                    wait_idle(page)
            except PlaywrightTimeout:  # a key lost or applied twice: the run is wrong, the store says how
                pass
        return sorted((r.source, r.target, r.sign) for r in store.relations())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=8)
    p.add_argument("--gap-ms", type=int, default=0, help="pause between the target digit and Enter (--burst: between keys)")
    p.add_argument("--burst", action="store_true", help="type all the keys at once, without watching the page")
    args = p.parse_args(argv)
    want = sorted((CHIPS[a], CHIPS[b], 1) for a, b in PAIRS)
    found = []
    with chromium() as browser:
        for _ in range(args.runs):
            found.append(one_run(browser, args.gap_ms, args.burst))
            print(f"run {len(found)}: {'right' if found[-1] == want else found[-1]}", file=sys.stderr, flush=True)
    print(json.dumps({"runs": args.runs, "gap_ms": args.gap_ms, "burst": args.burst, "right": sum(f == want for f in found),
                      "found": found}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
