"""The subcommands of ``painflow`` that have more than a few lines of their own."""
