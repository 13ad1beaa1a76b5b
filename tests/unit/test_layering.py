"""The layering the README promises: repositories are the only code that knows table layouts.

Keys reach the rest of the code as opaque strings (repositories/keys.py builds and reads them); no module of the
layer outside `repositories/`, and no function, builds a `#`-joined key or takes one apart.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "booking_core" / "booking_core"
SOURCES = [LAYER, ROOT / "functions"]

# `DUP#{...}`, `{...}#{...}`, `{...}#day`: a formatted value joined to something else by '#'
_JOINED = re.compile(r"\w#\{\}|\{\}#")
# a bare key prefix or key: `BOOKING#`, `day#2026-01-01`, `eventType#`
_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9_]*#.*", re.DOTALL)
_SPLITTERS = {"split", "rsplit", "partition", "rpartition"}


def key_handling(source: str) -> list[tuple[int, str]]:
    """(line, code) of every place `source` builds or parses a '#'-joined key."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.JoinedStr):
            template = "".join(part.value if isinstance(part, ast.Constant) else "{}" for part in node.values)
            if _JOINED.search(template):
                found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _PREFIX.fullmatch(node.value):
            found.append((node.lineno, repr(node.value)))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _SPLITTERS
              and node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value == "#"):
            found.append((node.lineno, ast.unparse(node)))
    return found


def _modules() -> list[Path]:
    return [path for root in SOURCES for path in sorted(root.rglob("*.py"))
            if "repositories" not in path.relative_to(root).parts]


def test_no_code_outside_the_repositories_builds_or_parses_a_key():
    offenders = {
        f"{path.relative_to(ROOT)}:{line}": code
        for path in _modules()
        for line, code in key_handling(path.read_text())
    }
    assert offenders == {}


def test_the_check_recognises_the_ways_keys_were_built_and_parsed():
    """What the pipeline and the domain used to do before the keys moved to repositories/keys.py is caught; HTML
    colours and JSON pointers are not keys."""
    caught = [
        'f"DUP#{event_type_id}#{start_min}#{email.lower()}"',
        'f"{event_type_id}#{normalize_email(email)}"',
        'enriched.booker_key.split("#", 1)[1]',
        'key.split("#")[1]',
        'f"week#{iso.year}-W{iso.week:02d}"',
        'f"{self.kind}#{self.subject}#{self.starts_at}"',
        '"LIMIT#"',
    ]
    for code in caught:
        assert key_handling(code), code
    for code in ['f"<p style=\'color:#555\'>{text}</p>"', '"#/components/schemas/ErrorResponse"',
                 'f"{host_name} (id {host_id})"']:
        assert not key_handling(code), code


def test_keys_round_trip_through_the_one_module_that_knows_them():
    from datetime import date

    from booking_core.repositories import keys

    assert keys.limit_period(keys.limit_key(7, "week", date(2026, 1, 1))) == "week"
    assert keys.limit_key(7, "week", date(2026, 1, 1)) == keys.limit_key(7, "week", date(2025, 12, 29))  # ISO week 1
    assert keys.booker_key(3, "Ann+promo@Example.org") == keys.booker_key(3, "ann@example.org")
    assert keys.duplicate_key(3, 100, "Ann+x@example.org") != keys.duplicate_key(3, 100, "ann@example.org")
