"""The repository documents itself: docs/ is current with the code, and nothing points outside the repository."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema

from tests import docs_sync

ROOT = Path(__file__).resolve().parents[2]


def test_the_table_layouts_in_the_architecture_doc_are_the_repositories_own():
    assert docs_sync.ARCHITECTURE.read_text() == docs_sync.architecture(), "run `make docs`"


def test_event_schemas_are_current_in_docs_and_in_the_template_registry():
    for family, schema in docs_sync.schemas().items():
        assert (docs_sync.SCHEMAS / f"{family}.json").read_text() == docs_sync.rendered(schema), "run `make docs`"
    assert docs_sync.TEMPLATE.read_text() == docs_sync.template(), "run `make docs`"


def test_every_sample_event_detail_satisfies_its_published_schema():
    schemas = docs_sync.schemas()
    checked = 0
    for path in (ROOT / "events").glob("*/*.json"):
        sample = json.loads(path.read_text())
        for record in sample.get("Records", []):
            body = record.get("body")
            if not body or "detail-type" not in body:
                continue
            envelope = json.loads(body)
            family = docs_sync.family_of(envelope["detail-type"], envelope["source"])
            jsonschema.Draft4Validator(schemas[family]).validate(envelope["detail"])
            checked += 1
    assert checked >= 20


def test_a_detail_that_breaks_the_contract_is_refused_by_the_schema():
    schema = docs_sync.schemas()["BookingEventDetail"]
    assert not jsonschema.Draft4Validator(schema).is_valid({"eventId": "x", "version": 2, "occurredAt": "now"})


def test_nothing_points_outside_the_repository():
    pattern = re.compile(r"CONTRACT\.md|ARCHITECTURE\.md|\.\./shared")
    offenders = []
    for folder in ("layers", "functions", "local", "tests", "docs"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in {".py", ".md", ".json", ".yaml"} and path != Path(__file__):
                if pattern.search(path.read_text(errors="ignore")):
                    offenders.append(str(path.relative_to(ROOT)))
    if pattern.search((ROOT / "README.md").read_text()):
        offenders.append("README.md")
    assert offenders == []


def test_links_between_docs_resolve():
    for doc in (ROOT / "docs").glob("*.md"):
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", doc.read_text()):
            if "://" not in target:
                assert (doc.parent / target).exists(), f"{doc.name} links to missing {target}"
