"""The typed errors every front end turns into a one-line message and exit code 1."""


class ICPError(Exception):
    """Base of every error a user can act on; the message is shown as is."""


class NotFound(ICPError):
    """A session, profile version or file does not exist."""


class StoreError(ICPError):
    """The database is missing, damaged, locked or from a newer release."""


class InputError(ICPError):
    """Input that cannot be used: a bad flag value, a malformed JSON line, a bad file."""


class RenderError(ICPError):
    """A report or export could not be written."""


class SessionBusy(ICPError):
    """Another process (or browser tab's server) is writing this interview right now."""
