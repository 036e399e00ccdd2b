"""A static server for the benchmark: gzip for text, as a real host sends it, and a count of the
bytes each request put on the wire, so a page's transfer size is measured, not estimated."""
from __future__ import annotations

import functools
import gzip
import io
import os
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

TEXT = (".html", ".css", ".js", ".json", ".xml", ".svg", ".txt", ".mjs")


class _Handler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def send_head(self):
        path = self.translate_path(self.path)
        if os.path.isdir(path) and self.path.split("?")[0].endswith("/"):
            path = os.path.join(path, "index.html")
        if not os.path.isfile(path):
            return super().send_head()  # redirects and 404s carry no page weight
        body = Path(path).read_bytes()
        gzipped = path.endswith(TEXT) and "gzip" in self.headers.get("Accept-Encoding", "")
        if gzipped:
            body = gzip.compress(body, 6)
        self.server.sent.append((self.path, len(body)))
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(path))
        if gzipped:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


class GzipServer(ThreadingHTTPServer):
    """Serves `root` on 127.0.0.1 (port 0: any free port) from a background thread."""

    def __init__(self, root: Path, port: int = 0):
        super().__init__(("127.0.0.1", port), functools.partial(_Handler, directory=str(root)))
        self.sent: list[tuple[str, int]] = []  # (path, body bytes) of every response
        self.url = f"http://127.0.0.1:{self.server_address[1]}/"

    def __enter__(self):
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()
