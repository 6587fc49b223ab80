"""The Jira section: the connection (site, e-mail or Server/DC, token to
keyring) with a connection test, how time is pushed, and the push queue —
what is pushed, queued or failed — with push-all and pull."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Label, Static

from jtt_tui.config import JiraConfig
from jtt_tui.domain.calendar import to_local
from jtt_tui.domain.validation import sentence
from jtt_tui.services.jira import JiraService, PushSummary, insecure_warning
from jtt_tui.services.jira_plan import PushReport
from jtt_tui.ui.commands import bindings_for
from jtt_tui.ui.modals.forms import FieldErrors, FieldGroup, check_field, select_field, text_field
from jtt_tui.ui.screens.base import JttScreen
from jtt_tui.ui.text import plain
from jtt_tui.ui.widgets.key_bar import KeyBar
from jtt_tui.ui.widgets.status_line import StatusLine
from jtt_tui.words import count

PROBLEMS_SHOWN = 5
PUSH_MODES = [("A worklog per segment", "segment"), ("One worklog per ticket and day", "day")]
ADJUST = [
    ("Jira reduces the remaining estimate (auto)", "auto"),
    ("Leave it alone", "leave"),
    ("Set it to the amount below (new)", "new"),
    ("Reduce it by the amount below per worklog (manual)", "manual"),
]


class JiraForm(FieldGroup, Vertical):
    def __init__(self, config: JiraConfig, *, token_source: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config = config
        self.token_source = token_source  # "keyring", "JTT_JIRA_TOKEN" or ""

    def compose(self) -> Iterable[Widget]:
        c = self.config
        yield from text_field(
            "url", "Jira site", c.url, placeholder="https://yoursite.atlassian.net"
        )
        yield from text_field(
            "email",
            "E-mail (Jira Cloud; leave empty for Server / Data Center)",
            c.email,
            placeholder="you@example.com",
        )
        yield from text_field(
            "token",
            "API token (Cloud) or personal access token (Server / DC)",
            "",
            password=True,
            placeholder=f"•••••• from {self.token_source} (type to save a new one in keyring)"
            if self.token_source
            else "stored in keyring, never shown again",
        )
        yield from text_field("jql", "Default search (JQL)", c.jql)
        yield from select_field("push_mode", "Push", PUSH_MODES, c.push_mode)
        yield from select_field("adjust_estimate", "Remaining estimate", ADJUST, c.adjust_estimate)
        yield from text_field(
            "estimate_value",
            "Amount (for new or manual: 2d, 3h, 30m, 1d 4h)",
            c.estimate_value,
            placeholder="e.g. 2h",
        )
        yield from check_field(
            "round_pushed", "Apply the billing rounding rules to pushed time", c.round_pushed
        )
        yield from check_field(
            "notify_watchers",
            "E-mail the issue's watchers about each worklog (Jira Cloud)",
            c.notify_watchers,
        )

    def read(self) -> tuple[JiraConfig, str | None]:
        """The form as validated settings, and a new token (or None)."""
        changes = {
            "url": self.value("url"),
            "email": self.value("email"),
            "jql": self.value("jql"),
            "push_mode": self.value("push_mode"),
            "adjust_estimate": self.value("adjust_estimate"),
            "estimate_value": self.value("estimate_value"),
            "round_pushed": self.value("round_pushed"),
            "notify_watchers": self.value("notify_watchers"),
        }
        try:
            config = JiraConfig.model_validate(
                {**self.config.model_dump(exclude={"token"}), **changes}
            )
        except ValidationError as exc:
            raise FieldErrors(
                {_field_of(e["loc"], e["msg"]): sentence(e) for e in exc.errors()}
            ) from None
        if not config.url:
            raise FieldErrors({"url": "the Jira site's address, e.g. https://you.atlassian.net"})
        from jtt_tui.services.jira_search import unbounded_jql

        unbounded = unbounded_jql(config.jql, cloud=config.cloud)
        if unbounded:
            raise FieldErrors({"jql": unbounded})
        return config, self.value("token") or None


def _field_of(loc: tuple[int | str, ...], message: str) -> str:
    """The form field an error belongs under (the estimate's check is on the
    whole settings: it names the amount)."""
    if loc:
        return str(loc[0])
    return "estimate_value" if "estimate" in message else "url"


class JiraScreen(JttScreen):
    SCOPE = "jira"
    BINDINGS = bindings_for("jira")

    def compose(self) -> ComposeResult:
        yield StatusLine()
        with VerticalScroll(id="jira-body"):
            yield Label("Push queue", classes="section-title")
            yield Static("Reading…", id="jira-queue", markup=False)
            yield Label("Connection (t tests the form, ^s saves it)", classes="section-title")
            yield Static("", id="jira-result", markup=False)
            settings = self.jtt.settings
            if settings is None:
                yield Static("Settings are not available in this session.", markup=False)
            else:
                yield JiraForm(settings.jira, token_source=self._token_source(), id="jira-form")
        yield KeyBar()

    def on_mount(self) -> None:
        # start outside the text fields: t, p and u work until one is entered
        self.query_one("#jira-body").focus()

    def _token_source(self) -> str:
        settings = self.jtt.settings
        if settings is None:
            return ""
        if settings.jira.token is not None:
            return "JTT_JIRA_TOKEN"
        from jtt_tui.secrets import get_secret
        from jtt_tui.services.jira import TOKEN_SECRET

        return "keyring" if get_secret(TOKEN_SECRET) else ""

    def service(self) -> JiraService:
        return jira_service(self.jtt)

    # -- the queue -----------------------------------------------------------------------

    def refresh_data(self) -> None:
        service = self.service()
        self.background(service.summary, self._show_summary, group="jira-summary")

    def _show_summary(self, summary: PushSummary) -> None:
        lines = [
            f"Pushed {summary.pushed} · queued {summary.queued} · failed {summary.failed} · "
            f"not pushed yet {summary.unpushed} (finished segments and manual entries "
            "with a ticket)",
            "p pushes everything not in Jira yet (and retries the queue); c compares your "
            "worklogs in Jira with what jtt pushed (reconcile); u refreshes the ticket cache "
            "from your default search. On the Timer screen, p pushes the selected ticket or "
            "today.",
        ]
        for ticket, start, state, reason in summary.problems[:PROBLEMS_SHOWN]:
            when = to_local(start, self.jtt.tz).strftime("%Y-%m-%d %H:%M")
            label = "queued" if state == "pending" else "FAILED"
            lines.append(f"  {label} {ticket} {when}: {plain(reason, 90) or 'waiting'}")
        if len(summary.problems) > PROBLEMS_SHOWN:
            lines.append(
                f"  … and {len(summary.problems) - PROBLEMS_SHOWN} more (`jtt jira status`)"
            )
        if summary.kept_local:
            lines.append(f"  {summary.kept_local} deleted in Jira and kept in jtt only")
        if not self.service().configured:
            lines.insert(0, "Jira is not set up yet: fill in the form below and press ^s.")
        self.query_one("#jira-queue", Static).update("\n".join(lines))

    # -- the form ------------------------------------------------------------------------

    def _form(self) -> tuple[JiraConfig, str | None] | None:
        forms = self.query(JiraForm)
        if not forms:
            return None
        form = forms.first()
        try:
            read = form.read()
        except FieldErrors as exc:
            form.show_errors(exc.errors)
            return None
        form.show_errors({})
        return read

    def action_test_connection(self) -> None:
        read = self._form()
        settings = self.jtt.settings
        if read is None or settings is None:
            return
        config, token = read
        if token is not None:
            from pydantic import SecretStr

            config = config.model_copy(update={"token": SecretStr(token)})
        elif settings.jira.token is not None:
            config = config.model_copy(update={"token": settings.jira.token})
        trial = settings.model_copy(update={"jira": config})
        service = JiraService(trial, self.jtt.services.storage, **_options(self.jtt))
        result = self.query_one("#jira-result", Static)
        result.update(f"Testing {config.url} …")
        warning = insecure_warning(config)

        def run() -> str:
            from jtt_tui.jira.client import JiraError

            try:
                return "✓ " + service.test()
            except JiraError as exc:
                return f"✗ {exc}"

        self.background(
            run,
            lambda text: result.update(text + (f"\n⚠ {warning}" if warning else "")),
            group="jira-test",
        )

    def action_save_settings(self) -> None:
        from jtt_tui.config import load_settings, update_settings_file
        from jtt_tui.secrets import SecretStoreUnavailable, set_secret
        from jtt_tui.services.jira import TOKEN_SECRET

        read = self._form()
        settings = self.jtt.settings
        if read is None or settings is None:
            return
        config, token = read

        def save() -> str | None:
            if token is not None:
                try:
                    set_secret(TOKEN_SECRET, token)
                except SecretStoreUnavailable:
                    return (
                        "No keyring on this machine: the token was not saved. Set JTT_JIRA_TOKEN "
                        "in the environment (or a 0600 .env file) instead."
                    )
            update_settings_file(
                settings.config_dir, {"jira": config.model_dump(exclude={"token"})}
            )
            self.jtt.settings = load_settings()
            return None

        def done(problem: str | None) -> None:
            forms = self.query(JiraForm)
            if problem:
                forms.first().show_errors({"token": problem})
                return
            self.query_one("#f-token").value = ""  # type: ignore[attr-defined]
            warning = insecure_warning(config)
            self.notify(
                "Jira settings saved"
                + (" (token in keyring)" if token else "")
                + "."
                + (f"\n⚠ {warning}" if warning else ""),
                timeout=5,
            )
            self.refresh_data()

        self.background(save, done, group="jira-save")

    # -- push / pull ---------------------------------------------------------------------

    def action_push_all(self) -> None:
        service = self.service()
        if not service.configured:
            self.notify("Set up Jira first (the form below, then ^s).", severity="warning")
            return
        self.query_one("#jira-result", Static).update("Pushing to Jira …")
        self.background(service.push, self._pushed, group="jira-push")

    def _pushed(self, report: PushReport) -> None:
        self.query_one("#jira-result", Static).update(self.jtt.note_push(report))
        self.changed()
        self.refresh_data()

    def action_reconcile(self) -> None:
        from jtt_tui.domain.calendar import local_date
        from jtt_tui.services.reconcile import Reconciler
        from jtt_tui.ui.screens.reconcile import ReconcileScreen

        service = self.service()
        if not service.configured:
            self.notify("Set up Jira first (the form below, then ^s).", severity="warning")
            return
        reconciler = Reconciler(
            self.jtt.services.timer, service.config, service.client, tz=self.jtt.tz
        )
        today = local_date(self.jtt.clock.now(), self.jtt.tz)
        self.app.push_screen(ReconcileScreen(reconciler, today), lambda _: self.refresh_data())

    def action_pull(self) -> None:
        from jtt_tui.services.jira_search import pull

        service = self.service()
        if not service.configured:
            self.notify("Set up Jira first (the form below, then ^s).", severity="warning")
            return

        def run() -> tuple[int, int]:
            with service.client() as client:
                return pull(service.store, client, service.config.jql)

        self.background(
            run,
            lambda counts: self.notify(
                f"{count(counts[0], 'ticket')} from Jira; {counts[1]} new or changed in the cache."
            ),
            group="jira-pull",
        )


def _options(app: Any) -> dict[str, Any]:
    return {"tz": app.tz, "client_options": getattr(app, "jira_client_options", {})}


def jira_service(app: Any) -> JiraService:
    """The app's Jira, over its current settings and store."""
    return JiraService(app.settings, app.services.storage, **_options(app))
