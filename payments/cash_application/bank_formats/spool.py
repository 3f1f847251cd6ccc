"""The lines of a long statement, held on disk while the file is read, so that importing 100,000 lines
costs a few batches of memory instead of every line (about 700 bytes each).

A statement is still parsed and checked whole before anything is written: the lines go to an
anonymous temporary file in batches and are read back, in order, when they are checked and stored.
What lands on disk is payers' names, IBANs and remittance text, so each batch is encrypted with a key
that exists only in this spool's memory; the file has no name and is gone when the spool is.
"""

import pickle
import struct
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import fields
from operator import attrgetter

from cryptography.fernet import Fernet

from payments.cash_application.bank_formats import ParsedLine

_LINE_VALUES = attrgetter(*(field.name for field in fields(ParsedLine)))
_LENGTH = struct.Struct(">I")


class LineSpool:
    """Parsed lines in the order appended; its length and iteration are those of the list it stands for.
    Lines stay in memory until a batch is full; only a statement longer than one batch touches disk."""

    batch_size = 2000

    def __init__(self):
        self._pending: list[tuple] = []
        self._written = 0
        self._file = None
        self._fernet: Fernet | None = None

    def __len__(self) -> int:
        return self._written + len(self._pending)

    def append(self, line: ParsedLine) -> None:
        self._pending.append(_LINE_VALUES(line))
        if len(self._pending) >= self.batch_size:
            self._write_batch()

    def extend(self, lines: Iterable[ParsedLine]) -> None:
        for line in lines:
            self.append(line)

    def __iter__(self) -> Iterator[ParsedLine]:
        offset = 0
        for _ in range(self._written // self.batch_size):
            self._file.seek(offset)
            (size,) = _LENGTH.unpack(self._file.read(_LENGTH.size))
            token = self._file.read(size)
            offset += _LENGTH.size + size
            for values in pickle.loads(self._fernet.decrypt(token)):  # noqa: S301 -- our own bytes, authenticated
                yield ParsedLine(*values)
        for values in self._pending:
            yield ParsedLine(*values)

    def _write_batch(self) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile()  # noqa: SIM115 -- lives as long as the spool
            self._fernet = Fernet(Fernet.generate_key())
        token = self._fernet.encrypt(pickle.dumps(self._pending, protocol=pickle.HIGHEST_PROTOCOL))
        self._file.seek(0, 2)
        self._file.write(_LENGTH.pack(len(token)) + token)
        self._written += len(self._pending)
        self._pending = []
