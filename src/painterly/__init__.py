"""painterly: fast neural style transfer.

Two sides, apart in the layout (docs/architecture.md): `painterly.stylize` (and `painterly.live`) never import torch
at module level; models, losses, data, training, methods and export are the torch side.
"""


class PainterlyError(Exception):
    """A user-facing error: the CLI prints its message as one line and exits non-zero."""


def first_line(error: BaseException) -> str:
    """The first line of an error's message, or its type's name when it has none: for one-line reports."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM, raised where the program was, so that `finally` blocks remove temporaries on the way out.

    `doing` says what was cut short, for the one line the CLI prints (painterly.cli.stop_on_signals).
    """

    def __init__(self, signum: int, doing: str = ""):
        super().__init__(signum, doing)
        self.signum, self.doing = signum, doing
