"""A real CalDAV server for the tests: Radicale, on loopback, with a temporary storage folder."""

from __future__ import annotations

import socket
import tempfile
import threading
import time
import urllib.request
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RadicaleServer:
    """Any username with password 'secret' logs in (htpasswd, plain); each user owns their collections."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="radicale-"))
        self.port = _free_port()
        (self.folder / "users").write_text("")
        self._shutdown_ours, self._shutdown_theirs = socket.socketpair()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def add_user(self, name: str, password: str = "secret") -> None:
        with (self.folder / "users").open("a") as handle:
            handle.write(f"{name}:{password}\n")

    def start(self) -> RadicaleServer:
        import radicale.config
        import radicale.server

        config = radicale.config.load([])
        config.update({
            "server": {"hosts": f"127.0.0.1:{self.port}"},
            "auth": {"type": "htpasswd", "htpasswd_filename": str(self.folder / "users"),
                     "htpasswd_encryption": "plain", "delay": "0"},
            "storage": {"filesystem_folder": str(self.folder / "collections")},
            "rights": {"type": "owner_only"},
            "logging": {"level": "error", "mask_passwords": "True"},
        }, "test", privileged=True)
        self._thread = threading.Thread(target=radicale.server.serve, args=(config, self._shutdown_theirs),
                                        daemon=True)
        self._thread.start()
        for _ in range(100):
            try:
                urllib.request.urlopen(self.url, timeout=0.5)
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.05)
        return self

    def stop(self) -> None:
        self._shutdown_ours.sendall(b" ")
        if self._thread:
            self._thread.join(timeout=5)

    def make_calendar(self, user: str, name: str, password: str = "secret") -> str:
        """MKCALENDAR /<user>/<name>/ and return its URL."""
        import base64

        url = f"{self.url}{user}/{name}/"
        body = ('<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" '
                'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>'
                f'<D:displayname>{name.title()}</D:displayname></D:prop></D:set></C:mkcalendar>')
        request = urllib.request.Request(url, data=body.encode(), method="MKCALENDAR", headers={
            "Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode(),
            "Content-Type": "application/xml"})
        urllib.request.urlopen(request, timeout=5).read()
        return url

    def put_event(self, calendar_url: str, user: str, uid: str, ics: str, password: str = "secret") -> None:
        import base64

        request = urllib.request.Request(f"{calendar_url}{uid}.ics", data=ics.encode(), method="PUT", headers={
            "Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode(),
            "Content-Type": "text/calendar"})
        urllib.request.urlopen(request, timeout=5).read()

    def read(self, url: str, user: str, password: str = "secret") -> str | None:
        import base64

        request = urllib.request.Request(url, headers={
            "Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()})
        try:
            return urllib.request.urlopen(request, timeout=5).read().decode()
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise


def event_ics(uid: str, start: str, end: str, extra: str = "") -> str:
    """A VEVENT; start/end like 20261202T100000Z; `extra` adds lines such as RRULE or TRANSP."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//tests//EN", "BEGIN:VEVENT", f"UID:{uid}",
             "DTSTAMP:20260101T000000Z", f"DTSTART:{start}", f"DTEND:{end}", "SUMMARY:Busy"]
    lines += [line for line in extra.splitlines() if line]
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "\r\n".join(lines) + "\r\n"
