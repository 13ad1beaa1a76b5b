"""What the docs copy from the code, rewritten from it: `python -m tests.docs_sync` (also `make docs`).

- docs/architecture.md: the table layouts, from the repositories' docstrings (the only code that knows them).
- docs/schemas/*.json: the JSON Schema of each event family's `detail`, from the pydantic contracts.
- template.yaml: the same schemas, registered in the stack's EventBridge schema registry (JSONSchemaDraft4).

tests/unit/test_docs.py checks that all of it is current.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ARCHITECTURE = ROOT / "docs" / "architecture.md"
SCHEMAS = ROOT / "docs" / "schemas"
TEMPLATE = ROOT / "template.yaml"
LAYOUTS = {
    "tables.py": ROOT / "layers/booking_core/booking_core/repositories/tables.py",
    "webhooks.py": ROOT / "layers/booking_core/booking_core/repositories/webhooks.py",
}
# Event family -> (pydantic model of `detail`, template logical id of its registry schema).
FAMILIES = {
    "BookingEventDetail": "BookingEventSchema",
    "ScheduledDetail": "ScheduledMomentSchema",
    "OutOfOfficeDetail": "OutOfOfficeEventSchema",
}


def family_of(detail_type: str, source: str) -> str:
    """The event family (its `detail` model) of a bus event."""
    if source.endswith(".scheduler"):
        return "ScheduledDetail"
    return "OutOfOfficeDetail" if detail_type == "outOfOfficeCreated" else "BookingEventDetail"


def docstring(path: Path) -> str:
    return ast.get_docstring(ast.parse(path.read_text())) or ""


def architecture() -> str:
    text = ARCHITECTURE.read_text()
    for name, path in LAYOUTS.items():
        block = f"<!-- layout:{name} -->\n```\n{docstring(path).strip()}\n```\n<!-- /layout:{name} -->"
        text = re.sub(rf"<!-- layout:{re.escape(name)} -->.*?<!-- /layout:{re.escape(name)} -->", lambda _: block,
                      text, flags=re.S)
    return text


def _draft4(node: Any) -> Any:
    """pydantic writes JSON Schema 2020-12; EventBridge's registry takes draft 4: definitions, enum for const, and
    no closed objects (additive changes keep an event's version)."""
    if isinstance(node, list):
        return [_draft4(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$defs":
            out["definitions"] = _draft4(value)
        elif key == "$ref":
            out["$ref"] = value.replace("#/$defs/", "#/definitions/")
        elif key == "const":
            out["enum"] = [value]
        elif key == "additionalProperties" and value is False:
            continue  # events only ever gain fields within a version: consumers must tolerate new ones
        else:
            out[key] = _draft4(value)
    return out


def schemas() -> dict[str, dict[str, Any]]:
    import tests.conftest  # noqa: F401 - the environment booking_core expects
    from local.lambdas import add_to_path

    add_to_path(ROOT / "layers" / "booking_core")
    from booking_core.events import contracts, out_of_office

    out = {}
    for family in FAMILIES:
        model = getattr(contracts, family, None) or getattr(out_of_office, family)
        schema = _draft4(model.model_json_schema(by_alias=True))
        out[family] = {"$schema": "http://json-schema.org/draft-04/schema#", **schema}
    return out


def rendered(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def template() -> str:
    """template.yaml with each registry schema's Content set to its family's schema (one line, single-quoted)."""
    text = TEMPLATE.read_text()
    for family, logical in FAMILIES.items():
        content = json.dumps(schemas()[family], sort_keys=True, separators=(",", ":")).replace("'", "''")
        pattern = rf"(\n  {logical}:\n(?:    .*\n)*?      Content: )'.*'\n"
        text, found = re.subn(pattern, lambda m: f"{m.group(1)}'{content}'\n", text)
        if not found:
            raise SystemExit(f"template.yaml has no {logical} with a Content line")
    return text


def main() -> None:
    ARCHITECTURE.write_text(architecture())
    SCHEMAS.mkdir(exist_ok=True)
    for family, schema in schemas().items():
        (SCHEMAS / f"{family}.json").write_text(rendered(schema))
    TEMPLATE.write_text(template())
    print("docs/architecture.md, docs/schemas/*.json and template.yaml's event schemas are current")


if __name__ == "__main__":
    main()
