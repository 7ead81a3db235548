"""Property-based tests of the importer (hypothesis).

* Any well-formed ledger written as a 1C-style CSV (cp1251, ``;``, decimal comma, no-break
  space thousands, dd.mm.yyyy) or as xlsx imports back to the same canonical table.
* Arbitrary bytes, as .csv or .xlsx, either import or raise InputError, never another
  exception, within a bounded time.
"""
from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from workbench.config import load_engagement
from workbench.errors import InputError
from workbench.ingest import import_engagement

SETTINGS = {"deadline": None, "database": None, "suppress_health_check": [HealthCheck.function_scoped_fixture,
                                                       HealthCheck.too_slow]}
CYRILLIC = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдеёжзийклмнопрстуфхцчшщъыьэюя"
NAME_CHARS = CYRILLIC + "ABCXYZabcxyz0123456789 \"'«»;,.-&№()/+=@"
LEGAL = ["ООО ", "АО ", "ИП ", "ПАО ", ""]
TIME_LIMIT = 10.0  # seconds per import of a small file


def _engagement(root: Path, name: str, data: bytes) -> Path:
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "data" / name).write_bytes(data)
    # Dates span 2000-2030: the limits are set (dates past today or far from the rest are
    # refused otherwise; tests/test_ingest_dates.py covers that).
    (root / "engagement.yaml").write_text(
        f'client: "ООО «Тест»"\nlanguage: ru\ninputs:\n  sales:\n    file: data/{name}\n'
        'import:\n  max_date: "2030-12-31"\n  min_date: "2000-01-01"\n', encoding="utf-8")
    return root


names = st.builds(lambda legal, body: (legal + body).strip(), st.sampled_from(LEGAL),
                  st.text(NAME_CHARS, min_size=1, max_size=24)).filter(
    lambda s: any(ch.isalpha() for ch in s) and "  " not in s)
inns = st.one_of(st.text("0123456789", min_size=10, max_size=10), st.text("0123456789", min_size=12, max_size=12))


@st.composite
def ledgers(draw):
    """Rows (name, INN, date, amount in kopecks); one name per INN."""
    customers = draw(st.lists(st.tuples(names, inns), min_size=1, max_size=6, unique_by=lambda c: c[1]))
    rows = draw(st.lists(st.tuples(st.sampled_from(customers), st.dates(dt.date(2000, 1, 1), dt.date(2030, 12, 31)),
                                   st.integers(-10 ** 11, 10 ** 11).filter(lambda k: k != 0)),
                         min_size=1, max_size=25))
    return [(c[0], c[1], d, k) for c, d, k in rows]


def _ru_amount(kopecks: int) -> str:
    text = f"{abs(kopecks) / 100:,.2f}".replace(",", "\u00a0").replace(".", ",")
    return ("-" if kopecks < 0 else "") + text


def one_c_csv(rows) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(["Дата", "Контрагент", "ИНН", "Сумма"])
    for name, inn, day, kop in rows:
        w.writerow([day.strftime("%d.%m.%Y"), name, inn, _ru_amount(kop)])
    return buf.getvalue().encode("cp1251")


def xlsx(rows) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Контрагент", "ИНН", "Дата", "Сумма"])
    for name, inn, day, kop in rows:
        ws.append([name, inn, dt.datetime(day.year, day.month, day.day), kop / 100])
    for row in ws.iter_rows(min_row=2, max_col=2):
        for cell in row:
            cell.data_type = "s"  # text, even when it starts with "="
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_well_formed_ledgers_import_to_the_same_table(tmp_path_factory, fmt):
    root = tmp_path_factory.mktemp(f"roundtrip-{fmt}")

    @settings(max_examples=150, **SETTINGS)
    @given(ledgers())
    def check(rows):
        data = one_c_csv(rows) if fmt == "csv" else xlsx(rows)
        led = import_engagement(load_engagement(_engagement(root, f"sales.{fmt}", data))).ledger
        assert led["customer_name"].tolist() == [r[0] for r in rows]
        assert led["inn"].tolist() == [r[1] for r in rows]
        assert led["customer_id"].tolist() == [r[1] for r in rows]
        assert [d.date() for d in led["date"]] == [r[2] for r in rows]
        assert led["amount"].tolist() == [r[3] / 100 for r in rows]
        assert led["is_return"].tolist() == [r[3] < 0 for r in rows]

    check()


@functools.cache
def _valid_xlsx() -> bytes:  # once: openpyxl stamps the time into docProps/core.xml
    return xlsx([("ООО «Ромашка»", "0274062111", dt.date(2025, 2, 1), 123456)])


@st.composite
def hostile_bytes(draw):
    """Random bytes, or a real file (CSV or xlsx) with bytes flipped, cut or inserted."""
    kind = draw(st.sampled_from(["random", "csv", "xlsx", "zip-prefix"]))
    if kind == "random":
        return draw(st.binary(max_size=3000))
    if kind == "zip-prefix":
        return b"PK\x03\x04" + draw(st.binary(max_size=3000))
    base = bytearray(one_c_csv([("ООО «Ромашка»", "0274062111", dt.date(2025, 2, 1), 123456)] * 3)
                     if kind == "csv" else _valid_xlsx())
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["flip", "cut", "insert"]))
        pos = draw(st.integers(0, max(len(base) - 1, 0)))
        if op == "flip" and base:
            base[pos] = draw(st.integers(0, 255))
        elif op == "cut":
            del base[pos:pos + draw(st.integers(1, 200))]
        else:
            base[pos:pos] = draw(st.binary(min_size=1, max_size=50))
    return bytes(base)


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_arbitrary_bytes_give_a_table_or_an_input_error(tmp_path_factory, suffix):
    root = tmp_path_factory.mktemp(f"fuzz-{suffix}")

    @settings(max_examples=400, **SETTINGS)
    @given(hostile_bytes())
    def check(data):
        eng = load_engagement(_engagement(root, f"sales.{suffix}", data))
        started = time.monotonic()
        try:
            res = import_engagement(eng)
        except InputError as exc:
            assert exc.problems and str(exc).splitlines()[-1] == "Ничего не записано; файлы в data/ не изменены."
        else:
            assert len(res.ledger) > 0
        assert time.monotonic() - started < TIME_LIMIT
        assert (root / "data" / f"sales.{suffix}").read_bytes() == data
        assert not (root / "work").exists()

    check()



# The vectorised helpers give what their one-value definitions give, on any text.
TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
INN_TEXT = st.text(alphabet="0123456789 -.\u00a0\u202f٢２a", max_size=14)


# Names built from the words the name key rules act on: legal forms (short, full, Latin-typed)
# anywhere, look-alike Latin letters, initials, quotes, dots and spaces.
NAME_WORDS = ["ООО", "OOO", "ип", "ИП", "АО", "Ltd", "Общество с ограниченной ответственностью", "Петров", "Иван",
              "И.", "С.", "И.С.", "Pомашка", "Ромашка", "«Вектор-Плюс»", '"Альфа"', "Acme", "limited", "3", "ё",
              " ", "  ", ",", "\u00a0"]
WORDY = st.lists(st.sampled_from(NAME_WORDS), max_size=6).map(" ".join)


@settings(max_examples=300, **SETTINGS)
@given(st.lists(TEXT | WORDY, max_size=20))
def test_name_keys_equal_name_key_of_each(names):
    from workbench.ingest import name_key, name_keys

    assert name_keys(names) == [name_key(v) for v in names]


@settings(max_examples=300, **SETTINGS)
@given(st.lists(INN_TEXT | TEXT, max_size=20))
def test_normalise_inns_equal_normalise_inn_of_each(values):
    from workbench.ingest import normalise_inn, normalise_inns

    out, padded, invalid = normalise_inns(values)
    one = [normalise_inn(v) for v in values]
    assert out == [v for v, _, _ in one]
    assert padded.tolist() == [p for _, p, _ in one]
    assert invalid.tolist() == [b for _, _, b in one]


@settings(max_examples=200, **SETTINGS)
@given(st.lists(st.text(alphabet="абвгдеёжРСТУ АБВ«»\u00a0—№€‚Ґ ґabc012;\"", max_size=10), max_size=15))
def test_decode_binary_equals_python_decoding(values):
    import pyarrow as pa

    from workbench.io.readers import decode_binary

    raw = pa.array([v.encode("cp1251") for v in values], pa.binary())
    assert decode_binary(raw, "cp1251").to_pylist() == values
    if len(values) > 2:  # a slice (non-zero offset) too
        assert decode_binary(raw.slice(1, len(values) - 2), "cp1251").to_pylist() == values[1:-1]


@settings(max_examples=300, **SETTINGS)
@given(st.lists(st.text(alphabet="0123456789+-,. \u00a0\t'()руб", max_size=12), max_size=15))
def test_number_bytes_prepare_like_the_decoded_text(values):
    import pyarrow as pa

    from workbench.ingest import _trim, prepare_number_bytes, prepare_number_text
    from workbench.io.readers import decode_binary

    raw = pa.array([v.encode("cp1251") for v in values], pa.binary())
    fast = prepare_number_bytes(raw)
    if fast is not None:  # None: the column is decoded and prepared as text instead
        assert fast.to_pylist() == prepare_number_text(_trim(decode_binary(raw, "cp1251"))).to_pylist()
        assert all(set(v) <= set("0123456789+-,. \u00a0") for v in values)
    else:
        assert not any(values) or any(set(v) - set("0123456789+-,. \u00a0") for v in values)


@settings(max_examples=300, **SETTINGS)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 6)), max_size=40), st.booleans())
def test_most_frequent_takes_the_same_value_by_either_count(pairs, one_id_per_value):
    """Counted in an array, without hashing (each value of one id) or hashed: the same."""
    import numpy as np
    import pandas as pd

    from workbench.ingest import Coded, identity, most_frequent

    if one_id_per_value:  # value v always with id v // 2
        pairs = [(v // 2, v) for _, v in pairs]
    id_codes, id_values = pd.factorize(pd.Series([f"id{i}" for i, _ in pairs], dtype=object))
    v_codes, v_values = pd.factorize(pd.Series(["" if v == 6 else f"v{v}" for _, v in pairs], dtype=object))
    ids = Coded(codes=np.asarray(id_codes, dtype=np.int64), values=list(id_values))
    values = Coded(codes=np.asarray(v_codes, dtype=np.int64), values=list(v_values))
    in_array = most_frequent(ids, values)
    saved = identity._COUNT_IN_PLACE_MAX, identity._values_of_one_id
    try:  # as for many ids and values
        identity._COUNT_IN_PLACE_MAX = 0
        one_id = most_frequent(ids, values)
        identity._values_of_one_id = lambda ids, values: None
        hashed = most_frequent(ids, values)
    finally:
        identity._COUNT_IN_PLACE_MAX, identity._values_of_one_id = saved
    assert in_array == one_id == hashed


@settings(max_examples=200, **SETTINGS)
@given(st.lists(st.binary(max_size=7), max_size=20), st.integers(1, 9), st.integers(0, 20))
def test_binary_pieces_cover_every_value_once(values, size, cut):
    """Pieces of any size, over chunks (with a non-zero offset) or one array, join back."""
    import pyarrow as pa

    from workbench.io.readers import binary_pieces, join_pieces

    arr = pa.array(values, pa.binary())
    cut = min(cut, len(values))
    chunked = pa.chunked_array([arr.slice(0, cut), arr.slice(cut)], pa.binary())
    for source in (arr, chunked):
        assert join_pieces(len(values), list(binary_pieces(source, size)), "binary").to_pylist() == values


@settings(max_examples=150, **SETTINGS)
@given(st.binary(min_size=1, max_size=40), st.integers(-5, 45), st.integers(-5, 45), st.sampled_from([b"\n", b"\x98", b"a"]))
@example(b"\n\x00", 0, -3, b"\n")  # a negative bound past the start: bytes clamp it to 0, mmap counted it from the end
def test_a_mapped_file_answers_as_its_bytes(tmp_path_factory, data, start, end, byte):
    """The mapped file gives what bytes give, blocks of 3 bytes standing in for 8 MB."""
    from workbench.io.readers import MappedFile

    path = tmp_path_factory.mktemp("mapped") / "f.csv"
    path.write_bytes(data)
    mapped = MappedFile(path, 1 << 20)
    mapped.BLOCK = 3
    assert len(mapped) == len(data) and mapped[start:end] == data[start:end]
    assert mapped.count(byte, max(start, 0), end) == data.count(byte, max(start, 0), end)
    assert mapped.count(byte) == data.count(byte) and mapped.isascii() == data.isascii()
    assert mapped.find(byte, max(start, 0), end) == data.find(byte, max(start, 0), end)
    assert mapped.rfind(byte, max(start, 0), end) == data.rfind(byte, max(start, 0), end)
    assert mapped.find(b"\n\r\n", max(start, 0)) == data.find(b"\n\r\n", max(start, 0))
    assert mapped.startswith((b"\xd0\xcf", data[:2])) and (byte in mapped) == (byte in data)
    assert mapped.strip(b" \n") == data.strip(b" \n") and mapped.split(b"\n") == data.split(b"\n")
