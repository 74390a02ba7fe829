"""Serve a built site on 127.0.0.1 for the browser tests, screenshots and the benchmark."""

from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class _PrecompressedHandler(_QuietHandler):
    """Serves ``page.html.br`` or ``page.html.gz`` (written by the build, see
    :mod:`handbook_tools.compress`) for ``page.html`` when the client accepts the encoding,
    with ``Content-Encoding`` and the original's type, as static hosts do."""

    def send_head(self) -> Any:
        path = self.translate_path(self.path)
        if os.path.isdir(path) and self.path.split("?", 1)[0].endswith("/"):
            path = os.path.join(path, "index.html")
        accepted = {part.split(";", 1)[0].strip()
                    for part in self.headers.get("Accept-Encoding", "").split(",")}
        for suffix, encoding in ((".br", "br"), (".gz", "gzip")):
            if encoding in accepted and os.path.isfile(path + suffix):
                return self._send_encoded(path, suffix, encoding)
        return super().send_head()

    def _send_encoded(self, path: str, suffix: str, encoding: str) -> Any:
        f = open(path + suffix, "rb")  # noqa: SIM115 - closed by copyfile's caller
        size = os.fstat(f.fileno()).st_size
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Encoding", encoding)
        self.send_header("Content-Length", str(size))
        self.send_header("Vary", "Accept-Encoding")
        self.end_headers()
        return f


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A browser that closes a connection early (a cancelled load, a page left before
        its last request ended) is not an error of the server: no traceback for it."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def serve_folder(root: Path, precompressed: bool = False) -> Iterator[str]:
    """Serve ``root`` on a free port of 127.0.0.1 in a thread; yield its base URL. With
    ``precompressed``, send the build's ``.br``/``.gz`` copies to clients that accept them."""
    handler = _PrecompressedHandler if precompressed else _QuietHandler
    httpd = _Server(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
