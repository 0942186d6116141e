"""Fixtures for the real-SDK conformance tests (see README.md in this folder)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import httpx
import pytest

from .harness import (
    CONFIGURATIONS,
    INPROCESS,
    InstallMissing,
    Target,
    configuration,
    install_available,
)


def configs(causes: Mapping[str, str] | None = None, *, inprocess: bool = False,
            extra: Sequence[str] = (), raises: type[BaseException] | None = None) -> list[Any]:
    """One ``pytest.param`` per configuration, for ``@pytest.mark.parametrize("target", ...,
    indirect=True)``.

    ``causes`` maps a configuration id to the exact reason that case fails today; it becomes a
    strict xfail, so the case turns into a failure ("XPASS(strict)") the moment the cause is fixed
    and the mark must be dropped. ``inprocess=True`` adds the ``layer_migrate.install()``
    configuration, expected to fail only with :class:`InstallMissing` until issue 10 lands; after
    that it carries the causes listed for ``proxy-3.0`` (same exchange flow) unless ``causes``
    names ``inprocess-3.0`` itself. ``extra`` adds further configurations by name (e.g.
    ``harness.AUTOCREATE``). ``raises`` narrows the causes' xfails to that exception.
    """
    causes = dict(causes or {})
    names = [*CONFIGURATIONS, *([INPROCESS] if inprocess else []), *extra]
    if inprocess and INPROCESS not in causes and "proxy-3.0" in causes:
        causes[INPROCESS] = causes["proxy-3.0"]
    unknown = set(causes) - set(names)
    if unknown:
        raise ValueError(f"causes for unknown configurations: {sorted(unknown)}")
    out = []
    for name in names:
        marks = []
        if name == INPROCESS:
            marks.append(pytest.mark.xfail(not install_available(), strict=True, raises=InstallMissing,
                                           reason="layer_migrate.install() not built yet — issue 10 (inprocess)"))
        if name in causes:
            marks.append(pytest.mark.xfail(strict=True, reason=causes[name], raises=raises))
        out.append(pytest.param(name, id=name, marks=marks))
    return out


@pytest.fixture(scope="module")
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """One emulator (and proxy) per configuration per test module, shared by its tests."""
    with configuration(request.param) as t:
        yield t


class Backdoor:
    """Plain HTTP straight to the emulator (never through the configuration under test): seeds the
    state a test needs and reads back what the SDK did, independently of the SDK."""

    def __init__(self, target: Target) -> None:
        self.emu = target.emulator

    def request(self, method: str, suffix: str, version: str = "3.0", **kw: Any) -> httpx.Response:
        return httpx.request(method, self.emu.url + self.emu.path(suffix), headers=self.emu.headers(version),
                             timeout=10, **kw)

    def identity(self, user_id: str, **body: Any) -> None:
        r = self.request("POST", f"/users/{user_id}/identity", json={"display_name": user_id.title(), **body})
        assert r.status_code == 201, r.text

    def get(self, suffix: str, version: str = "1.0") -> Any:
        r = self.request("GET", suffix, version)
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture
def backdoor(target: Target) -> Backdoor:
    return Backdoor(target)
