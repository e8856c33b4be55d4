"""Who a service acts for when no person does.

Every service that acts for someone takes `actor` and checks it. Management commands and the
demo loader act for no person: they pass `SYSTEM`, which every permission check lets through
and which services never store as a user (it has no primary key)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SystemActor:
    """The command line or the demo loader, named so logs and errors can say which."""

    name: str
    is_authenticated: bool = True
    is_active: bool = True
    pk: None = None

    def __str__(self) -> str:
        return f"<system: {self.name}>"


SYSTEM = SystemActor("system")


def is_system(actor: object) -> bool:
    return isinstance(actor, SystemActor)
