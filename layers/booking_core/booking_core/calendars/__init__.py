"""Connected calendars: CalDAV (any RFC 4791 server) and Google Calendar, behind one small interface."""
