"""Exceptions raised by the library. The CLI turns every ``LinkageError`` into a one-line message."""

from __future__ import annotations


class LinkageError(Exception):
    """Base class: a problem the user can fix (bad input, bad settings, bad folder)."""

    def __init__(self, message: str, hint: str | None = None):
        self.message = message
        self.hint = hint
        super().__init__(message if not hint else f"{message} ({hint})")


class SourceError(LinkageError):
    """An input table cannot be read (missing file, unknown format, malformed file, no title column)."""


class SettingsError(LinkageError):
    """A settings file is invalid. ``problems`` holds every problem, one line each."""

    def __init__(self, path: str, problems: list[str]):
        self.path = path
        self.problems = problems
        lines = "\n".join(f"{path}: {p}" for p in problems)
        super().__init__(lines)


class LabelsError(LinkageError):
    """A labels file cannot be read or resolved against the run."""


class RunFolderError(LinkageError):
    """A run folder is missing, incomplete or not writable."""
