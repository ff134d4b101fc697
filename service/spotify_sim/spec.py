"""Strict validation of the local Spotify's responses against the bundled OpenAPI spec.

Only 17 of the spec's 90 schemas list required fields, so a plain validator
would accept an object with none of the documented properties.  We rewrite
each component schema before validating (see ``/work/shared/README.md``):

- every documented property that is not deprecated is required;
- deprecated properties are dropped, so their presence is an error (a
  development-mode app does not get them);
- undocumented properties are rejected (``additionalProperties: false``);
- ``null`` only where the spec says ``nullable: true``.

``allOf`` compositions are merged first (otherwise each part's
``additionalProperties: false`` would reject the other parts' properties).

:data:`ERRATA` lists the few places where the spec's own text says a property
is conditional, or where the real API is known to differ from the spec; each
entry carries its reason.  Keep it short: every entry weakens the check.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import yaml

SPEC_PATH = Path(__file__).parent / "openapi" / "fixed-spotify-open-api.yml"

Schema = dict[str, Any]

OPTIONAL = "optional"
NULLABLE = "nullable"

ERRATA: dict[tuple[str, str], tuple[str, str]] = {
    ("TrackObject", "is_playable"): (OPTIONAL, "only sent when a market is given (relinking)"),
    ("TrackObject", "restrictions"): (OPTIONAL, "only sent when a restriction applies"),
    ("SimplifiedTrackObject", "is_playable"): (OPTIONAL, "only sent when a market is given"),
    ("SimplifiedTrackObject", "restrictions"): (OPTIONAL, "only sent when a restriction applies"),
    ("SimplifiedTrackObject", "linked_from"): (OPTIONAL, "only sent when a track was relinked"),
    ("AlbumBase", "restrictions"): (OPTIONAL, "only sent when a restriction applies"),
    ("PlaylistObject", "items"): (
        OPTIONAL,
        "only sent for playlists the user owns or collaborates on (2026 rule)",
    ),
    ("ExternalIdObject", "isrc"): (OPTIONAL, "tracks carry isrc, albums upc: never all three"),
    ("ExternalIdObject", "ean"): (OPTIONAL, "tracks carry isrc, albums upc: never all three"),
    ("ExternalIdObject", "upc"): (OPTIONAL, "tracks carry isrc, albums upc: never all three"),
    ("CursorPagingObject", "next"): (NULLABLE, "null on the last page, as for PagingObject"),
}


def load_spec() -> dict[str, Any]:
    return _load_spec()


@functools.cache
def _load_spec() -> dict[str, Any]:
    with SPEC_PATH.open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = yaml.safe_load(handle)
    return loaded


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


class _Strictifier:
    def __init__(self, schemas: dict[str, Schema]) -> None:
        self.raw = schemas

    def component(self, name: str) -> Schema:
        return self.schema(self.raw[name], name)

    def schema(self, node: Schema, owner: str | None = None) -> Schema:
        """``owner`` names the component a property list belongs to (for ERRATA)."""
        if "$ref" in node:
            return {"$ref": node["$ref"]}
        if "allOf" in node:
            parts = node["allOf"]
            if len(parts) == 1:
                return self._nullable(self.schema(parts[0]), node)
            return self._nullable(self._merge(parts, owner), node)
        if "oneOf" in node:
            return self._nullable({"oneOf": [self.schema(p) for p in node["oneOf"]]}, node)
        out: Schema = {}
        for key in ("type", "enum", "minimum", "maximum"):
            if key in node:
                out[key] = copy.deepcopy(node[key])
        if node.get("type") == "array" and "items" in node:
            out["items"] = self.schema(node["items"])
        if "properties" in node:
            props, required = self._properties(node, owner)
            out.update(
                type="object", properties=props, required=required, additionalProperties=False
            )
        return self._nullable(out, node)

    def _properties(self, node: Schema, owner: str | None) -> tuple[Schema, list[str]]:
        props: Schema = {}
        required: list[str] = []
        for prop, sub in node.get("properties", {}).items():
            if sub.get("deprecated"):
                continue
            erratum = ERRATA.get((owner or "", prop), ("", ""))[0]
            built = self.schema(sub)
            if erratum == NULLABLE:
                built = {"anyOf": [built, {"type": "null"}]}
            props[prop] = built
            if erratum != OPTIONAL:
                required.append(prop)
        return props, required

    def _flatten(self, part: Schema, owner: str | None) -> list[tuple[Schema, str | None]]:
        if "$ref" in part:
            name = _ref_name(part["$ref"])
            target = self.raw[name]
            if "allOf" in target:
                return [x for p in target["allOf"] for x in self._flatten(p, name)]
            return [(target, name)]
        if "allOf" in part:
            return [x for p in part["allOf"] for x in self._flatten(p, owner)]
        return [(part, owner)]

    def _merge(self, parts: list[Schema], owner: str | None) -> Schema:
        props: Schema = {}
        required: list[str] = []
        for part, part_owner in (x for p in parts for x in self._flatten(p, owner)):
            more, needed = self._properties(part, part_owner)
            props.update(more)
            required += [n for n in needed if n not in required]
        return {
            "type": "object",
            "properties": props,
            "required": required,
            "additionalProperties": False,
        }

    @staticmethod
    def _nullable(built: Schema, node: Schema) -> Schema:
        if node.get("nullable"):
            return {"anyOf": [built, {"type": "null"}]}
        return built


@functools.cache
def strict_components() -> dict[str, Schema]:
    """Every component schema, rewritten by the strict rules above."""
    raw = load_spec()["components"]["schemas"]
    maker = _Strictifier(raw)
    return {name: maker.component(name) for name in raw}


ERROR_SCHEMA: Schema = {
    "type": "object",
    "properties": {"error": {"$ref": "#/components/schemas/ErrorObject"}},
    "required": ["error"],
    "additionalProperties": False,
}


@functools.cache
def response_schema(spec_path: str, method: str, status: int) -> Schema | None:
    """The body schema for one operation's status, or None when it documents no body.

    Errors (4xx/5xx) all share the ``{"error": ErrorObject}`` shape.
    """
    if status >= 400:
        return ERROR_SCHEMA
    spec = load_spec()
    operation = spec["paths"][spec_path][method.lower()]
    response = operation["responses"].get(str(status))
    if response is None:
        raise SpecViolation(f"{method} {spec_path} documents no {status} response")
    if "$ref" in response:
        response = spec["components"]["responses"][_ref_name(response["$ref"])]
    content = response.get("content", {}).get("application/json")
    if content is None:
        return None
    schema: Schema = copy.deepcopy(content["schema"])
    if spec_path == "/audio-features":
        # Spotify answers null for ids it has no features for; the spec forgets it.
        item = schema["properties"]["audio_features"]["items"]
        schema["properties"]["audio_features"]["items"] = {"anyOf": [item, {"type": "null"}]}
    return schema


@functools.cache
def _validator(spec_path: str, method: str, status: int) -> Any:
    schema = response_schema(spec_path, method, status)
    if schema is None:
        return None
    document = {"components": {"schemas": strict_components()}, "allOf": [schema]}
    return jsonschema.Draft7Validator(document)


class SpecViolation(AssertionError):
    """A response of the local Spotify does not match the spec (a bug in the sim)."""


def validate_body(spec_path: str, method: str, status: int, body: Any) -> list[str]:
    """The strict-validation errors of one response body (empty when it conforms)."""
    try:
        validator = _validator(spec_path, method, status)
    except SpecViolation as err:  # an unlisted status: recorded, the client still gets it
        return [str(err)]
    if validator is None:
        return [] if body is None else [f"no body documented, got {str(body)[:80]}"]
    return [_describe(error) for error in validator.iter_errors(body)]


def _describe(error: Any) -> str:
    """The innermost reason (an ``anyOf`` failure alone only says "not valid under any")."""
    while error.context:
        real = [
            e for e in error.context if not (e.validator == "type" and e.validator_value == "null")
        ]
        error = jsonschema.exceptions.best_match(real or error.context)
    where = "/".join(str(p) for p in error.absolute_path) or "<root>"
    return f"{where}: {str(error.message)[:300]}"


# --- the request side, extracted for the runtime checks ---------------------------------


def _param(spec: dict[str, Any], node: Schema) -> Schema:
    if "$ref" in node:
        return dict(spec["components"]["parameters"][_ref_name(node["$ref"])])
    return node


def request_rules(routed: list[tuple[str, str]]) -> dict[str, Any]:
    """Per ``"METHOD /spec/path"``: the scopes (any one suffices), the query parameters
    with their type and limits, and the body's top-level shape.

    Written to ``openapi/request_rules.json`` for :mod:`service.spotify_sim.request_rules`
    (the runtime has no YAML parser); a test keeps the file equal to this."""
    spec = load_spec()
    rules: dict[str, Any] = {}
    for method, spec_path in sorted(set(routed)):
        operation = spec["paths"][spec_path][method.lower()]
        security = operation.get("security", [])
        scopes = sorted({s for entry in security for s in entry.get("oauth_2_0", [])})
        query: dict[str, Schema] = {}
        for node in operation.get("parameters", []):
            param = _param(spec, node)
            if param["in"] != "query":
                continue
            schema = param.get("schema", {})
            rule = {"type": schema.get("type", "string"), "required": bool(param.get("required"))}
            for key in ("minimum", "maximum"):
                if key in schema:
                    rule[key] = schema[key]
            query[param["name"]] = rule
        body = None
        content = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if content is not None:
            schema = content["schema"]
            body = {
                "required": list(schema.get("required", [])),
                "properties": {
                    name: sub.get("type", "string")
                    for name, sub in schema.get("properties", {}).items()
                },
            }
        rules[f"{method} {spec_path}"] = {"scopes": scopes, "query": query, "body": body}
    return rules
