"""The Helm chart's schema for `config:` is guard's own: the JSON schema of Settings, without
the keys the chart sets itself. A typo that `guard serve` would refuse at start then fails
`helm install` instead of crash-looping the new pods.

`python -m guard.chart_schema [helm/guard/values.schema.json]` writes it into the chart's
schema; tests/e2e/test_helm_values.py fails when the two differ.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from guard.config import Settings

VALUES_SCHEMA = Path("helm/guard/values.schema.json")
# Keys of guard.yaml that depend on the pod's layout: the chart writes them (helm/guard/templates
# /_helpers.tpl, guard.configYaml) from `ports`, `policies`, `adminTokens` and `redis`.
CHART_MANAGED = ("listen", "admin_listen", "policies", "state_dir", "admin_tokens_env", "redis_url")
# Keywords that only annotate: pydantic's titles repeat the key, its defaults are guard's, not the
# chart's (values.yaml has its own), and its descriptions are guard's docstrings (values.yaml and
# guard.example.yaml document the keys; a reworded docstring is no drift).
ANNOTATIONS = frozenset({"title", "default", "description"})


def config_schema() -> dict[str, Any]:
    """The schema of the chart's `config:` value."""
    schema = Settings.model_json_schema()
    definitions = schema.pop("$defs", {})
    config: dict[str, Any] = _inline(schema, definitions)
    config["description"] = ("guard.yaml keys other than those the chart manages, checked as "
                             "guard checks them (made from guard's Settings by guard.chart_schema)")
    config["properties"].update(dict.fromkeys(CHART_MANAGED, False))
    # guard falls back on an upstream at 127.0.0.1:8001, which is nothing inside a pod
    config["required"] = ["upstreams"]
    return config


def _inline(node: Any, definitions: dict[str, Any]) -> Any:
    """`node` with every `$ref` replaced by its definition and annotations dropped (Helm's
    schema is one document: a reference would point into the chart's, not Settings')."""
    if isinstance(node, list):
        return [_inline(item, definitions) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _inline(definitions[node["$ref"].rpartition("/")[2]], definitions)
    inlined = {}
    for key, value in node.items():
        if key == "properties":  # names of keys, not keywords: keep them all
            inlined[key] = {name: _inline(sub, definitions) for name, sub in value.items()}
        elif key not in ANNOTATIONS:
            inlined[key] = _inline(value, definitions)
    return inlined


def write(path: Path) -> None:
    """Replace the `config` part of the chart's values.schema.json at `path`."""
    values = json.loads(path.read_text(encoding="utf-8"))
    values["properties"]["config"] = config_schema()
    path.write_text(json.dumps(values, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m guard.chart_schema",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("schema", nargs="?", type=Path, default=VALUES_SCHEMA,
                        help=f"the chart's values.schema.json (default: {VALUES_SCHEMA})")
    write(parser.parse_args().schema)
