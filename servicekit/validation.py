"""JSON Schema checks of request bodies and queries (Nova's API and Quantum's), and
what comes before them: a URL that is UTF-8, a JSON body that is UTF-8 and
not nested without end (``url_error``, ``load_json``).

jsonschema (Draft 2020-12) is the judge: its verdict and its words are the
ones a client gets. It walks the schema anew for every document, though,
which costs a server-create body ~200 µs, about a tenth of the API's CPU
in a launch. So a schema is also compiled to Python code by fastjsonschema
and that check goes first: a document it accepts is accepted at once; one
it refuses goes to jsonschema, which decides and explains.

That is sound only if the compiled check never accepts what jsonschema
refuses. fastjsonschema knows drafts 4 to 7, so a schema gets a compiled
check only when it uses nothing but keywords those drafts read as 2020-12
does (``FAST_KEYWORDS``; no ``$ref``, whose siblings draft 7 ignores), and
enums of strings (Python's ``True == 1`` would let a boolean through an
enum of numbers). Every ``format`` is checked by jsonschema's own format
checker, or not at all where jsonschema does not check it, and defaults are
never written into the document. A schema that does not qualify is
checked by jsonschema alone.
"""

from __future__ import annotations

import codecs
import re
import threading
import urllib.parse
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

import fastjsonschema
import jsonschema
import orjson

#: Keywords read alike by draft 7 and 2020-12 (annotations included).
FAST_KEYWORDS = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "patternProperties",
        "propertyNames",
        "items",
        "enum",
        "const",
        "pattern",
        "format",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minItems",
        "maxItems",
        "minProperties",
        "maxProperties",
        "oneOf",
        "anyOf",
        "allOf",
        "not",
        "title",
        "description",
        "default",
        "examples",
        "$comment",
    }
)
_SCHEMA_VALUED = ("additionalProperties", "items", "not", "propertyNames")
_SCHEMA_MAPS = ("properties", "patternProperties")
_SCHEMA_LISTS = ("oneOf", "anyOf", "allOf")


class Checker:
    """The checks of one schema (see the module doc)."""

    def __init__(
        self, schema: Mapping[str, Any], format_checker: jsonschema.FormatChecker | None = None
    ) -> None:
        self.validator = jsonschema.Draft202012Validator(schema, format_checker=format_checker)
        self.fast: Callable[[Any], Any] | None = None
        formats: set[str] = set()
        if _compilable(schema, formats):
            self.fast = fastjsonschema.compile(
                dict(schema),
                formats={name: _format_check(format_checker, name) for name in formats},
                use_default=False,
            )

    def error(self, instance: Any) -> jsonschema.ValidationError | None:
        """Return what is most wrong with ``instance`` (jsonschema's best match), or None."""
        if self.fast is not None:
            try:
                self.fast(instance)
                return None
            except fastjsonschema.JsonSchemaValueException:
                pass  # jsonschema decides, and says why
        return jsonschema.exceptions.best_match(self.validator.iter_errors(instance))

    def is_valid(self, instance: Any) -> bool:
        """Return whether ``instance`` fits the schema."""
        return self.error(instance) is None


def _format_check(format_checker: jsonschema.FormatChecker | None, name: str) -> Callable:
    if format_checker is None or name not in format_checker.checkers:
        return lambda _value: True  # jsonschema does not check it either
    return lambda value: format_checker.conforms(value, name)


def _compilable(schema: Any, formats: set[str]) -> bool:
    """Return whether ``schema`` qualifies for a compiled check; collect its formats."""
    if isinstance(schema, bool):
        return True
    if not isinstance(schema, Mapping) or not set(schema) <= FAST_KEYWORDS:
        return False
    for keyword in ("enum", "const"):
        if keyword in schema:
            values = schema["enum"] if keyword == "enum" else [schema["const"]]
            if not all(value is None or isinstance(value, str) for value in values):
                return False
    if "format" in schema:
        formats.add(schema["format"])
    return (
        all(_compilable(schema[key], formats) for key in _SCHEMA_VALUED if key in schema)
        and all(
            _compilable(sub, formats)
            for key in _SCHEMA_MAPS
            for sub in schema.get(key, {}).values()
        )
        and all(_compilable(sub, formats) for key in _SCHEMA_LISTS for sub in schema.get(key, []))
    )


_lock = threading.Lock()
# Schemas are module constants or built once at start-up: each is compiled
# once, keyed by identity (the entry keeps the schema alive, so its id
# cannot be reused by another object).
_CHECKERS: dict[tuple[int, int], tuple[Mapping[str, Any], Checker]] = {}


def checker(
    schema: Mapping[str, Any], format_checker: jsonschema.FormatChecker | None = None
) -> Checker:
    """Return the (cached) ``Checker`` of ``schema``."""
    key = (id(schema), id(format_checker))
    entry = _CHECKERS.get(key)
    if entry is None or entry[0] is not schema:
        with _lock:
            entry = (schema, Checker(schema, format_checker))
            _CHECKERS[key] = entry
    return entry[1]


# --- what no schema sees: the URL and the JSON text -----------------------------------

#: Deepest nesting of arrays and objects a request document may have. Nova's
#: and Quantum's bodies go four levels deep; the bound keeps every walk over
#: a document (jsonschema's included) far from Python's recursion limit.
MAX_DEPTH = 32

_PATH_CONTROL = re.compile("[\x00-\x1f\x7f]")


class DocumentError(ValueError):
    """A request's URL or body that no handler may see; the message says why."""


def url_error(environ: Mapping[str, Any]) -> str | None:
    """Return what makes a request's URL unusable, or None when it is fine.

    PATH_INFO and QUERY_STRING must be UTF-8 once percent-decoded (an
    encoded lone surrogate is not), the path without control characters and
    the query without NUL characters (PostgreSQL's text cannot hold one).
    WSGI hands both over as latin-1 strings of the bytes received.
    """
    path = environ.get("PATH_INFO", "")
    # Most paths and queries are printable ASCII (without "%"): nothing to decode.
    if not (path.isascii() and path.isprintable()):
        try:
            path = path.encode("latin-1").decode("utf-8")
        except UnicodeError:
            return "the path is not UTF-8"
        if _PATH_CONTROL.search(path):
            return "the path holds a control character"
    query = environ.get("QUERY_STRING", "")
    if query and not (query.isascii() and query.isprintable() and "%" not in query):
        try:
            raw = urllib.parse.unquote_to_bytes(query.encode("latin-1").replace(b"+", b" "))
            text = raw.decode("utf-8")
        except UnicodeError:
            return "the query string is not UTF-8"
        if "\x00" in text:
            return "the query string holds a NUL character"
    return None


def quoted_url(environ: Mapping[str, Any]) -> str:
    """Return a request's path and query percent-encoded, for a log line of any URL."""
    path = urllib.parse.quote(environ.get("PATH_INFO", "").encode("latin-1", "replace"))
    query = environ.get("QUERY_STRING", "")
    return f"{path}?{urllib.parse.quote(query, safe='=&%+')}" if query else path


def fits(identifier: str, max_length: int) -> bool:
    """Tell whether an id from a token or URL can be stored: 1 to ``max_length``
    characters, none of them a control character."""
    return 0 < len(identifier) <= max_length and not _PATH_CONTROL.search(identifier)


def load_json(raw: bytes, max_depth: int = MAX_DEPTH) -> Any:
    """Return the JSON document of a request body (UTF-8 without a byte order mark).

    :raises DocumentError: not JSON in UTF-8 (UTF-16, a byte order mark, a
        lone surrogate), NaN or Infinity, nested deeper than ``max_depth``,
        or a string holding a NUL character.
    """
    if raw.startswith(codecs.BOM_UTF8):
        raise DocumentError("JSON bodies are UTF-8 without a byte order mark")
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise DocumentError(f"it is not JSON in UTF-8 ({exc})") from exc
    # Cheap proofs first: no deeper than its brackets, no NUL without "\u0000".
    deep = raw.count(b"[") + raw.count(b"{") > max_depth
    if deep or b"\\u0000" in raw:
        check_document(document, max_depth)
    return document


def check_document(document: Any, max_depth: int = MAX_DEPTH) -> None:
    """Refuse a document nested deeper than ``max_depth`` or with a NUL in a string.

    Iterative: a document nested deeper than the recursion limit is refused
    like any other.

    :raises DocumentError: it is.
    """
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise DocumentError("a string holds a NUL character")
            continue
        if isinstance(value, dict):
            children: Any = [*value.keys(), *value.values()]
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > max_depth:
            raise DocumentError(f"nested deeper than {max_depth} levels")
        stack.extend((child, depth + 1) for child in children)
