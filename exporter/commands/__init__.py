"""One module per ``runner-watchdog`` subcommand group, registered by name in
``exporter.cli.SUBCOMMANDS``."""
