import pytest

from hhp.pseudonymise import mask_identifiers, pseudonym
from ingest.adapters._base import ParseConnection

KEY = b"k"


@pytest.mark.parametrize("key", [b"k", b"a demo key of thirty-two bytes!!", bytes(range(256)) * 2])
def test_the_sql_pseudonym_is_the_python_hmac(key, tmp_path):
    """Keys shorter and longer than SHA-256's block; text with accents, quotes and emoji."""
    values = [
        "mod_ding:E1",
        "mod_ding:jo.bloggs@org.example",
        "tea_coffee:ÉLODIE",
        "x:o'brien",
        "x:\U0001f600",
        "",
    ]
    con = ParseConnection(key, tmp_path)
    con.execute("create table v as select unnest(?::varchar[]) as value", [values])
    got = dict(con.execute("select value, hhp_pseudonym(value) from v").fetchall())
    assert got == {v: pseudonym(key, v) for v in values}
    assert len(set(got.values())) == len(values)


def test_identifiers_are_normalised_and_scoped_to_the_study(tmp_path):
    con = ParseConnection(KEY, tmp_path)
    emp = lambda study, v: f"hhp_pseudonym('{study}:' || upper(trim('{v}')))"  # noqa: E731
    mail = lambda study, v: f"hhp_pseudonym('{study}:' || lower(trim('{v}')))"  # noqa: E731
    a, b, c, d, e = con.execute(
        f"select {emp('mod_ding', ' e123 ')}, {emp('mod_ding', 'E123')}, {emp('tea_coffee', 'E123')}, "
        f"{mail('mod_ding', 'Jo.Bloggs@Org.Example ')}, {mail('mod_ding', 'jo.bloggs@org.example')}"
    ).fetchone()
    assert a == b and a != c and d == e
    assert a == pseudonym(KEY, "mod_ding:E123")
    assert con.execute("select hhp_pseudonym(null)").fetchone()[0] is None


def test_the_key_changes_every_pseudonym():
    assert pseudonym(b"one", "mod_ding:E1") != pseudonym(b"two", "mod_ding:E1")


def test_messages_are_masked():
    masked = mask_identifiers("row for jane.doe@org.example from 10.1.2.3 failed")
    assert "jane.doe" not in masked and "10.1.2.3" not in masked


def test_in_an_airflow_task_the_key_comes_from_its_secrets_backend(monkeypatch):
    from hhp.config import ConfigError, load_settings, pseudonym_key

    settings = load_settings(
        {"HHP_HOME": "/nonexistent", "HHP_WAREHOUSE": "postgresql://hhp_loader@127.0.0.1/hhp"}
    )
    monkeypatch.setenv("AIRFLOW_VAR_HHP_PSEUDONYM_KEY", "from-the-secrets-backend")  # the env backend
    assert pseudonym_key(settings, {"AIRFLOW_CTX_DAG_ID": "hhp_ingest"}) == b"from-the-secrets-backend"
    with pytest.raises(ConfigError, match="HHP_PSEUDONYM_KEY"):  # outside a task: never a default
        pseudonym_key(settings, {})


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("Abducted by aliens", "A******* b* a*****"),
        ("3", "3"),
        ("2031-01-01", "2031-01-01"),
        ("E717522", "<employee number masked>"),
        ("Dismissed: jane.doe@nhs.example from 10.2.3.4", "D********: <email masked> f*** <ip masked>"),
        ("fe80::1ff:fe23:4567:890a", "<ip masked>"),
    ],
)
def test_a_quoted_value_is_shown_masked(value, shown):
    from hhp.pseudonymise import masked_example

    assert masked_example(value) == shown


def test_masking_leaves_counts_and_times_readable():
    text = "line 4: fails in 12345 of 99999 rows at 12:30:45 on 2026-01-01"
    assert mask_identifiers(text) == text


def test_a_long_example_is_masked_before_it_is_cut():
    from expectations.findings import Finding

    value = "Dismissed after review: fatima.brown1@defence.example E717522"
    reason = Finding("leavers.landing", "expect_column_values_to_be_in_set", "leaving_reason", 1, 9, 4, value)
    assert "fatima" not in reason.describe() and "@" not in reason.describe()
    assert "(e.g. 'D******** a**** r*****: <email masked> " in reason.describe()
