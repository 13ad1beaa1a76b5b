"""moto as a single-threaded in-memory server.

moto is not thread-safe; a server that handles one request at a time mirrors DynamoDB's per-request atomicity, so
concurrent clients (the concurrency tests, the local stack's threads) see a consistent store.
"""

from __future__ import annotations

import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: object, **kwargs: object) -> None:  # one line per AWS call is noise here
        return


class SerialMotoServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = DomainDispatcherApplication(create_backend_app)
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
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
