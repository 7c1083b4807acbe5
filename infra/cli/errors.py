"""The CLI's own error: a message for the operator, printed on one line, no traceback."""

from __future__ import annotations


class CliError(Exception):
    """Something the operator can fix: missing configuration, an unknown action..."""
