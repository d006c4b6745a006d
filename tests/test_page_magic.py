"""Streamlit's "magic" writes every bare expression at a page script's top level onto the page, so a
string meant as a constant's docstring shows up as text (it once pushed the Label page's widgets
down). Page scripts hold none besides their module docstring."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PAGES = sorted((Path(__file__).resolve().parent.parent / "app").glob("**/*.py"))
SCRIPTS = [p for p in PAGES if p.parent.name == "pages" or p.name == "main.py"]


def bare_expressions(source: str) -> list[int]:
    """Line numbers of top-level expression statements other than calls and the module docstring."""
    body = ast.parse(source).body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return [n.lineno for n in body if isinstance(n, ast.Expr) and not isinstance(n.value, (ast.Call, ast.Await))]


def test_the_check_finds_a_constant_docstring():
    assert bare_expressions('"""page"""\nX = 1\n"""about X"""\nf()\n') == [3]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_page_scripts_write_nothing_by_magic(script):
    assert bare_expressions(script.read_text()) == []
