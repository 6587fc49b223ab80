"""The Projects section: every project with estimated vs actual hours and
budget vs spent (computed, never typed in), and the selected project's
tickets and time per week."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Label, Static

from jtt_tui.domain.durations import format_span
from jtt_tui.services.projects import ProjectDetail, ProjectSummary
from jtt_tui.ui.commands import bindings_for
from jtt_tui.ui.palette import tone
from jtt_tui.ui.screens.base import JttScreen
from jtt_tui.ui.text import plain
from jtt_tui.ui.widgets.bars import ratio_bar, week_bars
from jtt_tui.ui.widgets.key_bar import KeyBar
from jtt_tui.ui.widgets.status_line import StatusLine
from jtt_tui.ui.widgets.tables import selected_key

if TYPE_CHECKING:
    from textual.screen import ModalScreen

    from jtt_tui.domain.models import Project
    from jtt_tui.ui.modals.project_form import ProjectFormModal


class ProjectsScreen(JttScreen):
    SCOPE = "projects"
    BINDINGS = bindings_for("projects")

    def __init__(self) -> None:
        super().__init__()
        self._summaries: dict[str, ProjectSummary] = {}

    def compose(self) -> ComposeResult:
        yield StatusLine()
        with Horizontal(id="projects-body"):
            with Vertical(id="projects-list"):
                yield Label("Projects", classes="section-title")
                yield DataTable(id="projects", cursor_type="row", zebra_stripes=True)
            with Vertical(id="project-detail"):
                yield Label("Select a project", id="project-title", classes="section-title")
                yield Static(id="project-facts", markup=False)
                yield DataTable(id="project-tickets", cursor_type="row")
                yield Label("Time per week", classes="section-title")
                yield Static(id="project-weeks", markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one("#projects", DataTable)
        for key, label in (
            ("key", "Key"),
            ("name", "Name"),
            ("status", "Status"),
            ("hours", "Hours done/est"),
            ("money", "Spent/budget"),
            ("progress", "Progress"),
        ):
            table.add_column(label, key=key)
        tickets = self.query_one("#project-tickets", DataTable)
        tickets.add_columns("Ticket", "Name", "Time")
        table.focus()

    # -- data ------------------------------------------------------------------------

    def refresh_data(self) -> None:
        service = self.jtt.services.projects
        self.background(service.summaries, self._show, group="projects-load")

    def _show(self, summaries: list[ProjectSummary]) -> None:
        self._summaries = {s.project.project_id: s for s in summaries}
        table = self.query_one("#projects", DataTable)
        selected = self._selected_id()
        table.clear()
        for summary in summaries:
            project = summary.project
            estimate = (
                f"{project.estimated_hours.normalize():f}" if project.estimated_hours else "–"
            )
            budget = summary.money(project.budget) if project.budget else "–"
            ratio = summary.hours_ratio if summary.hours_ratio is not None else summary.budget_ratio
            status_style = {
                "active": tone(self.app, "good"),
                "archived": tone(self.app, "muted"),
            }.get(str(project.status), "")
            table.add_row(
                Text(project.key, style="bold"),
                Text(plain(project.name, 28)),
                Text(str(project.status), style=status_style),
                Text(f"{summary.actual_hours}/{estimate}", justify="right"),
                Text(f"{summary.money(summary.spent)}/{budget}", justify="right"),
                ratio_bar(ratio, app=self.app),
                key=project.project_id,
            )
        if selected in self._summaries:
            table.move_cursor(row=table.get_row_index(selected))
        if not summaries:
            self.query_one("#project-title", Label).update("No projects yet: press n to create one")
        self._load_detail()

    def _selected_id(self) -> str | None:
        return selected_key(self.query_one("#projects", DataTable))

    def selected(self) -> ProjectSummary | None:
        project_id = self._selected_id()
        return self._summaries.get(project_id) if project_id else None

    @on(DataTable.RowHighlighted, "#projects")
    def _project_highlighted(self) -> None:
        self._load_detail()

    def _load_detail(self) -> None:
        summary = self.selected()
        if summary is None:
            return
        service = self.jtt.services.projects
        self.background(
            lambda: service.detail(summary.project), self._show_detail, group="projects-detail"
        )

    def _show_detail(self, detail: ProjectDetail) -> None:
        if self.selected() is None or self.selected().project.project_id != (  # type: ignore[union-attr]
            detail.summary.project.project_id
        ):
            return  # the selection moved on meanwhile
        summary = detail.summary
        project = summary.project
        self.query_one("#project-title", Label).update(f"{project.key} — {plain(project.name, 40)}")
        facts = [f"rate {summary.money(summary.rate)}/h"]
        if project.client.name:
            facts.append(f"client {plain(project.client.name, 30)}")
        if project.start_date or project.end_date:
            facts.append(f"{project.start_date or '…'} → {project.end_date or '…'}")
        if detail.team:
            total = sum((spent for _, spent in detail.team), timedelta(0))
            people = ", ".join(
                f"{plain(user, 20)} {format_span(spent)}" for user, spent in detail.team
            )
            facts.append(f"team: {people} = {format_span(total)}")
        elif project.team_members:
            facts.append(f"team: {', '.join(project.team_members)}")
        self.query_one("#project-facts", Static).update(" · ".join(facts))
        tickets = self.query_one("#project-tickets", DataTable)
        tickets.clear()
        for ticket in detail.tickets[:200]:
            tickets.add_row(
                ticket.ticket_number,
                plain(ticket.ticket_name, 30),
                Text(format_span(ticket.total), justify="right"),
            )
        weeks = detail.weeks[-8:]
        self.query_one("#project-weeks", Static).update(
            week_bars(weeks) if weeks else "No time tracked yet"
        )

    # -- actions ---------------------------------------------------------------------

    def action_new_project(self) -> None:
        from jtt_tui.ui.modals.project_form import ProjectFormModal

        self.app.push_screen(
            self._saving(ProjectFormModal(None, team=self._team_mode())), self._saved
        )

    def action_edit_project(self) -> None:
        from jtt_tui.ui.modals.project_form import ProjectFormModal

        summary = self.selected()
        if summary is None:
            self.notify("Select a project first, or press n to create one.")
            return
        modal = ProjectFormModal(summary.project, team=self._team_mode())
        self.app.push_screen(self._saving(modal), self._saved)

    def _team_mode(self) -> bool:
        """Team members are offered with ENABLE_MULTI_USER (a shared MongoDB)."""
        settings = self.jtt.settings
        return settings is None or settings.enable_multi_user

    def _saving(self, modal: ProjectFormModal) -> ModalScreen[Project | None]:
        """The form saves before it closes: a refusal (a key taken meanwhile,
        a dead store) shows in it and keeps what was typed."""
        service = self.jtt.services.projects
        return modal.saving(service.save)

    def _saved(self, saved: Project | None) -> None:
        if saved is not None:
            self.changed(f"Saved project {saved.key}")

    def action_archive_project(self) -> None:
        summary = self.selected()
        if summary is None:
            return
        service = self.jtt.services.projects
        project = summary.project
        self.background(
            lambda: service.archive(project.project_id),
            lambda _: self.changed(f"Archived {project.key}"),
        )

    def action_delete_project(self) -> None:
        from jtt_tui.ui.modals.confirm import ConfirmModal

        summary = self.selected()
        if summary is None:
            return
        project = summary.project
        spent = format_span(summary.actual) if summary.actual > timedelta(0) else "no time"
        question = (
            f"Delete project {project.key} ({plain(project.name, 30)})? Its tickets "
            f"({spent} tracked) are kept and fall back to their ticket prefix."
        )

        def delete(yes: bool | None) -> None:
            if yes:
                service = self.jtt.services.projects
                self.background(
                    lambda: service.delete(project.project_id),
                    lambda _: self.changed(f"Deleted {project.key}"),
                )

        self.app.push_screen(ConfirmModal(question, danger=True), delete)
