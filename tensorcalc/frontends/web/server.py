"""The local web page's server: the page's static files and ``POST /api/derive``.

Standard library only (``http.server``'s threading server).  Each derivation runs in a worker
process of its own (:mod:`.worker`), ended at the time limit, so that a 20,000-factor product
or a slow Hessian cannot hang the server and a simple request answers meanwhile.  A request
reads no file: only the package's own ``static/`` files are served, by a path that must stay
inside that folder.  One log line per request.

    >>> server = DeriveServer(("127.0.0.1", 0), time_limit=10, log=None)
    >>> server.url.startswith("http://127.0.0.1:")
    True
    >>> server.server_close()
"""

from __future__ import annotations

import http.server
import json
import multiprocessing
import pathlib
import sys
import threading
import time
import urllib.parse
import webbrowser

from . import worker

STATIC = pathlib.Path(__file__).resolve().with_name("static")
MAX_BODY = 100_000  # bytes; a larger request body is answered 413
DRAIN = 16_000_000  # bytes of a too-large body read (and dropped) before the 413; above, not read
DEFAULT_TIME_LIMIT = 30.0  # seconds a derivation may run
MAX_WORKERS = 4  # derivations at once; more wait for a free worker (up to the time limit)
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".woff2": "font/woff2", ".png": "image/png",
         "": "text/plain; charset=utf-8"}  # LICENSE, README
HEADERS = {  # the page loads nothing from elsewhere; KaTeX's markup needs inline styles
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}


class DeriveServer(http.server.ThreadingHTTPServer):
    """The HTTP server; ``time_limit`` in seconds, ``log`` a text stream (None: silent)."""

    daemon_threads = True

    def __init__(self, address, time_limit: float = DEFAULT_TIME_LIMIT, log=sys.stderr):
        super().__init__(address, Handler)
        self.time_limit, self.log = time_limit, log
        self.context = multiprocessing.get_context("forkserver")
        # The fork server imports tensorcalc once; each worker then starts in milliseconds.
        self.context.set_forkserver_preload([worker.__name__])
        self.workers = threading.BoundedSemaphore(MAX_WORKERS)
        self.log_lock = threading.Lock()

    def serve_forever(self, poll_interval=0.5):
        # Start the fork server now (it imports tensorcalc once), not on the first request.
        threading.Thread(target=self._warm_up, daemon=True).start()
        super().serve_forever(poll_interval)

    def _warm_up(self):
        process = self.context.Process(target=worker.ready, daemon=True)
        process.start()
        process.join()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"

    def derive(self, options: dict) -> tuple:
        """``(status, answer)`` from a worker process, or 503 when it passes the time limit."""
        start = time.monotonic()
        if not self.workers.acquire(timeout=self.time_limit):
            return 503, _error("the server is busy with other derivations; try again", "Busy")
        try:
            receive, send = self.context.Pipe(duplex=False)
            process = self.context.Process(target=worker.answer, args=(options, send), daemon=True)
            process.start()
            send.close()
            try:
                if receive.poll(max(0.0, self.time_limit - (time.monotonic() - start))):
                    return receive.recv()
                return 503, _error(f"the derivation took longer than the time limit of "
                                   f"{self.time_limit:g} s and was stopped (tensorcalc serve "
                                   "--time-limit changes it)", "TimeLimit")
            except EOFError:  # the worker ended without an answer
                process.join(1)
                return 500, _error(f"the worker process stopped without an answer (exit status "
                                   f"{process.exitcode}; out of memory?)", "WorkerDied")
            finally:
                if process.is_alive():
                    process.kill()
                process.join()
                receive.close()
        finally:
            self.workers.release()

    def write_log(self, line: str) -> None:
        if self.log is not None:
            with self.log_lock:
                print(line, file=self.log, flush=True)


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "tensorcalc"
    timeout = 60  # seconds a client may take to send its request

    def do_GET(self):
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        if path == "/api/derive":
            return self.send_json(405, _error("use POST /api/derive with a JSON body", "Method"),
                                  {"Allow": "POST"})
        file = static_file(path)
        if file is None:
            return self.send_json(404, _error(f"no such page: {path[:200]}", "NotFound"))
        self.send_body(200, file.read_bytes(), TYPES.get(file.suffix, "application/octet-stream"))

    def do_POST(self):
        if urllib.parse.urlsplit(self.path).path != "/api/derive":
            return self.send_json(404, _error("the API is POST /api/derive", "NotFound"))
        length = self.headers.get("Content-Length", "")
        if not length.isdigit():
            return self.send_json(411, _error("a request body with a Content-Length is needed",
                                              "LengthRequired"))
        if int(length) > MAX_BODY:
            self.close_connection = True
            if int(length) <= DRAIN:  # read and dropped, so that the client reads the answer
                left = int(length)
                while left > 0 and self.rfile.read(min(1 << 16, left)):
                    left -= min(1 << 16, left)
            return self.send_json(413, _error(f"the request body has {int(length)} bytes, above "
                                              f"the limit of {MAX_BODY}", "TooLarge"))
        if self.headers.get_content_type() != "application/json":
            return self.send_json(415, _error("send the request as application/json",
                                              "ContentType"))
        try:
            options = worker.read_request(json.loads(self.rfile.read(int(length))))
        except (ValueError, UnicodeDecodeError) as error:  # bad JSON, RequestError
            return self.send_json(400, _error(f"bad request: {error}", "BadRequest"))
        self.send_json(*self.server.derive(options))

    def send_json(self, status: int, answer: dict, headers=None):
        body = json.dumps(answer, ensure_ascii=False).encode("utf-8")
        self.send_body(status, body, "application/json; charset=utf-8", headers)

    def send_body(self, status: int, body: bytes, content_type: str, headers=None):
        self.send_response(status)
        for name, value in {**HEADERS, "Content-Type": content_type,
                            "Content-Length": str(len(body)), **(headers or {})}.items():
            self.send_header(name, value)
        self._write_log()  # before the client can read the answer: the log never lags it
        self.end_headers()
        self.wfile.write(body)

    # One line per request, with its status and the time it took to answer.
    def handle_one_request(self):
        self._status, self._start = None, time.monotonic()
        super().handle_one_request()
        self._write_log()  # answers the base class sent itself (send_error)

    def _write_log(self):
        if self._status is not None:
            request = self.requestline.encode("ascii", "backslashreplace").decode("ascii")
            self.server.write_log(f"{self.address_string()} \"{request[:300]}\" {self._status} "
                                  f"{time.monotonic() - self._start:.3f}s")
            self._status = None

    def send_response(self, code, message=None):
        self._status = code
        super().send_response(code, message)

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


def static_file(path: str):
    """The file under ``static/`` that a URL path names (``/`` is the page), or None — also
    for any path that would leave the folder.

    >>> static_file("/").name, static_file("/katex/katex.min.js").name
    ('index.html', 'katex.min.js')
    >>> static_file("/../server.py"), static_file("/katex/../../worker.py"), static_file("/nothing")
    (None, None, None)
    """
    if path == "/":
        path = "/index.html"
    if "\x00" in path or "\\" in path:
        return None
    file = (STATIC / path.lstrip("/")).resolve()
    if not file.is_relative_to(STATIC) or not file.is_file():
        return None
    return file


def _error(message: str, kind: str) -> dict:
    return {"error": {"message": message, "kind": kind}}


def serve(host: str = "127.0.0.1", port: int = 8765, time_limit: float = DEFAULT_TIME_LIMIT,
          open_browser: bool = True, out=sys.stdout) -> int:
    """Serve the page until Ctrl-C; print its address when ready (``tensorcalc serve``)."""
    server = DeriveServer((host, port), time_limit=time_limit)
    try:
        print(f"tensorcalc: serving the page at {server.url} (Ctrl-C stops)", file=out, flush=True)
        if open_browser:
            threading.Thread(target=webbrowser.open, args=(server.url,), daemon=True).start()
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
