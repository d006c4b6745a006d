"""Where the database, the model bundles, the app's own files and the caches live.

One rule for each: its environment variable wins; otherwise a path under the repository root,
so `python -m ...` and the app find the same files from any working directory.
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The repository root."""
DEFAULT_DB = "var/fuzzymap.db"
"""The SQLite database under ROOT unless FUZZYMAP_DB names another (path or SQLAlchemy URL)."""
MODELS = ROOT / "models"
"""Shipped bundles."""
DEFAULT_BUNDLE = str(MODELS / "default")
"""The bundle the app suggests with unless FUZZYMAP_MODEL or the Model page names another."""


def setting_path(env: str, default: str | Path) -> Path:
    """$env when set, else `default` under ROOT (an absolute default stays as it is)."""
    return Path(os.environ.get(env) or ROOT / default)


def var_root() -> Path:
    """Where the app writes trained models and jobs: $FUZZYMAP_VAR, else var/ under ROOT."""
    return setting_path("FUZZYMAP_VAR", "var")


def cache_root() -> Path:
    """Converted backbones and embeddings: $FUZZYMAP_CACHE, else ~/.cache/fuzzymap (shared by
    checkouts: the cache is keyed by what was computed)."""
    return setting_path("FUZZYMAP_CACHE", Path.home() / ".cache" / "fuzzymap")
