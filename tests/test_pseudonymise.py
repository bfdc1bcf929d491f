import pytest

from ingest.adapters._base import new_connection
from ingest.pseudonymise import mask_identifiers, pseudonym

KEY = b"k"


@pytest.mark.parametrize("key", [b"k", b"a demo key of thirty-two bytes!!", bytes(range(256)) * 2])
def test_the_sql_pseudonym_is_the_python_hmac(key):
    """Keys shorter and longer than SHA-256's block; text with accents, quotes and emoji."""
    values = [
        "mod_ding:E1",
        "mod_ding:jo.bloggs@org.example",
        "tea_coffee:ÉLODIE",
        "x:o'brien",
        "x:\U0001f600",
        "",
    ]
    con = new_connection(key)
    con.execute("create table v as select unnest(?::varchar[]) as value", [values])
    got = dict(con.execute("select value, hhp_pseudonym(value) from v").fetchall())
    assert got == {v: pseudonym(key, v) for v in values}
    assert len(set(got.values())) == len(values)


def test_identifiers_are_normalised_and_scoped_to_the_study():
    con = new_connection(KEY)
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
