"""engagement.yaml: defaults, overlay and validation with errors naming key and allowed values."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from workbench.config import defaults, load_engagement, render_template, validate
from workbench.errors import ConfigError


def write_cfg(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "engagement.yaml").write_text(text, encoding="utf-8")
    return folder


def test_template_is_the_documented_defaults():
    d = defaults()
    assert d["segmentation"]["abc"] == {"a": 0.80, "b": 0.15}
    assert d["segmentation"]["xyz"]["x"] == 0.10 and d["segmentation"]["xyz"]["y"] == 0.25
    assert d["segmentation"]["healthy_mix"]["typical"] == [0.60, 0.70]
    assert d["language"] == "ru"


def test_rendered_template_keeps_any_client_name_as_text():
    text = render_template('ООО «Альфа» "кавычки" # не комментарий: {x}', "en", "data/s.csv", "")
    data = yaml.safe_load(text)
    assert data["client"] == 'ООО «Альфа» "кавычки" # не комментарий: {x}'
    assert data["language"] == "en"
    assert data["inputs"]["sales"]["file"] == "data/s.csv"
    assert "# engagement.yaml" in text  # comments survive


def test_overlay_keeps_defaults_for_missing_keys(tmp_path):
    eng = load_engagement(write_cfg(tmp_path / "e", 'client: "X"\ninputs: {sales: {file: data/s.csv}}\n'
                                    "segmentation: {abc: {a: 0.7}}\n"))
    assert eng.settings["segmentation"]["abc"] == {"a": 0.7, "b": 0.15}
    assert eng.settings["segmentation"]["xyz"]["period"] == "month"
    assert eng.lang == "ru" and eng.client == "X"


def test_every_problem_is_listed_with_key_and_allowed_values():
    with pytest.raises(ConfigError) as err:
        validate({"language": "de", "currency": "GBR", "segmentation": {"xyz": {"period": "week"}, "bogus": 1},
                  "inputs": {"sales": {"file": "d.csv", "columns": {"amout": "Сумма"}}}}, "e/engagement.yaml")
    msg = str(err.value)
    assert msg.splitlines()[0] == "Ошибка в настройках e/engagement.yaml:"
    assert 'language: значение "de" недопустимо; допустимые значения: ru, en' in msg
    assert 'currency: ожидался код валюты ISO 4217 (RUB, USD, EUR, GBP, KZT…), получено "GBR"' in msg
    assert 'segmentation.xyz.period: значение "week" недопустимо; допустимые значения: month, quarter' in msg
    assert "ключ segmentation.bogus неизвестен; допустимые ключи: window_months, abc, xyz" in msg
    assert 'inputs.sales.columns.amout: значение "amout" недопустимо; допустимые значения: customer_name, inn, date, amount' in msg


def test_any_iso_4217_currency_and_the_import_settings_are_validated():
    base = {"inputs": {"sales": {"file": "d.csv"}}}
    ok = validate({**base, "currency": "GBP", "import": {"vat": "gross", "date_order": "mdy", "max_date": "2099-12-31",
                                                        "rates": {"usd": 92.5}, "statuses": {"Выдано": "sale"}},
                   "customers": {"merge": [["ООО «Ромашка»", "Ромашка ООО"]], "keep_apart": [["А", 7701234567]]}},
                  "e/engagement.yaml")
    assert ok["currency"] == "GBP" and ok["import"]["rates"] == {"USD": 92.5}
    assert ok["import"]["statuses"] == {"Выдано": "sale"} and ok["import"]["vat"] == "gross"
    assert ok["customers"]["keep_apart"] == [["А", "7701234567"]]
    with pytest.raises(ConfigError) as err:
        validate({**base, "import": {"vat": "both", "date_order": "ymd", "max_date": "2024-02-30", "min_date": 2024,
                                     "rates": {"GBP": 0, "XYZ": 1}, "statuses": {"Выдано": "yes"}},
                  "customers": {"merge": [["одно"]], "keep_apart": "А, Б"}}, "e/engagement.yaml")
    msg = str(err.value)
    for line in ('import.vat: значение "both" недопустимо; допустимые значения: net, gross',
                 'import.date_order: значение "ymd" недопустимо; допустимые значения: auto, dmy, mdy',
                 'import.max_date: ожидалась дата в виде ГГГГ-ММ-ДД, получено "2024-02-30"',
                 "import.min_date: ожидалась строка, получено 2024",
                 "import.rates.GBP: ожидался курс — положительное число, получено 0",
                 'import.rates.XYZ: ожидался код валюты ISO 4217 (RUB, USD, EUR, GBP, KZT…), получено "XYZ"',
                 'import.statuses.Выдано: значение "yes" недопустимо; допустимые значения: sale, skip',
                 'customers.merge[0]: ожидался список из двух и более написаний или ИНН одного клиента',
                 'customers.keep_apart: ожидался список, получено "А, Б"'):
        assert line in msg, line


def test_errors_in_english_for_an_english_engagement(tmp_path):
    folder = write_cfg(tmp_path / "e", "client: X\nlanguage: en\ninputs: {sales: {file: s.csv}}\n"
                                       "segmentation: {abc: {a: 0.9, b: 0.2}, xyz: {x: 0.5, y: 0.2}}\n")
    with pytest.raises(ConfigError, match=r"segmentation.abc: a \+ b = 0.9 \+ 0.2 is more than 1") as err:
        load_engagement(folder)
    assert "segmentation.xyz: x = 0.5 is greater than y = 0.2" in str(err.value)


@pytest.mark.parametrize("text, expected", [
    ("segmentation: {window_months: 1.5}", "segmentation.window_months: ожидалось целое число, получено 1.5"),
    ("segmentation: {abc: {a: \"много\"}}", 'segmentation.abc.a: ожидалось число, получено "много"'),
    ("maps: {start_month: 2027-13}", 'maps.start_month: ожидался месяц в виде ГГГГ-ММ, получено "2027-13"'),
    ("maps: {calendar: {seasonal: [{month: 13, kind: holidays}]}}",
     "maps.calendar.seasonal[0].month: значение 13 вне допустимого диапазона 1 … 12"),
    ("maps: {calendar: {events: [{month: \"2027-02\", kind: party, name: x}]}}",
     'maps.calendar.events[0].kind: значение "party" недопустимо; допустимые значения: release, law, conference'),
    ("segmentation: {healthy_mix: {vip: [0.5, 0.1]}}",
     "segmentation.healthy_mix.vip: ожидалась пара [от, до] в пределах 0 … 1, получено [0.5, 0.1]"),
])
def test_value_errors(tmp_path, text, expected):
    folder = write_cfg(tmp_path / "e", "client: X\ninputs: {sales: {file: s.csv}}\n" + text + "\n")
    with pytest.raises(ConfigError) as err:
        load_engagement(folder)
    assert expected in str(err.value)


def test_missing_file_and_broken_yaml(tmp_path):
    with pytest.raises(ConfigError, match="Не найден файл настроек"):
        load_engagement(tmp_path / "nowhere")
    folder = write_cfg(tmp_path / "b", "client: [unclosed\n")
    with pytest.raises(ConfigError, match="не читается как YAML"):
        load_engagement(folder)


def test_input_paths_cannot_leave_the_engagement(tmp_path):
    folder = write_cfg(tmp_path / "e", "client: X\ninputs: {sales: {file: ../../etc/passwd}}\n")
    with pytest.raises(ConfigError, match=r"inputs.sales.file: путь ../../etc/passwd выходит за пределы папки проекта"):
        load_engagement(folder)
