"""Bad-input errors, the command-line wrapper that turns them into exit status 2, atomic writes."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

EXIT_BAD_INPUT = 2


class InputError(Exception):
    """Bad input: the message is one line naming the file and the problem."""


def run_cli(main: Callable[[list[str] | None], int | None], argv: list[str] | None = None) -> int:
    """Run a script's ``main``; an InputError becomes one ``error:`` line and exit status 2."""
    try:
        return int(main(argv) or 0)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def check_writable(path: str | os.PathLike, force: bool = False) -> Path:
    """Refuse to overwrite an existing output unless ``force``; return the path."""
    path = Path(path)
    if path.exists() and not force:
        raise InputError(f"{path}: already exists (use --force to overwrite)")
    return path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, force: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds.

    The temporary name keeps the final suffix (h5py, PIL and numpy choose formats by it).
    Nothing is left behind when the block raises.
    """
    path = check_writable(path, force)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp" + path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        if tmp.is_file():  # mkstemp makes 0600 files: give outputs the usual umask permissions
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_text(path: str | os.PathLike, text: str, force: bool = False) -> Path:
    """Write ``text`` to ``path`` atomically (temporary file, then rename)."""
    with atomic_path(path, force) as tmp:
        tmp.write_text(text)
    return Path(path)
