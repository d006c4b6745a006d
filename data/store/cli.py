"""`python -m data.store`: look into, fill or export the database from a shell."""
from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url

from core.errors import InputError, without_paths
from data.schema import SchemaVersion
from data.store.store import Store


def main(argv: list[str] | None = None) -> int:
    """`python -m data.store`: look into, fill or export the database from a shell."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m data.store", description="The fuzzymap annotation store.")
    parser.add_argument("--db", help="SQLAlchemy URL or SQLite path (default: $FUZZYMAP_DB or var/fuzzymap.db)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("info", help="schema version and documents with their label counts")
    load = commands.add_parser("import", help="import files (PDF, TXT, MD, DOCX, RTF, TwoSix JSON, JSONL) at once")
    load.add_argument("files", nargs="+")
    load.add_argument("--annotator", help="who made the labels (relations, 'no relation' marks) the files carry "
                      "(default: imported:<file name>)")
    dump = commands.add_parser("export", help="write documents with their relations")
    dump.add_argument("--format", choices=("twosix", "jsonl", "csv"), default="jsonl")
    dump.add_argument("--documents", help="comma-separated document ids (default: all)")
    dump.add_argument("--annotator", action="append", dest="annotators", metavar="NAME",
                      help="only this annotator's relations and marks, e.g. gold (repeatable; default: everyone's)")
    dump.add_argument("--out", help="file to write (default: standard output)")
    args = parser.parse_args(argv)
    try:
        store = Store(args.db)
        if args.command == "info":
            with store._engine.connect() as conn:
                version = conn.execute(select(SchemaVersion.version)).scalar()
            print(f"{make_url(store.url).render_as_string(hide_password=True)}  schema version {version}")
            for d in store.list_documents():
                print(f"{d.id:>5}  {d.filename}  {d.title or ''}  sentences {d.n_sentences}, labeled {d.n_labeled}, "
                      f"no-relation {d.n_no_relation}, discarded {d.n_discarded}")
        elif args.command == "import":
            from data.ingest import read_path
            from data.owners import carries_labels, default_owner

            read = [(f, read_path(f)) for f in args.files]
            docs = [doc for _, found in read for doc in found]
            owners = [(args.annotator or default_owner(Path(f).name)) if carries_labels([doc]) else None
                      for f, found in read for doc in found]
            before = {d.id for d in store.list_documents()}
            ids = store.import_documents(docs, owners=owners)
            new = sorted(set(ids) - before)
            old = sorted(set(ids) & before)
            if new:
                print(f"imported {len(new)} document(s): ids {', '.join(map(str, new))}")
            if old:
                print(f"{'' if new else 'nothing imported: '}already stored, nothing added: "
                      f"document(s) {', '.join(map(str, old))}")
        else:
            from data.formats import write_jsonl, write_relations_csv, write_twosix

            try:
                ids = [int(x) for x in args.documents.split(",")] if args.documents else None
            except ValueError:
                raise InputError("--documents", f"{args.documents!r} is not a comma-separated list of ids") from None
            writer = {"twosix": write_twosix, "jsonl": write_jsonl, "csv": write_relations_csv}[args.format]
            text = writer(store.export_documents(ids, args.annotators))
            if args.out:
                Path(args.out).write_text(text, encoding="utf-8")
            else:
                sys.stdout.write(text)
        store.close()
    except (InputError, KeyError, OSError) as e:
        print(f"error: {without_paths(str(e))}", file=sys.stderr)
        return 2
    except Exception as e:  # a bug: one line here, the traceback only when asked for
        if os.environ.get("FUZZYMAP_DEBUG"):
            raise
        print(f"error: unexpected {type(e).__name__}: {without_paths(str(e).splitlines()[0] if str(e) else '')} "
              "(nothing was changed; FUZZYMAP_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 1
    return 0
