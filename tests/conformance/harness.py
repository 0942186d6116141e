"""The servers the published SDKs are pointed at, and the plumbing that points them there.

A *configuration* is one way a v1 integration can meet our code: straight at the emulator (which
answers the SDK's own 1.0), or through the real migration proxy to the emulator at 2.0 / 3.0.
:func:`configuration` starts one and yields a :class:`Target` — the plain-HTTP base URL the SDK's
traffic must reach, plus the emulator behind it (for assertions on stored state).

Both SDKs hard-code ``https://api.layer.com`` and neither takes a base URL, so the SDK code is
left alone and the *harness* redirects:

* Python (``LayerClient``): :func:`routed_to` mounts :class:`RedirectAdapter`, a ``requests``
  transport adapter (the library's public extension point), on every ``requests.Session`` — the
  SDK calls module-level ``requests.request``, which builds a fresh Session per call, so the mount
  happens in ``Session.__init__`` for the duration of a ``with`` block. Only
  ``https://api.layer.com/`` is redirected; any other host raises, so a test can never leave the
  machine.
* Node (``layer-api``): the SDK speaks real TLS (it waits for ``secureConnect`` before writing), so
  :class:`TlsFront` terminates TLS with a throw-away CA's certificate for ``api.layer.com`` and
  pipes bytes to the target; ``redirect-agent.js`` (loaded with ``node --require``) swaps
  ``https.globalAgent`` for one that dials that front and trusts that CA.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from layer_migrate.emulator import Emulator
from layer_migrate.proxy.config import ProxyConfig
from layer_migrate.proxy.serving import running

LAYER_ORIGIN = "https://api.layer.com"

#: Configuration id → upstream version the emulator is spoken to at (None = no proxy: the SDK's
#: own 1.0 straight at the emulator).
CONFIGURATIONS: dict[str, str | None] = {"direct-1.0": None, "proxy-2.0": "2.0", "proxy-3.0": "3.0"}

#: In-process migration (issue 10): ``layer_migrate.install(to="3.0", upstream=<emulator>)`` in the
#: test process instead of a proxy. Python SDKs only. Until ``install`` exists, entering
#: :meth:`Target.routing` raises :class:`InstallMissing` (the tests mark exactly that as expected).
INPROCESS = "inprocess-3.0"

#: The proxy at 3.0 with ``autocreate_users`` (R10: a v1 client's unknown user is created on the
#: fly, as the service did before 2016-06-21) — the exchange loop's response-side prerequisite,
#: exercised by LayerClient calls for users nobody created.
AUTOCREATE = "proxy-3.0-autocreate"


class InstallMissing(RuntimeError):
    """``layer_migrate.install`` is not built yet (issue 10)."""


def layerclient_source() -> Path:
    """The installed, unmodified ``LayerClient/LayerClient.py`` (for tests that copy and rewrite it,
    e.g. the codemod's end-to-end run on the real SDK, issue 15)."""
    import importlib.util

    spec = importlib.util.find_spec("LayerClient.LayerClient")
    if spec is None or spec.origin is None:
        raise RuntimeError("LayerClient==0.1.10 is not installed (pip install -e '.[test]')")
    return Path(spec.origin)


def load_sdk_copy(path: Path, module_name: str) -> ModuleType:
    """Import a (rewritten) copy of ``LayerClient.py`` from ``path`` as ``module_name``, next to
    the published one, for ``Target.sdk_module``."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def install_available() -> bool:
    import layer_migrate

    return callable(getattr(layer_migrate, "install", None))

#: Webhook retries short, as in the emulator's own test plugin (no webhooks here, but a stray
#: registration must not keep a thread busy for minutes).
EMULATOR_OPTIONS: dict[str, Any] = {"retry_base": 0.02, "retry_cap": 0.1, "max_attempts": 2,
                                    "webhook_timeout": 2.0}


@dataclass(frozen=True)
class Target:
    """Where a configuration's SDK traffic goes, and what is behind it."""

    name: str
    #: Plain-HTTP origin that receives the SDK's requests (the emulator or the proxy).
    url: str
    emulator: Emulator
    #: The version the emulator is spoken to at (what ends up stored and rendered).
    upstream_version: str
    #: The Python SDK module to drive; None = the published ``LayerClient.LayerClient``. The place
    #: for the codemod's end-to-end run (issue 15): a configuration whose Target carries the
    #: rewritten copy of :func:`layerclient_source` (imported from a temp folder) and the emulator
    #: at 3.0/2.0 as ``url`` runs every LayerClient test against the migrated code unchanged.
    sdk_module: ModuleType | None = None

    @property
    def app_id(self) -> str:
        return self.emulator.app_id

    @contextmanager
    def routing(self) -> Iterator[None]:
        """Inside the block, ``requests`` calls to api.layer.com reach this configuration."""
        if self.name != INPROCESS:
            with routed_to(self.url):
                yield
            return
        # ---- the in-process place (issue 10) -----------------------------------------------
        # No harness redirect here: the installation itself sends api.layer.com traffic to the
        # emulator (upstream=) and translates 1.0 <-> 3.0 on the way.
        import layer_migrate

        install = getattr(layer_migrate, "install", None)
        if install is None:
            raise InstallMissing("layer_migrate.install() is not built yet (issue 10)")
        with install(to="3.0", upstream=self.url):
            yield

    @property
    def token(self) -> str:
        return self.emulator.token


@contextmanager
def configuration(name: str) -> Iterator[Target]:
    """Start one emulator (and, for the proxied configurations, one proxy in front of it)."""
    if name not in CONFIGURATIONS and name not in (INPROCESS, AUTOCREATE):
        raise ValueError(f"unknown configuration {name!r}; known: {sorted(CONFIGURATIONS)}, "
                         f"{INPROCESS}, {AUTOCREATE}")
    upstream_version = "3.0" if name == AUTOCREATE else CONFIGURATIONS.get(name)
    engine_options = {"autocreate_users": True} if name == AUTOCREATE else {}
    emu = Emulator(**EMULATOR_OPTIONS)
    try:
        with emu.running():
            if name == INPROCESS:
                yield Target(name, emu.url, emu, "3.0")
                return
            if upstream_version is None:
                yield Target(name, emu.url, emu, "1.0")
                return
            config = ProxyConfig(upstream=emu.url, upstream_version=upstream_version, port=0,
                                 access_log=None, retry_backoff=0.01, engine_options=engine_options)
            with running(config) as proxy:
                yield Target(name, proxy.url, emu, upstream_version)
    finally:
        emu.close()


# --- Python: a requests transport adapter --------------------------------------------------------

class RedirectAdapter(HTTPAdapter):
    """Sends ``https://api.layer.com/...`` to ``base_url`` (same path and query); refuses the rest."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        url = request.url or ""
        if not url.startswith(LAYER_ORIGIN + "/"):
            raise RuntimeError(f"conformance harness: refusing a request to {url!r} (not the Layer API)")
        request.url = self.base_url + url[len(LAYER_ORIGIN):]
        kwargs.setdefault("timeout", 15)
        return super().send(request, **kwargs)


@contextmanager
def routed_to(base_url: str) -> Iterator[None]:
    """Inside the block, every new ``requests.Session`` sends Layer API requests to ``base_url``.

    Harness-level patch of ``Session.__init__`` (restored on exit): module-level
    ``requests.request`` offers no other seam. Not thread-safe across concurrent blocks — the
    conformance tests drive the SDK from one thread.
    """
    original = requests.Session.__init__

    def init(self: requests.Session, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.mount(LAYER_ORIGIN + "/", RedirectAdapter(base_url))

    requests.Session.__init__ = init  # type: ignore[method-assign]
    try:
        yield
    finally:
        requests.Session.__init__ = original  # type: ignore[method-assign]


# --- Node: TLS in front of a plain-HTTP target --------------------------------------------------

@dataclass(frozen=True)
class Pki:
    """A throw-away CA and a certificate for ``api.layer.com`` it signed (PEM files)."""

    ca: Path
    server: Path


def make_pki(directory: Path) -> Pki:
    import trustme

    ca = trustme.CA()
    pki = Pki(directory / "ca.pem", directory / "server.pem")
    ca.cert_pem.write_to_path(str(pki.ca))
    ca.issue_cert("api.layer.com").private_key_and_cert_chain_pem.write_to_path(str(pki.server))
    return pki


class TlsFront:
    """TLS on 127.0.0.1:<free port>, each connection piped byte for byte to ``target`` (host, port).

    Bounded: at most ``max_connections`` at once (others wait in the accept backlog), and an idle
    connection is closed after ``idle_timeout`` seconds.
    """

    def __init__(self, pki: Pki, target: tuple[str, int], *, max_connections: int = 64,
                 idle_timeout: float = 30.0) -> None:
        self.target = target
        self.idle_timeout = idle_timeout
        self._ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ssl.load_cert_chain(str(pki.server))
        self._slots = max_connections
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tls-front", daemon=True)
        self._server: asyncio.base_events.Server | None = None
        self.port = 0

    def __enter__(self) -> TlsFront:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            assert self._server is not None
            self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _start(self) -> asyncio.base_events.Server:
        self._sem = asyncio.Semaphore(self._slots)
        return await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self._ssl)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async with self._sem:
            try:
                up_reader, up_writer = await asyncio.open_connection(*self.target)
            except OSError:
                writer.close()
                return
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer),
                                 return_exceptions=True)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                chunk = await asyncio.wait_for(reader.read(65536), self.idle_timeout)
                if not chunk:
                    break
                writer.write(chunk)
                await writer.drain()
        finally:
            writer.close()
