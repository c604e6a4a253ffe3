"""The commands: one module each, all started by painterly.cli.launch (configs/<command>.yaml)."""
