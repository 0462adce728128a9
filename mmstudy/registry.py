"""Case-insensitive registries with "did you mean" errors (models, imputers, extractors, metrics)."""
from __future__ import annotations

import difflib
from typing import Callable, Generic, Iterator, TypeVar

T = TypeVar("T")


class UnknownNameError(KeyError):
    """An unknown registry name; the message lists the closest known names."""

    def __str__(self) -> str:  # KeyError quotes its message; show it plainly
        return str(self.args[0])


class Registry(Generic[T]):
    """Maps case-insensitive names to objects; unknown names raise `UnknownNameError`."""

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}
        self._display: dict[str, str] = {}

    def register(self, name: str, *aliases: str) -> Callable[[T], T]:
        def decorator(obj: T) -> T:
            self.add(name, obj, *aliases)
            return obj
        return decorator

    def add(self, name: str, obj: T, *aliases: str, replace: bool = False) -> None:
        """Register `obj` under `name` and `aliases`; a name taken by another object is an error
        unless `replace`."""
        for alias in (name, *aliases):
            key = alias.lower()
            if key in self._items and self._items[key] is not obj and not replace:
                raise ValueError(f"{self.kind} {alias!r} is already registered")
            self._items[key] = obj
            self._display[key] = name

    def get(self, name: str) -> T:
        key = str(name).lower()
        if key not in self._items:
            raise UnknownNameError(self.unknown_message(name))
        return self._items[key]

    def canonical(self, name: str) -> str:
        self.get(name)
        return self._display[str(name).lower()]

    def unknown_message(self, name: str) -> str:
        close = difflib.get_close_matches(str(name).lower(), list(self._items), n=6, cutoff=0.5)
        suggestions = list(dict.fromkeys(self._display[c] for c in close))[:3]
        hint = f" Did you mean {', '.join(repr(c) for c in suggestions)}?" if suggestions else ""
        return f"unknown {self.kind} {name!r}.{hint} Known: {', '.join(self.names())}."

    def names(self) -> list[str]:
        return sorted(set(self._display.values()), key=str.lower)

    def __contains__(self, name: object) -> bool:
        return str(name).lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
