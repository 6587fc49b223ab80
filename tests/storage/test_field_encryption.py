"""Field encryption (AES-256-GCM) on every backend: what is stored is sealed,
what is read is the user's text, and nothing sealed can be moved, altered or
opened without its key."""

from __future__ import annotations

import base64
import json
from datetime import date, timedelta
from decimal import Decimal

import pytest

from jtt_tui.domain.models import (
    BillingSettings,
    Client,
    Invoice,
    ManualTask,
    Project,
    Session,
)
from jtt_tui.storage import SQLiteStore
from jtt_tui.storage.crypto import (
    ENCRYPTED_FIELDS,
    EncryptionError,
    FieldCipher,
    KeyFormatError,
    KeyProvider,
    KeyUnavailableError,
    is_sealed,
    key_id_of,
    new_key,
    parse_env_keys,
)
from jtt_tui.storage.kinds import BILLING, INVOICES, MANUAL_TASKS, PROJECTS, SESSIONS

SECRET_WORDS = ("hunter2", "client@secret.example", "Geheimstraße 5", "IBAN DE89")


def cipher_with(*keys: bytes, active: int | None = 0) -> FieldCipher:
    provider = KeyProvider(list(keys), keyring_lookup=None)
    return FieldCipher(provider, key_id_of(keys[active]) if active is not None else None)


def fill(store) -> None:
    store.save_session(
        Session(
            ticket_number="WEB-1",
            description="password hunter2 for the staging box",
            notes="call client@secret.example",
        )
    )
    store.save_session(Session(ticket_number="WEB-2", description="", notes="plain? hunter2"))
    store.save_project(
        Project(
            key="WEB",
            name="Website",
            client=Client(name="ACME", email="client@secret.example", address="Geheimstraße 5"),
        )
    )
    store.save_manual_task(
        ManualTask(title="Call", description="hunter2 again", date=date(2025, 3, 10))
    )
    store.save_billing_settings(BillingSettings(bank_details="IBAN DE89 3704 0044"))
    store.save_invoice(
        Invoice(invoice_number="1001", issue_date=date(2025, 3, 10), notes="hunter2 in notes")
    )


def raw_dump(store) -> str:
    """Everything stored for the encrypted collections, unopened."""
    docs = []
    for collection in ENCRYPTED_FIELDS:
        from jtt_tui.storage.kinds import ALL_KINDS

        kind = next(k for k in ALL_KINDS if k.name == collection)
        docs += [doc for _key, doc in store.raw_records(kind)]
    return json.dumps(docs, default=str, ensure_ascii=False)


def test_every_backend_stores_sealed_values_and_reads_the_text(make_store):
    key = new_key()
    store = make_store()
    store.cipher = cipher_with(key)
    fill(store)
    stored = raw_dump(store)
    for word in SECRET_WORDS:
        assert word not in stored
    assert stored.count('"jtt_enc"') == 8  # 2+1 session fields, 2 client, task, bank, notes
    # another process with the key reads everything back as written
    reader = make_store()
    reader.cipher = cipher_with(key, active=None)
    session = reader.get_session("WEB-1")
    assert session.description == "password hunter2 for the staging box"
    assert session.notes == "call client@secret.example"
    assert reader.get_projects()[0].client.address == "Geheimstraße 5"
    assert reader.get_manual_tasks()[0].description == "hunter2 again"
    assert reader.get_billing_settings().bank_details == "IBAN DE89 3704 0044"
    assert reader.get_invoices()[0].notes == "hunter2 in notes"
    # queries that read whole records open them too
    assert [s.notes for s in reader.recent_sessions(limit=5)] != []
    exported = reader.export_all().model_dump_json()
    assert "hunter2" in exported and '"jtt_enc"' not in exported


def test_without_the_key_a_clear_error_names_it(make_store):
    key = new_key()
    writer = make_store()
    writer.cipher = cipher_with(key)
    fill(writer)
    stranger = make_store()
    other = new_key()
    stranger.cipher = cipher_with(other)
    with pytest.raises(KeyUnavailableError) as caught:
        stranger.get_session("WEB-1")
    message = str(caught.value)
    assert key_id_of(key) in message and "JTT_DATA_KEY" in message
    assert caught.value.key_id == key_id_of(key)
    assert "hunter2" not in message


def test_values_written_with_encryption_off_stay_readable_and_plain(make_store):
    store = make_store()
    fill(store)
    assert "hunter2" in raw_dump(store)
    store.cipher = cipher_with(new_key())
    assert store.get_session("WEB-1").description.startswith("password hunter2")


def test_hostile_text_that_looks_sealed_is_stored_literally(make_store):
    store = make_store()
    store.cipher = cipher_with(new_key())
    fake = json.dumps({"jtt_enc": 1, "kid": "0" * 16, "data": "AAAA"})
    store.save_session(Session(ticket_number="WEB-9", description=fake, notes='"jtt_enc"'))
    again = store.get_session("WEB-9")
    assert (again.description, again.notes) == (fake, '"jtt_enc"')
    plain = make_store()  # encryption off: a value that mentions the tag is plain text
    plain.save_session(Session(ticket_number="WEB-8", notes='{"jtt_enc": 1}'))
    assert plain.get_session("WEB-8").notes == '{"jtt_enc": 1}'


# -- the cipher itself ---------------------------------------------------------------


def sealed_session(cipher: FieldCipher, ticket: str, text: str) -> dict:
    doc = {"ticket_number": ticket, "description": text, "notes": text}
    cipher.seal("sessions", ticket, doc, camel=False)
    return doc


def test_tampering_is_detected():
    cipher = cipher_with(new_key())
    doc = sealed_session(cipher, "WEB-1", "secret")
    raw = bytearray(base64.b64decode(doc["notes"]["data"]))
    raw[-1] ^= 1
    doc["notes"]["data"] = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(EncryptionError, match=r"sessions WEB-1 notes: .*integrity check"):
        cipher.open("sessions", doc, "ticket_number", camel=False)


def test_ciphertexts_swapped_between_records_or_fields_are_rejected():
    cipher = cipher_with(new_key())
    one = sealed_session(cipher, "WEB-1", "for WEB-1")
    two = sealed_session(cipher, "WEB-2", "for WEB-2")
    one["description"], two["description"] = two["description"], one["description"]
    with pytest.raises(EncryptionError, match="WEB-1 description"):
        cipher.open("sessions", one, "ticket_number", camel=False)
    three = sealed_session(cipher, "WEB-3", "text")
    three["description"], three["notes"] = three["notes"], three["description"]
    with pytest.raises(EncryptionError, match="WEB-3 description"):
        cipher.open("sessions", three, "ticket_number", camel=False)
    moved = sealed_session(cipher, "WEB-4", "x")
    task = {"task_id": "WEB-4", "description": moved["description"]}
    with pytest.raises(EncryptionError):  # same key string, other collection
        cipher.open("manual_tasks", task, "task_id", camel=False)


def test_every_value_gets_a_fresh_nonce_and_names_its_key():
    key = new_key()
    cipher = cipher_with(key)
    a = sealed_session(cipher, "WEB-1", "same text")
    b = sealed_session(cipher, "WEB-1", "same text")
    assert a["description"]["data"] != b["description"]["data"]
    nonces = {base64.b64decode(d["data"])[:12] for d in (a["description"], a["notes"])}
    assert len(nonces) == 2
    assert a["description"]["kid"] == key_id_of(key)
    cipher.open("sessions", a, "ticket_number", camel=False)
    assert a["description"] == "same text"


def test_empty_values_stay_empty_and_nested_client_fields_are_sealed():
    cipher = cipher_with(new_key())
    doc = {"projectId": "p1", "client": {"name": "ACME", "email": "a@b.example", "address": ""}}
    cipher.seal("projects", "p1", doc, camel=True)
    assert is_sealed(doc["client"]["email"]) and doc["client"]["address"] == ""
    assert doc["client"]["name"] == "ACME"
    cipher.open("projects", doc, "projectId", camel=True)
    assert doc["client"]["email"] == "a@b.example"


@pytest.mark.parametrize(
    "value", ["short", base64.b64encode(b"x" * 16).decode(), "not base64 at all!!", "ab=cd"]
)
def test_a_malformed_env_key_is_refused_with_the_fix(value):
    with pytest.raises(KeyFormatError, match="jtt keys generate"):
        parse_env_keys(value + "," + base64.b64encode(new_key()).decode())


def test_a_cipher_cannot_be_enabled_without_its_key():
    with pytest.raises(KeyUnavailableError, match="abcdabcdabcdabcd"):
        FieldCipher(KeyProvider([], keyring_lookup=None), "abcdabcdabcdabcd")


def test_rewriting_moves_every_record_to_the_new_key(make_store):
    old, new = new_key(), new_key()
    store = make_store()
    store.cipher = cipher_with(old)
    fill(store)
    store.cipher = cipher_with(new, old)
    for kind in (SESSIONS, PROJECTS, MANUAL_TASKS, BILLING, INVOICES):
        stale = [
            key
            for key, doc in store.raw_records(kind)
            if store.cipher.needs_rewrite(kind.name, doc, camel=store.kind == "mongodb")
        ]
        versions = {k: store._load(kind, k).version for k in stale}
        assert store.rewrite_records(kind, stale) == len(stale)
        # same versions: re-encryption is not an edit
        assert {k: store._load(kind, k).version for k in stale} == versions
    stored = raw_dump(store)
    assert key_id_of(old) not in stored and key_id_of(new) in stored
    only_new = make_store()
    only_new.cipher = cipher_with(new)
    assert only_new.get_invoices()[0].notes == "hunter2 in notes"


def test_offline_outbox_holds_sealed_values(tmp_path, clock):
    from jtt_tui.storage.offline import OfflineMirror

    mirror = OfflineMirror(tmp_path / "offline.db", user_id="alice", clock=clock)
    mirror.connect()
    key = new_key()
    mirror.cipher = cipher_with(key)
    mirror.save_session(Session(ticket_number="WEB-1", notes="hunter2"))
    raw = (tmp_path / "offline.db").read_bytes() + (tmp_path / "offline.db-wal").read_bytes()
    assert b"hunter2" not in raw
    [entry] = mirror.entries()
    assert entry.record is not None and entry.record.notes == "hunter2"
    mirror.disconnect()


def test_money_and_durations_are_untouched(make_store):
    store = make_store()
    store.cipher = cipher_with(new_key())
    store.save_manual_task(
        ManualTask(
            title="T", description="d", duration=timedelta(minutes=90), date=date(2025, 3, 1)
        )
    )
    store.save_project(Project(key="ABC", name="A", hourly_rate=Decimal("120.50")))
    assert store.get_manual_tasks()[0].duration == timedelta(minutes=90)
    assert store.get_projects()[0].hourly_rate == Decimal("120.50")


@pytest.mark.parametrize("backend", ["mongomock", "wire"])
def test_an_encrypted_store_migrates_and_verifies(make_store, tmp_path, clock):
    """local (encrypted) -> MongoDB (encrypted with the same key): the copy is
    sealed there too and the checksums (over the plain records) match."""
    from jtt_tui.storage.migrate import migrate

    key = new_key()
    source = SQLiteStore(tmp_path / "local.db", user_id="alice", clock=clock)
    source.connect()
    source.cipher = cipher_with(key)
    fill(source)
    target = make_store()
    target.cipher = cipher_with(key)
    report = migrate(source, target, backup_path=tmp_path / "backup.json")
    assert report.verified
    stored = raw_dump(target)
    assert "hunter2" not in stored and stored.count('"jtt_enc"') == 8
    backup = (tmp_path / "backup.json").read_text()
    assert "hunter2" in backup  # a backup is an export: the user's data, 0600
    assert oct((tmp_path / "backup.json").stat().st_mode & 0o777) == "0o600"
    source.disconnect()
