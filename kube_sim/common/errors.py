"""Errors raised for bad input. The command line turns them into one line on stderr and exit 2."""

from __future__ import annotations


class InputError(Exception):
    """Bad user input: a missing file, malformed TOML, an unknown key, a wrong type or range.

    Attributes:
        source: The file (or ``--set``) the bad input came from, if known.
        key: The dotted key at fault, if any.
        reason: What is wrong, in a few words.
    """

    def __init__(self, reason: str, *, source: str | None = None, key: str | None = None) -> None:
        """Create the error.

        Args:
            reason: What is wrong.
            source: The file or option the input came from.
            key: The dotted key at fault.
        """
        self.reason = reason
        self.source = source
        self.key = key
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """Return the error as one line: ``source: key: reason``."""
        parts = [p for p in (self.source, self.key) if p]
        return ": ".join([*parts, self.reason])

    def located(self, source: str) -> InputError:
        """Return a copy of this error that names ``source`` (if it names none yet).

        Args:
            source: The file or option the input came from.

        Returns:
            An error of the same type naming the source.
        """
        if self.source:
            return self
        clone = type(self).__new__(type(self))
        InputError.__init__(clone, self.reason, source=source, key=self.key)
        return clone


class ParameterError(InputError):
    """A parameter key, type or value is invalid."""

    def __init__(self, key: str, reason: str, *, source: str | None = None) -> None:
        """Create the error.

        Args:
            key: The dotted parameter key.
            reason: What is wrong with it.
            source: The file or option the value came from.
        """
        super().__init__(reason, source=source, key=key)
