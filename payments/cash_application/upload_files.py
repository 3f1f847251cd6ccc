"""The file of a statement upload, from the web request that stores it to the worker that imports it.

It is stored encrypted in parts of one MiB, each its own Fernet token, and read back as a stream that
decrypts one part at a time: a worker importing a file of 100,000 lines holds a part of it, never the
whole file (nor the whole file twice, as its token and its plain bytes). The parts are dropped once
the upload is processed.
"""

import io

from payments.models import BankStatementUpload, BankStatementUploadPart

PART_SIZE = 1024 * 1024


def store_upload_file(upload: BankStatementUpload, content: bytes) -> None:
    """Write the file's parts (within the caller's transaction, which stores the upload)."""
    view = memoryview(content)
    BankStatementUploadPart.objects.bulk_create(
        (
            BankStatementUploadPart(upload=upload, number=number, content=view[start : start + PART_SIZE])
            for number, start in enumerate(range(0, len(content), PART_SIZE))
        ),
        batch_size=8,
    )


def open_upload_file(upload: BankStatementUpload) -> io.BufferedReader:
    """The stored file as a binary stream, read (and rewound) a part at a time."""
    return io.BufferedReader(_StoredFile(upload.pk), buffer_size=PART_SIZE)


def drop_upload_file(upload: BankStatementUpload) -> None:
    BankStatementUploadPart.objects.filter(upload=upload).delete()


class _StoredFile(io.RawIOBase):
    """The parts in order as one seekable stream; one part is in memory at a time."""

    def __init__(self, upload_id: int):
        self._upload_id = upload_id
        self._position = 0
        self._part_number: int | None = None
        self._part = b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._position
        elif whence != io.SEEK_SET:
            raise io.UnsupportedOperation("a stored upload file seeks from its start or its position only")
        self._position = max(offset, 0)
        return self._position

    def readinto(self, buffer) -> int:
        number, within = divmod(self._position, PART_SIZE)
        if number != self._part_number:
            self._part = (
                BankStatementUploadPart.objects.filter(upload_id=self._upload_id, number=number)
                .values_list("content", flat=True)
                .first()
                or b""
            )
            self._part_number = number
        chunk = self._part[within : within + len(buffer)]
        buffer[: len(chunk)] = chunk
        self._position += len(chunk)
        return len(chunk)
