# Checks of the suite's own machinery (conftest.py): the error-log
# classifier, a gateway's log check seeing real proxy errors, and a
# stopped gateway leaving no process and no listening port behind.
import pytest
import requests

from conftest import bad_log_lines, free_port, pids_using, port_open

PREFIX = "[Sun Nov 22 20:00:00.000000 2026] "


def line(level, rest):
    return PREFIX + "[%s] [pid 1:tid 2] %s" % (level, rest)


def test_log_classifier():
    ok_notice = line("mpm_worker:notice", "AH00292: Apache configured")
    proxy_err = line("proxy_http:error", "[client 1.2.3.4:5] AH01102: error reading status line")
    agw_crit = line("apigw:crit", "AGW00101: ApiBackend balancer://x ...")
    warn_untagged = line("core:warn", "something odd")
    asan = "==123==ERROR: AddressSanitizer: heap-use-after-free on address 0x1"
    ubsan = "apigw_route.c:10:5: runtime error: index 64 out of bounds"
    crash = line("mpm_worker:notice", "AH00052: child pid 9 exit signal Segmentation fault (11)")
    text = "\n".join([ok_notice, proxy_err, agw_crit, warn_untagged, asan, ubsan, crash])

    assert bad_log_lines(text, set(), []) == [
        proxy_err, agw_crit, warn_untagged, asan, ubsan, crash]
    assert bad_log_lines(text, {"AH01102", "AGW00101"}, []) == [
        warn_untagged, asan, ubsan, crash]
    import re
    assert bad_log_lines(text, {"AH01102", "AGW00101"}, [re.compile("odd")]) == [
        asan, ubsan, crash]
    # a sanitizer line fails even when it carries an allowed tag
    tagged_asan = line("proxy:error", "AH01102: AddressSanitizer: SEGV")
    assert bad_log_lines(tagged_asan, {"AH01102"}, []) == [tagged_asan]


@pytest.mark.allow_log("AH00957", "AH01114", "AH00959")
def test_gateway_log_check_sees_proxy_errors(gateway):
    gw = gateway(f"""
<ApiEndpoint "/v1/down">
  ApiBackend http://127.0.0.1:{free_port()}/down
</ApiEndpoint>
""")
    assert requests.get(gw.url("/v1/down")).status_code == 502
    problems = gw.log_problems(set(), [])       # with no tag allowed
    assert any("AH00957" in l for l in problems), gw.error_log_text()
    assert any("AH01114" in l for l in problems), gw.error_log_text()


def test_stopped_gateway_leaves_nothing_behind(backend, gateway):
    gw = gateway(f"""
<ApiEndpoint "/v1/x">
  ApiBackend {backend.url}/x
</ApiEndpoint>
""")
    assert requests.get(gw.url("/v1/x")).status_code == 200
    assert pids_using(gw.httpd_conf)
    assert gw.stop() == []
    assert pids_using(gw.httpd_conf) == []
    assert not port_open(gw.port)
    assert "caught SIGTERM, shutting down" in gw.error_log_text()
