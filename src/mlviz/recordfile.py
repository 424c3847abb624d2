"""A run record's ``.npz`` file read within stated bounds, never inflating more than them.

:func:`numpy.load` trusts the sizes a file declares: a 3 MB archive whose member inflates
to 3 GB takes 3 GB before anything can refuse it. :class:`RecordArchive` checks every size
before it reads: the file, the zip's central directory, each member's declared inflated
size, and each array's shape from its ``.npy`` header, against the limits below; then it
reads each array through a stream capped at the size its header states. Memory while
refusing a record stays small whatever the file claims.
"""

from __future__ import annotations

import math
import os
import struct
import zipfile
from pathlib import Path
from types import TracebackType
from typing import IO

import numpy as np
from numpy.lib import format as npy

from .errors import RecordError

#: All the arrays of a record together, inflated, at most (bytes).
MAX_RECORD_BYTES = 512 * 2**20
#: The record's JSON member (``record.json``, 4 bytes a character) at most (bytes).
MAX_META_BYTES = 32 * 2**20
#: Members of one record at most, and the size of the zip's table of them.
MAX_MEMBERS = 65_535
MAX_DIRECTORY_BYTES = 8 * 2**20
#: The kinds of array a record may hold: booleans, numbers and strings (no objects).
ARRAY_KINDS = "biufcUS"

_CHUNK = 1 << 20  # bytes read at a time
_END = struct.Struct("<4s4H2LH")  # the zip's end-of-central-directory record
_END_SIGNATURE = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_NPY_MAGIC = b"\x93NUMPY"


def _mb(size: float) -> str:
    return f"{size / 2**20:,.0f} MB" if size >= 2**20 else f"{size:,.0f} bytes"


class RecordArchive:
    """The members of a record's ``.npz`` file by key (the name without ``.npy``), each
    read as a plain array only after its sizes were checked: a :class:`RecordError` (one
    line naming the file) for anything too large, lying, pickled or not a record."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise RecordError(f"run record not found: {self.path}")
        try:
            self._handle: IO[bytes] = self.path.open("rb")
        except OSError as exc:
            raise RecordError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        try:
            self._zip = self._open_zip()
            self._members = self._check_members()
        except BaseException:
            self._handle.close()
            raise
        self.files = list(self._members)
        self._budget = MAX_RECORD_BYTES

    def _fail(self, what: str) -> RecordError:
        return RecordError(f"{self.path} {what}")

    def _open_zip(self) -> zipfile.ZipFile:
        handle = self._handle
        size = os.fstat(handle.fileno()).st_size
        head = handle.read(len(_NPY_MAGIC))
        if head == _NPY_MAGIC:
            raise self._fail("is a single NumPy array (.npy), not a run record (an .npz "
                             "archive written by 'mlviz train')")
        if size > MAX_RECORD_BYTES:
            raise self._fail(f"is {_mb(size)}; mlviz reads run records of at most "
                             f"{_mb(MAX_RECORD_BYTES)}")
        tail_size = min(size, _END.size + 65_535)  # the record plus its longest comment
        handle.seek(size - tail_size)
        tail = handle.read(tail_size)
        at = tail.rfind(_END_SIGNATURE)
        if at < 0 or len(tail) - at < _END.size:
            raise self._fail("is not a run record (or is truncated): not a zip archive")
        *_, entries, directory, _offset, _comment = _END.unpack_from(tail, at)
        zip64 = at >= 20 and tail[at - 20:at - 16] == _ZIP64_LOCATOR
        if zip64 or entries == 0xFFFF or directory == 0xFFFFFFFF:
            raise self._fail(f"holds more than {MAX_MEMBERS:,} members (a zip64 archive); "
                             "a run record holds fewer")
        if directory > MAX_DIRECTORY_BYTES:
            raise self._fail(f"lists its members in {_mb(directory)}; a run record takes at "
                             f"most {_mb(MAX_DIRECTORY_BYTES)}")
        handle.seek(0)
        try:
            return zipfile.ZipFile(handle)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise self._fail(f"is not a run record (or is truncated): {exc}") from None

    def _check_members(self) -> dict[str, zipfile.ZipInfo]:
        infos = self._zip.infolist()
        if len(infos) > MAX_MEMBERS:
            raise self._fail(f"holds {len(infos):,} members; a run record holds at most "
                             f"{MAX_MEMBERS:,}")
        members: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in infos:
            key = info.filename.removesuffix(".npy")
            if key in members:
                raise self._fail(f"is damaged: the member '{key}' appears twice")
            members[key] = info
            total += info.file_size
            if total > MAX_RECORD_BYTES:
                raise self._fail(
                    f"inflates to more than {_mb(MAX_RECORD_BYTES)} (its member '{key}' "
                    f"alone to {_mb(info.file_size)}); mlviz reads run records of at most "
                    f"{_mb(MAX_RECORD_BYTES)} inflated"
                )
        return members

    def __contains__(self, key: object) -> bool:
        return key in self._members

    def size(self, key: str) -> int:
        """The inflated size ``key``'s member declares (bytes)."""
        return self._members[key].file_size

    def __getitem__(self, key: str) -> np.ndarray:
        return self.read(key)

    def read(self, key: str, limit: int = MAX_RECORD_BYTES) -> np.ndarray:
        """The array stored as ``key``; at most ``limit`` bytes, within what is left of
        :data:`MAX_RECORD_BYTES` for the whole record."""
        info = self._members.get(key)
        if info is None:
            raise self._fail(f"is damaged: the array '{key}' is missing")
        try:
            with self._zip.open(info) as stream:
                array = self._read_array(key, stream, info.file_size, limit)
                if stream.read(1):  # and, at its end, the CRC is checked
                    raise self._fail(f"is damaged: the array '{key}' has bytes after its data")
        except (OSError, EOFError, zipfile.BadZipFile, ValueError,
                NotImplementedError, RuntimeError) as exc:
            if isinstance(exc, RecordError):
                raise
            raise self._fail(f"is truncated or damaged: {exc}") from None
        return array

    def _read_array(self, key: str, stream: IO[bytes], member_size: int,
                    limit: int) -> np.ndarray:
        try:
            version = npy.read_magic(stream)
            reader = npy.read_array_header_1_0 if version == (1, 0) else \
                npy.read_array_header_2_0
            if version not in ((1, 0), (2, 0), (3, 0)):
                raise ValueError(f"unknown .npy version {version}")
            shape, fortran, dtype = reader(stream, max_header_size=10_000)
        except ValueError as exc:
            raise self._fail(f"is damaged: the member '{key}' is not a NumPy array "
                             f"({exc})") from None
        if dtype.hasobject:
            raise self._fail(f"holds a pickled array ('{key}'); mlviz never loads pickles")
        if dtype.kind not in ARRAY_KINDS or dtype.fields is not None or dtype.subdtype:
            raise self._fail(f"is damaged: the array '{key}' is of type {dtype}, not "
                             "booleans, numbers or strings")
        count = math.prod(shape)
        nbytes = count * dtype.itemsize
        header = stream.tell() if stream.seekable() else None
        room = member_size - (header or 0)
        if nbytes > room:
            raise self._fail(f"is damaged: the array '{key}' claims shape {shape} "
                             f"({_mb(nbytes)}) but its member holds {_mb(max(room, 0))}")
        if nbytes > min(limit, self._budget):
            raise self._fail(f"is too large: the array '{key}' takes {_mb(nbytes)}; a run "
                             f"record holds at most {_mb(MAX_RECORD_BYTES)} of arrays")
        self._budget -= nbytes
        flat = np.empty(count, dtype=dtype)
        view = memoryview(flat.view(np.uint8)) if nbytes else None  # type: ignore[arg-type]
        done = 0
        while view is not None and done < nbytes:
            got = stream.readinto(view[done:done + _CHUNK])  # type: ignore[attr-defined]
            if not got:
                raise self._fail(f"is truncated or damaged: the array '{key}' ends after "
                                 f"{done:,} of its {nbytes:,} bytes")
            done += got
        if fortran:
            return flat.reshape(shape[::-1]).transpose()
        return flat.reshape(shape)

    def close(self) -> None:
        self._zip.close()
        self._handle.close()

    def __enter__(self) -> RecordArchive:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()
