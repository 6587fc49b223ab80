"""One registry of user commands. It feeds the key bindings (with ids, so
``[keys]`` in settings.toml can remap them), the footer, the help screen and
the command palette: a command added here shows up everywhere."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class Command:
    id: str  # binding id, used by [keys] remapping
    key: str  # default key(s), comma separated
    action: str  # action on the scope's screen (or the app for "app")
    label: str  # short, for the footer
    help: str  # a sentence, for the palette and help screen
    scope: str  # "app", a screen name, or "screen.widget"
    show: bool = True  # shown in the footer
    # footer priority: 1 always, 2 when there is room, 3 on wide terminals
    # (the footer shows rank 1 first, then 2, then 3, and "? Keys" last)
    rank: int = 2
    priority: bool = False  # checked before the focused widget's own keys (^s in a field)


SCREENS = ("timer", "projects", "billing", "database", "jira")
SCREEN_TITLES = {
    "timer": "Timer",
    "projects": "Projects",
    "billing": "Billing",
    "database": "Database",
    "jira": "Jira",
}

REGISTRY: tuple[Command, ...] = (
    # -- everywhere ------------------------------------------------------------------
    Command(
        "app.timer",
        "1,f1,alt+1",
        "switch_mode('timer')",
        "Timer",
        "Go to the timer",
        "app",
        show=False,
    ),
    Command(
        "app.projects",
        "2,f2,alt+2",
        "switch_mode('projects')",
        "Projects",
        "Go to the projects",
        "app",
        show=False,
    ),
    Command(
        "app.billing",
        "3,f3,alt+3",
        "switch_mode('billing')",
        "Billing",
        "Go to billing: invoices and rates",
        "app",
        show=False,
    ),
    Command(
        "app.database",
        "4,f4,alt+4",
        "switch_mode('database')",
        "Database",
        "Go to the database settings",
        "app",
        show=False,
    ),
    Command(
        "app.jira",
        "5,f5,alt+5",
        "switch_mode('jira')",
        "Jira",
        "Go to the Jira settings and push queue",
        "app",
        show=False,
    ),
    Command(
        "app.help",
        "question_mark,ctrl+l",
        "show_keys",
        "Keys",
        "List every key (^l also from inside a text field)",
        "app",
    ),
    Command(
        "app.theme",
        "ctrl+t",
        "next_theme",
        "Theme",
        "Cycle the colour theme (dark, light, 16-colour)",
        "app",
        show=False,
    ),
    Command(
        "app.quit",
        "q,ctrl+q",
        "quit",
        "Quit",
        "Quit (running timers keep running: they are timestamps)",
        "app",
        rank=2,
    ),
    Command(
        "app.undo",
        "z",
        "undo",
        "Undo",
        "Undo your last change (start, stop, edit, delete, add, import, invoice …)",
        "app",
        rank=3,
    ),
    Command("app.redo", "Z", "redo", "Redo", "Redo the change you undid last", "app", show=False),
    # -- timer -------------------------------------------------------------------------
    Command("timer.new", "n", "new_timer", "New", "Start a timer on a ticket", "timer", rank=1),
    Command(
        "timer.toggle",
        "space",
        "toggle_timer",
        "Start/Pause",
        "Start or pause the selected ticket",
        "timer",
        rank=1,
    ),
    Command("timer.stop", "s", "stop_timer", "Stop", "Stop the selected ticket", "timer", rank=1),
    Command(
        "timer.complete",
        "c",
        "complete_timer",
        "Complete",
        "Mark the selected ticket done",
        "timer",
    ),
    Command(
        "timer.resume",
        "r",
        "resume_timer",
        "Resume",
        "Resume the selected (or last paused) ticket",
        "timer",
        rank=2,
    ),
    Command(
        "timer.edit",
        "e",
        "edit_session",
        "Edit",
        "Edit the selected ticket: name, project, tags, notes, running start",
        "timer",
    ),
    Command(
        "timer.delete",
        "d",
        "delete_entry",
        "Delete",
        "Delete the selected ticket's timer or manual entry",
        "timer",
        rank=3,
    ),
    Command(
        "timer.manual",
        "a",
        "add_manual",
        "Add time",
        "Add time by hand (a meeting, a call)",
        "timer",
    ),
    Command(
        "timer.add_segment",
        "A",
        "add_segment",
        "Add segment",
        "Add past time on a ticket with a start and an end (a timer you forgot to start)",
        "timer",
        rank=3,
    ),
    Command(
        "timer.push",
        "p",
        "push_to_jira",
        "Push",
        "Push time to Jira as worklogs: the selected ticket, today, or everything",
        "timer",
    ),
    Command("timer.filter", "slash", "filter", "Filter", "Filter tickets by text", "timer", rank=3),
    Command(
        "timer.refresh",
        "ctrl+r",
        "refresh",
        "Refresh",
        "Reload from the store",
        "timer",
        show=False,
    ),
    Command(
        "timer.segment_edit",
        "e",
        "screen.edit_segment",
        "Edit segment",
        "Edit the selected segment's start and end",
        "timer.segments",
        rank=1,
    ),
    Command(
        "timer.segment_delete",
        "d",
        "screen.delete_segment",
        "Delete segment",
        "Delete the selected segment",
        "timer.segments",
        rank=2,
    ),
    # -- projects ----------------------------------------------------------------------
    Command("projects.new", "n", "new_project", "New", "Create a project", "projects", rank=1),
    Command(
        "projects.edit",
        "e",
        "edit_project",
        "Edit",
        "Edit the selected project",
        "projects",
        rank=1,
    ),
    Command(
        "projects.archive",
        "a",
        "archive_project",
        "Archive",
        "Archive the selected project",
        "projects",
    ),
    Command(
        "projects.delete",
        "d",
        "delete_project",
        "Delete",
        "Delete the selected project",
        "projects",
        rank=3,
    ),
    Command(
        "projects.refresh",
        "ctrl+r",
        "refresh",
        "Refresh",
        "Reload projects",
        "projects",
        show=False,
    ),
    # -- billing -----------------------------------------------------------------------
    Command(
        "billing.new",
        "n",
        "new_invoice",
        "New invoice",
        "Create an invoice from tracked time",
        "billing",
        rank=1,
    ),
    Command(
        "billing.edit",
        "e",
        "edit_invoice",
        "Edit lines",
        "Edit the selected draft's lines",
        "billing",
        rank=1,
    ),
    Command(
        "billing.sent", "s", "mark('sent')", "Sent", "Mark the invoice sent", "billing", rank=1
    ),
    Command(
        "billing.refresh_lines",
        "u",
        "refresh_lines",
        "Refresh lines",
        "Rebuild the selected draft's lines from the time it bills (after that time changed)",
        "billing",
        rank=3,
    ),
    Command(
        "billing.paid", "p", "mark('paid')", "Paid", "Mark the invoice paid", "billing", rank=1
    ),
    Command(
        "billing.cancel",
        "x",
        "mark('cancelled')",
        "Cancel",
        "Cancel the invoice (its time can be billed again)",
        "billing",
    ),
    Command(
        "billing.export",
        "w",
        "export_invoice",
        "Export",
        "Write the selected invoice as PDF, HTML, Markdown or CSV (by the file's extension)",
        "billing",
    ),
    Command(
        "billing.report",
        "r",
        "reports",
        "Reports",
        "Time reports: hours, billable hours and amounts with a chart",
        "billing",
        rank=3,
    ),
    Command(
        "billing.filter",
        "f",
        "cycle_filter",
        "Filter",
        "Cycle the status filter (all, draft, sent, overdue, paid, cancelled)",
        "billing",
        rank=3,
    ),
    Command(
        "billing.settings",
        "g",
        "toggle_settings",
        "Settings",
        "Show the billing settings (rates, tax, company, numbering)",
        "billing",
    ),
    Command(
        "billing.save",
        "ctrl+s",
        "save_settings",
        "Save",
        "Save the billing settings",
        "billing",
        rank=1,
    ),
    Command(
        "billing.back",
        "escape",
        "leave_settings",
        "Invoices",
        "Leave the settings form, back to the invoices",
        "billing",
        rank=1,
    ),
    # -- database ----------------------------------------------------------------------
    Command(
        "database.test",
        "t,f12",
        "test_connection",
        "Test",
        "Test the MongoDB connection in the form",
        "database",
        rank=1,
    ),
    Command(
        "database.save",
        "ctrl+s",
        "save_settings",
        "Save",
        "Save the MongoDB settings (password to keyring)",
        "database",
        rank=1,
    ),
    Command(
        "database.export",
        "f6,x",
        "export_data",
        "Export",
        "Export all data to a JSON file",
        "database",
    ),
    Command(
        "database.import",
        "f7,i",
        "import_data",
        "Import",
        "Import a jtt bundle, Electron data file or ticket list",
        "database",
    ),
    Command(
        "database.switch",
        "f8,w",
        "switch_store",
        "Switch",
        "Switch the store in use, live: local <-> MongoDB (optionally copying the data)",
        "database",
        rank=1,
    ),
    Command(
        "database.migrate",
        "f10,m",
        "migrate",
        "Migrate",
        "Copy everything to the other store (backup, copy, verify), then maybe switch",
        "database",
        rank=3,
    ),
    Command(
        "database.conflicts",
        "f9",
        "show_conflicts",
        "Conflicts",
        "Settle offline changes that collided with someone else's",
        "database",
        show=False,
    ),
    Command(
        "database.refresh",
        "ctrl+r",
        "refresh",
        "Refresh",
        "Ping and recount",
        "database",
        show=False,
    ),
    # -- jira --------------------------------------------------------------------------
    Command(
        "jira.test",
        "t",
        "test_connection",
        "Test",
        "Test the Jira connection in the form",
        "jira",
        rank=1,
    ),
    Command(
        "jira.save",
        "ctrl+s",
        "save_settings",
        "Save",
        "Save the Jira settings (token to keyring)",
        "jira",
        rank=1,
    ),
    Command(
        "jira.push",
        "p",
        "push_all",
        "Push all",
        "Push every finished segment not in Jira yet, and retry the queue",
        "jira",
        rank=1,
    ),
    Command(
        "jira.pull",
        "u",
        "pull",
        "Pull",
        "Refresh the offline ticket cache from the default search",
        "jira",
    ),
    Command(
        "jira.reconcile",
        "c",
        "reconcile",
        "Reconcile",
        "Compare your worklogs in Jira with what jtt pushed (the last 14 days)",
        "jira",
        rank=1,
    ),
    Command("jira.refresh", "ctrl+r", "refresh", "Refresh", "Recount", "jira", show=False),
    # -- reconcile ------------------------------------------------------------------------
    Command(
        "reconcile.take",
        "t",
        "take_jiras",
        "Take Jira's",
        "Changed in Jira: the time in jtt becomes Jira's (billed time stays locked)",
        "reconcile",
        rank=1,
    ),
    Command(
        "reconcile.push",
        "m",
        "push_mine",
        "Push mine",
        "Changed or deleted in Jira: send jtt's time again",
        "reconcile",
        rank=1,
    ),
    Command(
        "reconcile.forget",
        "f",
        "forget",
        "Forget",
        "Deleted in Jira: keep the time in jtt only, never push it again",
        "reconcile",
        rank=2,
    ),
    Command(
        "reconcile.import",
        "i",
        "import_entry",
        "Import",
        "Logged in Jira outside jtt: add it as a manual entry",
        "reconcile",
        rank=1,
    ),
    Command(
        "reconcile.earlier",
        "left_square_bracket",
        "earlier",
        "Earlier",
        "The 14 days before",
        "reconcile",
        rank=3,
    ),
    Command(
        "reconcile.later",
        "right_square_bracket",
        "later",
        "Later",
        "The 14 days after",
        "reconcile",
        rank=3,
    ),
    Command(
        "reconcile.refresh", "ctrl+r", "refresh", "Again", "Read Jira again", "reconcile", rank=3
    ),
    Command("reconcile.close", "escape", "close", "Back", "Back to Jira", "reconcile", rank=1),
    # -- dialogs ---------------------------------------------------------------------
    Command("confirm.yes", "y", "answer(True)", "Yes", "Answer yes", "confirm", rank=1),
    Command("confirm.no", "n", "answer(False)", "No", "Answer no", "confirm", rank=1),
    Command(
        "form.cancel",
        "escape,ctrl+g",
        "cancel",
        "Cancel",
        "Close the form without saving",
        "form",
        rank=1,
    ),
    Command(
        "form.save",
        "ctrl+s",
        "submit",
        "Save",
        "Save the form (Enter in its last field too)",
        "form",
        rank=1,
        priority=True,
    ),
    Command(
        "preview.create", "y", "answer(True)", "Create", "Create the invoice", "preview", rank=1
    ),
    Command(
        "preview.cancel",
        "n,escape",
        "answer(False)",
        "Cancel",
        "Close without creating it",
        "preview",
        rank=1,
    ),
    Command(
        "forgotten.keep", "k", "choose('keep')", "Keep it", "It was all work", "forgotten", rank=1
    ),
    Command(
        "forgotten.stop",
        "s",
        "choose('stop')",
        "Stop then",
        "It stopped at the suggested time (or the one typed)",
        "forgotten",
        rank=1,
    ),
    Command(
        "forgotten.discard",
        "d",
        "choose('discard')",
        "Discard after",
        "Drop the time after the suggested end and keep it running from now",
        "forgotten",
        rank=1,
    ),
    Command("forgotten.later", "l", "later", "Later", "Ask again later", "forgotten", rank=1),
    Command(
        "forgotten.escape", "escape", "later", "Later", "Ask again later", "forgotten", show=False
    ),
    Command(
        "push.ticket", "t", "pick('ticket')", "This ticket", "Push the selected ticket", "push"
    ),
    Command("push.today", "d", "pick('today')", "Today", "Push today's time", "push"),
    Command("push.all", "a", "pick('all')", "Everything", "Push everything not sent", "push"),
    Command("push.cancel", "escape,n", "cancel", "Cancel", "Push nothing", "push"),
    # -- the recovery and conflict modals ----------------------------------------------
    Command("recovery.retry", "r", "retry", "Retry", "Try to reconnect now", "recovery", rank=1),
    Command(
        "recovery.offline",
        "o,escape",
        "work_offline",
        "Offline",
        "Keep working offline; changes are sent when the database is back",
        "recovery",
        rank=1,
    ),
    Command(
        "recovery.local",
        "l",
        "use_local",
        "Use local",
        "Switch to the local store for good, taking every change along",
        "recovery",
    ),
    Command(
        "recovery.edit",
        "e",
        "edit_settings",
        "Settings",
        "Open the Database settings to fix the connection",
        "recovery",
    ),
    # -- reports ---------------------------------------------------------------------------
    Command(
        "reports.group", "b", "group", "Group by", "Group by week, day, project, ticket", "reports"
    ),
    Command(
        "reports.earlier",
        "left_square_bracket",
        "earlier",
        "Earlier",
        "The period before",
        "reports",
    ),
    Command(
        "reports.later", "right_square_bracket", "later", "Later", "The period after", "reports"
    ),
    Command("reports.close", "escape", "close", "Back", "Back to billing", "reports", rank=1),
    # -- the migration wizard ----------------------------------------------------------
    Command("migrate.start", "ctrl+s", "start", "Start", "Start the migration", "migrate", rank=1),
    Command(
        "migrate.switch",
        "y",
        "switch_now",
        "Switch",
        "After a verified migration: use the new store now",
        "migrate",
    ),
    Command(
        "migrate.close",
        "escape",
        "close",
        "Cancel / close",
        "Cancel the migration (after the current batch), or close the wizard",
        "migrate",
        rank=1,
    ),
    Command(
        "conflict.mine", "m", "keep('mine')", "Keep mine", "Keep my version", "conflict", rank=1
    ),
    Command(
        "conflict.theirs",
        "t",
        "keep('theirs')",
        "Keep theirs",
        "Keep their version",
        "conflict",
        rank=1,
    ),
    Command("conflict.later", "escape", "later", "Later", "Decide later", "conflict"),
    Command(
        "app.connection",
        "ctrl+o",
        "show_connection",
        "Connection",
        "While offline: why, and what to do (retry, work offline, use local storage)",
        "app",
        show=False,
    ),
)


def commands_for(scope: str) -> list[Command]:
    return [c for c in REGISTRY if c.scope == scope]


# what Textual's BINDINGS are typed as (a list is invariant: list[Binding] is not one)
BindingList = list[Binding | tuple[str, str] | tuple[str, str, str]]


def bindings_for(scope: str) -> BindingList:
    return [
        Binding(c.key, c.action, c.label, show=c.show, id=c.id, tooltip=c.help, priority=c.priority)
        for c in commands_for(scope)
    ]


def key_label(key: str) -> str:
    """``question_mark`` -> ``?``, ``ctrl+s`` -> ``^s``, ``1,f1`` -> ``1 / F1``."""
    names = {
        "question_mark": "?",
        "slash": "/",
        "space": "space",
        "enter": "enter",
        "left_square_bracket": "[",
        "right_square_bracket": "]",
    }
    labels = []
    for raw in key.split(","):
        part = raw.strip()
        if part in names:
            labels.append(names[part])
        elif part.startswith("ctrl+"):
            labels.append("^" + part[5:])
        elif len(part) > 1 and part[0] == "f" and part[1:].isdigit():
            labels.append(part.upper())
        else:
            labels.append(part)
    return " / ".join(labels)
