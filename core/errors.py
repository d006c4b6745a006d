"""The one error type for bad user input: it names the file and the reason in one line."""
from __future__ import annotations

import re
import sys
from collections.abc import Callable


class InputError(ValueError):
    """Raised for any file or value a user supplied that cannot be used; nothing was changed."""

    def __init__(self, name: str, reason: str):
        self.name = name
        self.reason = reason
        super().__init__(f"{name}: {reason}")


def check_encodable(name: str, text: str, where: str = "") -> None:
    """Raises InputError for text no database can store as UTF-8: a lone UTF-16 surrogate such as
    the one a JSON \\ud800 escape or an RTF \\u-10240 control word decodes to."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        at = f"{where}: " if where else ""
        raise InputError(name, f"{at}holds an invalid character {text[err.start]!r} at {err.start} "
                               "(a lone UTF-16 surrogate)") from None


_PATH = re.compile(r"(?<![\w.~])/(?:[^\s/:'\"`]+/)+([^\s/:'\"`]+)|\b[A-Za-z]:\\(?:[^\s\\]+\\)*([^\s\\]+)")


def without_paths(text: str) -> str:
    """text with every absolute file path cut to its last part: messages shown to users name
    files, never the server's folders."""
    return _PATH.sub(lambda m: m.group(1) or m.group(2), text)


def run_script(main: Callable[[], int]) -> None:
    """Exit with main()'s status; a bad input file or value (InputError, OSError) ends the script
    with one line on stderr, as `python -m models` says it, not a traceback."""
    try:
        status = main()
    except (InputError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        status = 2
    sys.exit(status)
