"""Shared test set-up: run offline, from the repo root, with seeded randomness."""
import os
import random
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(autouse=True)
def _seed():
    random.seed(0)
    try:
        import numpy as np

        np.random.seed(0)
    except ImportError:
        pass


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """A small real relation-model bundle, trained once per test run for every test that needs one."""
    from app_server import tiny_bundle

    return tiny_bundle(tmp_path_factory.mktemp("tiny_model"))
