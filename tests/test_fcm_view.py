"""The functions the map page calls: sub-maps, agraph style data, evidence, scenario deltas."""
import pytest

from core.types import Evidence
from fcm.build import build_map
from fcm.view import (
    SIGN_COLOURS, TYPE_COLOURS, agraph_elements, evidence_for_concept, run_scenario, top_by_centrality,
)


def ev(rid, src, tgt, sign=1, strength="H", doc=1):
    return Evidence(rid, src, tgt, sign, strength, rid, f"Invented sentence {rid}.", doc, "Doc", None,
                    "ana", "human")


@pytest.fixture(scope="module")
def fmap():
    return build_map([
        ev(1, "hub", "x", 1, "VH"), ev(2, "hub", "y", -1, "VH"), ev(3, "y", "hub", 1, "H"),
        ev(4, "x", "y", 1, "VL"), ev(5, "x", "y", -1, "VL"), ev(6, "p", "q", 1, "VL"),
    ])


def test_top_by_centrality_keeps_edges_among_chosen(fmap):
    sub = top_by_centrality(fmap, 3)
    assert set(sub.concepts) == {"hub", "x", "y"}
    assert set(sub.edges) == {("hub", "x"), ("hub", "y"), ("y", "hub"), ("x", "y")}
    assert sub.W[sub.index("hub"), sub.index("y")] == -1.0
    assert top_by_centrality(fmap, 0).concepts == []


def test_agraph_style(fmap):
    nodes, edges = agraph_elements(fmap)
    by_id = {n["id"]: n for n in nodes}
    assert by_id["p"]["color"] == TYPE_COLOURS["driver"] and by_id["q"]["color"] == TYPE_COLOURS["receiver"]
    assert by_id["hub"]["size"] > by_id["x"]["size"] > by_id["p"]["size"]
    e = {(d["source"], d["target"]): d for d in edges}
    assert e["hub", "y"]["color"] == SIGN_COLOURS[-1] and e["hub", "x"]["color"] == SIGN_COLOURS[1]
    assert e["hub", "x"]["width"] > e["y", "hub"]["width"] > e["p", "q"]["width"]
    assert e["x", "y"]["dashes"] and "disagree" in e["x", "y"]["title"]


def test_evidence_for_concept(fmap):
    pairs = evidence_for_concept(fmap, "x")
    assert [ev.relation_id for _, ev in pairs] == [1, 4, 5]
    assert evidence_for_concept(fmap, "nobody") == []


def test_run_scenario_deltas(fmap):
    res = run_scenario(fmap, {"hub": 1.0})
    assert set(res.delta) == {"x", "y", "p", "q"}
    assert res.delta["p"] == 0.0 and res.delta["q"] == 0.0
    assert res.delta["x"] > 0 and res.delta["y"] < 0


HOSTILE = [
    '<img src=x onerror="parent.document.title=\'pwned\'">',
    "<script>document.title='pwned'</script>",
    "<!--<img src=x onerror=alert(1)>-->",
    "</div><svg onload=alert(1)>",
    "javascript:alert(document.domain)//",
    "a < b & c > d",
]


@pytest.fixture(scope="module")
def hostile_map():
    return build_map([ev(i + 1, name, "risk", 1, "H") for i, name in enumerate(HOSTILE)])


def test_node_titles_parse_as_text_only(hostile_map):
    """streamlit-agraph sets node titles with innerHTML: no title may open a tag or a comment."""
    from html.parser import HTMLParser

    class Markup(HTMLParser):
        found: list = []

        def handle_starttag(self, tag, attrs):
            self.found.append(tag)

        def handle_endtag(self, tag):
            self.found.append("/" + tag)

        def handle_comment(self, data):
            self.found.append("comment")

        def handle_decl(self, decl):
            self.found.append("decl")

    nodes, _ = agraph_elements(hostile_map)
    titles = {n["id"]: n["title"] for n in nodes}
    for name in HOSTILE:
        parser = Markup()
        parser.found = []
        parser.feed(titles[name])
        parser.close()
        assert parser.found == [], (name, parser.found)
        assert titles[name].startswith("Concept: ")
        assert titles[name].replace("\u2060", "").startswith(f"Concept: {name}\n")


@pytest.mark.browser
def test_node_titles_run_nothing_in_chromium(hostile_map):
    """The frontend's own step (a detached div's innerHTML = title) in a real Chromium: no element
    is created, no handler runs, and the text reads as the concept name."""
    from tests.app_server import browser_page, chromium, require_chromium

    require_chromium()
    nodes, _ = agraph_elements(hostile_map)
    with chromium() as browser, browser_page(browser) as page:
        page.set_content("<html><head><title>safe</title></head><body></body></html>")
        seen = page.evaluate("""titles => titles.map(t => {
            const div = document.createElement('div');
            div.innerHTML = t;
            return [div.children.length, div.textContent];
        })""", [n["title"] for n in nodes])
        page.wait_for_timeout(300)  # an <img onerror> would have fired by now
        assert page.title() == "safe"
        for (children, text), node in zip(seen, nodes):
            assert children == 0, node["id"]
            assert text.replace("\u2060", "").startswith(f"Concept: {node['id']}\n")
