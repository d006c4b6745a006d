"""Drawing a map with streamlit-agraph, shared by the Map and Extract pages."""
from __future__ import annotations

import streamlit as st
from streamlit_agraph import Config, Edge, Node, agraph

from fcm.build import FuzzyMap
from fcm.layout import place
from fcm.view import agraph_elements


def show_map(fmap: FuzzyMap, height: int = 620, keep_key: str | None = None) -> str | None:
    """Draw the map as wide as the page column at fixed positions (fcm.layout, physics off);
    returns the id (concept name) of the last node the reviewer clicked. With `keep_key`, the
    positions are kept in the session under that key, so concepts keep their place across reruns
    and merges. A fixed pixel width overflowed the column on a 1366 px screen."""
    known = st.session_state.get(keep_key, {}) if keep_key else {}
    positions = place(fmap.concepts, fmap.edges, known)
    if keep_key:
        st.session_state[keep_key] = {**known, **positions}
    nodes, edges = agraph_elements(fmap, positions)
    config = Config(height=height, directed=True, physics=False, hierarchical=False)
    config.width = "100%"  # Config only takes pixels; vis-network reads the CSS width as given
    return agraph([Node(**n) for n in nodes], [Edge(**e) for e in edges], config)
