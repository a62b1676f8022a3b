# Keeps gql_cases.py true: each VALID document is accepted and each
# INVALID one rejected by graphql-core 2.3.2's parse (the reference the
# lists are drawn against), and the HOSTILE builders make what they say.
# No gateway: the HTTP tests send these lists to one.
import pytest

import graphql
from graphql.error import GraphQLSyntaxError

from gql_cases import HOSTILE, INVALID, VALID


def reference_parse(doc):
    """graphql-core's parse of doc; bytes must be UTF-8 first (a document
    that is not is rejected before any parser sees it)."""
    if isinstance(doc, bytes):
        doc = doc.decode("utf-8")
    return graphql.parse(doc)


def test_list_sizes():
    assert len(VALID) >= 20
    assert len(INVALID) >= 40
    assert len(set(map(repr, VALID))) == len(VALID)
    assert len(set(map(repr, INVALID))) == len(INVALID)


@pytest.mark.parametrize("doc", VALID, ids=repr)
def test_valid_is_accepted(doc):
    assert isinstance(doc, str)
    ast = reference_parse(doc)
    assert ast.definitions
    # executable documents only: the management API takes no schema
    for d in ast.definitions:
        assert isinstance(d, (graphql.language.ast.OperationDefinition,
                              graphql.language.ast.FragmentDefinition))


@pytest.mark.parametrize("doc", INVALID, ids=repr)
def test_invalid_is_rejected(doc):
    with pytest.raises((GraphQLSyntaxError, UnicodeDecodeError)):
        reference_parse(doc)


@pytest.mark.parametrize("make", HOSTILE, ids=lambda f: f.__name__)
def test_hostile_builders(make):
    doc = make()
    assert isinstance(doc, bytes)
    assert 10000 <= len(doc) <= (1 << 20) + 4096
    assert b"\x00" not in doc


def test_hostile_sizes():
    from gql_cases import (aliases_1mb, deep_list_value, deep_selections,
                           unterminated_string_1mb)
    assert deep_selections().count(b"{") == 10000
    assert deep_list_value().count(b"[") == 10000
    assert len(aliases_1mb()) >= 1 << 20
    assert aliases_1mb().count(b":__typename") > 50000
    assert not unterminated_string_1mb().endswith(b"\"")
