"""The two errors a sub-command raises; :func:`.main.main` prints either as one line on stderr."""

from __future__ import annotations


class CLIError(Exception):
    """A usage error: printed as one line, exit status 2."""

    status = 2


class CommandFailedError(CLIError):
    """A well-formed command that failed (bad file, diverged run, missing dependency): exit status 1."""

    status = 1
