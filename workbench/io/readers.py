"""Open client files: bytes -> decoded text table (CSV/TSV/TXT) or xlsx cells.

This is the only module that opens the client's raw files. Files are opened
read-only and never modified. Every cell comes out as text (identifiers such as
INN keep their leading zeros); numbers and dates are parsed by ``workbench.ingest``.

A reader is chosen by file suffix from ``READERS`` (``register()`` adds one). Any
failure while reading becomes a ``ReadError`` carrying a problem kind from the
``errors.problem.*`` catalogue, chained with ``from exc``; ``workbench.ingest``
turns it into the engagement-language ``InputError``.

Two steps, because the header row is found by recognising column names
(``workbench.ingest``), which the reader does not know:

1. ``open_source(path, name, sheet)`` -> ``Source``: decoding decided, first rows
   available through ``Source.preview(delimiter)``.
2. ``Source.body(delimiter, start, ncols)`` -> ``Body``: the data rows below the
   header as whole text columns (pyarrow), with their physical row numbers.
"""
from __future__ import annotations

import codecs
import csv
import datetime as _dt
import io
import mmap
import re
import zipfile
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

MAX_UNPACKED_BYTES = 500 * 1024 ** 2   # xlsx: budget for the sum of uncompressed zip members
MAX_ZIP_MEMBERS = 10_000
# A member unpacking to more than MAX_RATIO times its packed size, and to more than
# RATIO_FLOOR bytes, is a zip bomb: real sheets pack 5-15x. Under MAX_UNPACKED_BYTES
# alone, 450 MB of repeated rows (1.5 MB packed) keep openpyxl busy for minutes and
# take gigabytes.
MAX_RATIO = 100
RATIO_FLOOR = 16 * 1024 ** 2
MAX_TEXT_BYTES = 4 * 1024 ** 3         # text files above this are refused (memory)
PREVIEW_ROWS = 40                      # rows searched for the header
PREVIEW_BYTES = 512 * 1024
TEXT_DELIMITERS = (";", "\t", ",")
TEXT_SUFFIXES = (".csv", ".txt", ".tsv")  # read by TextSource
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
_PROLOG_BYTES = 64 * 1024
_DOCTYPE_RE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_ROOT_RE = re.compile(rb"<[A-Za-z_]")
_FORMULA_RE = re.compile(rb"<(?:\w+:)?f[\s>/]")
_REF_RE = re.compile(rb'\br="([A-Z]{1,3})([0-9]+)"')
_CELL_OPEN_RE = re.compile(rb"<(?:\w+:)?c[\s>]")


class ReadError(Exception):
    """A file cannot be read. ``kind`` is a key under ``errors.problem.*``."""

    def __init__(self, kind: str, value: str = "", row: int | None = None) -> None:
        super().__init__(f"{kind}: {value}")
        self.kind = kind
        self.value = value
        self.row = row  # physical line (text) when known


@dataclass
class Body:
    """Data rows of one table, below the header, as whole text columns.

    cells: one pyarrow string array per header column ("" for an empty cell); a column
        named in ``body(..., coded=...)`` may instead come as a dictionary array (int32
        indices into its distinct values, a string dictionary), the same values; one
        named in ``body(..., raw=...)`` as the undecoded bytes (pa.binary, in ``raw_codec``;
        possibly still in the parser's chunks, a pa.ChunkedArray)
    rows: physical row number of each data row (line in a text file, Excel row number)
    numbers: xlsx only: per column, float value of numeric cells (NaN elsewhere)
    date_cells: xlsx only: per column, how many cells were Excel dates (text is ISO)
    ragged: (row, number of fields) of text rows whose field count differs from the header
    blank_lines: wholly empty physical lines skipped by the parser (text only)
    formula_cells: xlsx only: (row, column index) of formulas without a cached value
    raw_codec: the encoding of the binary columns ("" when there are none)
    """

    cells: list[pa.Array]
    rows: np.ndarray
    numbers: list[np.ndarray] | None = None
    date_cells: list[int] | None = None
    ragged: list[tuple[int, int]] = field(default_factory=list)
    blank_lines: int = 0
    formula_cells: list[tuple[int, int]] = field(default_factory=list)
    raw_codec: str = ""

    def __len__(self) -> int:
        return len(self.rows)


class Source:
    """An opened client file. Subclasses: ``TextSource``, ``XlsxSource``."""

    format: str = ""
    file: str = ""
    encoding: str = ""
    sheet: str = ""
    delimiters: tuple[str, ...] = ("",)

    def preview(self, delimiter: str) -> list[tuple[int, int, list[str]]]:
        """The first rows: (first physical row, last physical row, cells as text), blank rows left out.

        A text record spans several physical lines when a quoted field holds a line break.
        """
        raise NotImplementedError

    def body(self, delimiter: str, start: int, ncols: int, coded: Collection[int] = (),
             raw: Collection[int] = ()) -> Body:
        """Data rows from physical row ``start`` on, cut or padded to ``ncols`` columns.

        ``coded``: columns the caller will dictionary-encode anyway; a reader may return
        them dictionary-encoded already (see ``Body.cells``).
        ``raw``: columns the caller reads as numbers; a reader of a single-byte encoding
        may return them undecoded (most number text is ASCII: the caller decodes only
        what it must).
        """
        raise NotImplementedError


# --- registry -----------------------------------------------------------------------

Opener = Callable[[Path, str, str], Source]
READERS: dict[str, Opener] = {}


def register(suffix: str, opener: Opener) -> None:
    """Register ``opener(path, display_name, sheet) -> Source`` for a file suffix (".csv")."""
    READERS[suffix.lower()] = opener


def known_types() -> list[str]:
    return sorted(READERS)


def open_source(path: Path, name: str, sheet: str = "") -> Source:
    """Open ``path`` with the reader registered for its suffix.

    Raises ReadError (never another exception): not_found, unsupported_type,
    unreadable, legacy_xls, encrypted, too_large, bad_encoding, mixed_encoding, ...
    """
    path = Path(path)
    if not path.is_file():  # a pipe would block the read for ever: not "not found" either
        raise ReadError("not_regular" if path.exists() else "not_found", str(path.name))
    opener = READERS.get(path.suffix.lower())
    if opener is None:
        raise ReadError("unsupported_type", f"{path.suffix or path.name} ({', '.join(known_types())})")
    try:
        return opener(path, name, sheet)
    except ReadError:
        raise
    except MemoryError as exc:
        raise ReadError("too_large", path.name) from exc
    except Exception as exc:  # any library failure on arbitrary bytes is "unreadable"
        raise ReadError("unreadable", f"{type(exc).__name__}: {exc}") from exc


def _size_within(path: Path, limit: int) -> int:
    """The file's size in bytes; a file above ``limit`` bytes is refused."""
    size = path.stat().st_size
    if size > limit:
        raise ReadError("too_large", f"{size} B")
    return size


def read_bytes(path: Path, limit: int) -> bytes:
    """Read a whole file (opened read-only); refuse files above ``limit`` bytes."""
    _size_within(path, limit)
    with open(path, "rb") as fh:
        return fh.read()


class MappedFile:
    """A file's bytes, mapped read-only: no copy and no fresh memory (the pages are the
    page cache's; a 90 MB read was 22 000 page faults, slow on a VM). Offers the bytes
    methods the text reader uses; those over the whole file (count, isascii) go a block
    at a time. Slices are bytes. ``buffer`` is the mapping, for pyarrow.

    The file must not shrink while it is read (a mapped read past its end is a crash):
    the engagement's data files are only ever read.
    """

    BLOCK = 8 << 20

    def __init__(self, path: Path, limit: int) -> None:
        _size_within(path, limit)
        with open(path, "rb") as fh:
            self.buffer = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)

    def __len__(self) -> int:
        return len(self.buffer)

    def __getitem__(self, key: slice) -> bytes:
        return self.buffer[key]

    def _span(self, start: int, end: int | None) -> tuple[int, int]:
        # clamped to 0..n as bytes' slices are (mmap reads a negative bound from the end again)
        n = len(self.buffer)
        end = n if end is None else max(0, min(end if end >= 0 else n + end, n))
        return max(0, min(start if start >= 0 else n + start, n)), end

    def find(self, sub: bytes, start: int = 0, end: int | None = None) -> int:
        return self.buffer.find(sub, *self._span(start, end))

    def rfind(self, sub: bytes, start: int = 0, end: int | None = None) -> int:
        return self.buffer.rfind(sub, *self._span(start, end))

    def __contains__(self, sub: bytes) -> bool:
        return self.buffer.find(sub) >= 0

    def startswith(self, prefix: bytes | tuple[bytes, ...]) -> bool:
        prefixes = prefix if isinstance(prefix, tuple) else (prefix,)
        return any(self.buffer[:len(p)] == p for p in prefixes)

    def count(self, sub: bytes, start: int = 0, end: int | None = None) -> int:
        """Occurrences of one byte (a block at a time: a byte cannot straddle two)."""
        if len(sub) != 1:
            raise ValueError("count: one byte")
        start, end = self._span(start, end)
        return sum(self.buffer[a:min(a + self.BLOCK, end)].count(sub) for a in range(start, end, self.BLOCK))

    def isascii(self) -> bool:
        return all(self.buffer[a:a + self.BLOCK].isascii() for a in range(0, len(self.buffer), self.BLOCK))

    # rare paths (an empty, UTF-16 or broken file): on a copy
    def strip(self, chars: bytes | None = None) -> bytes:
        return self.buffer[:].strip(chars)

    def decode(self, encoding: str, errors: str = "strict") -> str:
        return self.buffer[:].decode(encoding, errors)

    def split(self, sep: bytes) -> list[bytes]:
        return self.buffer[:].split(sep)


def map_or_read(path: Path, limit: int) -> MappedFile | bytes:
    """The file's bytes: mapped when it can be (a non-empty regular file), else read."""
    try:
        if path.is_file() and _size_within(path, limit) > 0:
            return MappedFile(path, limit)
    except (OSError, ValueError):  # a file system without mmap: read it
        pass
    return read_bytes(path, limit)


# --- text (CSV / TSV / TXT) ------------------------------------------------------------

def detect_encoding(data: bytes) -> str:
    """Tell UTF-8 (with or without BOM), UTF-16 (BOM) and cp1251 apart, strictly.

    Strict UTF-8 first: Russian text in cp1251 is practically never valid UTF-8. Then
    cp1251, which decodes every byte but 0x98. Never latin-1 (mojibake without error).
    The caller confirms cp1251 by recognising the header.
    """
    if data.startswith(codecs.BOM_UTF8):
        enc = "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    else:
        enc = "utf-8"
    if data.isascii():
        return enc
    skip = len(codecs.BOM_UTF8) if enc == "utf-8-sig" else 0
    try:
        _check_utf8(data, skip)
    except UnicodeDecodeError as exc:
        pos = exc.start + skip
        if enc == "utf-8-sig":  # the BOM promises UTF-8: other bytes mean a second encoding
            raise ReadError("mixed_encoding", _line_text(data, pos, "cp1251"),
                            row=data.count(b"\n", 0, pos) + 1) from exc
        bad = data.find(b"\x98")  # the one byte cp1251 does not define (but UTF-8 "И" holds it)
        if bad >= 0:
            utf8_line = _first_utf8_line(data)
            if utf8_line is not None:
                raise ReadError("mixed_encoding", _line_text(data, utf8_line, "utf-8"),
                                row=data.count(b"\n", 0, utf8_line) + 1) from exc
            raise ReadError("bad_encoding", repr(data[bad:bad + 8])[2:-1],
                            row=data.count(b"\n", 0, bad) + 1) from exc
        return "cp1251"
    return enc


def _check_utf8(data: bytes, skip: int, prefix: int = 1 << 20) -> None:
    """Raise the ``UnicodeDecodeError`` of ``data[skip:].decode("utf-8")``, cheaply when possible.

    A failed decode of the whole file copies all of it into the exception; an error found
    in the first ``prefix`` bytes (not a sequence merely cut at the prefix end) is the same
    error at the same position, so the prefix is tried first.
    """
    if len(data) - skip > prefix:
        try:
            data[skip:skip + prefix].decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.end < prefix:
                raise
        if _valid_utf8(data, skip):
            return
    data[skip:].decode("utf-8")  # the exact error (or a short text, valid)


def _valid_utf8(data: bytes | MappedFile, skip: int) -> bool:
    """True when ``data[skip:]`` is valid UTF-8, checked by Arrow in place (0.2 s for 130 MB,
    no copy; a Python decode copied the file and built a string four times its size)."""
    whole = pa.py_buffer(data.buffer if isinstance(data, MappedFile) else data)[skip:]
    offsets = pa.py_buffer(np.array([0, whole.size], dtype=np.int64))
    try:
        pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, whole]).cast(pa.large_string())
    except pa.ArrowInvalid:
        return False
    return True


def head_previews(path: Path, size: int = 64 * 1024) -> list[tuple[str, list[tuple[int, int, list[str]]]]]:
    """(delimiter, first rows) of a text file under each of ``TEXT_DELIMITERS``, read from its
    first ``size`` bytes only: a quick look (a 1 M-row file is not opened whole to answer a
    question its header answers), decoded by its BOM, else as UTF-8, else cp1251. Rows are
    (line, line, cells) like ``Source.preview``; what the whole file says may differ."""
    with path.open("rb") as fh:
        head = fh.read(size)
    if b"\n" in head and len(head) == size:
        head = head[: head.rindex(b"\n") + 1]
    for bom, codec in ((b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"), (b"\xef\xbb\xbf", "utf-8-sig")):
        if head.startswith(bom):
            text = head.decode(codec, errors="replace")
            break
    else:
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError:
            text = head.decode("cp1251", errors="replace")
    text = text.replace("\x00", "")
    out = []
    for delimiter in TEXT_DELIMITERS:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', strict=False)
        preview = []
        for i, rec in enumerate(reader):
            if i >= PREVIEW_ROWS:
                break
            if rec:
                preview.append((i + 1, i + 1, rec))
        out.append((delimiter, preview))
    return out


def _line_text(data: bytes, pos: int, encoding: str) -> str:
    """The physical line holding byte ``pos``, decoded for a message."""
    start = data.rfind(b"\n", 0, pos) + 1
    end = data.find(b"\n", pos)
    return data[start:end if end >= 0 else len(data)].decode(encoding, errors="replace").strip()


def _first_utf8_line(data: bytes) -> int | None:
    """Offset of the first line that is valid UTF-8 holding Cyrillic (error path only)."""
    pos = 0
    for line in data.split(b"\n"):
        if not line.isascii():
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                text = ""
            if any("\u0400" <= ch <= "\u04ff" for ch in text):
                return pos
        pos += len(line) + 1
    return None


def looks_like_utf8(text: str) -> bool:
    """True when ``text``, decoded as cp1251, is really UTF-8 Cyrillic (mojibake like "РћРћРћ")."""
    try:
        raw = text.encode("cp1251")
    except UnicodeEncodeError:
        return False
    if raw.isascii():
        return False
    try:
        back = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return any("\u0400" <= ch <= "\u04ff" for ch in back)


class TextSource(Source):
    """A delimited text file, decoded once; data rows parsed by pyarrow.csv."""

    format = "text"
    delimiters = TEXT_DELIMITERS

    def __init__(self, path: Path, name: str, sheet: str = "") -> None:
        data: MappedFile | bytes = map_or_read(path, MAX_TEXT_BYTES)
        self.file = name
        if not data[:65536].strip(b" \t\r\n\x00") and not data.strip(b" \t\r\n\x00"):
            raise ReadError("empty", name)
        if data.startswith(OLE2_MAGIC):
            raise ReadError(_ole2_kind(data), name)
        if data.startswith(ZIP_MAGIC):
            raise ReadError("unsupported_type", f"{path.suffix}: zip/xlsx")
        self.encoding = detect_encoding(data)
        if self.encoding == "utf-16":
            # Excel's "Unicode text": decode once and carry on as UTF-8 bytes.
            data = data.decode("utf-16").encode("utf-8")
            self._arrow_encoding = "utf8"
        elif self.encoding == "utf-8-sig":
            data = data[len(codecs.BOM_UTF8):]
            self._arrow_encoding = "utf8"
        elif self.encoding == "cp1251":
            self._arrow_encoding = "cp1251"
        else:
            self._arrow_encoding = "utf8"
        self._codec = "utf-8" if self._arrow_encoding == "utf8" else "cp1251"
        self.data = data
        head = data[:PREVIEW_BYTES]
        if len(data) > PREVIEW_BYTES and b"\n" in head:
            head = head[: head.rindex(b"\n") + 1]
        self._head = head.decode(self._codec, errors="replace").replace("\x00", "")

    # csv module rows with their physical line numbers (blank records left out)
    @staticmethod
    def _records(lines: io.StringIO, delimiter: str, first_line: int,
                 limit: int | None) -> list[tuple[int, int, list[str]]]:
        reader = csv.reader(lines, delimiter=delimiter, quotechar='"', doublequote=True, strict=False)
        out: list[tuple[int, int, list[str]]] = []
        last = 0
        for rec in reader:
            line = first_line + last
            last = reader.line_num
            if not rec:
                continue
            out.append((line, first_line + last - 1, rec))
            if limit is not None and len(out) >= limit:
                break
        return out

    def preview(self, delimiter: str) -> list[tuple[int, int, list[str]]]:
        try:
            return self._records(io.StringIO(self._head, newline=""), delimiter, 1, PREVIEW_ROWS)
        except csv.Error as exc:
            raise ReadError("unreadable", str(exc)) from exc

    def _offset_of_line(self, line: int) -> int:
        """Byte offset of the start of physical line ``line`` (1-based)."""
        pos = 0
        for _ in range(line - 1):
            nxt = self.data.find(b"\n", pos)
            if nxt < 0:
                return len(self.data)
            pos = nxt + 1
        return pos

    def body(self, delimiter: str, start: int, ncols: int, coded: Collection[int] = (),
             raw: Collection[int] = ()) -> Body:
        offset = self._offset_of_line(start)
        end = len(self.data)
        # Trailing empty lines are not data; the final line terminator is not a blank line.
        while end > offset and self.data[end - 1:end] in (b"\n", b"\r", b" ", b"\t"):
            end -= 1
        trailing_blank = max(self.data.count(b"\n", end) - 1, 0)
        if end <= offset:
            return Body(cells=[pa.array([], pa.string()) for _ in range(ncols)],
                        rows=np.zeros(0, dtype=np.int64), blank_lines=trailing_blank)
        names = [f"c{i}" for i in range(ncols)]
        invalid: list[int] = []

        def on_invalid(row: Any) -> str:
            invalid.append(row.actual_columns)
            return "skip"

        whole = self.data.buffer if isinstance(self.data, MappedFile) else self.data
        buf = pa.BufferReader(pa.py_buffer(whole)[offset:end])
        # The lines are counted while pyarrow parses (it releases the GIL).
        counter = ThreadPoolExecutor(max_workers=1)
        lines_job = counter.submit(self.data.count, b"\n", offset, end)
        # cp1251 is read as raw bytes (";", quotes and line breaks are the same bytes as in
        # UTF-8; every byte but 0x98, refused by detect_encoding, is a cp1251 character) and
        # decoded afterwards: a dictionary-encoded column only in its distinct values.
        raw_bytes = self._arrow_encoding == "cp1251"
        try:
            table = pa_csv.read_csv(
                buf,
                # 4 MB blocks: few chunks (joined for UTF-8, decoded chunk by chunk for cp1251)
                read_options=pa_csv.ReadOptions(column_names=names,
                                                encoding="utf8" if raw_bytes else self._arrow_encoding,
                                                block_size=4 * 1024 * 1024),
                parse_options=pa_csv.ParseOptions(delimiter=delimiter, quote_char='"', double_quote=True,
                                                  newlines_in_values=False, ignore_empty_lines=True,
                                                  # pyarrow hands the handler the row as UTF-8
                                                  # text: raw cp1251 bytes raise inside it. A
                                                  # ragged row takes the exact path either way.
                                                  invalid_row_handler=None if raw_bytes else on_invalid),
                convert_options=pa_csv.ConvertOptions(
                    column_types={n: pa.binary() if raw_bytes else pa.string() for n in names},
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False),
            )
        except (pa.ArrowInvalid, UnicodeDecodeError, ValueError):
            table = None  # let the exact (slow) path find and name the problem
        finally:
            counter.shutdown()  # waits for the count
        nlines = lines_job.result() + 1
        empties = self._empty_lines(offset, end) if table is not None and table.num_rows != nlines else []
        if table is not None and not invalid and table.num_rows == nlines - len(empties):
            rows = np.arange(start, start + nlines, dtype=np.int64)
            if empties:
                rows = np.delete(rows, np.asarray(empties, dtype=np.int64) - start)
            undecoded = set(raw) - set(coded) if raw_bytes else set()
            if raw_bytes:  # chunks decoded or encoded as they are: no copy to join them first
                cells = _decode_columns([table.column(i) for i in range(ncols)], coded, undecoded, self._codec)
            else:  # chunks kept as they are (joining them copied every column)
                cells = _dictionary_columns([table.column(i) for i in range(ncols)], coded)
            return Body(cells=cells, rows=rows, blank_lines=len(empties) + trailing_blank,
                        raw_codec=self._codec if undecoded else "")
        return self._body_exact(offset, end, start, delimiter, ncols, trailing_blank)

    def _empty_lines(self, offset: int, end: int) -> list[int]:
        """Physical line numbers of empty lines (pyarrow skips them) between offset and end."""
        out: list[int] = []
        data = self.data
        for pat in (b"\n\n", b"\n\r\n"):
            pos = data.find(pat, offset, end)
            while pos >= 0:
                out.append(data.count(b"\n", 0, pos + 1) + 1)
                pos = data.find(pat, pos + 1, end)
        if data[offset:offset + 1] == b"\n" or data[offset:offset + 2] == b"\r\n":
            out.append(data.count(b"\n", 0, offset) + 1)
        return sorted(set(out))

    def _body_exact(self, offset: int, end: int, start: int, delimiter: str, ncols: int,
                    trailing_blank: int) -> Body:
        """The slow, exact path (Python csv): quoted line breaks, empty and ragged lines."""
        chunk = self.data[offset:end]
        try:
            text = chunk.decode(self._codec)
        except UnicodeDecodeError as exc:
            raise ReadError("bad_encoding", repr(chunk[exc.start:exc.start + 8])[2:-1],
                            row=start + chunk.count(b"\n", 0, exc.start)) from exc
        text = text.replace("\x00", "")
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"',
                            doublequote=True, strict=False)
        columns: list[list[str]] = [[] for _ in range(ncols)]
        rows: list[int] = []
        ragged: list[tuple[int, int]] = []
        blank = 0
        last = 0
        try:
            for rec in reader:
                line = start + last
                last = reader.line_num
                if not rec:
                    blank += 1
                    continue
                if len(rec) != ncols:
                    if not any(c.strip() for c in rec):
                        blank += 1  # whitespace-only line
                        continue
                    ragged.append((line, len(rec)))
                    continue
                rows.append(line)
                for i, value in enumerate(rec):
                    columns[i].append(value)
        except csv.Error as exc:
            raise ReadError("unreadable", f"{exc}", row=start + last) from exc
        return Body(cells=[pa.array(c, pa.string()) for c in columns],
                    rows=np.asarray(rows, dtype=np.int64), ragged=ragged,
                    blank_lines=blank + trailing_blank)


# UTF-8 length of each cp1251 byte, less one (0x98, undefined, never reaches here), as a
# bytes.translate table.
_CP1251_EXTRA = bytes(len(bytes([b]).decode("cp1251", errors="replace").encode("utf-8")) - 1
                      for b in range(256))


def binary_pieces(values: pa.Array | pa.ChunkedArray, size: int = 1 << 20
                  ) -> Iterator[tuple[np.ndarray, bytes]]:
    """The values of a binary array or chunked array (no nulls), a piece of about ``size``
    bytes at a time: (their offsets from 0 within the piece, one per value and a last
    one, int64; the piece's bytes).

    Work done piece by piece reuses the same memory: a whole column at once would be
    several fresh copies of it (slow where first-touched memory is slow).
    """
    for c in values.chunks if isinstance(values, pa.ChunkedArray) else [values]:
        if not len(c):
            continue
        bufs = c.buffers()
        off = np.frombuffer(bufs[1], dtype=np.int32)[c.offset:c.offset + len(c) + 1].astype(np.int64)
        data = memoryview(bufs[2]) if bufs[2] is not None else memoryview(b"")
        cuts = np.unique(np.searchsorted(off, np.arange(int(off[0]) + size, int(off[-1]), size, dtype=np.int64)))
        bounds = [0, *[int(x) for x in cuts if 0 < x < len(c)], len(c)]
        for a, b in pairwise(bounds):
            lo, hi = int(off[a]), int(off[b])
            yield off[a:b + 1] - lo, data[lo:hi].tobytes()


class RunningSum:
    """Sums of per-byte weights before given positions of a piece, in one buffer reused
    from piece to piece (a fresh whole-piece array each time was most of the memory the
    decoding touched)."""

    def __init__(self) -> None:
        self._sums = np.zeros(1, dtype=np.int64)

    def before(self, weights: bytes, at: np.ndarray) -> np.ndarray:
        """For each position in ``at`` (0..len(weights)), the sum of the weights (bytes
        read as 0..255 integers) before it, int64."""
        n = len(weights)
        if len(self._sums) < n + 1:  # room to spare: the pieces differ a little in size
            self._sums = np.zeros(1 << n.bit_length() + 1, dtype=np.int64)
        np.cumsum(np.frombuffer(weights, dtype=np.uint8), out=self._sums[1:n + 1])
        return self._sums[at]


def join_pieces(n: int, pieces: list[tuple[np.ndarray, bytes]], kind: str = "string") -> pa.Array:
    """One string (or binary) array of ``n`` values from pieces as ``binary_pieces`` gives them."""
    offsets = [np.zeros(1, dtype=np.int64)]
    total = 0
    for rel, piece in pieces:
        offsets.append(rel[1:] + total)
        total += len(piece)
    data = b"".join(piece for _, piece in pieces)
    large = total >= 2 ** 31
    new = np.concatenate(offsets)
    arrow_type = {"string": pa.large_string() if large else pa.string(),
                  "binary": pa.large_binary() if large else pa.binary()}[kind]
    return pa.Array.from_buffers(arrow_type, n, [None, pa.py_buffer(new if large else new.astype(np.int32)),
                                                 pa.py_buffer(data)])


def decode_binary(values: pa.Array | pa.ChunkedArray, codec: str) -> pa.Array:
    """A binary array of cp1251 text (no nulls) -> the string array of the same values.

    A piece at a time, its bytes are decoded in one call; each value's new offset is its
    old one plus the extra UTF-8 bytes of the characters before it (bytes.translate to
    0/1/2, a running sum read at the old offsets).
    """
    if codec != "cp1251":
        raise ValueError(codec)
    pieces = []
    extra = RunningSum()
    for rel, piece in binary_pieces(values):
        if piece.isascii():
            pieces.append((rel, piece))
            continue
        pieces.append((rel + extra.before(piece.translate(_CP1251_EXTRA), rel),
                       piece.decode("cp1251").encode("utf-8")))
    return join_pieces(len(values), pieces)


def _dictionary_columns(cells: list[pa.ChunkedArray], coded: Collection[int]) -> list[pa.Array | pa.ChunkedArray]:
    """UTF-8 string columns: those in ``coded`` as dictionary arrays (encoded by pyarrow in
    two threads), the others left in their chunks."""
    out: list[pa.Array | pa.ChunkedArray] = list(cells)
    with ThreadPoolExecutor(max_workers=2) as pool:
        encoded = {i: pool.submit(pc.dictionary_encode, cells[i]) for i in range(len(cells)) if i in coded}
        for i, fut in encoded.items():
            enc = fut.result()  # chunks of one dictionary, shared
            dictionary = enc.chunk(0).dictionary if enc.num_chunks else pa.array([], pa.string())
            indices = pa.concat_arrays([c.indices for c in enc.chunks]) if enc.num_chunks \
                else pa.array([], pa.int32())
            out[i] = pa.DictionaryArray.from_arrays(indices, dictionary)
    return out


def _decode_columns(cells: list[pa.ChunkedArray], coded: Collection[int], keep: Collection[int],
                    codec: str) -> list[pa.Array | pa.ChunkedArray]:
    """Binary columns -> string columns; those in ``coded`` as dictionary arrays, encoded on
    the raw bytes with only their distinct values decoded; those in ``keep`` left as they are.

    The dictionary encodings (pyarrow, without the GIL) run in two more threads while
    this one decodes the other columns: the encodings take longer than the decoding.
    """
    coded = [i for i in range(len(cells)) if i in coded]
    out: list[pa.Array | pa.ChunkedArray] = list(cells)
    with ThreadPoolExecutor(max_workers=2) as pool:
        encoded = {i: pool.submit(pc.dictionary_encode, cells[i]) for i in coded}
        for i, c in enumerate(cells):
            if i not in encoded and i not in keep:
                out[i] = decode_binary(c, codec)
        for i, fut in encoded.items():
            enc = fut.result()  # chunks of one dictionary, shared
            dictionary = enc.chunk(0).dictionary if enc.num_chunks else pa.array([], pa.binary())
            indices = pa.concat_arrays([c.indices for c in enc.chunks]) if enc.num_chunks \
                else pa.array([], pa.int32())
            out[i] = pa.DictionaryArray.from_arrays(indices, decode_binary(dictionary, codec))
    return out


def _ole2_kind(data: bytes | MappedFile) -> str:
    """An OLE2 compound file is either legacy .xls or a password-protected .xlsx."""
    if "EncryptedPackage".encode("utf-16-le") in data[:4 * 1024 * 1024] or b"EncryptedPackage" in data:
        return "encrypted"
    return "legacy_xls"


# --- xlsx ------------------------------------------------------------------------------

def check_xlsx_container(path: Path) -> dict[str, str]:
    """Refuse dangerous or broken xlsx before openpyxl parses anything.

    Checks: OLE2 (legacy .xls / encrypted), zip integrity, the sum of uncompressed
    member sizes against ``MAX_UNPACKED_BYTES`` and each member's packing ratio against
    ``MAX_RATIO`` (zip bomb), and a DOCTYPE / ENTITY
    declaration in any XML part (entity expansion bomb; openpyxl parses with the
    standard library unless defusedxml is installed). Returns sheet name -> XML part.
    """
    with open(path, "rb") as fh:
        magic = fh.read(8)
        if magic == OLE2_MAGIC:
            raise ReadError(_ole2_kind(fh.read(64 * 1024 * 1024)), path.name)
    if magic[:4] != ZIP_MAGIC:
        raise ReadError("unreadable", "not an xlsx (zip) file")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_ZIP_MEMBERS or sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES:
                raise ReadError("too_large", f"{sum(i.file_size for i in infos)} B")
            for i in infos:
                if i.file_size > RATIO_FLOOR and i.file_size > MAX_RATIO * max(i.compress_size, 1):
                    raise ReadError("too_large", f"{i.filename}: {i.file_size} B / {i.compress_size} B")
            if any(i.flag_bits & 0x1 for i in infos):
                raise ReadError("encrypted", path.name)
            for info in infos:
                if info.filename.lower().endswith((".xml", ".rels", ".vml")):
                    with zf.open(info) as member:
                        _check_prolog(member.read(_PROLOG_BYTES), info.filename)
            return _sheet_parts(zf)
    except zipfile.BadZipFile as exc:
        raise ReadError("unreadable", f"zip: {exc}") from exc


def _check_prolog(head: bytes, part: str) -> None:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        head = head.decode("utf-16", errors="replace").encode("utf-8")
    root = _ROOT_RE.search(head)
    prolog = head if root is None else head[: root.start()]
    if _DOCTYPE_RE.search(prolog) or (root is None and len(head) >= _PROLOG_BYTES):
        raise ReadError("unreadable", f"{part}: DOCTYPE/ENTITY")


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> path of its XML part, from workbook.xml and its relationships."""
    import xml.etree.ElementTree as ET  # the prologs were checked for DOCTYPE/ENTITY above

    try:
        wb = ET.fromstring(zf.read("xl/workbook.xml"))
        rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ET.ParseError):
        return {}
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    out: dict[str, str] = {}
    for el in wb.iter():
        if el.tag.endswith("}sheet") or el.tag == "sheet":
            rid = next((v for k, v in el.attrib.items() if k.endswith("}id")), None)
            target = targets.get(rid, "")
            if target:
                out[el.get("name", "")] = target.lstrip("/") if target.startswith("/") else "xl/" + target
    return out


_ROW_TAG_RE = re.compile(rb"<(?:\w+:)?row\b[^>]*>")
_ROW_NUM_RE = re.compile(rb'\br="(\d+)"')
_OUTLINE_RE = re.compile(rb'\boutlineLevel="(\d+)"')


def _sheet_xml(path: Path, part: str) -> bytes:
    with zipfile.ZipFile(path) as zf:
        try:
            return zf.read(part)
        except KeyError:
            return b""


def outline_levels(xml: bytes) -> dict[int, int]:
    """Row number -> Excel outline level, for the rows that have one (a grouped report's
    tree: 1C writes the level of each group and document row only there)."""
    if b"outlineLevel" not in xml:
        return {}
    out: dict[int, int] = {}
    for tag in _ROW_TAG_RE.finditer(xml):
        level = _OUTLINE_RE.search(tag.group(0))
        row = _ROW_NUM_RE.search(tag.group(0))
        if level and row and int(level.group(1)) > 0:
            out[int(row.group(1))] = int(level.group(1))
    return out


def formulas_without_value(path: Path, part: str, xml: bytes | None = None) -> list[tuple[int, int]]:
    """(row, 0-based column) of formula cells that carry no cached value in a sheet part.

    openpyxl with ``data_only=True`` returns None for them, which would be read as an
    empty cell; they are problems, because the value the client saw is unknown.
    """
    if xml is None:
        xml = _sheet_xml(path, part)
    out: list[tuple[int, int]] = []
    if not _FORMULA_RE.search(xml):
        return out
    for m in _FORMULA_RE.finditer(xml):
        cstart = max(xml.rfind(b"<c ", 0, m.start()), xml.rfind(b":c ", 0, m.start()))
        cend = xml.find(b"c>", m.end())
        if cstart < 0 or cend < 0:
            continue
        cell = xml[cstart:cend]
        # openpyxl writes <v /> for formulas it cannot compute; Excel writes t="str" for text results
        if re.search(rb"<(?:\w+:)?v>[^<]", cell) or (b't="str"' in cell and re.search(rb"<(?:\w+:)?v", cell)):
            continue
        ref = _REF_RE.search(cell)
        if ref:
            out.append((int(ref.group(2)), _col_index(ref.group(1).decode())))
    return out


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def col_letter(index: int) -> str:
    """0-based column index -> Excel letters (0 -> A, 27 -> AB)."""
    out = ""
    n = index + 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _cell_text(value: Any) -> str:
    """An xlsx cell value as text; identifiers stored as numbers lose no digits."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, _dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    return str(value)


class XlsxSource(Source):
    """An xlsx workbook sheet as saved by 1C, CRMs or Excel (openpyxl, read-only)."""

    format = "xlsx"
    delimiters = ("",)

    def __init__(self, path: Path, name: str, sheet: str = "") -> None:
        import warnings

        import openpyxl

        self.file = name
        self.encoding = ""
        parts = check_xlsx_container(path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
            try:
                if sheet:
                    if sheet not in wb.sheetnames:
                        raise ReadError("sheet_not_found", f"{sheet} ({', '.join(wb.sheetnames)})")
                    ws = wb[sheet]
                else:
                    ws = wb.worksheets[0]
                self.sheet = ws.title
                if hasattr(ws, "reset_dimensions"):
                    ws.reset_dimensions()  # a wrong <dimension> tag would cut rows or columns
                self._rows = [list(r) for r in ws.iter_rows(min_row=1, values_only=True)]
            finally:
                wb.close()
        part = parts.get(self.sheet, "")
        xml = _sheet_xml(path, part) if part else b""
        self._formulas = formulas_without_value(path, part, xml) if xml else []
        self.levels = outline_levels(xml)  # row -> outline level (a grouped report), usually empty

    def preview(self, delimiter: str) -> list[tuple[int, int, list[str]]]:
        out = []
        for i, row in enumerate(self._rows[:PREVIEW_ROWS * 3], start=1):
            cells = [_cell_text(v) for v in row]
            if any(c.strip() for c in cells):
                out.append((i, i, cells))
            if len(out) >= PREVIEW_ROWS:
                break
        return out

    def body(self, delimiter: str, start: int, ncols: int, coded: Collection[int] = (),
             raw: Collection[int] = ()) -> Body:
        rows = self._rows[start - 1:]
        texts: list[list[str]] = [[] for _ in range(ncols)]
        nums = [np.full(len(rows), np.nan) for _ in range(ncols)]
        date_cells = [0] * ncols
        for r, row in enumerate(rows):
            for c in range(ncols):
                v = row[c] if c < len(row) else None
                texts[c].append(_cell_text(v))
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    nums[c][r] = float(v)
                elif isinstance(v, (_dt.datetime, _dt.date)):
                    date_cells[c] += 1
        formulas = [(r, c) for r, c in self._formulas if r >= start and c < ncols]
        return Body(cells=[pa.array(t, pa.string()) for t in texts],
                    rows=np.arange(start, start + len(rows), dtype=np.int64),
                    numbers=nums, date_cells=date_cells, formula_cells=formulas)


for _suffix in TEXT_SUFFIXES:
    register(_suffix, TextSource)
register(".xlsx", XlsxSource)
register(".xlsm", XlsxSource)


def _refuse_xls(path: Path, name: str, sheet: str) -> Source:
    with open(path, "rb") as fh:
        head = fh.read(64 * 1024 * 1024)
    if head.startswith(OLE2_MAGIC):
        raise ReadError(_ole2_kind(head), name)
    if head.startswith(ZIP_MAGIC):  # an xlsx saved with the old suffix
        return XlsxSource(path, name, sheet)
    raise ReadError("legacy_xls", name)


register(".xls", _refuse_xls)
