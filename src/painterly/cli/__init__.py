import sys
from contextlib import contextmanager

from painterly import PainterlyError


@contextmanager
def one_line_errors(prog: str):
    """Turn a PainterlyError into `prog: message` on stderr and exit code 1, without a traceback."""
    try:
        yield
    except PainterlyError as error:
        print(f"{prog}: {error}", file=sys.stderr)
        sys.exit(1)
