"""servicekit.validation: URLs and JSON bodies no schema may see (issue 14, item 6)."""

from __future__ import annotations

import unittest

from servicekit import validation


def environ(path: str, query: str = "") -> dict:
    """An environ as a WSGI server makes it: the percent-decoded bytes as latin-1."""
    import urllib.parse

    raw = urllib.parse.unquote_to_bytes(path).decode("latin-1")
    return {"PATH_INFO": raw, "QUERY_STRING": query}


class URLTestCase(unittest.TestCase):
    def test_utf8_urls_pass(self):
        self.assertIsNone(validation.url_error(environ("/v2.1/servers/%C3%A9", "name=%C3%A9&x=+")))
        self.assertIsNone(validation.url_error({}))

    def test_what_is_refused(self):
        for path, query, words in (
            ("/a/%ff", "", "path is not UTF-8"),
            ("/a/%ed%a0%80", "", "path is not UTF-8"),  # a lone surrogate
            ("/a/%00", "", "control character"),
            ("/a/%0a", "", "control character"),
            ("/a", "x=%ff", "query string is not UTF-8"),
            ("/a", "%ff=1", "query string is not UTF-8"),
            ("/a", "marker=a%00", "NUL"),
        ):
            with self.subTest(path=path, query=query):
                self.assertIn(words, validation.url_error(environ(path, query)) or "")


class LoadJSONTestCase(unittest.TestCase):
    def refused(self, raw: bytes, words: str) -> None:
        with self.assertRaises(validation.DocumentError) as caught:
            validation.load_json(raw)
        self.assertIn(words, str(caught.exception))

    def test_utf8_json_passes(self):
        self.assertEqual(
            validation.load_json('{"a": ["é", {"b": null}]}'.encode()), {"a": ["é", {"b": None}]}
        )
        as_deep_as_allowed = b"[" * validation.MAX_DEPTH + b"]" * validation.MAX_DEPTH
        validation.load_json(as_deep_as_allowed)
        self.assertEqual(validation.load_json(b'{"a": "\\\\u0000"}'), {"a": "\\u0000"})

    def test_not_utf8(self):
        self.refused(b"\xef\xbb\xbf{}", "byte order mark")
        self.refused('{"a": 1}'.encode("utf-16"), "not JSON in UTF-8")
        self.refused('{"a": "é"}'.encode("latin-1"), "not JSON in UTF-8")
        self.refused(b'{"a": "\\ud800"}', "not JSON in UTF-8")
        self.refused(b'{"a": NaN}', "not JSON")

    def test_too_deep(self):
        depth = validation.MAX_DEPTH + 1
        self.refused(b"[" * depth + b"]" * depth, "nested deeper")
        self.refused(b'{"a":' * depth + b"1" + b"}" * depth, "nested deeper")
        self.refused(b"[" * 100_000 + b"]" * 100_000, "not JSON")  # the parser's own limit

    def test_nul_in_a_string_or_key(self):
        self.refused(b'{"a": ["x\\u0000"]}', "NUL")
        self.refused(b'{"a\\u0000": 1}', "NUL")

    def test_check_document_is_iterative(self):
        document: list = []
        for _ in range(5000):
            document = [document]
        with self.assertRaises(validation.DocumentError):
            validation.check_document(document)
        validation.check_document({"a": [1, "b", {"c": None}]})


class HelpersTestCase(unittest.TestCase):
    def test_fits(self):
        self.assertTrue(validation.fits("a" * 255, 255))
        self.assertTrue(validation.fits("ünï", 3))
        for refused in ("", "a" * 256, "a\x00", "a\nb", "\x7f"):
            with self.subTest(refused=refused[:5]):
                self.assertFalse(validation.fits(refused, 255))

    def test_quoted_url_of_any_url(self):
        self.assertEqual(validation.quoted_url(environ("/a/%ff", "x=%ff")), "/a/%FF?x=%ff")
        self.assertEqual(validation.quoted_url(environ("/a b")), "/a%20b")
