"""Command-line plumbing shared by the entry modules: bad input ends in one clear line, no traceback."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

from datasets import AnnotationError

# What a user's typo or a wrong path raises: an unknown model (KeyError listing the known ones),
# a missing file or root, a malformed annotation row. Anything else is a bug and keeps its traceback.
USER_ERRORS = (KeyError, FileNotFoundError, NotADirectoryError, AnnotationError)


@contextmanager
def user_errors_exit(parser: argparse.ArgumentParser) -> Iterator[None]:
    try:
        yield
    except USER_ERRORS as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        parser.exit(2, f"{parser.prog}: error: {message}\n")
