"""Create or edit a project; every field is checked by the Project model and
its problem shown next to it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError
from textual.widget import Widget

from jtt_tui.domain.billing import format_rounding, parse_rounding
from jtt_tui.domain.models import Project, ProjectStatus
from jtt_tui.domain.validation import sentence
from jtt_tui.ui.modals.forms import FieldErrors, FormModal, area_field, select_field, text_field
from jtt_tui.ui.modals.timer_forms import split_tags

# model field -> form field, for nested / renamed ones
_FIELD_OF: dict[tuple[str, ...], str] = {
    ("client", "name"): "client_name",
    ("client", "email"): "client_email",
    ("client", "address"): "client_address",
}


def _text(value: object) -> str:
    return "" if value is None else str(value)


class ProjectFormModal(FormModal[Project]):
    ERROR_FIELDS = (("the key", "key"), *FormModal.ERROR_FIELDS)

    def __init__(self, project: Project | None, *, team: bool = True) -> None:
        super().__init__()
        self.project = project
        self.team = team  # ENABLE_MULTI_USER: offer the team members field
        self.heading = f"Edit project {project.key}" if project else "New project"

    def fields(self) -> Iterable[Widget]:
        p = self.project
        yield from text_field(
            "key",
            "Jira key",
            _text(p.key if p else ""),
            placeholder="e.g. WEB (tickets WEB-1, WEB-2 … belong to it)",
        )
        yield from text_field("name", "Name", _text(p.name if p else ""))
        yield from text_field("description", "Description", p.description if p else "")
        yield from select_field(
            "status",
            "Status",
            [(s.value.capitalize(), s.value) for s in ProjectStatus],
            str(p.status) if p else "active",
        )
        yield from text_field(
            "hourly_rate",
            "Hourly rate (empty: from billing settings)",
            _text(p.hourly_rate if p else None),
        )
        yield from text_field(
            "currency",
            "Currency (empty: from billing settings)",
            _text(p.currency if p else None),
            placeholder="USD",
        )
        yield from text_field("client_name", "Client", p.client.name if p else "")
        yield from text_field("client_email", "Client email", p.client.email if p else "")
        yield from area_field(
            "client_address", "Client address (one line each)", p.client.address if p else ""
        )
        yield from text_field(
            "estimated_hours", "Estimated hours", _text(p.estimated_hours if p else None)
        )
        yield from text_field("budget", "Budget", _text(p.budget if p else None))
        yield from text_field(
            "rounding",
            "Rounding of each entry (empty: from billing settings)",
            format_rounding(p.rounding) if p and p.rounding else "",
            placeholder="none, up-15, nearest-6, up-15,min-30",
        )
        yield from text_field(
            "start_date", "Start date", _text(p.start_date if p else None), placeholder="YYYY-MM-DD"
        )
        yield from text_field(
            "end_date", "End date", _text(p.end_date if p else None), placeholder="YYYY-MM-DD"
        )
        yield from text_field(
            "color",
            "Colour",
            _text(p.color if p else None),
            placeholder="#3478f6 or a name like teal",
        )
        yield from text_field("tags", "Tags (comma separated)", ", ".join(p.tags) if p else "")
        if not self.team:
            return
        yield from text_field(
            "team_members",
            "Team members (user ids, comma separated)",
            ", ".join(p.team_members) if p else "",
        )

    def build(self) -> Project:
        def optional(name: str) -> Any:
            return self.value(name) or None

        rounding = None
        if self.value("rounding"):
            try:
                rounding = parse_rounding(str(self.value("rounding")))
            except ValueError as exc:
                raise FieldErrors({"rounding": str(exc)}) from None

        data: dict[str, Any] = {
            "key": self.value("key"),
            "name": self.value("name"),
            "description": self.value("description"),
            "status": self.value("status"),
            "hourly_rate": optional("hourly_rate"),
            "currency": optional("currency"),
            "client": {
                "name": self.value("client_name"),
                "email": self.value("client_email"),
                "address": self.value("client_address"),
            },
            "estimated_hours": optional("estimated_hours"),
            "budget": optional("budget"),
            "rounding": rounding,
            "start_date": optional("start_date"),
            "end_date": optional("end_date"),
            "color": optional("color"),
            "tags": split_tags(self.value("tags")),
            "team_members": (
                split_tags(self.value("team_members"))
                if self.team
                else (self.project.team_members if self.project else [])
            ),
        }
        if self.project is not None:
            keep = self.project.model_dump(
                include={"project_id", "user_id", "version", "created_at", "updated_at"}
            )
            data.update(keep)
        try:
            return Project.model_validate(data)
        except ValidationError as exc:
            errors: dict[str, str] = {}
            for error in exc.errors():
                loc = tuple(str(part) for part in error["loc"])
                name = _FIELD_OF.get(loc[:2], loc[0] if loc else "form")
                if not loc:  # a rule across fields (the dates)
                    name = "end_date"
                message = sentence(error)
                errors.setdefault(name, message)
            raise FieldErrors(errors) from None
