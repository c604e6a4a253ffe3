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

    `doing` says what was cut short, for the one line the CLI prints (painterly.cli.launch.stop_on_signals).
    """

    # The signals the handler raised, kept as well: C code that calls back into Python may swallow the exception.
    # PyAV's write callback catches only Exception, so it prints a KeyboardInterrupt ("Exception ignored in:
    # 'av.container.pyio.pyio_write_gil'"), drops the write and goes on.
    received: list[int] = []

    @classmethod
    def raise_if_received(cls) -> None:
        """Raise a signal again whose exception was swallowed: at a point where no callback can."""
        if cls.received:
            raise cls(cls.received[0])

    def __init__(self, signum: int, doing: str = ""):
        super().__init__(signum, doing)
        self.signum, self.doing = signum, doing
