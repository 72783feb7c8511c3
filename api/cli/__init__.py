"""The `kendali` command: thin subcommands over the same functions the API calls."""

from api.cli.commands import main

__all__ = ["main"]
