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


def test_prometheus_metrics_count_requests_by_action_and_code(start_server):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    node = start_server(args=("--metrics-listen", f"127.0.0.1:{port}"))
    requests.get(node.url + "/readyz", verify=str(node.ca_path), timeout=10)
    r = requests.post(node.url + "/?Action=Encrypt&Version=2016-01-20", verify=str(node.ca_path), timeout=10)
    assert r.status_code == 400
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    assert 'openkms_requests_total{action="Encrypt",code="MissingParameter"} 1' in text
    assert "openkms_request_duration_seconds_bucket" in text


def test_metrics_count_open_connections(start_server):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    node = start_server(args=("--metrics-listen", f"127.0.0.1:{port}"))
    with requests.Session() as session:
        session.get(node.url + "/healthz", verify=str(node.ca_path), timeout=10)
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        assert "openkms_open_connections 1" in text, text
        assert "openkms_connections_total 1" in text, text
