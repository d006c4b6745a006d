"""On-disk embedding cache: a second run over the same document makes no forward pass.

One .npz per model input text (a sentence, or a marked sentence) holds the sentence vector and one
vector per concept span, for each of the last k layers ([1 + m, k, H] float32). Pairs are composed
from those on the fly, so a new pair of already-seen spans, or a different choice of parts, is
still a hit. The folder is keyed by backbone (name, config and weight files), adapter hash and the
number of layers; each file stores its own text, so a hash collision reads as a miss. Plain numpy
arrays, loaded with allow_pickle=False: a cache folder never runs code.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from core.paths import cache_root
from embedding.backbones import Backbone

FORMAT = 1


def default_cache_dir() -> Path:
    return cache_root() / "embeddings"


def backbone_fingerprint(backbone: Backbone) -> dict:
    """What identifies the weights: name, config, weight files (size, mtime) and adapter hash."""
    folder = Path(getattr(backbone.model, "name_or_path", "") or ".")
    files = sorted(folder.glob("*.safetensors")) if folder.is_dir() else []
    return {
        "name": backbone.name,
        "config": hashlib.sha256(backbone.model.config.to_json_string(use_diff=False).encode()).hexdigest(),
        "weights": [[f.name, f.stat().st_size, f.stat().st_mtime_ns] for f in files],
        "adapter": backbone.adapter_hash,
    }


class EmbeddingCache:
    """Per-text unit vectors for one (backbone, adapter, layers) setting, under root/<key>/."""

    def __init__(self, root: str | Path, backbone: Backbone, layers: int) -> None:
        settings = {"format": FORMAT, "layers": layers, **backbone_fingerprint(backbone)}
        key = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:20]
        self.folder = Path(root) / f"{Path(backbone.name).name}-{key}"
        self.folder.mkdir(parents=True, exist_ok=True)
        meta = self.folder / "settings.json"
        if not meta.is_file():
            meta.write_text(json.dumps(settings, indent=1, sort_keys=True))
        self.hits = 0
        self.misses = 0

    def _path(self, text: str) -> Path:
        digest = hashlib.sha256(text.encode()).hexdigest()
        return self.folder / digest[:2] / f"{digest}.npz"

    def get(self, text: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(spans [m, 2], units [1 + m, k, H]) or None; unreadable or foreign files count as misses."""
        path = self._path(text)
        try:
            with np.load(path, allow_pickle=False) as data:
                if data["text"].tobytes().decode() != text:
                    raise ValueError("hash collision")
                spans, units = data["spans"], data["units"]
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, UnicodeDecodeError):
            self.misses += 1
            return None
        self.hits += 1
        return spans, units

    def put(self, text: str, spans: np.ndarray, units: np.ndarray) -> None:
        """Write atomically (temp file + rename) so concurrent readers never see half a file."""
        path = self._path(text)
        path.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix=".npz", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(handle, text=np.frombuffer(text.encode(), dtype=np.uint8),
                         spans=np.asarray(spans, dtype=np.int64), units=np.asarray(units, dtype=np.float32))
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
