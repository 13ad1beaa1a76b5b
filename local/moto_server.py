"""moto as a single-threaded in-memory server.

moto is not thread-safe; a server that handles one request at a time mirrors DynamoDB's per-request atomicity, so
concurrent clients (the concurrency tests, the local stack's threads) see a consistent store. moto runs in this
process, with the workarounds of `local.moto_workarounds` installed. In-process readers of moto's state (the local
scheduler) take `backend_access()`, which the server holds while it handles a request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from local import moto_workarounds

_BACKENDS = threading.Lock()


def backend_access() -> threading.Lock:
    """Hold it to read or change moto's in-process state between two requests (`with backend_access(): ...`)."""
    return _BACKENDS


class _Serialized:
    """The WSGI app, run under the backend lock: moto's work for a request is done when the app returns."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with _BACKENDS:
            return self._app(environ, start_response)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: object, **kwargs: object) -> None:  # one line per AWS call is noise here
        return


class SerialMotoServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        moto_workarounds.install()
        app = _Serialized(DomainDispatcherApplication(create_backend_app))
        # threaded=False: one request at a time; werkzeug then speaks HTTP/1.0, closing each connection.
        self._server: BaseWSGIServer = make_server(host, port, app, threaded=False, request_handler=_QuietHandler)
        self._server.socket.listen(256)
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> SerialMotoServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():  # shutdown() waits for serve_forever(), forever if it never started
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
