"""Health endpoints on the API listener: /healthz (process up) and /readyz (store reachable,
root key in use), unauthenticated, for load balancers."""
import requests


def test_healthz_and_readyz_answer_without_credentials(server):
    for path, body in (("/healthz", {"Status": "ok"}), ("/readyz", {"Status": "ready"})):
        r = requests.get(server.url + path, verify=str(server.ca_path), timeout=10)
        assert r.status_code == 200, (path, r.text)
        assert r.json() == body
        assert r.headers["content-type"].startswith("application/json")


def test_other_paths_are_not_found_in_the_api_error_format(server):
    r = requests.get(server.url + "/metrics", verify=str(server.ca_path), timeout=10)
    assert r.status_code == 404
    assert r.json()["Code"] == "InvalidAction.NotFound" and r.json()["RequestId"]
