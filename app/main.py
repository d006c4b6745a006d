"""fuzzymap app entry: `streamlit run app/main.py` (make run). Lists the pages that exist."""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))  # packages run from the repo root: data, models, fcm

import streamlit as st  # noqa: E402

from app.auth import require_user  # noqa: E402
from app.keys import take_keys_early  # noqa: E402
from app.state import annotator_picker  # noqa: E402

PAGES = [  # file, title, icon; pages still being written are skipped until their file exists
    ("home.py", "Home", ":material/home:"),
    ("label.py", "Label", ":material/edit_note:"),
    ("map.py", "Map", ":material/hub:"),
    ("extract.py", "Extract", ":material/auto_awesome:"),
    ("agreement.py", "Agreement", ":material/groups:"),
    ("compare.py", "Compare", ":material/compare_arrows:"),
    ("assign.py", "Assign", ":material/assignment_ind:"),
    ("export.py", "Export", ":material/download:"),
    ("model.py", "Model", ":material/model_training:"),
]
ADMIN_PAGES = [("users.py", "Users", ":material/manage_accounts:")]

st.set_page_config(page_title="fuzzymap", page_icon=":material/hub:", layout="wide")
# Stops at the sign-in form until someone has signed in (unless FUZZYMAP_AUTH=off); a link to any
# page asks for the sign-in there and then opens that page.
user = require_user([name.removesuffix(".py") for name, _, _ in PAGES + ADMIN_PAGES])
shown = PAGES + (ADMIN_PAGES if user is not None and user.administers else [])
page = st.navigation([st.Page(f"pages/{name}", title=title, icon=icon, default=name == "home.py")
                      for name, title, icon in shown if (HERE / "pages" / name).exists()])
if user is None:
    annotator_picker()
take_keys_early()
page.run()
