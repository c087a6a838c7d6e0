"""Errors that mean "the user asked for something that cannot be done": the CLI prints them as one line."""


class UserError(ValueError):
    """A refusal with a message that names the problem (bad config, missing input, not a store, ...)."""
