"""Policies: YAML files of rules over classifier verdicts, compiled once, evaluated purely.

- `model`:  the file schema (pydantic, unknown keys rejected).
- `engine`: `compile_policy`, `evaluate(policy, verdicts, ctx, stage) -> Decision`.
- `loader`: load a file or directory, `PolicyStore` (the PolicySource the proxy uses; hot reload).
- `testing`, `cli`: `guard policy check | test | explain`.
"""
