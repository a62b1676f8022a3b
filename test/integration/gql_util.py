# Helpers of test_graphql.py: a client of the admin API's GraphQL
# resource (<admin location>/graphql), the registry of every document the
# tests send (each is validated against the schema the API introspects,
# so a test cannot send a document that only "works" because of a bug),
# and graphql-core 2.3.2 (Debian's python3-graphql-core) as the oracle of
# the language.
import json
import os
import re
import time
from urllib.parse import quote

import requests

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SDL_PATH = os.path.join(TOP, "mod_apigw", "console", "schema.graphql")

JSON_TYPE = "application/json"
GQL_RESPONSE = "application/graphql-response+json"
CODES = ("BAD_USER_INPUT", "NOT_FOUND", "CONFLICT", "FORBIDDEN",
         "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED",
         "INTERNAL_SERVER_ERROR", "UNAUTHENTICATED",
         "OPERATION_RESOLUTION_FAILURE")

# Every document a test sends as a well-formed request of the schema.
DOCUMENTS = []


def doc(text):
    """Registers text as a document the schema must accept; returns it."""
    DOCUMENTS.append(text)
    return text


def sdl_without_descriptions():
    """The schema's SDL as graphql-core 2 reads it (it predates
    descriptions in the schema language)."""
    with open(SDL_PATH) as f:
        text = f.read()
    text = re.sub(r'"""[\s\S]*?"""', "", text)
    return re.sub(r'"(?:[^"\\\n]|\\.)*"', "", text)


class Gql:
    """A client of one gateway's GraphQL resource."""

    def __init__(self, gw, location="/admin"):
        self.gw = gw
        self.location = location
        self.path = location + "/graphql"

    def url(self, query_string=""):
        return self.gw.url(self.path) + query_string

    def post(self, query, variables=None, operation=None, headers=None,
             body=None, data=None, timeout=30):
        """POST application/json; body= a JSON value sent instead of the
        usual object, data= raw bytes sent instead."""
        h = {"Content-Type": JSON_TYPE}
        h.update(headers or {})
        if data is None:
            if body is None:
                body = {"query": query}
                if variables is not None:
                    body["variables"] = variables
                if operation is not None:
                    body["operationName"] = operation
            data = json.dumps(body).encode()
        return requests.post(self.url(), data=data, headers=h,
                             timeout=timeout)

    def get(self, query, variables=None, operation=None, headers=None,
            raw_query=None):
        """GET ?query=...; raw_query= the query string as is."""
        if raw_query is None:
            parts = ["query=" + quote(query, safe="")]
            if variables is not None:
                parts.append("variables=" + quote(json.dumps(variables),
                                                  safe=""))
            if operation is not None:
                parts.append("operationName=" + quote(operation, safe=""))
            raw_query = "&".join(parts)
        return requests.get(self.url("?" + raw_query), headers=headers or {},
                            timeout=30)

    # -- answers

    @staticmethod
    def answer(resp, status=200, media=JSON_TYPE):
        assert resp.status_code == status, (resp.status_code, resp.text[:2000])
        assert resp.headers["Content-Type"].split(";")[0] == media, \
            resp.headers
        assert resp.headers.get("Cache-Control") == "no-store", resp.headers
        doc = resp.json()
        assert isinstance(doc, dict), doc
        assert set(doc) <= {"data", "errors", "extensions"}, doc
        return doc

    def run(self, query, variables=None, operation=None, **kw):
        """data of a request that must succeed without any error."""
        doc = self.answer(self.post(query, variables, operation, **kw))
        assert "errors" not in doc, doc
        assert isinstance(doc.get("data"), dict), doc
        return doc["data"]

    def fails(self, query, variables=None, operation=None, code=None,
              status=200, **kw):
        """The whole answer of a request that must carry errors (each a
        GraphQL error of a known code); code= the first one's."""
        doc = self.answer(self.post(query, variables, operation, **kw),
                          status)
        check_errors(doc, code)
        return doc


def check_errors(doc, code=None):
    """errors: a non-empty list of GraphQL errors, the first one's code."""
    errors = doc.get("errors")
    assert isinstance(errors, list) and errors, doc
    for e in errors:
        assert isinstance(e.get("message"), str) and e["message"], e
        assert e.get("extensions", {}).get("code") in CODES, e
        if "locations" in e:
            assert e["locations"] and all(
                set(l) == {"line", "column"} and l["line"] >= 1
                and l["column"] >= 1 for l in e["locations"]), e
    if code is not None:
        assert errors[0]["extensions"]["code"] == code, doc
    return errors


def refused(doc, code=None):
    """A request not run: errors only, no data member."""
    errors = check_errors(doc, code)
    assert "data" not in doc, doc
    return errors


def wait_for(pred, timeout=5.0, step=0.02):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)


def served_streak(gw, path, ok, timeout=5.0, streak=8):
    """Requests on fresh connections (either child) until `streak` in a
    row satisfy ok(resp); the last answer, or fails after timeout."""
    deadline = time.monotonic() + timeout
    row, last = 0, None
    while row < streak:
        last = requests.get(gw.url(path), headers={"Connection": "close"},
                            timeout=10)
        row = row + 1 if ok(last) else 0
        if row == 0 and time.monotonic() > deadline:
            raise AssertionError("%s: still %d %s after %.1fs" % (
                path, last.status_code, last.text[:200], timeout))
    return last
