"""Projects with their computed figures: actual hours from tracked time and
billable manual entries, money spent at the applicable rates, and a
ticket / week breakdown for one project."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal

from jtt_tui.domain import money
from jtt_tui.domain.calendar import local_date
from jtt_tui.domain.errors import DomainError
from jtt_tui.domain.models import BillingSettings, ManualTask, Project, ProjectStatus
from jtt_tui.domain.projects import ProjectIndex
from jtt_tui.services.ledger import Change, Committed, Ledger, Plan
from jtt_tui.storage.base import Storage
from jtt_tui.storage.errors import ConflictError, NotFoundError
from jtt_tui.storage.kinds import PROJECTS

_HOUR = Decimal(3600)


@dataclass(frozen=True)
class ProjectSummary:
    project: Project
    actual: timedelta  # tracked + manual, billable or not
    spent: Decimal  # billable time at the applicable rates
    rate: Decimal
    currency: str
    number_format: str = "auto"  # the billing settings' choice

    def money(self, amount: Decimal) -> str:
        """An amount in this project's currency, written as everywhere else."""
        return money.format_money(amount, self.currency, self.number_format)

    @property
    def actual_hours(self) -> Decimal:
        return (Decimal(int(self.actual.total_seconds())) / _HOUR).quantize(Decimal("0.01"))

    @property
    def hours_ratio(self) -> float | None:
        estimate = self.project.estimated_hours
        if not estimate:
            return None
        return float(self.actual_hours / estimate)

    @property
    def budget_ratio(self) -> float | None:
        budget = self.project.budget
        if not budget:
            return None
        return float(self.spent / budget)


@dataclass(frozen=True)
class TicketTime:
    ticket_number: str
    ticket_name: str
    total: timedelta


@dataclass(frozen=True)
class ProjectDetail:
    summary: ProjectSummary
    tickets: list[TicketTime]
    weeks: list[tuple[date, timedelta]]  # Monday of the week, time in it
    team: list[tuple[str, timedelta]] = field(default_factory=list)  # per member (shared)


def project_rate(project: Project, billing: BillingSettings) -> Decimal:
    return money.resolve_rate(
        global_rate=billing.global_hourly_rate,
        project_rate=project.hourly_rate,
        billing_project_rate=billing.project_rates.get(project.key),
    )


class ProjectService:
    def __init__(
        self, store: Storage, *, tz: tzinfo | None = None, ledger: Ledger | None = None
    ) -> None:
        self.store = store
        self.tz = tz
        self.ledger = ledger or Ledger(store, tz=tz)

    def summaries(self) -> list[ProjectSummary]:
        """Every visible project with actual hours and spend, by key."""
        projects = self.store.get_projects()
        index = ProjectIndex(projects)
        billing = self.store.get_billing_settings()
        now = self.store.clock.now()
        tracked: dict[str, timedelta] = defaultdict(timedelta)
        for row in self.store.time_by_project():
            project = index.resolve(row.project_id, row.project_key)
            if project is not None:
                tracked[project.project_id] += row.closed
        for session in self.store.active_sessions():
            open_segment = session.open_segment
            project = index.for_ticket(session.ticket_number, session.project_id)
            if open_segment is not None and project is not None:
                tracked[project.project_id] += open_segment.duration(now)
        manual_time: dict[str, timedelta] = defaultdict(timedelta)
        manual_money: dict[str, Decimal] = defaultdict(Decimal)
        for task in self.store.get_manual_tasks():
            project = index.for_ticket(task.ticket_number, task.project_id)
            if project is None:
                continue
            manual_time[project.project_id] += task.duration
            if task.billable:
                manual_money[project.project_id] += self._task_amount(task, project, billing)
        summaries = []
        for project in projects:
            rate = project_rate(project, billing)
            currency = project.currency or billing.currency
            hours = Decimal(int(tracked[project.project_id].total_seconds())) / _HOUR
            spent = money.line_amount(hours, rate, currency) + manual_money[project.project_id]
            summaries.append(
                ProjectSummary(
                    project=project,
                    actual=tracked[project.project_id] + manual_time[project.project_id],
                    spent=money.quantize_money(spent, currency),
                    rate=rate,
                    currency=currency,
                    number_format=billing.number_format,
                )
            )
        return summaries

    def detail(self, project: Project) -> ProjectDetail:
        """Tickets of a project with their totals, and time per week."""
        summary = next(s for s in self.summaries() if s.project.project_id == project.project_id)
        now = self.store.clock.now()
        per_ticket: dict[str, TicketTime] = {}
        per_week: dict[date, timedelta] = defaultdict(timedelta)
        for session in self.store.sessions_for_project(project.project_id, project.key):
            per_ticket[session.ticket_number] = TicketTime(
                session.ticket_number, session.ticket_name, session.elapsed(now)
            )
            for segment in session.segments:
                per_week[self._week_of(segment.start)] += segment.duration(now)
        index = ProjectIndex([project])
        for task in self.store.get_manual_tasks():
            if index.for_ticket(task.ticket_number, task.project_id) is None:
                continue
            per_week[task.date - timedelta(days=task.date.weekday())] += task.duration
            label = task.ticket_number or f"(manual) {task.title}"
            current = per_ticket.get(label)
            total = (current.total if current else timedelta(0)) + task.duration
            name = current.ticket_name if current else task.title
            per_ticket[label] = TicketTime(label, name, total)
        tickets = sorted(per_ticket.values(), key=lambda t: t.total, reverse=True)
        team = self.store.team_time(project) if project.team_members else []
        return ProjectDetail(summary, tickets, sorted(per_week.items()), team)

    # -- changes -------------------------------------------------------------------

    def save(self, project: Project) -> Project:
        """Create or update (``project.version`` is the version it was read
        at: a change made elsewhere since is a ConflictError, never
        overwritten); a second active project with the same key is refused."""

        def plan() -> Plan:
            for other in self.store.get_projects():
                if (
                    other.key == project.key
                    and other.project_id != project.project_id
                    and other.status == ProjectStatus.ACTIVE
                    and project.status == ProjectStatus.ACTIVE
                ):
                    raise DomainError(
                        f"an active project already uses the key {project.key} "
                        f"({other.name}); archive it or choose another key"
                    )
            current = self.store.get_project(project.project_id)
            found = current.version if current is not None else 0
            if found != project.version:
                raise ConflictError("project", project.key, project.version, found or None)
            verb = "edit" if current is not None else "add"
            return Plan(
                f"project-{verb}",
                f"{verb} project {project.key} ({project.name})",
                [Change(PROJECTS, project.project_id, current, project)],
            )

        return self._project_of(self.ledger.apply(plan), project.project_id)

    def archive(self, project_id: str) -> Project:
        def plan() -> Plan:
            current = self._get(project_id)
            updated = current.model_copy(update={"status": ProjectStatus.ARCHIVED})
            return Plan(
                "project-archive",
                f"archive project {current.key}",
                [Change(PROJECTS, project_id, current, updated)],
            )

        return self._project_of(self.ledger.apply(plan), project_id)

    def delete(self, project_id: str) -> bool:
        def plan() -> Plan:
            current = self._get(project_id)
            return Plan(
                "project-delete",
                f"delete project {current.key} ({current.name}); its time is kept",
                [Change(PROJECTS, project_id, current, None)],
            )

        try:
            self.ledger.apply(plan)
        except NotFoundError:
            return False
        return True

    def _get(self, project_id: str) -> Project:
        project = self.store.get_project(project_id)
        if project is None:
            raise NotFoundError("project", project_id)
        return project

    @staticmethod
    def _project_of(done: Committed, project_id: str) -> Project:
        project = done.get(PROJECTS, project_id)
        assert isinstance(project, Project)
        return project

    def find_by_key(self, key: str) -> Project | None:
        return ProjectIndex(self.store.get_projects()).by_key.get(key.strip().upper())

    # -- helpers --------------------------------------------------------------------

    def _week_of(self, moment: datetime) -> date:
        day = local_date(moment, self.tz)
        return day - timedelta(days=day.weekday())

    def _task_amount(self, task: ManualTask, project: Project, billing: BillingSettings) -> Decimal:
        rate = money.resolve_rate(
            global_rate=billing.global_hourly_rate,
            task_rate=task.hourly_rate,
            project_rate=project.hourly_rate,
            billing_project_rate=billing.project_rates.get(project.key),
        )
        hours = Decimal(int(task.duration.total_seconds())) / _HOUR
        return money.line_amount(hours, rate, project.currency or billing.currency)
