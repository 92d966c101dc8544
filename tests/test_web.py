"""The web page's server at the HTTP level: POST /api/derive answers what the command line's
``--format json`` prints (extended), checked against numpy; its limits (413, 400, 404, 415, the
time limit with a slow request and a simple one meanwhile); no file outside static/; one log
line per request; ``tensorcalc serve`` prints its address when ready."""

import http.client
import importlib.util
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from tensorcalc.frontends.web.server import MAX_BODY, DeriveServer

SLOW = "x'*" + "A*" * 400 + "x"  # a product chain that takes about 45 s to derive, explain and check


def start(time_limit, log=None):
    server = DeriveServer(("127.0.0.1", 0), time_limit=time_limit, log=log)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def stop(server):
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def server():
    server = start(time_limit=60, log=io.StringIO())
    yield server
    stop(server)


def request(server, method, path, body=None, headers=None, timeout=90):
    connection = http.client.HTTPConnection(*server.server_address[:2], timeout=timeout)
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    connection.request(method, path, body=body,
                       headers={"Content-Type": "application/json", **(headers or {})})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    kind = response.getheader("Content-Type", "")
    return response.status, (json.loads(data) if kind.startswith("application/json") else data)


def derive(server, **fields):
    return request(server, "POST", "/api/derive", fields)


def cli_json(*args):
    done = subprocess.run([sys.executable, "-m", "tensorcalc", *args, "--format", "json"],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_the_answer_is_the_command_lines_json_extended(server):
    status, answer = derive(server, expression="x'*A*x", wrt=["x"])
    assert status == 200
    printed = cli_json("grad", "x'*A*x", "--wrt", "x")
    assert {k: answer[k] for k in printed} == {**printed, "derivatives": answer["derivatives"]}
    for mine, theirs in zip(answer["derivatives"], printed["derivatives"]):
        assert {k: mine[k] for k in theirs} == theirs
    d = answer["derivatives"][0]
    assert (d["matrix"], d["index"], d["shape"]) == ("(A + Aᵀ) x", "(A_ij + A_ji) x_j", ["n"])
    assert d["label_latex"] == "\\frac{\\partial f}{\\partial x}"
    assert d["index_latex"] == "(A_{ij} + A_{ji}) x_{j}"
    [check] = answer["check"]["results"]
    assert check["ok"] and check["error"] < 1e-8 and answer["check"]["sizes"] == {"n": 3}
    steps = answer["explanation"]["steps"]
    assert [s["kind"] for s in steps][:2] == ["forward", "forward"]
    assert [s["matrix"] for s in steps if s["kind"] == "result"] == ["b + Ax"]


def test_the_generated_code_computes_the_gradient(server, tmp_path):
    """The code the page shows, run on its own, against numpy's (A + Aᵀ) x."""
    status, answer = derive(server, expression="x'*A*x", wrt=["x"])
    path = tmp_path / "generated.py"
    path.write_text(answer["code"]["numpy"])
    spec = importlib.util.spec_from_file_location("generated", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rng = np.random.default_rng(1)
    A, x = rng.standard_normal((4, 4)), rng.standard_normal(4)
    value, dx = module.f_and_grad(x=x, A=A)
    assert np.isclose(value, x @ A @ x) and np.allclose(dx, (A + A.T) @ x)


def test_jacobian_and_hessian_of_order_three_and_four(server):
    status, answer = derive(server, expression="W*a", wrt=["W"], compute="jacobian",
                            types={"a": "vector"})
    assert status == 200
    [d] = answer["derivatives"]
    assert (d["shape"], d["index"], d["matrix"]) == (["n", "n", "m"], "δ_ij a_k", None)
    assert d["latex"] == "\\delta_{ij} a_{k}"
    assert answer["check"]["results"][0]["ok"]
    status, answer = derive(server, expression="tr(X'*A*X)", wrt="X", compute="hessian")
    [d] = answer["derivatives"]
    assert d["shape"] == ["n", "m", "n", "m"] and d["name"] == "∂²f/∂X²"
    assert d["index"] == cli_json("hessian", "tr(X'*A*X)", "--wrt", "X")["derivatives"][0]["index"]
    assert answer["check"]["results"][0]["ok"]


def test_numpy_dialect_with_shapes(server):
    loss = ("-np.sum(y * np.log(np.sigmoid(W2 @ np.sigmoid(W1 @ x + b1) + b2))"
            " + (1 - y) * np.log(1 - np.sigmoid(W2 @ np.sigmoid(W1 @ x + b1) + b2)))")
    status, answer = derive(server, expression=loss, wrt=["W1"], dialect="numpy", shapes={
        "x": "d", "y": "", "W1": ["h", "d"], "b1": "h", "W2": "1,h", "b2": [1]})
    assert status == 200, answer
    [d] = answer["derivatives"]
    assert d["shape"] == ["h", "d"] and d["matrix"].endswith("where s = σ(b1 + W1 x)")
    assert answer["check"]["results"][0]["ok"]


def test_bad_input_is_the_caret_message(server):
    status, answer = derive(server, expression="x'*A*)x", wrt=["x"])
    assert status == 422
    error = answer["error"]
    assert error["kind"] == "ParseError" and (error["position"], error["end"]) == (5, 6)
    assert error["message"].splitlines()[1:] == ["    x'*A*)x", "         ^"]
    status, answer = derive(server, expression="x'*A*x", wrt=["z"])
    assert status == 422 and "no variable named 'z'" in answer["error"]["message"]
    status, answer = derive(server, expression="x'*A*x", compute="hessian")
    assert status == 422 and "Differentiate with respect to" in answer["error"]["message"]
    status, answer = derive(server, expression="A*x", wrt=["x"])  # grad of a vector
    assert status == 422 and "compute the Jacobian" in answer["error"]["message"]


def test_limits_413_400_404_415(server):
    status, answer = derive(server, expression="x" * 1_000_000, wrt=["x"])
    assert status == 413 and str(MAX_BODY) in answer["error"]["message"]
    assert request(server, "POST", "/api/derive", "{not json")[0] == 400
    assert request(server, "POST", "/api/derive", b"\xff\xfe")[0] == 400
    for body in ([], {"wrt": ["x"]}, {"expression": 3}, {"expression": "x", "colour": 1},
                 {"expression": "x", "compute": "integral"}, {"expression": "x", "check": "yes"}):
        status, answer = request(server, "POST", "/api/derive", body)
        assert status == 400 and answer["error"]["message"].startswith("bad request"), body
    assert request(server, "POST", "/api/derive", "{}", {"Content-Type": "text/plain"})[0] == 415
    assert request(server, "POST", "/api/other", {"expression": "x"})[0] == 404
    assert request(server, "GET", "/api/derive")[0] == 405
    assert request(server, "GET", "/nothing.html")[0] == 404


@pytest.mark.parametrize("path", [
    "/../server.py", "/%2e%2e/server.py", "/katex/../../worker.py", "/..%2f..%2fpyproject.toml",
    "//etc/passwd", "/%2Fetc%2Fpasswd", "/katex/..%5c..%5cserver.py", "/static/../../cli.py",
    "/index.html%00.png", "/katex"])
def test_no_file_outside_static(server, path):
    status, answer = request(server, "GET", path)
    assert status == 404, path


def test_static_files(server):
    status, page = request(server, "GET", "/")
    assert status == 200 and b'<label for="expression">Expression</label>' in page
    status, script = request(server, "GET", "/katex/katex.min.js")
    assert status == 200 and len(script) > 100_000
    assert request(server, "GET", "/katex/fonts/KaTeX_Main-Regular.woff2")[0] == 200
    assert request(server, "GET", "/?e=x'*A*x&wrt=x")[1] == page


def test_one_log_line_per_request():
    # a server of its own: a shared one may still be writing the line of another test's last
    # request (a line is written once its answer has been sent)
    log = io.StringIO()
    server = start(time_limit=60, log=log)
    try:
        request(server, "GET", "/style.css")
        derive(server, expression="x'*x", wrt=["x"])
        request(server, "GET", "/missing")
        deadline = time.monotonic() + 5
        while len(log.getvalue().splitlines()) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)
    finally:
        stop(server)
    lines = log.getvalue().splitlines()
    assert len(lines) == 3
    assert '"GET /style.css HTTP/1.1" 200' in lines[0]
    assert '"POST /api/derive HTTP/1.1" 200' in lines[1] and '"GET /missing HTTP/1.1" 404' in lines[2]


def test_time_limit_and_a_simple_request_meanwhile():
    server = start(time_limit=3)
    try:
        assert derive(server, expression="x'*x", wrt=["x"])[0] == 200  # the fork server is up
        answers = {}

        def slow(key, expression):
            started = time.monotonic()
            answers[key] = derive(server, expression=expression, wrt=["x"]), time.monotonic() - started

        threads = [threading.Thread(target=slow, args=("slow", SLOW)),
                   threading.Thread(target=slow, args=("chain", "x'*" + "A*" * 20_000 + "x"))]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        started = time.monotonic()
        status, answer = derive(server, expression="x'*A*x", wrt=["x"])
        assert status == 200 and answer["derivatives"][0]["matrix"] == "(A + Aᵀ) x"
        assert time.monotonic() - started < 2.5 and "slow" not in answers
        for thread in threads:
            thread.join(20)
        (status, answer), seconds = answers["slow"]
        assert status == 503 and "time limit of 3 s" in answer["error"]["message"]
        assert 2.5 < seconds < 8
        (status, answer), seconds = answers["chain"]  # stopped, or refused as too deep; not hung
        assert status in (422, 503) and seconds < 8
        assert derive(server, expression="x'*x", wrt=["x"])[0] == 200  # still serving
    finally:
        stop(server)


def test_serve_prints_its_address_and_serves():
    process = subprocess.Popen([sys.executable, "-m", "tensorcalc", "serve", "--port", "0",
                                "--no-browser", "--time-limit", "5"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert "http://127.0.0.1:" in line
        port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/")
        assert connection.getresponse().status == 200
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(60)  # a loaded machine takes a while to stop the fork server
    assert process.returncode == 0
    assert '"GET / HTTP/1.1" 200' in process.stderr.read()


def test_serve_refuses_a_busy_port(server):
    done = subprocess.run([sys.executable, "-m", "tensorcalc", "serve", "--port",
                           str(server.server_address[1]), "--no-browser"],
                          capture_output=True, text=True, timeout=30, env={**os.environ})
    assert done.returncode == 2 and "cannot listen on 127.0.0.1" in done.stderr
