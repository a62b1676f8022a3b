# SetHandler apigw-health: the gateway's liveness as JSON, from a real
# httpd (KrakenD's /__health document, which an imported krakend.json
# serves by default).
import re

import requests


def test_health_answers_liveness(gateway):
    gw = gateway('<Location "/__health">\n  SetHandler apigw-health\n'
                 '</Location>\n')
    url = "http://127.0.0.1:%d/__health" % gw.port
    r = requests.get(url, timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    assert r.headers["Cache-Control"] == "no-store"
    doc = r.json()
    assert doc["status"] == "ok" and doc["agents"] == {}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", doc["now"])
    h = requests.head(url, timeout=10)
    assert h.status_code == 200 and h.content == b""
    r = requests.post(url, data=b"x", timeout=10)
    assert r.status_code == 405
    assert "GET" in r.headers.get("Allow", "")
    # elsewhere the handler is not in the way
    assert requests.get("http://127.0.0.1:%d/other" % gw.port,
                        timeout=10).status_code == 404
