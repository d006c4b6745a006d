"""A seeded corpus of hostile and broken files for every upload format (the fuzz test and
bench/fuzz.py): valid seed files written here, byte mutations, format-aware insertions (markup
runs, RTF control words, zip members, PDF objects) and JSON with wrong-typed or hostile values.

cases(fmt, n, seed) yields the same n (name, bytes) pairs on every run; run_case puts one through
read_document and Store.import_documents and checks the contract.
"""
from __future__ import annotations

import io
import json
import random
import zipfile
from collections.abc import Iterator
from functools import cache

from sqlalchemy import func, select

from core.errors import InputError
from data.ingest import read_document
from data.schema import ActionT, AnnotatorT, ConceptT, DocumentT, RelationT, SentenceStatusT, SentenceT, SuggestionT
from data.store import Store

TABLES = (DocumentT, SentenceT, SentenceStatusT, RelationT, SuggestionT, ConceptT, AnnotatorT, ActionT)
FORMATS = ("pdf", "txt", "md", "docx", "rtf", "json", "jsonl")
MAX_CASE_BYTES = 100_000

PROSE = [
    "Dredging for sand increased the turbidity of the bay.",
    "Seagrass meadows declined in response to the low light environment.",
    "Warmer water reduced kelp growth (Moss et al., 2017).",
    "Turbine noise lowered cod calls by approx. 30 % in Fig. 2.",
    "Caf\u00e9 owners on the na\u00efve coast saw more plaice \u2014 and fewer crabs.",
]
TOKENS: dict[str, list[bytes]] = {
    "txt": [b"\f", b"\r\n", b"-\n", b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"\xed\xa0\x80", b"...", b". A",
            b"References\n", "\u00ad".encode(), b"\x1b[31m", b"\t" * 50],
    "md": [b"*", b"**", b"_", b"[", b"](", b"![", b"<!--", b"-->", b"`", b"```\n", b"# ", b"---\n", b"| ", b"|--|\n",
           b"<b>", b"&amp;", b"\\", b"~~", b"[^1]", b"> ", b"- ", b"\n"],
    "rtf": [b"{", b"}", b"\\par ", b"\\u-10240?", b"\\u55296?", b"\\bin9999 ", b"\\'e9", b"\\*\\fldinst ", b"\\rtf1",
            b"{\\fonttbl{\\f0 Arial;}}", b"\\uc0 ", b"\\\\", b"\\'zz"],
    "json": [b"[", b"{", b"]", b"}", b'"\\ud800"', b"NaN", b"Infinity", b"1e999", b"-0", b"9" * 5000, b"null", b",",
             b'"\\u0000"', b"true"],
    "pdf": [b"obj", b"endobj", b"stream\n", b"endstream", b"/Count 999999999", b"/Length 0", b"xref", b"trailer",
            b"/Encrypt", b"(\\)", b"<<", b">>", b"%%EOF", b"/Type /Page"],
    "docx": [b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06", b"\x00" * 30],
}
TOKENS["jsonl"] = TOKENS["json"] + [b"\n", "\u2028".encode()]
XML_TOKENS = [b"<w:p/>", b"<w:p><w:r><w:t>", b"</w:t></w:r></w:p>", b"&#xD800;", b"<!DOCTYPE x [<!ENTITY a 'aaaa'>]>",
              b"&a;", b"<w:tbl>", b"\x00", b"<", b">"]
HOSTILE_JSON = ["null", "true", "-1", "0", "1e308", "1e999", "NaN", "-Infinity", "9" * 5000, "99999999999999999999",
                '"\\ud800"', '""', '" "', '"' + "x" * 30_000 + '"', "[]", "{}", '["a", 1]', '{"a": {"b": []}}',
                "[" * 40 + "]" * 40, "[" * 100_000 + "]" * 100_000, '"<script>alert(1)</script>"', "[-5, 3]",
                "[3, 1]", "[0, 99999]", '"VH"', '"huge"', "0.5", "2", '"2026-01-01T00:00:00Z"']


# ------------------------------------------------------------------------------- seed files

def _seed_txt() -> bytes:
    return ("Introduction\n" + "\n".join(PROSE[:3]) + "\n\n2. Methods\n\n" + " ".join(PROSE[3:]) +
            "\n\fReferences\nMoss, P. (2017). Light and seagrass. Aquat. Bot. 3, 1-9.\n").encode()


def _seed_md() -> bytes:
    return ("---\ntitle: \"Cables and crabs\"\nauthors:\n  - Ngata, Rua\nyear: 2022\n---\n\n# Cables and crabs\n\n"
            f"Heat from export cables **warms** the sediment. See the [portal](https://example.org/x) *raw*.\n\n"
            f"- {PROSE[0]}\n- {PROSE[1]} `code`\n\n| Site | Effect |\n|--|--|\n| A | crabs increased |\n\n"
            f"> {PROSE[2]}\n\n```\nNot a sentence.\n```\n\n{PROSE[4]}\n").encode()


def _seed_rtf() -> bytes:
    return (b"{\\rtf1\\ansi{\\fonttbl{\\f0 Arial;}}\\f0 Results\\par " + PROSE[0].encode() + b"\\par "
            + b"Caf\\'e9 owners noticed.\\par Turbine noise reduced cod calls.\\par }")


@cache
def _seed_docx() -> bytes:
    import docx

    document = docx.Document()
    document.core_properties.author = "Ngata, R."
    document.core_properties.title = "Reef notes"
    document.add_heading("Results", level=1)
    for text in PROSE:
        document.add_paragraph(text)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Site", "Effect"
    table.cell(1, 0).text, table.cell(1, 1).text = "A", "crabs increased"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@cache
def _seed_pdf() -> bytes:
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=(595, 842))
    c.setTitle("Seagrass and dredging")
    c.setAuthor("Moss, P.")
    for page in range(2):
        y = 780
        for text in PROSE:
            c.drawString(60, y, f"{text} ({page + 1})")
            y -= 18
        c.drawString(290, 40, str(page + 1))
        c.showPage()
    c.save()
    return out.getvalue()


def _seed_json() -> bytes:
    passages = [{"text": PROSE[0], "causal relations": [{"src": "Dredging", "tgt": "turbidity", "direction": "increase"}],
                 "meta_data": {"title": "Paper A", "authors": "Ngata, R.", "year": 2020}},
                {"text": PROSE[1], "causal relations": [], "meta_data": {"title": "Paper B", "year": "2021"},
                 "LLM": {"gpt": [{"src": "light", "tgt": "Seagrass", "direction": "decrease"}]}}]
    return json.dumps(passages, indent=1).encode()


def _seed_jsonl() -> bytes:
    sentence = {"text": PROSE[2], "page": 3, "start": 0, "end": len(PROSE[2]), "is_reference": False,
                "status": "labeled", "llm": None,
                "relations": [{"src": "Warmer water", "tgt": "kelp growth", "sign": -1, "src_span": [0, 12],
                               "tgt_span": [21, 32], "strength": "H", "annotator": "ann", "origin": "human",
                               "model_id": None, "score": None, "note": "checked", "created_at": None,
                               "updated_at": None, "extra": None}],
                "marks": [{"annotator": "bob", "status": "no-relation", "updated": "2026-01-01T00:00:00Z"}],
                "suggestions": [{"src": "Warmer water", "tgt": "kelp growth", "sign": -1, "model_id": "m1",
                                 "score": 0.75, "src_span": None, "tgt_span": None, "state": "accepted",
                                 "decided_by": "ann", "relation": 0, "created_at": None}]}
    record = {"fuzzymap": 1, "filename": "kelp.txt", "sha256": "ab" * 32, "sentences": [sentence, {"text": PROSE[3]}],
              "title": "Kelp", "authors": None, "year": 2019, "format": "txt", "warnings": []}
    return (json.dumps(record) + "\n").encode()


SEEDS = {"txt": _seed_txt, "md": _seed_md, "rtf": _seed_rtf, "docx": _seed_docx, "pdf": _seed_pdf,
         "json": _seed_json, "jsonl": _seed_jsonl}


# ------------------------------------------------------------------------------- mutations

def _flip(rng: random.Random, data: bytes, _fmt: str) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 20)):
        if out:
            out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def _insert_tokens(rng: random.Random, data: bytes, fmt: str) -> bytes:
    """Format tokens at random places; sometimes one token repeated thousands of times (the inputs
    that make backtracking parsers quadratic)."""
    out = data
    for _ in range(rng.randint(1, 8)):
        token = rng.choice(TOKENS[fmt])
        times = rng.choice([1, 1, 3, 50, 2000, 60_000]) if len(token) < 50 else 1
        at = rng.randrange(len(out) + 1)
        filler = rng.choice([b"", b"a ", b"A. "]) if times > 1 else b""
        out = out[:at] + (token + filler) * times + out[at:]
    return out[:MAX_CASE_BYTES]


def _cut(rng: random.Random, data: bytes, _fmt: str) -> bytes:
    a, b = sorted(rng.randrange(len(data) + 1) for _ in range(2))
    return data[:a] + data[b:] if rng.random() < 0.5 else data[:a]


def _repeat(rng: random.Random, data: bytes, _fmt: str) -> bytes:
    a = rng.randrange(len(data))
    piece = data[a:a + rng.randint(1, 200)]
    times = min(rng.choice([10, 1000, 100_000]), MAX_CASE_BYTES // max(1, len(piece)))
    return data[:a] + piece * times + data[a:]


def _noise(rng: random.Random, _data: bytes, fmt: str) -> bytes:
    n = rng.choice([0, 1, 2, 100, 20_000, 300_000])
    kind = rng.random()
    if kind < 0.3:
        return bytes(rng.randrange(1, 256) for _ in range(n))       # random, no NUL
    if kind < 0.5:
        return bytes(rng.randrange(0xA0, 0x100) for _ in range(n))  # decodes as latin-1 letters
    if kind < 0.7:
        return b" \n\t" * (n // 3)                                    # blank
    if kind < 0.85:
        return "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(n // 3)).encode("utf-8", "replace")
    return rng.randbytes(n)


def _json_values(rng: random.Random, data: bytes, fmt: str) -> bytes:
    """The seed's JSON with one to three values replaced by hostile ones (written as raw JSON text,
    so NaN, deep nesting and 5000-digit integers reach the parser); JSONL: in one line."""
    if fmt == "json":
        return _replace_values(rng, json.loads(data)).encode()
    lines = data.decode().split("\n")
    i = rng.randrange(len(lines))
    lines[i] = _replace_values(rng, json.loads(lines[i]))
    return "\n".join(lines).encode()


def _replace_values(rng: random.Random, value) -> str:
    holes: list[tuple[object, object]] = []

    def walk(item) -> None:
        if isinstance(item, dict):
            for k in list(item):
                holes.append((item, k))
                walk(item[k])
        elif isinstance(item, list):
            for i in range(len(item)):
                holes.append((item, i))
                walk(item[i])

    walk(value)
    marks = {}
    for n in range(rng.randint(1, 3)):
        if not holes:
            break
        parent, key = rng.choice(holes)
        marker = f"@@HOLE{n}@@"
        try:
            parent[key] = marker  # type: ignore[index]
        except (TypeError, IndexError):
            continue
        marks[json.dumps(marker)] = rng.choice(HOSTILE_JSON)
    text = json.dumps(value)
    for marker, raw in marks.items():
        text = text.replace(marker, raw)
    return text


def _zip_members(rng: random.Random, data: bytes, _fmt: str) -> bytes:
    """The DOCX re-zipped with its main XML mutated, members added or dropped, or a huge member."""
    src = zipfile.ZipFile(io.BytesIO(data))
    members = {i.filename: src.read(i) for i in src.infolist()}
    choice = rng.random()
    if choice < 0.4:
        xml = members["word/document.xml"]
        for _ in range(rng.randint(1, 5)):
            token = rng.choice(XML_TOKENS)
            at = rng.randrange(len(xml))
            xml = xml[:at] + token * rng.choice([1, 1, 100, 10_000]) + xml[at:]
        members["word/document.xml"] = xml
    elif choice < 0.55:
        members.pop(rng.choice(list(members)))
    elif choice < 0.7:
        for i in range(12_000 if rng.random() < 0.1 else 10):
            members[f"word/media/x{i}.bin"] = b"x"
    elif choice < 0.85:
        members["word/document.xml"] = members["word/document.xml"].replace(
            b"</w:body>", b"<w:p/>" * rng.choice([1000, 250_000]) + b"</w:body>")
    else:
        members["word/media/huge.bin"] = b"\x00" * (210_000_000 if rng.random() < 0.1 else 1_000_000)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in members.items():
            z.writestr(name, content)
    return out.getvalue()


MUTATORS = [_flip, _insert_tokens, _cut, _repeat, _noise]
EXTRA = {"json": [_json_values] * 3, "jsonl": [_json_values] * 3, "docx": [_zip_members] * 3}


def cases(fmt: str, n: int, seed: int = 0) -> Iterator[tuple[str, bytes]]:
    """n (file name, content) cases for a format: the first is the valid seed file, the rest are
    one to three mutations of it (or of the previous case, so damage accumulates)."""
    rng = random.Random(f"{fmt}:{seed}")
    base = SEEDS[fmt]()
    yield f"seed.{fmt}", base
    previous = base
    mutators = MUTATORS + EXTRA.get(fmt, [])
    for i in range(1, n):
        data = previous if rng.random() < 0.3 and previous else base
        for _ in range(rng.randint(1, 3)):
            mutate = rng.choice(mutators)
            try:
                data = mutate(rng, data, fmt) if data else _noise(rng, data, fmt)
            except Exception:  # a structured mutator needs an intact file (zip, JSON) to work on
                data = _flip(rng, data or base, fmt)
        data = data[:MAX_CASE_BYTES]
        previous = data
        yield f"case{i:04d}.{fmt}", data


# ------------------------------------------------------------------------------- the contract

def fingerprint(store: Store) -> tuple:
    """Row count and highest id of every table: any write changes one of them."""
    with store.reading() as s:
        return tuple((s.scalar(select(func.count()).select_from(t)), s.scalar(select(func.max(t.id))))
                     for t in TABLES)


def run_case(store: Store, name: str, content: bytes) -> str:
    """'error' or 'imported'; raises AssertionError for anything the contract forbids. A document
    whose sha256 was stored before maps to the stored one ("already imported"; a JSONL record
    carries its own sha256), so only new documents are compared with what was parsed."""
    before = fingerprint(store)
    with store.reading() as s:
        known = set(s.scalars(select(DocumentT.sha256)))
    try:
        docs = read_document(name, content)
        ids = store.import_documents(docs, annotator="fuzz")
    except InputError as err:
        message = str(err)
        assert "\n" not in message and message.startswith(f"{name}: "), message
        assert fingerprint(store) == before, f"{name}: database changed by a refused file"
        return "error"
    with store.reading() as s:
        for doc, doc_id in zip(docs, ids):
            if doc.sha256 in known:
                continue
            stored = s.scalars(select(SentenceT.text).where(SentenceT.document_id == doc_id)
                               .order_by(SentenceT.position)).all()
            sha = s.scalar(select(DocumentT.sha256).where(DocumentT.id == doc_id))
            assert sha == doc.sha256 and stored == [x.text for x in doc.sentences], f"{name}: stored differently"
    return "imported"
