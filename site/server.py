"""`datasette` with the site's server limits: `python server.py serve ...` takes the arguments of
`datasette serve ...` and runs the same server (uvicorn, h11), bounded:

- at most MAX_CONNECTIONS connections open at once: one more is closed as soon as it opens;
- a request's line and headers must arrive within HEADER_SECONDS of its first byte (or of the
  connection's opening), else the connection is closed: half-sent requests cannot pile up
  (10 s; the environment variable SITE_HEADER_SECONDS sets another, as the suite does to wait less);
- at most MAX_HEADER_BYTES of request line and headers (h11's limit on an incomplete event);
- an idle kept-alive connection is closed after KEEP_ALIVE_SECONDS;
- requests in flight above MAX_CONNECTIONS answer 503 (uvicorn's limit_concurrency).

`datasette serve` has no options for these; this file sets them on the uvicorn it starts. The
bundle's `start` runs it (scripts/site/serve.py writes its command line); docs/site.md lists the limits.
"""

from __future__ import annotations

import os
import sys

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

MAX_CONNECTIONS = 200


def seconds_from_environment(name: str, default: float) -> float:
    """A positive number of seconds from the environment variable `name`, or `default` when unset;
    anything else stops the site before it starts, naming the variable."""
    given = os.environ.get(name)
    if not given:
        return default
    try:
        seconds = float(given)
    except ValueError:
        seconds = float("nan")
    if not seconds > 0 or seconds == float("inf"):
        sys.exit(f"error: {name}={given!r}: give a positive number of seconds (unset: {default:g})")
    return seconds


HEADER_SECONDS = seconds_from_environment("SITE_HEADER_SECONDS", 10.0)
MAX_HEADER_BYTES = 32 * 1024
KEEP_ALIVE_SECONDS = 5
BACKLOG = 256


class BoundedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a connection cap and a deadline for a request's headers."""

    headers_deadline = None

    def connection_made(self, transport):
        super().connection_made(transport)
        if len(self.connections) > MAX_CONNECTIONS:
            transport.close()
            return
        self._arm_headers_deadline()

    def _request_active(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def _arm_headers_deadline(self) -> None:
        if self.headers_deadline is None:
            self.headers_deadline = self.loop.call_later(HEADER_SECONDS, self._headers_too_slow)

    def _disarm_headers_deadline(self) -> None:
        if self.headers_deadline is not None:
            self.headers_deadline.cancel()
            self.headers_deadline = None

    def _headers_too_slow(self) -> None:
        self.headers_deadline = None
        if not self._request_active() and not self.transport.is_closing():
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._request_active():
            self._disarm_headers_deadline()
        elif not self.transport.is_closing():
            self._arm_headers_deadline()  # a request begun and not yet whole

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._disarm_headers_deadline()  # idle now: the keep-alive timeout applies

    def connection_lost(self, exc):
        self._disarm_headers_deadline()
        super().connection_lost(exc)


def bounded_run(run):
    def bounded(app, **kwargs):
        kwargs.update(http=BoundedH11Protocol, limit_concurrency=MAX_CONNECTIONS + 1, backlog=BACKLOG,
                      timeout_keep_alive=KEEP_ALIVE_SECONDS, h11_max_incomplete_event_size=MAX_HEADER_BYTES)
        return run(app, **kwargs)
    return bounded


def main(argv=None) -> None:
    uvicorn.run = bounded_run(uvicorn.run)  # datasette.cli calls uvicorn.run(app, host=..., port=...)
    from datasette.cli import cli
    cli.main(args=list(sys.argv[1:] if argv is None else argv), prog_name="datasette")


if __name__ == "__main__":
    main()
