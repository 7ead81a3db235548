"""Adversarial suite: hostile files, killed runs, parallel runs, leaks between clients, parameters.

Every test here tries to break a promise of the README's "What the workbench guarantees".
Real files, real subprocesses (the CLI, killed runs, memory-capped imports), exact messages.
"""
from __future__ import annotations

import hashlib
import html
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from workbench.config import load_engagement
from workbench.errors import InputError, LockError, RunError
from workbench.ingest import import_engagement, write_import

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
HEADER = "Контрагент;ИНН;Дата;Сумма"
GOOD_ROWS = ["ООО «Ромашка»;0274062111;01.02.2025;1\u00a0234,56", "ИП Петров;770123456789;03.02.2025;500,00"]


def csv_lines(*lines: str) -> str:
    return "\r\n".join(lines) + "\r\n"


def cp1251(text: str) -> bytes:
    return text.encode("cp1251")


def xlsx_bytes(build, title: str = "Лист1") -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = title
    build(wb.active)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def engagement_with_previous_import(tmp_path: Path, name: str) -> Path:
    """An engagement whose last import succeeded (work/ filled); ``data/<name>`` is then replaced."""
    root = tmp_path / "engagements" / "client"
    (root / "data").mkdir(parents=True)
    good = cp1251(csv_lines(HEADER, *GOOD_ROWS))
    (root / "data" / name).write_bytes(good)
    if not name.endswith(".csv"):  # the previous import came from a csv export
        (root / "data" / "previous.csv").write_bytes(good)
    first = name if name.endswith(".csv") else "previous.csv"
    # only the named file: the other one (csv bytes under the broken file's name) is no export
    (root / "engagement.yaml").write_text(
        f'client: "ООО «Тест»"\nlanguage: ru\ninputs:\n  sales:\n    file: data/{first}\n    files: []\n',
        encoding="utf-8")
    eng = load_engagement(root)
    write_import(eng, import_engagement(eng))
    (root / "engagement.yaml").write_text(
        f'client: "ООО «Тест»"\nlanguage: ru\ninputs:\n  sales:\n    file: data/{name}\n', encoding="utf-8")
    return root


def tree_state(root: Path) -> dict[str, tuple[int, int, str]]:
    """Every file under ``root``: size, mtime (ns) and SHA-256.

    The engagement lock file is left out: every command takes the lock first, and the
    file holds nothing once released (checked here), so it is not data being written.
    """
    lock = root / ".workbench.lock"
    assert not lock.exists() or lock.stat().st_size == 0, "a released lock file must be empty"
    return {p.relative_to(root).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns,
                                             hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(root.rglob("*")) if p.is_file() and p != lock}


def cli(*args: str, timeout: float = 120, preexec=None) -> subprocess.CompletedProcess:
    return subprocess.run([PY, "-m", "workbench.cli", *args], capture_output=True, text=True, check=False,
                          timeout=timeout, preexec_fn=preexec, cwd=ROOT)


# =====================================================================================
# Broken files: one error naming file, row or cell, column and value; exit 1; nothing written
# =====================================================================================

def _formula_xlsx() -> bytes:
    def build(ws):
        ws.append(["Контрагент", "ИНН", "Дата", "Сумма"])
        ws.append(["ООО «Ромашка»", "0274062111", "01.02.2025", 100])
        ws.append(["ИП Петров", "770123456789", "03.02.2025", "=D2*2"])  # saved without a value
    return xlsx_bytes(build)


def _zip_encrypted_xlsx() -> bytes:
    """A zip whose members carry the 'encrypted' flag (traditional PKWARE encryption)."""
    data = bytearray(_formula_xlsx())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        infos = zf.infolist()
    end = data.rfind(b"PK\x05\x06")
    central = int.from_bytes(data[end + 16:end + 20], "little")
    for info in infos:  # zipfile clears the flag when writing: set it in both headers
        data[info.header_offset + 6] |= 0x1
    pos = central
    while data[pos:pos + 4] == b"PK\x01\x02":
        data[pos + 8] |= 0x1
        pos += 46 + sum(int.from_bytes(data[pos + k:pos + k + 2], "little") for k in (28, 30, 32))
    return bytes(data)


def _ole2(encrypted: bool) -> bytes:
    """An OLE2 compound file: legacy .xls, or Office's password-protected xlsx container."""
    data = bytearray(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4088)
    name = "EncryptedPackage" if encrypted else "Workbook"
    data[1024:1024 + 2 * len(name)] = name.encode("utf-16-le")
    return bytes(data)


BROKEN = {
    # id: (file name, bytes, exact lines the message must hold)
    "mixed_encodings": (
        "sales.csv",
        cp1251(csv_lines(HEADER, GOOD_ROWS[0])) + "ООО «Берёза»;7701000002;04.02.2025;10,00\r\n".encode(),
        # the value as the cp1251 reader sees it (what Excel shows when it opens the file)
        ["sales.csv: в файле смешаны кодировки (UTF-8 и cp1251) (1)",
         "  - строка 3, столбец «Контрагент»: значение «РћРћРћ В«Р‘РµСЂС‘Р·Р°В»»"]),
    "mixed_encodings_in_a_document_column": (  # a column of mostly distinct values (not dictionary-coded)
        "sales.csv",
        cp1251(csv_lines(HEADER + ";Документ", GOOD_ROWS[0] + ";РТУ-1", GOOD_ROWS[1] + ";РТУ-2"))
        + "ООО Вега;7701000002;04.02.2025;10,00;Реализация 7\r\n".encode(),
        ["sales.csv: в файле смешаны кодировки (UTF-8 и cp1251) (2)",
         "  - строка 4, столбец «Контрагент»: значение «" + "ООО Вега".encode().decode("cp1251") + "»",
         "  - строка 4, столбец «Документ»: значение «" + "Реализация 7".encode().decode("cp1251") + "»"]),
    "inconsistent_delimiter": (
        "sales.csv",
        cp1251(csv_lines(HEADER, GOOD_ROWS[0], "ИП Петров,770123456789,03.02.2025,500")),
        ["sales.csv: в строке другое число полей, чем в заголовке (1)", "  - строка 3: значение «1 ≠ 4»"]),
    "wrong_delimiter": (
        "sales.csv",
        cp1251(csv_lines("Контрагент|ИНН|Дата|Сумма", "ИП Петров|770123456789|03.02.2025|500")),
        ["sales.csv: не найдена строка заголовка (ожидались столбцы: контрагент, дата, сумма) (1)",
         "  - строка 1: заголовки файла: Контрагент|ИНН|Дата|Сумма",
         "  ожидалось: столбцы, разделённые «;», «,» или табуляцией; в файле разделитель «|»: сохраните файл как "
         "CSV с разделителем «;»"]),
    "ragged_rows": (
        "sales.csv",
        cp1251(csv_lines(HEADER, GOOD_ROWS[0], "ИП Петров;770123456789;03.02.2025;500;лишнее", "ООО Вега;01.02.2025")),
        ["sales.csv: в строке другое число полей, чем в заголовке (2)",
         "  - строка 3: значение «5 ≠ 4»", "  - строка 4: значение «2 ≠ 4»"]),
    "impossible_date": (
        "sales.csv",
        cp1251(csv_lines(HEADER, GOOD_ROWS[0], "ИП Петров;770123456789;31.02.2025;500,00")),
        ["sales.csv: дата не распознана (ожидалось дд.мм.гггг, дд.мм.гг, гггг-мм-дд, д/м/гггг или период "
         "«Январь 2024 г.») (1)",
         "  - строка 3, столбец «Дата»: значение «31.02.2025»"]),
    "words_in_amount": (
        "sales.csv",
        cp1251(csv_lines(HEADER, GOOD_ROWS[0], "ИП Петров;770123456789;03.02.2025;пятьсот рублей")),
        ["sales.csv: сумма не распознана (ожидалось число, например 1 234,56) (1)",
         "  - строка 3, столбец «Сумма»: значение «пятьсот рублей»"]),
    "absurd_magnitude": (
        "sales.csv",
        cp1251(csv_lines(HEADER, GOOD_ROWS[0], "ИП Петров;770123456789;03.02.2025;9\u00a0999\u00a0999\u00a0999\u00a0999\u00a0999,00")),
        ["sales.csv: сумма неправдоподобно велика (больше 10¹⁵) (1)",
         "  - строка 3, столбец «Сумма»: значение «9\u00a0999\u00a0999\u00a0999\u00a0999\u00a0999,00»"]),
    "empty_file": ("sales.csv", b"", ["sales.csv: файл пуст: нет ни заголовка, ни строк (1)", "  - значение «sales.csv»"]),
    "header_only": (
        "sales.csv", cp1251(csv_lines(HEADER)),
        ["sales.csv: в файле только заголовок, строк с данными нет (1)", "  - строка 1"]),
    "formula_without_value": (
        "sales.xlsx", _formula_xlsx(),
        ["sales.xlsx: формула без сохранённого значения (откройте файл в Excel и сохраните его) (1)",
         "  - Лист1!D3, столбец «Сумма»"]),
    "password_protected_xlsx": (
        "sales.xlsx", _ole2(encrypted=True), ["sales.xlsx: файл защищён паролем (1)", "  - значение «sales.xlsx»"]),
    "zip_encrypted_xlsx": (
        "sales.xlsx", _zip_encrypted_xlsx(), ["sales.xlsx: файл защищён паролем (1)", "  - значение «sales.xlsx»"]),
    "corrupt_xlsx": (
        "sales.xlsx", _formula_xlsx()[:3000],
        ["sales.xlsx: файл не читается (1)", "  - значение «zip: File is not a zip file»"]),
    "legacy_xls": (
        "sales.xls", _ole2(encrypted=False),
        ["sales.xls: старый формат .xls не поддерживается (сохраните как .xlsx или CSV) (1)",
         "  - значение «sales.xls»"]),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_file_is_refused_naming_the_cell_and_nothing_is_written(tmp_path, case):
    name, data, lines = BROKEN[case]
    root = engagement_with_previous_import(tmp_path, name)
    (root / "data" / name).write_bytes(data)
    before = tree_state(root)
    with pytest.raises(InputError) as err:
        import_engagement(load_engagement(root))
    message = str(err.value).splitlines()
    n = len(err.value.problems)
    assert message[0] == f"Входные файлы не приняты: найдено проблем: {n}. Исправьте выгрузку и запустите импорт снова."
    assert message[1:-1] == lines
    assert message[-1] == "Ничего не записано; файлы в data/ не изменены."
    # the command line: the same one message on stderr, exit 1, no traceback, nothing written
    out = cli("import", str(root))
    assert out.returncode == 1, out.stderr
    assert out.stdout == ""
    assert out.stderr == str(err.value) + "\n"
    assert "Traceback" not in out.stderr
    assert tree_state(root) == before
    assert (root / "data" / name).read_bytes() == data


# =====================================================================================
# Bombs: refused within a memory and time budget (a 1.5 GB address-space cap, 60 s)
# =====================================================================================

MEMORY_CAP = 1536 * 1024 ** 2
BOMB_TIMEOUT = 60
_SHEET_NS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def _rezip(src: bytes, replace: dict[str, bytes | object]) -> bytes:
    """A copy of the xlsx ``src`` with members replaced; a callable value streams the member."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as zr, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED,
                                                                  compresslevel=9) as zw:
        names = [i.filename for i in zr.infolist()]
        for name in names + [n for n in replace if n not in names]:
            new = replace[name] if name in replace else zr.read(name)
            if name == "xl/_rels/workbook.xml.rels" and "xl/sharedStrings.xml" in replace:
                new = new.replace(b"</Relationships>", b'<Relationship Id="rIdSS" Type="http://schemas.'
                                  b'openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
                                  b'Target="sharedStrings.xml"/></Relationships>')
            if name == "[Content_Types].xml" and "xl/sharedStrings.xml" in replace:
                new = new.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                                  b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
            if callable(new):
                with zw.open(name, "w", force_zip64=True) as fh:
                    new(fh)
            else:
                zw.writestr(name, new)
    return out.getvalue()


def _plain_xlsx() -> bytes:
    def build(ws):
        ws.append(["Контрагент", "ИНН", "Дата", "Сумма"])
        ws.append(["ООО «Ромашка»", "0274062111", "01.02.2025", 100])
    return xlsx_bytes(build)


def _rows_bomb(megabytes: int):
    """A sheet of ``megabytes`` MB of repeated rows: a few hundred KB zipped, minutes for openpyxl."""
    def write(fh):
        fh.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet ' + _SHEET_NS + b"><sheetData>")
        row = (b'<row><c t="inlineStr"><is><t>A</t></is></c><c t="inlineStr"><is><t>0274062111</t></is></c>'
               b'<c t="inlineStr"><is><t>01.02.2025</t></is></c><c><v>1</v></c></row>') * 8192
        for _ in range(megabytes * 1024 * 1024 // len(row)):
            fh.write(row)
        fh.write(b"</sheetData></worksheet>")
    return write


def _laughs(prefix: bytes = b"") -> bytes:
    """Billion laughs: ten levels of ten entities, 10^9 'lol's when expanded."""
    ents = b'<!ENTITY lol0 "lol">' + b"".join(
        b"<!ENTITY lol%d \"%s\">" % (i, b"".join(b"&lol%d;" % (i - 1) for _ in range(10))) for i in range(1, 10))
    return (b'<?xml version="1.0" encoding="UTF-8"?>' + prefix + b"<!DOCTYPE worksheet [" + ents + b"]>"
            b"<worksheet " + _SHEET_NS + b'><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t>'
            b"</is></c></row></sheetData></worksheet>")


BOMBS = {
    # id: (members to replace, expected problem line)
    "zip_bomb_under_the_size_budget": ({"xl/worksheets/sheet1.xml": _rows_bomb(450)},
                                       "sales.xlsx: файл слишком велик или распаковывается в слишком большой объём (1)"),
    "zip_bomb_over_the_size_budget": ({"docProps/core.xml": lambda fh: [fh.write(b"\0" * 2 ** 24) for _ in range(40)]},
                                      "sales.xlsx: файл слишком велик или распаковывается в слишком большой объём (1)"),
    "entity_bomb": ({"xl/worksheets/sheet1.xml": _laughs()}, "sales.xlsx: файл не читается (1)"),
    "entity_bomb_behind_a_comment": ({"xl/worksheets/sheet1.xml": _laughs(b"<!-- <a -->")},
                                     "sales.xlsx: файл не читается (1)"),
    "entity_bomb_in_shared_strings": ({"xl/sharedStrings.xml": _laughs(b"<!-- <sst -->")},
                                      "sales.xlsx: файл не читается (1)"),
    "entity_bomb_in_workbook_xml": ({"xl/workbook.xml": _laughs(b"<!-- <workbook -->")},
                                    "sales.xlsx: файл не читается (1)"),
}


def _cap_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(BOMBS))
def test_bombs_are_refused_within_memory_and_time(tmp_path, case):
    replace, line = BOMBS[case]
    root = engagement_with_previous_import(tmp_path, "sales.xlsx")
    (root / "data" / "sales.xlsx").write_bytes(_rezip(_plain_xlsx(), replace))
    before = tree_state(root)
    started = time.monotonic()
    out = cli("import", str(root), timeout=BOMB_TIMEOUT, preexec=_cap_memory)
    assert out.returncode == 1, (out.returncode, out.stderr[-2000:])
    lines = out.stderr.splitlines()
    assert line in lines, out.stderr
    assert lines[-1] == "Ничего не записано; файлы в data/ не изменены."
    assert "Traceback" not in out.stderr and "MemoryError" not in out.stderr
    assert time.monotonic() - started < BOMB_TIMEOUT
    assert tree_state(root) == before


# =====================================================================================
# A customer whose name starts like a total row is a customer, not a total
# =====================================================================================

def test_customers_named_like_total_rows_keep_their_sales(tmp_path):
    text = csv_lines(HEADER, "Всего понемногу;7701000003;01.02.2025;100,00", "Total Vostok;7701000004;02.02.2025;200,00",
                     "Итого;;;300,00")
    root = engagement_with_previous_import(tmp_path, "sales.csv")
    (root / "data" / "sales.csv").write_bytes(cp1251(text))
    res = import_engagement(load_engagement(root))
    assert res.ledger["customer_name"].tolist() == ["Всего понемногу", "Total Vostok"]
    assert res.ledger["amount"].tolist() == [100.0, 200.0]
    assert res.report["files"][0]["rows_excluded"] == {"total": 1, "blank": 0}
    # the same in a customers file: the row with an INN is a customer
    (root / "data" / "customers.csv").write_bytes(cp1251(csv_lines(
        "Контрагент;ИНН;Отрасль", "Total Vostok;7701000004;Нефть", "Итого: 1;;")))
    cfg = root / "engagement.yaml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + "  customers:\n    file: data/customers.csv\n", encoding="utf-8")
    res = import_engagement(load_engagement(root))
    assert res.customers.set_index("customer_id").at["7701000004", "industry"] == "Нефть"
    assert res.report["files"][1]["rows_excluded"] == {"total": 1, "blank": 0}


# =====================================================================================
# Crashes: a run killed while writing deliverables and while appending history
# =====================================================================================

RUN_CHILD = "import sys; from workbench.run import run_engagement; run_engagement(sys.argv[1], echo=lambda m: None)"


def _start_run(path: Path, **env: str) -> subprocess.Popen:
    return subprocess.Popen([PY, "-c", RUN_CHILD, str(path)], cwd=ROOT, env={**os.environ, **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def _kill_tree(proc: subprocess.Popen) -> None:
    """SIGKILL the run and everything it started (kernels included)."""
    import psutil

    try:
        kids = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        kids = []
    for p in [psutil.Process(proc.pid), *kids] if proc.poll() is None else kids:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    proc.wait(timeout=30)
    psutil.wait_procs(kids, timeout=10)


def _wait_for(condition, proc: subprocess.Popen, what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"the run ended before {what}: {proc.stderr.read().decode()[-2000:]}"
        assert time.monotonic() < deadline, f"never reached: {what}"
        time.sleep(0.05)


def hashes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _frames(db: Path) -> dict[str, pd.DataFrame]:
    from workbench.history import load_history

    return load_history(db)


def _assert_same_history(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    assert set(a) == set(b)
    for name, frame in a.items():
        pd.testing.assert_frame_equal(frame, b[name], obj=name)


@pytest.mark.slow
def test_runs_killed_before_their_history_commit_leave_a_consistent_engagement(demo_copy):
    """Whole runs (notebooks and all) killed at the two moments before the commit point; the
    failure matrix of every step, without notebooks, is in tests/test_run_unit.py."""
    from workbench.history import PAUSE_ENV, integrity_ok
    from workbench.io.rununit import INTENT_NAME, PAUSE_BEFORE_COMMIT_ENV
    from workbench.run import run_engagement

    eng = demo_copy
    final = eng / "deliverables" / "2026-10"
    db = eng / "history.sqlite"
    previous = hashes(final)
    previous_work = hashes(eng / "work" / "2026-10")
    history_before = _frames(db)

    # 1. killed with the new folders in place and the history not yet committed
    proc = _start_run(eng, **{PAUSE_BEFORE_COMMIT_ENV: "120"})
    try:
        def swapped() -> bool:
            return (eng / INTENT_NAME).exists() and not list((eng / "deliverables").glob(".tmp-2026-10-*"))
        _wait_for(swapped, proc, "the pause before the history commit")
    finally:
        _kill_tree(proc)
    assert proc.returncode == -signal.SIGKILL
    assert hashes(final) != previous  # the new deliverables stand there, without their history
    out = cli("history", "check", str(eng))  # the next command on the engagement undoes the unit
    assert out.returncode == 0, out.stderr
    assert out.stderr.startswith("Прогон за 2026-10, прерванный до записи в историю, отменён")
    assert hashes(final) == previous                       # every file: the previous version
    assert hashes(eng / "work" / "2026-10") == previous_work
    assert not list(eng.rglob(".tmp-*")) and not (eng / INTENT_NAME).exists()
    assert integrity_ok(db)
    _assert_same_history(_frames(db), history_before)

    # 2. new data this month, the run killed inside the history transaction
    sales = eng / "data" / "sales_1c.csv"
    raw = sales.read_bytes()
    last = raw.rstrip(b"\r\n").rsplit(b"\r\n", 1)[1]
    sales.write_bytes(raw + last.replace("РН-".encode("cp1251"), "РН-9".encode("cp1251")) + b"\r\n")
    journal = db.with_name(db.name + "-journal")
    proc = _start_run(eng, **{PAUSE_ENV: "120"})
    try:
        _wait_for(journal.exists, proc, "the history transaction")
        time.sleep(0.5)  # inside: the month's rows deleted and inserted, COMMIT not reached
    finally:
        _kill_tree(proc)
    assert proc.returncode == -signal.SIGKILL
    assert integrity_ok(db)
    _assert_same_history(_frames(db), history_before)  # the previous snapshot, whole

    # 3. the next run settles the killed one (undone), then succeeds with the new data
    res = run_engagement(eng, echo=lambda m: None)
    assert res.deliverables == final
    assert not list(eng.rglob(".tmp-*")) and not (eng / INTENT_NAME).exists()
    assert not journal.exists()
    assert integrity_ok(db)
    now = hashes(final)
    assert set(now) == set(previous) and now["segments.csv"] != previous["segments.csv"]
    seg = pd.read_csv(final / "segments.csv", dtype=str, encoding="utf-8-sig")
    after = _frames(db)
    stored = after["segments"][after["segments"]["month"] == "2026-10"]
    assert sorted(stored["customer_id"]) == sorted(seg["customer_id"])
    assert stored["revenue"].sum() != history_before["segments"].query("month == '2026-10'")["revenue"].sum()
    assert "interrupted run recovered" in (eng / "logs" / "run.log").read_text(encoding="utf-8")


# =====================================================================================
# Concurrency: one run per engagement; different engagements in parallel
# =====================================================================================

@pytest.mark.slow
def test_a_second_run_of_one_engagement_is_refused_naming_the_holder(demo_copy):
    from workbench.run import run_engagement

    lock = demo_copy / ".workbench.lock"
    proc = _start_run(demo_copy)
    try:
        def held() -> bool:
            try:
                return json.loads(lock.read_text() or "{}").get("pid") == proc.pid
            except (OSError, ValueError):
                return False
        _wait_for(held, proc, "the lock")
        with pytest.raises(LockError, match=rf"^Проект demo уже выполняется: процесс {proc.pid} на .+ "
                                            rf"\(workbench run, с \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d\)"):
            run_engagement(demo_copy, echo=lambda m: None)
        out = cli("run", str(demo_copy))
        assert out.returncode == 1 and "Traceback" not in out.stderr
        assert out.stderr.startswith(f"Проект demo уже выполняется: процесс {proc.pid} ")
    finally:
        _kill_tree(proc)


# =====================================================================================
# Isolation: two clients side by side never see each other's customers
# =====================================================================================

CANARIES = {
    "a": {"client": "ООО «Клиент-А-Секрет»", "seed": 101,
          "names": ["ООО «Канарейка-А-7781»", "АО «Щегол-А-7782»", "ИП Снегирёв-А-7783"],
          "inns": ["7781000001", "7782000002", "778300000312"],
          "phones": ["+7 999 778-10-01", "+7 999 778-20-02", "+7 999 778-30-03"]},
    "b": {"client": "ООО «Клиент-Б-Секрет»", "seed": 202,
          "names": ["ООО «Канарейка-Б-8891»", "АО «Щегол-Б-8892»", "ИП Снегирёв-Б-8893"],
          "inns": ["8891000001", "8892000002", "889300000312"],
          "phones": ["+7 999 889-10-01", "+7 999 889-20-02", "+7 999 889-30-03"]},
}


def _canary_engagement(root: Path, spec: dict) -> dict[str, list[str]]:
    """A demo-like client with three customers renamed to canaries; customers file with phones.

    Returns the engagement's own customer names, INNs and phones.
    """
    from openpyxl import Workbook

    from workbench.config import render_template
    from workbench.demo import generate, sales_1c_csv

    sales, customers = generate(spec["seed"])
    picks = [0, 40, 200]  # a dominant, a steady and a regular customer
    rename = {customers.at[i, "customer_name"]: n for i, n in zip(picks, spec["names"])}
    reinn = {customers.at[i, "inn"]: v for i, v in zip(picks, spec["inns"])}
    for frame in (sales, customers):
        frame["customer_name"] = frame["customer_name"].replace(rename)
        frame["inn"] = frame["inn"].replace(reinn)
    phones = [f"+7 900 {spec['seed']:03d}-{i // 100:02d}-{i % 100:02d}" for i in range(len(customers))]
    for i, p in zip(picks, spec["phones"]):
        phones[i] = p
    customers["phone"] = phones
    (root / "data").mkdir(parents=True)
    (root / "data" / "sales_1c.csv").write_bytes(sales_1c_csv(sales))
    wb = Workbook()
    ws = wb.active
    ws.append(["Контрагент", "ИНН", "Отрасль", "Численность сотрудников", "Телефон"])
    for rec in customers.itertuples(index=False):
        ws.append([rec.customer_name, rec.inn, rec.industry, int(rec.headcount), rec.phone])
    for row in ws.iter_rows(min_row=2, min_col=2, max_col=2):
        for cell in row:
            cell.data_type = "s"
    wb.save(root / "data" / "customers.xlsx")
    (root / "engagement.yaml").write_text(
        render_template(spec["client"], "ru", "data/sales_1c.csv", "data/customers.xlsx"), encoding="utf-8")
    return {"names": customers["customer_name"].tolist(), "inns": customers["inn"].tolist(), "phones": phones}


def _needles(spec: dict) -> list[str]:
    """What must never leak: distinctive parts of the canary names, the INNs, the phones, the client."""
    cores = [n.split("«")[-1].rstrip("»") if "«" in n else n.split(" ", 1)[1] for n in spec["names"]]
    return cores + spec["inns"] + spec["phones"] + [p.split(" ", 2)[2] for p in spec["phones"]] + \
        [spec["client"].split("«")[1].rstrip("»")]


def _encodings(needle: str) -> list[bytes]:
    forms = {needle.encode("utf-8"), needle.encode("utf-16-le"), json.dumps(needle).strip('"').encode(),
             html.escape(needle).encode("utf-8")}
    try:
        forms.add(needle.encode("cp1251"))
    except UnicodeEncodeError:
        pass
    return sorted(forms)


def _blobs(path: Path) -> list[bytes]:
    """The bytes of a file as stored, and unpacked: zip members (xlsx), Parquet tables as text."""
    raw = path.read_bytes()
    out = [raw]
    if raw.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(path) as zf:
            out += [zf.read(n) for n in zf.namelist()]
    if path.suffix == ".parquet":
        out.append(pd.read_parquet(path).to_csv().encode("utf-8"))
    return out


@pytest.mark.slow
def test_two_clients_run_in_parallel_and_never_see_each_other(tmp_path):
    base = tmp_path / "engagements"
    own = {k: _canary_engagement(base / f"client-{k}", spec) for k, spec in CANARIES.items()}
    for k, spec in CANARIES.items():  # the files themselves are clean before the run
        other = CANARIES["b" if k == "a" else "a"]
        for f in (base / f"client-{k}").rglob("*"):
            if f.is_file():
                for blob in _blobs(f):
                    for needle in _needles(other):
                        assert not any(form in blob for form in _encodings(needle)), (f, needle)

    out = cli("batch", str(base), "--jobs", "2", timeout=400)
    assert out.returncode == 0, out.stdout + out.stderr[-3000:]
    assert "client-a" in out.stdout and "client-b" in out.stdout
    printed = out.stdout + out.stderr

    for k, spec in CANARIES.items():
        root = base / f"client-{k}"
        other = CANARIES["b" if k == "a" else "a"]
        files = [f for f in root.rglob("*") if f.is_file()]
        kinds = {f.suffix for f in files}
        assert {".html", ".xlsx", ".csv", ".ipynb", ".parquet", ".sqlite", ".log"} <= kinds, kinds
        for f in files:
            for blob in _blobs(f):
                for needle in _needles(other):
                    assert not any(form in blob for form in _encodings(needle)), (f, needle)
        # the canaries are really there (the search would find a leak)
        segments = (root / "deliverables" / "2026-10" / "segments.csv").read_text(encoding="utf-8-sig")
        report = (root / "deliverables" / "2026-10" / "report.html").read_text(encoding="utf-8")
        assert all(n in segments for n in spec["names"]) and spec["inns"][0] in segments
        assert spec["client"] in report and spec["names"][0] in report
        # logs and what the command printed: counts and timings, no customer at all
        log = (root / "logs" / "run.log").read_text(encoding="utf-8")
        assert "run ok month=2026-10" in log
        for text in (log, printed):
            for value in own[k]["names"] + own[k]["inns"] + own[k]["phones"]:
                assert value not in text, value
            for needle in _needles(spec):
                assert needle not in text, needle


# =====================================================================================
# Parameters: names checked before any kernel starts; values reach the notebook as text
# =====================================================================================

@pytest.mark.parametrize("name", ["x; import os", "month\nimport os", "__import__('os').system('true')",
                                  "unknown", "", "1month", "month "])
def test_parameter_names_are_checked_before_any_kernel(tmp_path, monkeypatch, name):
    import papermill

    from workbench import run

    def no_kernel(*a, **k):
        raise AssertionError("a kernel was started")

    monkeypatch.setattr(papermill, "execute_notebook", no_kernel)
    nb = ROOT / "notebooks" / "01_import.ipynb"
    params = {"engagement_dir": str(tmp_path), "month": "2026-10", name: "1"}
    with pytest.raises(RunError, match=rf"^01_import\.ipynb: параметр {re.escape(repr(name))} не объявлен в ячейке "
                                       r"parameters \(объявлены: engagement_dir, lang, month, out_dir, "
                                       r"refresh_import, step_dir\)$"):
        run.execute_notebook(nb, tmp_path / "out" / "01_import.ipynb", params, "ru")
    assert not (tmp_path / "out").exists()
    run.check_parameters(nb, {"engagement_dir": "x", "month": "00123", "refresh_import": False}, "ru")
    with pytest.raises(RunError, match="must be text or a flag"):
        run.check_parameters(nb, {"month": 202610}, "ru")


@pytest.mark.slow
def test_identifiers_reach_the_notebook_as_text(demo_run, tmp_path):
    import nbformat

    from workbench.run import execute_notebook

    path, res = demo_run
    injected = next(c for c in nbformat.read(res.deliverables / "notebooks" / "01_import.ipynb", as_version=4).cells
                    if "injected-parameters" in c.metadata.get("tags", []))
    assert 'month = "2026-10"\n' in injected.source
    assert f"engagement_dir = {json.dumps(str(path))}\n" in injected.source

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('engagement_dir = ""\nmonth = ""\nlang = ""\nout_dir = ""',
                                          metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("import json, pathlib\npathlib.Path(out_dir, 'seen.json').write_text("
                                          "json.dumps({k: [type(v).__name__, v] for k, v in "
                                          "dict(engagement_dir=engagement_dir, month=month, lang=lang).items()}))")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    src = tmp_path / "tiny.ipynb"
    nbformat.write(nb, src)
    values = {"engagement_dir": str(tmp_path / "engagements" / "00123"), "month": "00123",
              "lang": 'nan"\n; import os  # 1e3'}
    execute_notebook(src, tmp_path / "out" / "tiny.ipynb", {**values, "out_dir": str(tmp_path)}, "ru")
    seen = json.loads((tmp_path / "seen.json").read_text())
    assert seen == {k: ["str", v] for k, v in values.items()}
