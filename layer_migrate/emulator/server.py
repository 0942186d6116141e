"""Running the emulator: in a background thread for tests, or in the foreground for the CLI.

One uvicorn worker on one event loop (handlers are synchronous and short; SQLite behind a lock),
which is what keeps concurrent writes from interleaving — and fast enough for a proxy soak at
concurrency 64 (see ``bench/emulator.py``).
"""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import uvicorn

from .app import EmulatorApp
from .store import Store
from .transport import (
    DEFAULT_BODY_TIMEOUT,
    DEFAULT_HEADER_TIMEOUT,
    DEFAULT_MAX_HEADER_BYTES,
    DEFAULT_MAX_REQUEST_LINE,
    guarded_protocol,
)

EMULATOR_APP_ID = "00000000-0000-4000-8000-00000000a991"
DEFAULT_TOKEN = "emulator-token"


class _Server(uvicorn.Server):
    """uvicorn re-raises a captured SIGINT/SIGTERM after shutting down (so the default handler
    kills the process); the emulator's CLI wants a clean exit status 0 instead."""

    def handle_exit(self, sig: int, frame: Any) -> None:
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        else:
            self.should_exit = True


class Emulator:
    """A strict local Layer Platform API (1.0, 1.1, 2.0, 3.0).

    >>> with Emulator().running() as emu:          # doctest: +SKIP
    ...     emu.url, emu.app_id, emu.token
    ...     emu.store.messages()

    Options that the spec leaves open (all INFERRED, see module docstrings):
    ``lenient`` (accept the undocumented v1 shapes at 2.0+), ``distinct_default``,
    ``max_participants``, ``base_url`` (the host rendered into ``url`` fields),
    ``enforce_blocks`` (participant_blocked on create/add), ``distinct_location`` (``Location``
    on a distinct 200), ``system_unread_fields`` (``"null"`` or ``"strip"`` the system-perspective
    ``received_at``/``is_unread``), ``retry_base``/``retry_cap``/``max_attempts``/
    ``webhook_timeout`` (webhook delivery).

    ``as_of`` (a :class:`datetime.date`) emulates the service at that date: every dated line of
    the change log follows it (``timeline.py``; default: the latest behaviour). ``faults`` turns
    on failure paths (``settings.FAULTS``); ``clock`` replaces ``time.time`` (delayed messages).
    Connection limits (transport.py): ``max_header_bytes`` (16 KiB) and ``max_request_line``
    (8 KiB) → 431; ``header_timeout`` (10 s), ``body_timeout`` (30 s) and ``timeout_keep_alive``
    (30 s) close idle and slow connections.
    """

    def __init__(self, *, lenient: bool = False, token: str = DEFAULT_TOKEN, db: str | None = None,
                 app_id: str = EMULATOR_APP_ID, host: str = "127.0.0.1", port: int = 0,
                 base_url: str = "https://api.layer.com", max_body: int = 1024 * 1024,
                 distinct_default: bool = True, max_participants: int = 25,
                 retry_base: float = 1.0, retry_cap: float = 300.0, max_attempts: int = 12,
                 webhook_timeout: float = 5.0, enforce_blocks: bool = True, distinct_location: bool = False,
                 system_unread_fields: str = "null", log_level: str = "warning", as_of: date | None = None,
                 faults: set[str] | frozenset[str] | None = None, clock: Callable[[], float] | None = None,
                 max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
                 max_request_line: int = DEFAULT_MAX_REQUEST_LINE,
                 header_timeout: float = DEFAULT_HEADER_TIMEOUT, body_timeout: float = DEFAULT_BODY_TIMEOUT,
                 timeout_keep_alive: float = 30.0) -> None:
        self.app_id = app_id
        self.token = token
        self.lenient = lenient
        self.host = host
        self.port = port
        self.db = db
        self.log_level = log_level
        self.store = Store(db)
        self.app = EmulatorApp(self.store, app_id=app_id, token=token, lenient=lenient, base_url=base_url,
                               max_body=max_body, distinct_default=distinct_default,
                               max_participants=max_participants, retry_base=retry_base, retry_cap=retry_cap,
                               max_attempts=max_attempts, webhook_timeout=webhook_timeout,
                               enforce_blocks=enforce_blocks, distinct_location=distinct_location,
                               system_unread_fields=system_unread_fields, as_of=as_of, faults=faults,
                               clock=clock)
        self.as_of = as_of
        self.protocol = guarded_protocol(max_header_bytes=max_header_bytes, max_request_line=max_request_line,
                                         header_timeout=header_timeout, body_timeout=body_timeout)
        self.timeout_keep_alive = timeout_keep_alive
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def headers(self, version: str = "3.0", **extra: str) -> dict[str, str]:
        """Authorization + Accept for ``version`` (convenience for tests and scripts)."""
        out = {"Authorization": f"Bearer {self.token}",
               "Accept": f"application/vnd.layer+json; version={version}"}
        out.update(extra)
        return out

    def path(self, suffix: str = "") -> str:
        """``/apps/<app_id>`` + ``suffix``."""
        return f"/apps/{self.app_id}{suffix}"

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(2048)
        sock.set_inheritable(True)
        self.port = sock.getsockname()[1]
        self.app.local_url = self.url
        return sock

    def _config(self) -> uvicorn.Config:
        # uvicorn annotates timeout_keep_alive as int but hands it to loop.call_later, which takes
        # fractions of a second (tests close idle connections after 0.5 s).
        return uvicorn.Config(self.app, log_level=self.log_level, access_log=False, lifespan="on",
                              backlog=2048, timeout_keep_alive=self.timeout_keep_alive,  # type: ignore[arg-type]
                              http=self.protocol)

    def start(self) -> Emulator:
        """Serve in a daemon thread; returns once the socket accepts connections."""
        if self._thread is not None:
            raise RuntimeError("emulator already running")
        self._sock = self._bind()
        self._server = uvicorn.Server(self._config())
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]},
                                        name=f"layer-emulator:{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("emulator failed to start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Stop serving (the store stays readable until :meth:`close`)."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        if self._sock is not None:
            self._sock.close()
        self._server = self._thread = self._sock = None

    def close(self) -> None:
        self.stop()
        self.store.close()

    @contextmanager
    def running(self) -> Iterator[Emulator]:
        """``with Emulator().running() as emu:`` — a free loopback port unless ``port`` was given."""
        self.start()
        try:
            yield self
        finally:
            self.stop()

    def serve_forever(self, on_ready: Callable[[Emulator], None] | None = None) -> None:
        """Foreground serving for the CLI; uvicorn handles SIGINT/SIGTERM and stops cleanly."""
        sock = self._bind()
        server = _Server(self._config())
        if on_ready is not None:
            on_ready(self)
        try:
            server.run(sockets=[sock])
        finally:
            sock.close()
            self.store.close()

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0, interval: float = 0.01) -> Any:
        """Poll ``predicate`` until it returns something truthy (webhook deliveries are async)."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met within {timeout}s")
            time.sleep(interval)
