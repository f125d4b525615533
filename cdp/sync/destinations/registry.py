"""Destination name -> factory building the destination for one sync definition.

A new CRM is one module with a class implementing cdp.sync.destinations.base.Destination, plus
one line here. Modules are imported on use, so a missing optional client breaks only its sync.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from cdp.sync.destinations.base import Destination
from cdp.warehouse import ConfigError


def _load(module: str, name: str) -> Any:
    return getattr(importlib.import_module(f"cdp.sync.destinations.{module}"), name)


FACTORIES: dict[str, Callable[[Any], Destination]] = {
    "hubspot": lambda sync: _load("hubspot", "create")(sync),
    "salesforce": lambda sync: _load("salesforce", "create")(sync),
}


def create_destination(sync: Any) -> Destination:
    factory = FACTORIES.get(sync.destination)
    if factory is None:
        raise ConfigError(f"{sync.source}: sync {sync.name!r}: key 'destination': value {sync.destination!r} "
                          f"has no destination (known: {', '.join(sorted(FACTORIES))})")
    return factory(sync)
