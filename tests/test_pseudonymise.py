import pyarrow as pa

from ingest.adapters._base import new_connection
from ingest.pseudonymise import mask_identifiers, pseudonym, pseudonymise_array

KEY = b"k"


def test_vectorised_pseudonyms_match_the_scalar_ones():
    values = pa.array(["mod_ding:E1", "mod_ding:E2", "mod_ding:E1"])
    out = pseudonymise_array(KEY, values).to_pylist()
    assert out == [
        pseudonym(KEY, "mod_ding:E1"),
        pseudonym(KEY, "mod_ding:E2"),
        pseudonym(KEY, "mod_ding:E1"),
    ]
    assert out[0] != out[1]


def test_a_cache_across_batches_gives_the_same_pseudonyms_and_keeps_nulls():
    cache: dict = {}
    first = pseudonymise_array(KEY, pa.array(["mod_ding:E1", None]), cache).to_pylist()
    second = pseudonymise_array(KEY, pa.array(["mod_ding:E2", "mod_ding:E1"]), cache).to_pylist()
    assert first == [pseudonym(KEY, "mod_ding:E1"), None]
    assert second == [pseudonym(KEY, "mod_ding:E2"), pseudonym(KEY, "mod_ding:E1")]
    assert set(cache) == {"mod_ding:E1", "mod_ding:E2"}


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
