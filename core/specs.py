"""`FORMAT:PATH` dataset specs, as the CLIs take them and bundles record them."""
from __future__ import annotations


def spec_format(spec: str) -> str:
    """'twosix:data/osw.json' -> 'twosix' (the whole spec when it has no colon)."""
    return spec.partition(":")[0]


def spec_path(spec: str) -> str:
    """'twosix:data/osw.json' -> 'data/osw.json' ('' when there is no colon); for `store` the
    database URL with its filters."""
    return spec.partition(":")[2]
