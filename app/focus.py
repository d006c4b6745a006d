"""Keeps the Label page's key shortcuts working after a click on a sidebar control.

Why: a clicked sidebar control (the Order buttons, a select box's option) keeps the keyboard
focus, and then takes the arrow keys for itself, so → / ← stopped moving between sentences until
the page was clicked. A small fixed script (no data in it) gives the focus back to the page
after such a click (buttons, radio buttons, check boxes, options); text boxes keep theirs, so typing a
name is not interrupted.
"""
from __future__ import annotations

import streamlit as st

_SCRIPT = """<script>
(() => {
  if (window.fuzzymapFocusGuard) return;
  window.fuzzymapFocusGuard = true;
  const sidebar = () => document.querySelector('[data-testid="stSidebar"]');
  const release = () => setTimeout(() => {
    const el = document.activeElement, bar = sidebar();
    const typing = el && (el.tagName === 'TEXTAREA' || (el.tagName === 'INPUT'
      && !['radio', 'checkbox', 'button', 'submit', 'range'].includes(el.type) && el.getAttribute('role') !== 'combobox'));
    if (el && bar && bar.contains(el) && !typing) el.blur();
  }, 50);
  document.addEventListener('click', (e) => {
    const bar = sidebar();
    if ((bar && bar.contains(e.target) && e.target.closest('button, label, input[type="radio"], input[type="checkbox"]'))
        || e.target.closest('[role="option"]')) release();
  }, true);
})();
</script>"""


def keep_keys_on_page() -> None:
    """Install the focus guard (once per browser tab; the script is the same every run)."""
    st.html(_SCRIPT, unsafe_allow_javascript=True, width="content")
