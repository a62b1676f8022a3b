# conf/examples/grafana-dashboard.json stays true: every query is valid
# PromQL (promtool check rules, with Grafana's variables filled in) and
# every metric it names is one a gateway really exports (a scrape of
# apigw-metrics with endpoints, a pool, a breaker, a rate limit, the cache
# and an aggregation).
import json
import os
import re
import shutil
import subprocess

import pytest
import requests

DASHBOARD = os.path.join(os.path.dirname(__file__), "..", "..", "conf",
                         "examples", "grafana-dashboard.json")
SHMCB = """<IfModule !socache_shmcb_module>
  LoadModule socache_shmcb_module /usr/lib/apache2/modules/mod_socache_shmcb.so
</IfModule>
"""


def queries():
    with open(DASHBOARD) as f:
        dash = json.load(f)
    out = []
    for panel in dash["panels"]:
        for t in panel["targets"]:
            out.append(t["expr"])
    assert out
    return out


def filled(expr):
    return (expr.replace("$__rate_interval", "5m")
            .replace('"$instance"', '".*"'))


def test_every_query_is_valid_promql(tmp_path):
    promtool = shutil.which("promtool")
    assert promtool, "promtool (Debian package prometheus) is not installed"
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": "dashboard:q%d" % i, "expr": filled(e)}
        for i, e in enumerate(queries())]}]}
    path = tmp_path / "rules.json"        # YAML is a superset of JSON
    path.write_text(json.dumps(rules))
    p = subprocess.run([promtool, "check", "rules", str(path)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr


def families(scrape):
    names = set()
    for line in scrape.splitlines():
        m = re.match(r"# TYPE (\S+) (\S+)", line)
        if m:
            names.add(m.group(1))
            if m.group(2) == "counter" and not m.group(1).endswith("_total"):
                names.add(m.group(1) + "_total")
            if m.group(2) == "histogram":
                names.add(m.group(1) + "_bucket")
    return names


def test_every_metric_it_names_is_exported(backend, gateway):
    gw = gateway(SHMCB + f"""
<Proxy "balancer://pool">
  BalancerMember {backend.url}
</Proxy>
<Location "/metrics">
  SetHandler apigw-metrics
</Location>
<ApiEndpoint "/v1/items/{{id}}">
  ApiBackend {backend.url}/items/{{id}}
  ApiRateLimit average=100 period=1s burst=100 by=ip
  ApiCircuitBreaker 5xx
  ApiCache On
  ApiCacheTTL 10s
</ApiEndpoint>
<ApiEndpoint "/v1/pool">
  ApiBackend balancer://pool/pool
</ApiEndpoint>
<ApiEndpoint "/v1/both">
  ApiBackend {backend.url}/one group=one
  ApiBackend {backend.url}/two group=two
</ApiEndpoint>
""")
    for path in ("/v1/items/1", "/v1/items/1", "/v1/pool", "/v1/both"):
        assert requests.get(gw.url(path)).status_code == 200
    scrape = requests.get(gw.url("/metrics")).text
    have = families(scrape)
    named = set()
    for e in queries():
        named.update(re.findall(r"\b(apigw_[a-z_]+)\b", e))
    # runtime routes' families appear once a route store is configured
    named.discard("apigw_runtime_routes")
    missing = sorted(n for n in named if n not in have)
    assert not missing, (missing, sorted(have))
