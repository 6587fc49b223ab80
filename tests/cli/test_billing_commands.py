"""The billing flow from the shell: projects, settings, invoices, exports."""

from __future__ import annotations

import io
import json
from pathlib import Path

from pypdf import PdfReader


def _setup(jtt) -> None:
    jtt("project", "add", "WEB", "--name", "Website", "--client", "Acme GmbH", "--rate", "85",
        "--currency", "EUR", "--rounding", "up-15")  # fmt: skip
    jtt("billing", "set", "--tax-rate", "19", "--company-name", "Zoë Consulting",
        "--invoice-prefix", "ACME", "--payment-terms", "Net 15",
        "--bank-details", "IBAN DE00")  # fmt: skip
    jtt("add", "WEB-1", "--from", "-3h", "--to", "-1h")  # whenever the test runs


def test_projects(jtt):
    jtt("project", "add", "API", "--name", "Public API", "--rate", "72.50")
    listed = jtt("project", "list").stdout
    assert "API" in listed and "$72.50" in listed
    assert "already uses the key" in jtt("project", "add", "API", "--name", "X", expect=1).stderr
    assert "must be a number" in jtt("project", "edit", "API", "--rate", "lots", expect=1).stderr
    jtt("project", "edit", "API", "--rate", "90", "--client", "Globex")
    assert "$90.00" in jtt("project", "list").stdout and "Globex" in jtt("project", "list").stdout
    jtt("project", "archive", "API")
    assert "API" not in jtt("project", "list").stdout
    assert "archived" in jtt("project", "list", "--all").stdout
    assert "no project with the key NOPE" in jtt("project", "edit", "nope", "--rate", "1",
                                                  expect=1).stderr  # fmt: skip


def test_billing_settings_are_validated_and_all_or_nothing(jtt):
    before = jtt("billing", "show").stdout
    result = jtt("billing", "set", "--tax-rate", "19", "--currency", "euro", expect=1)
    assert "currency" in result.stderr
    assert jtt("billing", "show").stdout == before  # the valid tax rate was not saved either
    assert "expected none, or up-N" in jtt("billing", "set", "--rounding", "sideways",
                                           expect=2).stderr  # fmt: skip
    jtt("billing", "set", "--global-rate", "50", "--project-rate", "OPS=40", "--rounding",
        "nearest-6,min-15", "--next-number", "2000")  # fmt: skip
    shown = jtt("billing", "show").stdout
    assert "$50.00 per hour" in shown and "OPS" in shown and "$40.00" in shown
    assert "to the nearest 6 min, at least 15 min" in shown
    assert "INV-2000" in shown


def test_invoice_flow(jtt, tmp_path):
    _setup(jtt)
    created = jtt("invoice", "create", "--project", "WEB", "--from", "2020-01-01", "--to",
                  "2030-12-31").stdout  # fmt: skip
    assert created.startswith("Created ACME-1001:") and "€" in created
    # the same time is never billed twice
    again = jtt("invoice", "create", "--project", "WEB", "--from", "2020-01-01", "--to",
                "2030-12-31", expect=1)  # fmt: skip
    assert "nothing to bill" in again.stderr
    listed = jtt("invoice", "list").stdout
    assert "ACME-1001" in listed and "draft" in listed and "Acme GmbH" in listed
    shown = jtt("invoice", "show", "ACME-1001").stdout
    assert "WEB-1" in shown and "Total" in shown

    pdf = tmp_path / "out" / "a.pdf"
    jtt("invoice", "export", "ACME-1001", "--format", "pdf", "-o", str(pdf))
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.read_bytes())).pages)
    assert "ACME-1001" in text and "WEB-1" in text and "Zoë Consulting" in text
    total = created.split("total ")[1].split(" (")[0]
    assert total in text
    for fmt in ("html", "md", "csv"):
        out = tmp_path / f"a.{fmt}"
        jtt("invoice", "export", "ACME-1001", "--format", fmt, "-o", str(out))
        assert "WEB-1" in out.read_text()

    assert "now sent" in jtt("invoice", "mark", "ACME-1001", "sent").stdout
    assert "sent" in jtt("invoice", "list", "--status", "sent").stdout
    # cancelling frees the time: it can be invoiced again
    assert "can be billed again" in jtt("invoice", "mark", "ACME-1001", "cancelled").stdout
    assert "cannot be marked paid" in jtt("invoice", "mark", "ACME-1001", "paid",
                                          expect=1).stderr  # fmt: skip
    recreated = jtt("invoice", "create", "--project", "WEB", "--from", "2020-01-01", "--to",
                    "2030-12-31").stdout  # fmt: skip
    assert recreated.startswith("Created ACME-1002:")


def test_dry_run_creates_nothing(jtt, cli_env):
    _setup(jtt)
    out = jtt("invoice", "create", "--client", "acme gmbh", "--from", "2020-01-01", "--to",
              "2030-12-31", "--dry-run").stdout  # fmt: skip
    assert "Would bill 1 line," in out
    assert "No invoices yet." in jtt("invoice", "list").stdout
    backup = Path(cli_env["JTT_DATA_DIR"]) / "all.json"
    jtt("export", str(backup))
    assert json.loads(backup.read_text())["billing_settings"]["next_invoice_number"] == 1001
