"""Reading contact CSVs: line numbers, mapping, cleaning, resuming, refusals."""

from __future__ import annotations

import io

import pytest

from xobito.contact.csv_rows import ColumnMapping, CsvSource, CsvUnreadable, clean_cell


def source(text: str | bytes, mapping: ColumnMapping | None = None, **kw: str) -> CsvSource:
    data = text.encode() if isinstance(text, str) else text
    return CsvSource(io.BytesIO(data), mapping, **kw)


def test_records_carry_the_line_they_start_on() -> None:
    s = source(
        "firstname,phone,description\n"
        "Ada,+14155550001,plain\n"
        "\n"
        'Bob,+14155550002,"two\nlines"\r\n'
        "Cy,+14155550003,\n"
    )
    records = list(s.records())
    assert [r.line for r in records] == [2, 4, 6]
    assert records[1].values == {
        "firstname": "Bob",
        "phone": "+14155550002",
        "description": "two\nlines",
    }
    assert records[2].values == {"firstname": "Cy", "phone": "+14155550003"}  # empty: not given


def test_resuming_after_a_record_reads_the_same_rest() -> None:
    text = "firstname,phone\n" + "".join(f'"N\n{i}",+1415555{i:04d}\n' for i in range(7))
    s = source(text)
    everything = list(s.records())
    for k in range(len(everything)):
        rest = list(s.records(everything[k].after))
        assert rest == everything[k + 1 :]
    assert everything[-1].after.line == 2 + 2 * 7


def test_header_names_match_fields_loosely_and_mapping_wins() -> None:
    s = source("First Name,LAST_NAME,Mobile,Notes,email\nAda,Lovelace,+14155550001,x,a@b.co\n",
               ColumnMapping({"Mobile": "phone", "email": None}))  # fmt: skip
    assert s.columns == {0: "firstname", 1: "lastname", 2: "phone"}
    assert s.unmapped() == ["Notes", "email"]
    assert next(s.records()).values == {
        "firstname": "Ada",
        "lastname": "Lovelace",
        "phone": "+14155550001",
    }


def test_defaults_fill_empty_and_missing_fields() -> None:
    s = source("firstname,status_id\nAda,\nBob,7\n", ColumnMapping(defaults={"status_id": "3",
                                                                             "type": "lead"}))
    assert [r.values for r in s.records()] == [
        {"firstname": "Ada", "status_id": "3", "type": "lead"},
        {"firstname": "Bob", "status_id": "7", "type": "lead"},
    ]
    assert s.missing_required() == ["phone", "source_id"]


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        (ColumnMapping({"nope": "phone"}), "The column nope is not in the file."),
        (ColumnMapping({"a": "shoe_size"}), "The field shoe_size is not a contact field."),
        (ColumnMapping(defaults={"id": "1"}), "The field id is not a contact field."),
        (ColumnMapping({"a": "phone"}), "More than one column fills the field phone."),
    ],
)
def test_bad_mappings_refuse_the_file(mapping: ColumnMapping, message: str) -> None:
    with pytest.raises(CsvUnreadable) as caught:
        source("a,phone\n1,2\n", mapping)
    assert caught.value.reason == message
    assert caught.value.errors == {"file": [message]}


def test_byte_order_mark_is_skipped_and_other_delimiters_work() -> None:
    s = source(b"\xef\xbb\xbffirstname;phone\nAda;+14155550001\n", delimiter=";")
    assert s.header == ["firstname", "phone"]
    assert next(s.records()).values == {"firstname": "Ada", "phone": "+14155550001"}


def test_non_utf8_is_refused_with_its_line() -> None:
    s = source(b"firstname,phone\nAda,1\nZo\xeb,2\n")
    with pytest.raises(CsvUnreadable) as caught:
        s.count()
    assert "Line 3 is not valid UTF-8" in caught.value.reason
    with pytest.raises(CsvUnreadable):
        source(b"first\xffname,phone\n")


def test_empty_file_is_refused() -> None:
    for text in ("", "\n", ",,\n"):
        with pytest.raises(CsvUnreadable) as caught:
            source(text)
        assert "The file is empty" in caught.value.reason


def test_malformed_rows_are_problems_and_reading_goes_on() -> None:
    s = source('firstname,phone\nAda,1,extra\nBob,2,,\n"Cy"x,3\nDi,4\n')
    by_line = {r.line: r for r in s.records()}
    assert list(by_line) == [2, 3, 4, 5]
    assert by_line[2].problem == "The row has 3 cells; the header names 2 columns."
    assert by_line[3].problem is None  # empty extra cells are harmless
    assert by_line[3].values == {"firstname": "Bob", "phone": "2"}
    assert by_line[4].problem is not None and "cannot be read as CSV" in by_line[4].problem
    assert by_line[5].problem is None
    assert by_line[5].values == {"firstname": "Di", "phone": "4"}


def test_cells_are_trimmed_and_formula_escapes_removed() -> None:
    assert clean_cell("  Ada  ") == "Ada"
    assert clean_cell("   ") is None
    assert clean_cell("'=SUM(A1)") == "=SUM(A1)"
    assert clean_cell("'+1415") == "+1415"
    assert clean_cell("'quoted'") == "'quoted'"
    assert clean_cell("'") == "'"
