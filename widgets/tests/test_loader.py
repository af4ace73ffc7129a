from __future__ import annotations

import gzip

from django.test import Client


def test_the_loader_is_served_gzipped_within_budget_with_a_short_cache(client: Client) -> None:
    response = client.get("/widget.js", HTTP_ACCEPT_ENCODING="gzip, br")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert len(response.content) <= 2048
    assert b"CustomerAgent" in gzip.decompress(response.content)
    assert response["Cache-Control"] == "public, max-age=300"
    assert response["Vary"] == "Accept-Encoding"


def test_the_loader_answers_304_to_a_matching_etag(client: Client) -> None:
    etag = client.get("/widget.js")["ETag"]
    assert client.get("/widget.js", HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_clients_without_gzip_get_plain_javascript(client: Client) -> None:
    response = client.get("/widget.js")
    assert "Content-Encoding" not in response
    assert b"CustomerAgent" in response.content
