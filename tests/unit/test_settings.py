"""Settings: one typed object (booking_core/config.py), read from the environment once, failing at cold start with
the name of what is missing; nothing else in the layer or the functions reads the environment; the template gives
every function what it requires."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from booking_core.config import REQUIRED, MissingSetting, Settings, from_environment, settings
from local.lambdas import load_handler
from local.provision import describe
from tests.conftest import ROOT

SOURCES = sorted([*(ROOT / "layers" / "booking_core" / "booking_core").rglob("*.py"),
                  *(ROOT / "functions").rglob("*.py")])
CONFIG = ROOT / "layers" / "booking_core" / "booking_core" / "config.py"


def _environment_reads(tree: ast.AST) -> list[int]:
    """Lines reading the process environment: os.environ / os.getenv, or either imported from os."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in {"environ", "environb", "getenv", "getenvb"} \
                and isinstance(node.value, ast.Name) and node.value.id == "os":
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "os" \
                and {alias.name for alias in node.names} & {"environ", "environb", "getenv", "getenvb"}:
            lines.append(node.lineno)
    return lines


def test_only_config_reads_the_environment():
    readers = {str(path.relative_to(ROOT)): lines for path in SOURCES if path != CONFIG
               if (lines := _environment_reads(ast.parse(path.read_text(), str(path))))}
    assert readers == {}, "read settings through booking_core.config.settings(), not the environment"
    assert _environment_reads(ast.parse(CONFIG.read_text()))  # the check sees a read where there is one


def test_the_check_finds_every_way_of_reading_the_environment():
    for source in ("import os\nos.environ['A']", "import os\nos.environ.get('A')", "import os\nos.getenv('A')",
                   "from os import environ", "from os import getenv as g"):
        assert _environment_reads(ast.parse(source)), source


def test_a_missing_required_setting_names_every_missing_variable():
    complete = {name: "x" for name in REQUIRED}
    assert from_environment(complete).table_name == "x"
    with pytest.raises(MissingSetting) as raised:
        from_environment({**complete, "TABLE_NAME": "", "EVENT_BUS_NAME": ""})
    assert raised.value.variables == ["TABLE_NAME", "EVENT_BUS_NAME"]
    assert "TABLE_NAME, EVENT_BUS_NAME" in str(raised.value)


def test_bad_numbers_are_refused_with_the_variable_named():
    complete = {name: "x" for name in REQUIRED}
    with pytest.raises(ValueError, match="WEBHOOK_BACKOFF_SECONDS"):
        from_environment({**complete, "WEBHOOK_BACKOFF_SECONDS": "soon"})
    with pytest.raises(ValueError, match="RATE_LIMIT_PER_IP_PER_MINUTE"):
        from_environment({**complete, "RATE_LIMIT_PER_IP_PER_MINUTE": "-1"})


def test_every_field_is_named_after_its_variable_so_require_can_name_it():
    complete = {name: "x" for name in REQUIRED}
    with pytest.raises(MissingSetting, match="PUBLISHER_DLQ_URL"):
        from_environment(complete).require("PUBLISHER_DLQ_URL")
    assert from_environment({**complete, "PUBLISHER_DLQ_URL": "https://queue"}).require("PUBLISHER_DLQ_URL")
    text_fields = [f.name for f in Settings.__dataclass_fields__.values() if f.type == "str" and f.name != "region"]
    read = from_environment({**complete, **{name.upper(): f"value of {name}" for name in text_fields}})
    assert {name: getattr(read, name) for name in text_fields} == {name: f"value of {name}" for name in text_fields}


def test_settings_are_read_once_and_follow_a_monkeypatched_environment(monkeypatch):
    first = settings()
    assert settings() is first  # read once, then cached
    monkeypatch.setenv("NOTIFICATIONS_FROM", "changed@example.com")
    assert settings().notifications_from == "changed@example.com"
    monkeypatch.undo()
    assert settings().notifications_from == first.notifications_from


def _required_by(app: Path) -> set[str]:
    """The variables an app.py passes to config.require() at import."""
    return {arg.value for node in ast.walk(ast.parse(app.read_text()))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "require"
            for arg in node.args if isinstance(arg, ast.Constant)}


def test_the_template_gives_every_function_what_it_requires():
    functions = describe().functions
    assert functions
    for logical, spec in functions.items():
        environment = set(spec.environment)
        needed = set(REQUIRED) | _required_by(spec.module_file)
        assert needed <= environment, f"{logical} lacks {sorted(needed - environment)} in template.yaml"
    scheduled = {spec.code_dir.name for spec in functions.values() if "SCHEDULER_ROLE_ARN" in _required_by(
        spec.module_file)}
    assert scheduled == {"notifications", "webhooks", "workflows"}  # the features that place one-time schedules


def test_a_function_missing_what_it_requires_fails_at_cold_start(monkeypatch):
    code_dir = ROOT / "functions" / "publisher"
    monkeypatch.delenv("PUBLISHER_DLQ_URL")
    with pytest.raises(MissingSetting, match="PUBLISHER_DLQ_URL"):
        load_handler(code_dir, code_dir / "app.py", "lambda_handler", "cold-start-check")
    monkeypatch.undo()
    assert load_handler(code_dir, code_dir / "app.py", "lambda_handler", "cold-start-check")


def test_secrets_stay_out_of_the_settings_repr(monkeypatch):
    """A Settings object that reaches a log line or a traceback does not carry the secrets it holds."""
    from booking_core.config import settings

    values = {"ADMIN_API_KEY": "admin-s3cret", "BOOKER_JWT_SECRET": "jwt-s3cret", "CREDENTIALS_LOCAL_KEY": "local-s3cret",
              "STRIPE_API_KEY": "sk_test_s3cret", "STRIPE_WEBHOOK_SECRET": "whsec_s3cret"}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    loaded = settings()
    assert loaded.admin_api_key == "admin-s3cret" and loaded.stripe_webhook_secret == "whsec_s3cret"
    shown = repr(loaded)
    assert "TABLE" in shown.upper() and not [value for value in values.values() if value in shown]
