"""The CalDAV client against servers that misbehave on purpose: XML bombs and external entities, hrefs to other
origins, metadata and private addresses, endless principal chains and oversized answers. Real HTTP on loopback."""

from __future__ import annotations

import socket
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler

import pytest

from booking_core.calendars.base import CalendarError, Credentials
from booking_core.calendars.caldav import MAX_DISCOVERY_HOPS, MAX_RESPONSE_BYTES, CalDAVProvider, parse_xml
from tests.support import base_url, serving

MULTISTATUS = ('<?xml version="1.0" encoding="utf-8"?>{doctype}<D:multistatus xmlns:D="DAV:" '
               'xmlns:C="urn:ietf:params:xml:ns:caldav">{responses}</D:multistatus>')


def calendar_response(href: str, name: str) -> str:
    return (f"<D:response><D:href>{href}</D:href><D:propstat><D:prop><D:resourcetype><D:collection/><C:calendar/>"
            f"</D:resourcetype><D:displayname>{name}</D:displayname></D:prop></D:propstat></D:response>")


def home_response(home_href: str) -> str:
    return (f"<D:response><D:href>/</D:href><D:propstat><D:prop><C:calendar-home-set><D:href>{home_href}</D:href>"
            "</C:calendar-home-set></D:prop></D:propstat></D:response>")


class Hostile(BaseHTTPRequestHandler):
    """Answers PROPFIND with whatever the test put in `answers` for the path (else a home set pointing at /home/)."""

    answers: dict[str, bytes] = {}
    requests: list[tuple[str, str, str | None]] = []  # (method, path, Authorization)

    def log_message(self, *args):  # noqa: D102
        return

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        Hostile.requests.append((self.command, self.path, self.headers.get("Authorization")))
        home = MULTISTATUS.format(doctype="", responses=home_response("/home/")).encode()
        body = Hostile.answers.get(self.path, home)
        self.send_response(207)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_PROPFIND = do_REPORT = do_PUT = do_DELETE = _answer  # noqa: N815


class Bystander(BaseHTTPRequestHandler):
    """Another origin: it must never be asked anything (and so never see the password)."""

    requests: list[str] = []

    def log_message(self, *args):  # noqa: D102
        return

    def do_PROPFIND(self):  # noqa: N802
        Bystander.requests.append(self.path)
        self.send_response(207)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def hostile():
    Hostile.answers, Hostile.requests, Bystander.requests = {}, [], []
    with serving(Hostile) as server:
        yield base_url(server)


@pytest.fixture
def bystander():
    with serving(Bystander) as server:
        yield base_url(server)


def creds(url: str) -> Credentials:
    return Credentials({"url": url, "username": "alice", "password": "secret"})


def provider(**options) -> CalDAVProvider:
    return CalDAVProvider(timeout=2, allow_private=True, **options)


BILLION_LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + "".join(f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">'
                            for n in range(1, 10))
                  + "]>")


def test_an_entity_expansion_bomb_is_refused(hostile):
    Hostile.answers["/home/"] = MULTISTATUS.format(
        doctype=BILLION_LAUGHS, responses=calendar_response("/home/work/", "&lol9;")).encode()
    with pytest.raises(CalendarError, match="does not parse"):
        provider().list_calendars(creds(hostile))


def test_even_a_small_internal_entity_is_not_expanded(hostile):
    """The standard library would expand this into the calendar's name; the client refuses any DTD."""
    Hostile.answers["/home/"] = MULTISTATUS.format(
        doctype='<!DOCTYPE d [<!ENTITY name "Expanded">]>',
        responses=calendar_response("/home/work/", "&name;")).encode()
    with pytest.raises(CalendarError, match="does not parse"):
        provider().list_calendars(creds(hostile))


def test_an_external_entity_is_refused(hostile):
    Hostile.answers["/home/"] = MULTISTATUS.format(
        doctype='<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>',
        responses=calendar_response("/home/work/", "&xxe;")).encode()
    with pytest.raises(CalendarError, match="does not parse"):
        provider().list_calendars(creds(hostile))
    with pytest.raises(CalendarError):
        parse_xml(b'<?xml version="1.0"?><!DOCTYPE d SYSTEM "http://127.0.0.1:9/evil.dtd"><d/>')


def test_a_well_behaved_answer_still_lists_its_calendars(hostile):
    Hostile.answers["/home/"] = MULTISTATUS.format(
        doctype="", responses=calendar_response("/home/work/", "Work") + calendar_response("/home/play/", "Play")
    ).encode()
    calendars = provider().list_calendars(creds(hostile))
    assert sorted((c.external_id, c.name) for c in calendars) == [(f"{hostile}/home/play/", "Play"),
                                                                  (f"{hostile}/home/work/", "Work")]


def test_a_home_on_another_origin_is_refused_and_never_contacted(hostile, bystander):
    Hostile.answers["/"] = MULTISTATUS.format(doctype="", responses=home_response(f"{bystander}/home/")).encode()
    with pytest.raises(CalendarError, match="another origin"):
        provider().list_calendars(creds(f"{hostile}/"))
    assert Bystander.requests == []


def test_a_calendar_href_on_another_origin_is_refused(hostile, bystander):
    port = int(hostile.rsplit(":", 1)[1])
    for other in (f"{bystander}/cal/", f"https://127.0.0.1:{port}/cal/", "http://localhost/cal/"):
        Hostile.answers["/home/"] = MULTISTATUS.format(
            doctype="", responses=calendar_response("/home/work/", "Work") + calendar_response(other, "Elsewhere")
        ).encode()
        with pytest.raises(CalendarError, match="another origin"):
            provider().list_calendars(creds(hostile))
    assert Bystander.requests == []


def test_stored_calendar_urls_are_checked_for_the_origin_before_every_request(hostile, bystander):
    start, end = datetime(2027, 12, 1, tzinfo=timezone.utc), datetime(2027, 12, 2, tzinfo=timezone.utc)
    with pytest.raises(CalendarError, match="another origin"):
        provider().busy_times(creds(hostile), [f"{bystander}/cal/"], start, end, 2)
    assert Bystander.requests == [] and Hostile.requests == []


def test_endless_principal_chains_stop(hostile):
    for hop in range(10):
        Hostile.answers[f"/p{hop}/"] = MULTISTATUS.format(doctype="", responses=(
            f"<D:response><D:href>/p{hop}/</D:href><D:propstat><D:prop><D:current-user-principal>"
            f"<D:href>/p{hop + 1}/</D:href></D:current-user-principal></D:prop></D:propstat></D:response>")).encode()
    with pytest.raises(CalendarError, match="other principals"):
        provider().list_calendars(creds(f"{hostile}/p0/"))
    assert len(Hostile.requests) == MAX_DISCOVERY_HOPS + 1


def test_an_oversized_answer_is_refused(hostile):
    Hostile.answers["/home/"] = MULTISTATUS.format(
        doctype="", responses="<!--" + "x" * MAX_RESPONSE_BYTES + "-->").encode()
    with pytest.raises(CalendarError, match="larger than"):
        provider().list_calendars(creds(hostile))


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/",  # instance metadata
    "http://[fd00:ec2::254]/latest/",  # the same over IPv6
    "http://0xa9fea9fe/",  # metadata written as one hex number
    "http://169.254.10.10:8080/",  # link-local
])
def test_metadata_and_link_local_servers_are_refused_even_where_private_targets_are_allowed(url):
    with pytest.raises(CalendarError, match="refused server address"):
        provider().list_calendars(creds(url))


def test_a_name_that_resolves_to_the_metadata_address_is_refused():
    def resolve(host, port, **_):
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("169.254.169.254", port))]

    with pytest.raises(CalendarError, match="metadata"):
        provider(resolve=resolve).list_calendars(creds("https://calendar.example.com/dav/"))


def test_loopback_is_refused_where_the_deployment_does_not_allow_private_targets(hostile):
    with pytest.raises(CalendarError, match="loopback"):
        CalDAVProvider(timeout=2, allow_private=False).list_calendars(creds(hostile))
    assert Hostile.requests == []


def test_connecting_a_metadata_url_through_the_api_is_a_400(api):
    host = api.host("Metadata Host")
    reply = api.call("POST", f"/v2/users/{host['id']}/calendars",
                     {"type": "caldav", "url": "http://169.254.169.254/latest/", "username": "u", "password": "p"},
                     admin=True)
    assert reply.status == 400 and reply.code == "request_body_invalid_error"
    [error] = reply.body["error"]["details"]["errors"]
    assert error["field"] == "url" and "metadata" in error["message"]
