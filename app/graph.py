"""Drawing a map with streamlit-agraph, shared by the Map and Extract pages."""
from __future__ import annotations

from streamlit_agraph import Config, Edge, Node, agraph

from fcm.build import FuzzyMap
from fcm.view import agraph_elements

PHYSICS_LIMIT = 150
"""Above this many concepts the force layout runs too long in a browser: draw it static."""


def show_map(fmap: FuzzyMap, height: int = 620) -> str | None:
    """Draw the map as wide as the page column; returns the id (concept name) of the last node
    the reviewer clicked. A fixed pixel width overflowed the column on a 1366 px screen."""
    nodes, edges = agraph_elements(fmap)
    config = Config(height=height, directed=True, physics=len(nodes) <= PHYSICS_LIMIT, hierarchical=False)
    config.width = "100%"  # Config only takes pixels; vis-network reads the CSS width as given
    config.layout["randomSeed"] = 0  # the same map is laid out the same way after every rerun
    return agraph([Node(**n) for n in nodes], [Edge(**e) for e in edges], config)
