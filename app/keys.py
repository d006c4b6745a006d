"""The Label page's keys, taken in the browser as a numbered queue.

Why: with Streamlit's button shortcuts every key is its own message, and keys typed faster than
the page's runs reach the server merged, with their callbacks run in an order of Streamlit's own
("2, Enter" saved before the target was set). This listener numbers each key in typing order and
sends every key the page has not acknowledged yet; the page applies the new ones in order, once
each (workspace.labeling.unread_keys), and acknowledges the last. Each key carries the id of the
page session it belongs to: a session applies its own keys, those that reach it while its first
run is going included, and skips keys that belong to another session (a browser that reconnected).
The app's entry starts taking keys on every page (take_keys_early), and a listener that mounts
sends every key not applied yet, so keys typed on the Label page while it loads reach it; and
the page shows its sentence only once the listener has said it is mounted (key_queue's `ready`).
It draws nothing, and holds no data: the page passes it only the acknowledgement, a session id
and whether it has said so.

Keys typed into a text box, a select box or any other field are left to it, except Escape (the
same rule as Streamlit's own shortcuts), and so are keys a part of the page has already handled
(the relations table's arrow keys and typing, for one): the listener hears keys as they bubble up.
"""
from __future__ import annotations

import streamlit as st

_TAKE = """function fuzzymapTakeKeys() {
  const w = window;
  const q = w.fuzzymapKeyQueue || (w.fuzzymapKeyQueue = {
    tab: Date.now().toString(36) + Math.random().toString(36).slice(2), seq: 0, keys: [], el: null, send: null,
    session: null});
  if (!q.listening) {
    q.listening = true;
    const names = new Set([..."123456789saxendug", "Enter", "Escape", "ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight"]);
    const editing = (e) => e.composedPath().some((t) => t.tagName === "INPUT" || t.tagName === "TEXTAREA"
      || t.tagName === "SELECT" || t.isContentEditable);
    const onLabelPage = () => w.location.pathname.split("/").filter(Boolean).pop() === "label";
    document.addEventListener("keydown", (e) => {
      const live = q.el && q.el.isConnected;
      if ((!live && !onLabelPage()) || e.defaultPrevented || e.repeat || e.isComposing || e.ctrlKey || e.metaKey
          || e.altKey) return;
      let name = e.key.length === 1 ? e.key.toLowerCase() : e.key;
      if (!names.has(name)) return;
      if (e.shiftKey) {
        if (name !== "ArrowUp" && name !== "ArrowDown") return;
        name = "Shift+" + name;
      }
      if (name !== "Escape") {
        if (editing(e)) return;
        e.preventDefault();  // no scrolling, no second action from a focused button
      }
      q.seq += 1;
      q.keys.push([q.seq, name, q.session]);
      if (live) q.send("keys", {tab: q.tab, keys: q.keys.slice()});  // else the Label page is opening: sent at mount
    });
  }
  return q;
}
"""
_EARLY = f"<script>({_TAKE})();</script>"
_JS = _TAKE + """
export default function (component) {
  const q = fuzzymapTakeKeys();
  const root = component.parentElement;
  const el = root instanceof ShadowRoot ? root.host : root;
  const mounted = q.el !== el;
  q.el = el;
  q.send = component.setStateValue;
  const data = component.data || {};
  q.session = data.session;
  q.keys = q.keys.map(([n, name, session]) => [n, name, session || data.session]);
  if (data.tab === q.tab) q.keys = q.keys.filter(([n]) => n > data.ack);
  // a new listener sends the keys no page has applied: typed while the page opened, or sent to
  // the listener of a page that was being left
  if (mounted && q.keys.length) q.send("keys", {tab: q.tab, keys: q.keys.slice()});
  if (!data.ready) q.send("ready", true);  // a new page session, a reconnect's included, waits for this
  return () => { if (q.el === el) q.el = null; };
}
"""

_listener = st.components.v2.component("fuzzymap_label_keys", js=_JS)

_HINTS = {"lb_back": "←", "lb_next": "→", "lb_next_unlabeled": "G", "lb_save": "Enter", "lb_swap": "S",
          "lb_clear": "Esc", "lb_plus": "↑", "lb_minus": "↓", "lb_stronger": "Shift+↑", "lb_weaker": "Shift+↓",
          "lb_norel": "N", "lb_discard": "D", "lb_undo": "U"}
_SELECTORS = {**{f".st-key-{key}": hint for key, hint in _HINTS.items()},
              **{f'[class*="st-key-lb_chip_{i}_"]': str(i + 1) for i in range(9)},
              **{f'.st-key-lb_sug_top [class*="st-key-lb_{verb}_"]': hint
                 for verb, hint in (("acc", "A"), ("rej", "X"), ("edit_sug", "E"))}}
_HINT_RULES = "".join(
    f'{selector} button p::after {{content: "{hint}"; margin-left: 0.6em; font-size: 0.85em; opacity: 0.55}}'
    for selector, hint in _SELECTORS.items())


def take_keys_early() -> None:
    """Starts taking the Label page's keys (a fixed script, no data in it; the same every run).
    The app's entry runs it on every page, so the listener is in place before the Label page
    opens, and keys typed while it loads are held for it."""
    with st.sidebar:
        st.html(_EARLY, unsafe_allow_javascript=True, width="content")


def key_hints(listener: str) -> None:
    """Shows each key beside the button it stands for (a fixed stylesheet: the button keys the
    Label page gives its widgets, chips `lb_chip_{i}_...`, the top suggestion `lb_sug_top`), and
    takes the listener mounted under the key `listener` out of the layout, where its empty box
    would add a row's gap."""
    st.html(f"<style>{_HINT_RULES}.st-key-{listener} {{display: none}}</style>")


def key_queue(key: str, seen: tuple[str, int], session: str, ready: bool) -> tuple[object, bool]:
    """Mounts the key listener, which acknowledges the keys up to `seen` (tab, number) and stamps
    each key it takes with `session`, the page session's id. Returns the newest queue it has sent
    ({"tab": id, "keys": [[number, name, session], ...]}, or None while it has sent none) and
    whether it takes keys: `ready`, or its word that it has mounted.

    Why `ready`: in a tab whose first page is the Label page, the listener mounts a moment (some
    0.1-0.4 s) after the page's first elements are drawn, and no key typed before then reaches the
    page. A page that shows its sentence only once the listener is ready gets every key typed at it.
    """
    tab, last = seen
    state = _listener(key=key, data={"tab": tab, "ack": last, "session": session, "ready": ready}, height=0)
    return state.get("keys"), ready or bool(state.get("ready"))
