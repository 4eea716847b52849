"""Commands beyond the core ones, each in its own module registering itself on ``generator.cli.app``."""
