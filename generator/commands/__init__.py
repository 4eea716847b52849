"""The command line's shared parts (:mod:`generator.commands.base`) and the commands beyond the core
ones, each in its own module registering itself on the app."""
