"""The columns of an uploaded CSV as variables name them (offered by the wizard)."""

from __future__ import annotations

from xobito.campaign.csv_audience import columns_of, read_csv


def test_columns_are_named_as_the_variables_name_them_once_each() -> None:
    data = "\ufeffPhone,First Name,Promo_Code,promo code,\n+12125550101,Kim,K1,K1,\n".encode()
    assert columns_of(data) == ["phone", "firstname", "promocode"]
    parsed, problem = read_csv(data, set(columns_of(data)))  # every column is known to it
    assert problem is None and parsed is not None
    assert parsed.rows[0].values == {"phone": "+12125550101", "firstname": "Kim",
                                     "promocode": "K1"}


def test_a_file_without_a_header_row_has_no_columns() -> None:
    assert columns_of(b"") == []
    assert columns_of(b"\n+12125550101\n") == []
