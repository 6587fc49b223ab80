"""Failure classification and redaction."""

from __future__ import annotations

import errno
import socket
import sqlite3
import ssl

import pytest
from pymongo import errors as pm

from jtt_tui.storage.errors import (
    SUGGESTIONS,
    ConflictError,
    MissingCredentialsError,
    StorageError,
    classify,
    redact,
    register_secret,
)


def _wrapped(cause: BaseException) -> StorageError:
    try:
        try:
            raise cause
        except BaseException as exc:
            raise StorageError(f"MongoDB: {exc}") from exc
    except StorageError as outer:
        return outer


@pytest.mark.parametrize(
    ("exc", "kind", "recoverable"),
    [
        (
            pm.ServerSelectionTimeoutError("db:27017: [Errno 111] Connection refused"),
            "network",
            True,
        ),
        (pm.AutoReconnect("connection reset by peer"), "network", True),
        (
            pm.ServerSelectionTimeoutError("db.example: [Errno -2] Name or service not known"),
            "network",
            True,
        ),
        (pm.ServerSelectionTimeoutError("db:27017: timed out"), "timeout", True),
        (pm.NetworkTimeout("db:27017: timed out"), "timeout", True),
        (pm.ExecutionTimeout("operation exceeded time limit", 50), "timeout", True),
        (pm.OperationFailure("Authentication failed.", 18), "auth", False),
        (pm.OperationFailure("bad auth : Authentication failed.", 8000), "auth", False),
        (pm.OperationFailure("command find requires authentication", 13), "auth", False),
        (
            pm.OperationFailure("not authorized on jtt to execute command { find: ... }", 13),
            "permission",
            False,
        ),
        (
            pm.ConfigurationError("The DNS query name does not exist: _mongodb._tcp.x.net."),
            "config",
            False,
        ),
        (pm.InvalidURI("Invalid URI scheme"), "config", False),
        (
            pm.ServerSelectionTimeoutError(
                "SSL handshake failed: [SSL: CERTIFICATE_VERIFY_FAILED]"
            ),
            "tls",
            False,
        ),
        (pm.DuplicateKeyError("E11000 duplicate key", 11000), "conflict", True),
        (ConflictError("session", "WEB-1", 1, 2), "conflict", True),
        (sqlite3.OperationalError("database or disk is full"), "disk", False),
        (sqlite3.OperationalError("attempt to write a readonly database"), "disk", False),
        (sqlite3.OperationalError("database is locked"), "disk", True),
        (OSError(errno.ENOSPC, "No space left on device"), "disk", False),
        (ssl.SSLCertVerificationError("certificate verify failed"), "tls", False),
        (socket.gaierror(-2, "Name or service not known"), "network", True),
        (ConnectionRefusedError(111, "Connection refused"), "network", True),
        (TimeoutError("timed out"), "timeout", True),
        (MissingCredentialsError("user jtt needs a password"), "auth", False),
        (RuntimeError("something odd"), "unknown", True),
    ],
)
def test_classify(exc, kind, recoverable):
    for candidate in (exc, _wrapped(exc)):
        failure = classify(candidate)
        assert failure.kind == kind, candidate
        assert failure.recoverable is recoverable
        assert 2 <= len(failure.suggestions) <= 4
        assert failure.title


def test_every_kind_has_two_to_four_suggestions():
    for kind, tips in SUGGESTIONS.items():
        assert 2 <= len(tips) <= 4, kind


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("cannot reach mongodb://jtt:hunter2@db.example:27017/jtt", "hunter2"),
        ("mongodb+srv://admin:p%40ss@cluster0.abc.mongodb.net/?retryWrites=true", "p%40ss"),
        ("failed: {'password': 'hunter2', 'user': 'x'}", "hunter2"),
        ("uri=mongodb://h/?authSource=admin&password=hunter2&x=1", "hunter2"),
        ("https://me:tok3n@example.atlassian.net/rest", "tok3n"),
    ],
)
def test_redact_removes_credentials(text, secret):
    cleaned = redact(text)
    assert secret not in cleaned
    assert "***" in cleaned


def test_redact_keeps_the_user_and_host():
    assert redact("mongodb://jtt:pw@db.example:27017/x") == "mongodb://jtt:***@db.example:27017/x"
    assert redact("mongodb://db.example:27017/x") == "mongodb://db.example:27017/x"


def test_registered_secrets_vanish_from_any_text():
    register_secret("correct-horse-battery")
    assert redact("auth with correct-horse-battery failed") == "auth with *** failed"
    error = StorageError("server said correct-horse-battery is wrong")
    assert "correct-horse-battery" not in str(error)
    failure = classify(_wrapped(pm.OperationFailure("pw correct-horse-battery rejected", 18)))
    assert "correct-horse-battery" not in failure.message


def test_messages_drop_the_drivers_diagnostics_dump():
    raw = (
        "db:1: [Errno 111] Connection refused (configured timeouts: socketTimeoutMS: "
        "2000.0ms, connectTimeoutMS: 2000.0ms), Timeout: 2.0s, Topology Description: "
        "<TopologyDescription id: 6b, topology_type: Unknown, servers: [...]>"
    )
    failure = classify(_wrapped(pm.ServerSelectionTimeoutError(raw)))
    assert failure.kind == "network"
    assert failure.message == "MongoDB: db:1: [Errno 111] Connection refused"
