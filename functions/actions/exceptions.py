"""Errors of the actions API. Raised before anything is written or sent."""

from __future__ import annotations


class ActionError(Exception):
    """Base of every error the actions API raises on purpose."""


class InvalidAction(ActionError, ValueError):
    """The caller asked for something invalid: a bad hook name, args that are not JSON..."""


class ActionTooLarge(InvalidAction):
    """The envelope would exceed the SQS message size limit."""
