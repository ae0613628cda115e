"""JSON Schema (as OpenAI tools and ``response_format`` carry it) to the OpenAPI subset Gemini takes.

Gemini refuses unknown schema keys with a 400 ("Unknown name additionalProperties"), so a schema
is rebuilt from the keys Gemini knows rather than stripped of the ones it is known to refuse:
``additionalProperties``, ``$schema``, ``strict``, ``examples``, ``default`` and the like go.
``$ref`` into ``$defs``/``definitions`` (as pydantic writes nested models) is inlined; a
recursive reference ends in a plain ``{"type": "object"}``. ``"type": ["string", "null"]``
becomes ``"type": "string", "nullable": true``; ``oneOf`` becomes ``anyOf``; a one-element
``allOf`` is merged in; a string ``const`` becomes a one-value ``enum``. String and number
``format`` values Gemini does not know are dropped. Property *names* are never touched.
"""

from __future__ import annotations

from typing import Any

_KEPT = frozenset(
    {
        "type",
        "title",
        "description",
        "nullable",
        "enum",
        "required",
        "minItems",
        "maxItems",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "pattern",
        "minProperties",
        "maxProperties",
        "propertyOrdering",
    }
)
_FORMATS = {
    "string": frozenset({"enum", "date-time"}),
    "number": frozenset({"float", "double"}),
    "integer": frozenset({"int32", "int64"}),
}
_MAX_DEPTH = 40


def gemini_schema(schema: Any) -> dict[str, Any]:
    """``schema`` rebuilt for Gemini's ``parameters`` / ``responseSchema``."""
    if not isinstance(schema, dict):
        return {}
    defs: dict[str, Any] = {}
    for key in ("definitions", "$defs"):
        if isinstance(schema.get(key), dict):
            defs.update(schema[key])
    return _clean(schema, defs, (), 0)


def _resolve(ref: str, defs: dict[str, Any]) -> tuple[str, Any] | None:
    for prefix in ("#/$defs/", "#/definitions/"):
        if ref.startswith(prefix) and ref[len(prefix) :] in defs:
            name = ref[len(prefix) :]
            return name, defs[name]
    return None


def _clean(node: dict[str, Any], defs: dict[str, Any], seen: tuple[str, ...], depth: int) -> dict[str, Any]:
    if depth > _MAX_DEPTH:
        return {"type": "object"}
    ref = node.get("$ref")
    if isinstance(ref, str):
        found = _resolve(ref, defs)
        if found is None or found[0] in seen or not isinstance(found[1], dict):
            return {"type": "object"}
        name, target = found
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return _clean(merged, defs, (*seen, name), depth + 1)
    all_of = node.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], dict):
        node = {**{k: v for k, v in node.items() if k != "allOf"}, **all_of[0]}
        return _clean(node, defs, seen, depth + 1)

    out: dict[str, Any] = {k: v for k, v in node.items() if k in _KEPT}
    kind = node.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if isinstance(k, str) and k != "null"]
        if "null" in kind:
            out["nullable"] = True
        if len(kinds) == 1:
            out["type"] = kinds[0]
        else:
            out.pop("type", None)
            if kinds:
                out["anyOf"] = [{"type": k} for k in kinds]
    if isinstance(node.get("const"), str) and "enum" not in out:
        out["enum"] = [node["const"]]
        out.setdefault("type", "string")
    fmt = node.get("format")
    if isinstance(fmt, str) and fmt in _FORMATS.get(str(out.get("type")), frozenset()):
        out["format"] = fmt
    alternatives = node.get("anyOf", node.get("oneOf"))
    if isinstance(alternatives, list):
        cleaned = [_clean(a, defs, seen, depth + 1) for a in alternatives if isinstance(a, dict)]
        non_null = [a for a in cleaned if a.get("type") != "null"]
        if len(non_null) < len(cleaned):
            out["nullable"] = True
        if len(non_null) == 1 and "type" not in out:
            out.update(non_null[0])
        elif non_null:
            out["anyOf"] = non_null
    properties = node.get("properties")
    if isinstance(properties, dict) and properties:
        out["properties"] = {
            str(name): _clean(value, defs, seen, depth + 1) if isinstance(value, dict) else {}
            for name, value in properties.items()
        }
    items = node.get("items")
    if isinstance(items, dict):
        out["items"] = _clean(items, defs, seen, depth + 1)
    if isinstance(out.get("required"), list) and "properties" in out:
        out["required"] = [r for r in out["required"] if r in out["properties"]]
        if not out["required"]:
            del out["required"]
    elif "required" in out:
        del out["required"]
    return out
