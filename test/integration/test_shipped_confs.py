# Every configuration the project ships — the demo and the worked examples
# in conf/ — passes configtest the way a user runs it, so the README's
# "copy this" promise stays true.
import glob
import os

import pytest

from conftest import free_port

CONF = os.path.join(os.path.dirname(__file__), "..", "..", "conf")
SHIPPED = sorted(glob.glob(os.path.join(CONF, "examples", "*.conf"))) \
    + [os.path.join(CONF, "demo.conf")]


@pytest.mark.parametrize("path", SHIPPED, ids=os.path.basename)
def test_shipped_config_passes_configtest(path, configtest, monkeypatch):
    # the demo takes its ports from the environment, as `demo` sets them
    for var in ("APIGW_PORT", "APIGW_DEMO_USERS_PORT",
                "APIGW_DEMO_ORDERS_PORT"):
        monkeypatch.setenv(var, str(free_port()))
    with open(path) as f:
        text = f.read().replace("127.0.0.1:8080", "127.0.0.1:@PORT@")
    # the KrakenD example imports the sample file shipped beside it
    text = text.replace("/etc/krakend/krakend.json",
                        os.path.abspath(os.path.join(CONF, "examples",
                                                     "krakend.json")))
    ok, out = configtest(text, name=os.path.basename(path))
    assert ok, out
    assert "Syntax OK" in out
