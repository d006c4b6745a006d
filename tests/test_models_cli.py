"""`python -m models train | evaluate | extract` as other tools call it: real subprocesses on
invented fixtures (frozen MiniLM, no LoRA, to keep it quick)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.models_fixtures import cnc_file, semeval_file, twosix_file

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "models", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    if ok:
        assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def make_pdf(path: Path, lines: list[str]) -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4)
    y = 780
    for line in lines:
        pdf.drawString(72, y, line)
        y -= 16
    pdf.save()
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    return {"semeval2010": semeval_file(d / "sem.txt"), "twosix": twosix_file(d / "ts.json"),
            "cnc": cnc_file(d / "cnc.csv"), "dir": d}


@pytest.fixture(scope="module")
def bundle(files):
    out = files["dir"] / "model"
    proc = run("train", "--data", f"semeval2010:{files['semeval2010']}", "--data", f"twosix:{files['twosix']}",
               "--data", f"cnc:{files['cnc']}", "--no-lora", "--out", str(out))
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["model_id"].startswith("fuzzymap-rel-")
    return out


def test_evaluate_json_last_line(bundle, files):
    proc = run("evaluate", "--model", str(bundle), "--data", f"twosix:{files['twosix']}", "--json")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["split"] == "validation"  # a training file is only scored on its held-out part
    for key in ("n", "causal_precision", "causal_recall", "causal_f1", "detection_f1", "sign_accuracy",
                "e2e_precision", "e2e_recall", "e2e_f1", "sentence_f1"):
        assert 0 <= result[key] <= max(1, result["n"]), key


def test_evaluate_with_tfidf_baseline_on_new_data(bundle, files):
    other = cnc_file(files["dir"] / "cnc_other.csv", n=20, seed=7)
    proc = run("evaluate", "--model", str(bundle), "--data", f"cnc:{other}", "--json", "--baseline", "tfidf")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["split"] == "all" and result["n_sentences"] == 20
    assert "sentence_f1" in result and "sentence_f1" in result["baseline"]
    assert result["baseline"]["model"] == "tfidf+logreg"


def test_extract_pdf_and_twosix(bundle, files):
    pdf = make_pdf(files["dir"] / "paper.pdf", [
        "Heavy rain caused river floods in the valley.",
        "The committee met on Tuesday to discuss the annual budget.",
        "Scientists found that air pollution leads to lung disease over time."])
    out = files["dir"] / "found.json"
    run("extract", "--model", str(bundle), str(pdf), str(files["twosix"]), "--out", str(out))
    passages = json.loads(out.read_text())
    n_twosix = len(json.loads(Path(files["twosix"]).read_text()))
    from_pdf = passages[:len(passages) - n_twosix]
    assert from_pdf, "the causal sentences of the PDF yield relations"
    for p in passages:
        for rel in p["causal relations"]:
            assert rel["src"].lower() in p["text"].lower() and rel["tgt"].lower() in p["text"].lower()
            assert rel["direction"] in ("increase", "decrease") and 0 <= rel["score"] <= 1
    assert any("rain" in r["src"] and "flood" in r["tgt"] for p in from_pdf for r in p["causal relations"])
    # a TwoSix input gives one passage per input passage, same text, same order
    original = [p["text"] for p in json.loads(Path(files["twosix"]).read_text())]
    assert [p["text"] for p in passages[len(passages) - n_twosix:]] == original


def test_bad_input_is_one_line_and_exit_2(bundle, files):
    proc = run("extract", "--model", str(bundle), str(files["dir"] / "missing.pdf"), "--out",
               str(files["dir"] / "x.json"), ok=False)
    assert proc.returncode == 2 and "missing.pdf" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    proc = run("evaluate", "--model", str(files["dir"]), "--data", f"cnc:{files['cnc']}", ok=False)
    assert proc.returncode == 2 and "not a fuzzymap model bundle" in proc.stderr
    proc = run("train", "--data", f"nosuchformat:{files['cnc']}", "--out", str(files["dir"] / "m2"), ok=False)
    assert proc.returncode == 2 and "FORMAT:PATH" in proc.stderr
    proc = run("train", "--data", f"cnc:{files['cnc']}", "--lora", "--lora-seeds", "0,x", "--out",
               str(files["dir"] / "m3"), ok=False)
    assert proc.returncode == 2 and "comma-separated list of integer seeds" in proc.stderr
    assert not (files["dir"] / "m3").exists()
    proc = run("train", "--data", f"cnc:{files['cnc']}", "--lora-seeds", "0,1", "--out", str(files["dir"] / "m4"),
               ok=False)
    assert proc.returncode == 2 and "needs --lora" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (files["dir"] / "m4").exists()
