"""Read template.yaml (CloudFormation short-form tags included) and resolve the intrinsic functions it uses."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


class _Loader(yaml.SafeLoader):
    pass


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_Loader.add_multi_constructor("!", _tag)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    with path.open() as handle:
        return yaml.load(handle, Loader=_Loader)  # noqa: S506 - SafeLoader subclass


@dataclass
class Resolver:
    """Resolves Ref / GetAtt / Sub / If / Equals / Not / Join / Select against emulated physical resources."""

    template: dict[str, Any]
    refs: dict[str, Any] = field(default_factory=dict)  # logical id -> Ref value
    attrs: dict[tuple[str, str], Any] = field(default_factory=dict)  # (logical id, attribute) -> value
    stack_name: str = "local"
    region: str = "us-east-1"
    account: str = "123456789012"

    def parameter(self, name: str) -> Any:
        return self.template.get("Parameters", {}).get(name, {}).get("Default")

    def ref(self, name: str) -> Any:
        pseudo = {
            "AWS::StackName": self.stack_name,
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": None,
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.template.get("Parameters", {}):
            return self.parameter(name)
        if name in self.refs:
            return self.refs[name]
        raise KeyError(f"Ref {name} is not emulated by the local stack")

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template["Conditions"][name]))

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                if (logical, attribute) not in self.attrs:
                    raise KeyError(f"GetAtt {logical}.{attribute} is not emulated by the local stack")
                return self.attrs[(logical, attribute)]
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::If":
                name, when_true, when_false = arg
                return self.resolve(when_true if self.condition(name) else when_false)
            if key == "Fn::Equals":
                left, right = (self.resolve(item) for item in arg)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self.resolve(arg[0])
            if key == "Fn::Join":
                separator, items = arg
                return separator.join(str(item) for item in self.resolve(items))
            if key == "Fn::Select":
                index, items = arg
                return self.resolve(items)[int(index)]
            if key == "Condition":
                return self.condition(arg)
        return {key: self.resolve(item) for key, item in value.items()}

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name and not name.startswith("AWS::"):
                logical, attribute = name.split(".", 1)
                return str(self.attrs[(logical, attribute)])
            return str(self.ref(name))

        return re.sub(r"\$\{([^}!]+)\}", replace, text)


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: spec for name, spec in template.get("Resources", {}).items() if spec.get("Type") == kind}
