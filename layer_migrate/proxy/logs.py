"""One logging setup for every line the proxy process writes: ours, uvicorn's and aiohttp's.

Everything goes through stdlib :mod:`logging`, so one formatter decides the shape of every line:
``--log-format json`` (default) writes one JSON object per line with ``time`` (ISO-8601, UTC),
``level``, ``logger``, ``message``, ``request_id`` and the record's structured fields (the access
record's ``method``, ``path``, ``status``…); ``text`` writes the same as ``key=value`` text for a
terminal.

The event loop never writes: records go through a :class:`logging.handlers.QueueHandler` to a
writer thread (:class:`_Writer`) that formats and writes each one as it comes — no batching delay
beyond that hand-off. Access and report records
(one per request) skip the :class:`logging.LogRecord` machinery when their destination is one of
these JSON sinks: :func:`json_line` builds the very line :class:`JsonFormatter` would and
:func:`line_sink` hands it to the sink's queue (issue 14: a ``LogRecord`` plus its formatting
cost the logged proxy ≈ 190 k instructions per request, more than the whole translation). Files are opened with
:class:`~logging.handlers.WatchedFileHandler` (reopened when logrotate moves them) and ``SIGHUP``
reopens them too, so ``postrotate kill -HUP`` works as well as ``copytruncate``-free rotation.

The request id lives in a :class:`contextvars.ContextVar` set per request by the app, so a line
any library logs while serving that request carries it.
"""

from __future__ import annotations

import atexit
import contextvars
import logging
import logging.handlers
import os
import queue
import re
import signal
import sys
import threading
from datetime import datetime, timezone
from typing import Any, Literal

import orjson

LogFormat = Literal["json", "text"]

#: The id of the request being served (``X-Request-Id``), for every line logged while serving it.
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("layer_migrate_request_id",
                                                                       default=None)

#: A client's ``X-Request-Id`` is kept when it is short and plain; anything else is replaced, so
#: a header cannot inject text into log lines or upstream requests.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")

#: LogRecord attributes that are not structured fields of ours.
_STD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime",
                                                                           "request_id", "fields"}


def request_id_from(header: str | None) -> str:
    """The client's id when acceptable, else a fresh one: 128 random bits as 32 hex digits
    (``os.urandom`` directly — ``uuid4().hex`` is the same randomness plus a UUID object,
    ≈ 1.5 µs per request on the proxy's hot path)."""
    if header and _SAFE_ID.match(header):
        return header
    return os.urandom(16).hex()


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


_second: list[Any] = [-1, ""]  # [whole second, its "YYYY-MM-DDTHH:MM:SS" text]
_HEAD = frozenset({"time", "level", "logger", "message", "request_id"})


def _iso_fast(ts: float) -> str:
    """:func:`_iso` (to the millisecond, truncated) with the date-time text reused within one
    second: the hot path logs thousands of lines per second."""
    whole = int(ts)
    us = round((ts - whole) * 1e6)  # datetime's rounding, then isoformat's truncation
    if us >= 1_000_000 or ts < 0:
        return _iso(ts)
    if _second[0] != whole:
        _second[1] = datetime.fromtimestamp(whole, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        _second[0] = whole
    return f"{_second[1]}.{us // 1000:03d}Z"


def _document(created: float, level: str, logger: str, message: str, request_id: str | None,
              fields: dict[str, Any]) -> dict[str, Any]:
    """One JSON log object: the five head keys first (they win over fields of the same name)."""
    doc: dict[str, Any] = {"time": _iso_fast(created), "level": level, "logger": logger,
                           "message": message, "request_id": request_id}
    if _HEAD.isdisjoint(fields):
        doc.update(fields)
    else:
        for k, v in fields.items():
            doc.setdefault(k, v)
    return doc


def json_line(logger: str, message: str, request_id: str | None, fields: dict[str, Any],
              created: float) -> str:
    """The line :class:`JsonFormatter` writes for an INFO record of ``logger`` with
    ``extra={"fields": fields, "request_id": request_id}`` created at ``created``."""
    return orjson.dumps(_document(created, "info", logger, message, request_id, fields),
                        default=str).decode()


class _Line:
    """A line formatted already (:func:`json_line`), queued to a sink like a record."""

    __slots__ = ("line",)
    # what logging's error path reads if writing fails (Handler.handleError)
    msg, args, exc_info, levelno = "pre-formatted line", (), None, logging.INFO

    def __init__(self, line: str) -> None:
        self.line = line


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = getattr(record, "fields", None)
    out: dict[str, Any] = dict(fields) if isinstance(fields, dict) else {}
    for k, v in record.__dict__.items():  # ``extra={...}`` of other libraries
        if k not in _STD and k not in out and not k.startswith("_"):
            out[k] = v
    return out


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, then the fields."""

    def format(self, record: logging.LogRecord) -> str:
        if type(record) is _Line:
            return record.line  # type: ignore[attr-defined]
        doc = _document(record.created, record.levelname.lower(), record.name, record.getMessage(),
                        getattr(record, "request_id", None), _fields(record))
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(doc, default=str).decode()


class TextFormatter(logging.Formatter):
    """``time level logger [request id] message key=value…`` for people reading a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        rid = getattr(record, "request_id", None)
        parts = [_iso(record.created), record.levelname.lower(), record.name]
        if rid:
            parts.append(f"[{rid}]")
        parts.append(record.getMessage())
        for k, v in _fields(record).items():
            if v is not None and v != [] and k not in ("ts", "kind"):
                parts.append(f"{k}={orjson.dumps(v, default=str).decode() if not isinstance(v, str) else v}")
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class _RequestIdFilter(logging.Filter):
    """Stamp the current request id on a record in the thread that logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        return True


class _InProcessQueueHandler(logging.handlers.QueueHandler):
    """A QueueHandler that hands the record over as it is: formatting happens in the listener
    thread, off the event loop (the stock ``prepare`` formats in the caller)."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


def _target_handler(target: str) -> logging.Handler:
    if target == "-":
        return logging.StreamHandler(sys.stderr)
    return logging.handlers.WatchedFileHandler(target, encoding="utf-8", delay=False)


#: Most pre-formatted lines one write carries.
MAX_BATCH = 512


class _Writer:
    """The thread behind one sink: takes records and pre-formatted lines off the queue in order
    and hands each to the sink's handler, which formats (a :class:`_Line` formats to itself),
    reopens a file closed or rotated under it, writes and flushes."""

    _STOP = object()

    def __init__(self, q: queue.SimpleQueue[Any], out: logging.Handler) -> None:
        self.queue, self.out = q, out
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="layer-migrate-log", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Write everything queued so far, then end the thread (a no-op when not running)."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self.queue.put(self._STOP)
        thread.join()

    def _run(self) -> None:
        q, out = self.queue, self.out
        item = q.get()
        while item is not self._STOP:
            if type(item) is not _Line:
                out.handle(item)
                item = q.get()
                continue
            # Lines queued meanwhile (a busy proxy) go out as one write: one rotation check,
            # one flush, for up to MAX_BATCH of them; a record or the stop ends the batch.
            lines, nxt = [item.line], None
            while len(lines) < MAX_BATCH:
                try:
                    nxt = q.get_nowait()
                except queue.Empty:
                    nxt = None
                    break
                if type(nxt) is not _Line:
                    break
                lines.append(nxt.line)
                nxt = None
            out.handle(item if len(lines) == 1 else _Line("\n".join(lines)))  # type: ignore[arg-type]
            item = nxt if nxt is not None else q.get()


class _Sink:
    """A queue + writer thread in front of one output (stderr or a file)."""

    def __init__(self, target: str, formatter: logging.Formatter) -> None:
        self.target = target
        self.out = _target_handler(target)
        self.out.setFormatter(formatter)
        self.json = isinstance(formatter, JsonFormatter)
        self.queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.handler = _InProcessQueueHandler(self.queue)  # type: ignore[arg-type]
        self.handler.addFilter(_RequestIdFilter())
        self.listener = _Writer(self.queue, self.out)
        self.listener.start()

    def put_line(self, line: str) -> None:
        """Queue a line :func:`json_line` made (JSON sinks only), in order with the records."""
        self.queue.put(_Line(line))

    def reopen(self) -> None:
        if isinstance(self.out, logging.FileHandler):
            self.out.acquire()
            try:
                if self.out.stream:
                    self.out.stream.close()
                self.out.stream = self.out._open()
            finally:
                self.out.release()

    def drain(self) -> None:
        """Return once every record handed over so far is written (stop + restart the thread)."""
        if not self.listener.running:  # stopped already
            return
        self.listener.stop()
        self.out.flush()
        self.listener.start()

    def stop(self) -> None:
        self.listener.stop()  # drains the queue
        self.out.close()


_lock = threading.Lock()
_sinks: list[_Sink] = []
_root_sink: _Sink | None = None


def formatter_for(fmt: LogFormat) -> logging.Formatter:
    return JsonFormatter() if fmt == "json" else TextFormatter()


def setup(level: str = "info", fmt: LogFormat = "json", file: str | None = None) -> None:
    """Route every logger of the process (root, uvicorn, aiohttp) to one sink with one format.

    Idempotent: a second call replaces the first (the CLI calls it, then each worker's app
    factory with the same settings).
    """
    global _root_sink
    with _lock:
        root = logging.getLogger()
        if _root_sink is not None:
            root.removeHandler(_root_sink.handler)
            _root_sink.stop()
            _sinks.remove(_root_sink)
        sink = _root_sink = _Sink(file or "-", formatter_for(fmt))
        _sinks.append(sink)
        for h in list(root.handlers):
            root.removeHandler(h)
        root.addHandler(sink.handler)
        root.setLevel(level.upper())
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "aiohttp", "aiohttp.access",
                     "aiohttp.client", "aiohttp.server", "asyncio", "layer_migrate"):
            lg = logging.getLogger(name)
            for h in list(lg.handlers):
                lg.removeHandler(h)
            lg.propagate = True
            lg.setLevel(logging.NOTSET)
        # uvicorn's own access lines would duplicate ours (and carry query strings): off.
        logging.getLogger("uvicorn.access").disabled = True
    _install_sighup()


def record_logger(name: str, target: str, fmt: LogFormat = "json") -> tuple[logging.Logger, _Sink | None]:
    """A logger for structured records (access log, report log).

    ``target`` ``"-"``: records join the process log (whatever :func:`setup` configured, or the
    test runner's handlers); a path: a file of their own in ``fmt`` (JSON for report logs, which
    ``proxy report`` reads). Access records are INFO and written whatever ``--log-level`` says.
    """
    lg = logging.getLogger(name)
    lg.setLevel(logging.INFO)
    for h in list(lg.handlers):
        lg.removeHandler(h)
    if target == "-":
        lg.propagate = True
        if not logging.getLogger().handlers:  # not configured by setup(): stderr, our format
            sink = _Sink("-", formatter_for(fmt))
            with _lock:
                _sinks.append(sink)
            lg.addHandler(sink.handler)
            lg.propagate = False
            return lg, sink
        return lg, None
    from pathlib import Path

    Path(target).parent.mkdir(parents=True, exist_ok=True)
    sink = _Sink(target, formatter_for(fmt))
    with _lock:
        _sinks.append(sink)
    lg.addHandler(sink.handler)
    lg.propagate = False
    return lg, sink


def line_sink(lg: logging.Logger) -> _Sink | None:
    """The JSON sink an INFO record of ``lg`` would reach as its one destination, or None
    (text format, foreign handlers such as a test runner's, filters, logging disabled): callers
    with a ready :func:`json_line` may then :meth:`~_Sink.put_line` it instead of logging."""
    if lg.filters or lg.disabled or not lg.isEnabledFor(logging.INFO):
        return None
    handlers: list[logging.Handler] = []
    node: logging.Logger | None = lg
    while node is not None:  # the handlers Logger.callHandlers would reach
        handlers.extend(node.handlers)
        node = node.parent if node.propagate else None
    if len(handlers) != 1:
        return None
    for sink in _sinks:
        if sink.handler is handlers[0]:
            return sink if sink.json and not sink.handler.level > logging.INFO else None
    return None


def close_sink(lg: logging.Logger, sink: _Sink | None) -> None:
    """Detach and drain a sink returned by :func:`record_logger`."""
    if sink is None:
        return
    lg.removeHandler(sink.handler)
    sink.stop()
    with _lock:
        if sink in _sinks:
            _sinks.remove(sink)


def reopen_all() -> None:
    """Reopen every log file (SIGHUP after an external rotation)."""
    with _lock:
        for sink in list(_sinks):
            sink.reopen()


def _install_sighup() -> None:
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGHUP"):
        return
    try:
        signal.signal(signal.SIGHUP, lambda *_: reopen_all())
    except ValueError:  # pragma: no cover - not the main interpreter
        pass


@atexit.register
def _drain() -> None:
    with _lock:
        sinks = list(_sinks)
    for sink in sinks:
        try:
            sink.listener.stop()
        except AttributeError:
            pass
