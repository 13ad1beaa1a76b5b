"""What a deployment must name, and what it must never ship: checked on template.yaml and samconfig.toml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from local.cfn import load_template, resources
from local.provision import describe

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")


def test_the_payment_provider_has_no_default_and_every_environment_names_it():
    assert "Default" not in TEMPLATE["Parameters"]["PaymentProvider"]
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    for environment, commands in config.items():
        if environment == "version":
            continue
        overrides = commands.get("deploy", {}).get("parameters", {}).get("parameter_overrides", "")
        assert re.search(r'PaymentProvider="(test|stripe)"', overrides), environment


def test_no_secret_ships_with_a_literal_value():
    for logical, spec in resources(TEMPLATE, "AWS::SecretsManager::Secret").items():
        assert "SecretString" not in spec["Properties"], f"{logical} ships a placeholder value"


def test_stripe_secrets_exist_only_for_stripe():
    for logical in ("StripeApiKeySecret", "StripeWebhookSecret"):
        assert TEMPLATE["Resources"][logical]["Condition"] == "UsesStripe"
    assert TEMPLATE["Conditions"]["UsesStripe"] == {"Fn::Equals": [{"Ref": "PaymentProvider"}, "stripe"]}


def test_abuse_limits_are_template_parameters_with_deployed_defaults():
    parameters = TEMPLATE["Parameters"]
    assert parameters["RateLimitPerIpPerMinute"]["Default"] == 30
    assert parameters["RateLimitPerEmailPerHour"]["Default"] == 20
    variables = TEMPLATE["Resources"]["BookingApiFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["RATE_LIMIT_PER_IP_PER_MINUTE"] == {"Ref": "RateLimitPerIpPerMinute"}
    assert variables["RATE_LIMIT_PER_EMAIL_PER_HOUR"] == {"Ref": "RateLimitPerEmailPerHour"}


def test_the_local_stack_turns_the_limits_off_and_names_the_test_provider():
    from local.stack import DEFAULTS

    environment = describe().environment()
    for name in ("PAYMENT_PROVIDER", "RATE_LIMIT_PER_IP_PER_MINUTE", "RATE_LIMIT_PER_EMAIL_PER_HOUR"):
        assert name not in environment  # the template's deployed values never reach the local stack
    assert DEFAULTS["PAYMENT_PROVIDER"] == "test"
    assert DEFAULTS["RATE_LIMIT_PER_IP_PER_MINUTE"] == DEFAULTS["RATE_LIMIT_PER_EMAIL_PER_HOUR"] == "0"
