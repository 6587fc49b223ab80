"""Which project a ticket belongs to: its explicit ``project_id``, else the
project whose Jira key is the ticket's prefix (``WEB`` for ``WEB-12``)."""

from __future__ import annotations

from collections.abc import Iterable

from jtt_tui.domain.models import Project


class ProjectIndex:
    def __init__(self, projects: Iterable[Project]) -> None:
        self.by_id = {p.project_id: p for p in projects}
        # Prefer active projects when two share a key (an archived old one).
        self.by_key: dict[str, Project] = {}
        for project in sorted(self.by_id.values(), key=lambda p: p.status != "active"):
            self.by_key.setdefault(project.key, project)

    def for_ticket(
        self, ticket_number: str | None, project_id: str | None = None
    ) -> Project | None:
        if project_id and project_id in self.by_id:
            return self.by_id[project_id]
        if ticket_number:
            return self.by_key.get(ticket_number.rsplit("-", 1)[0])
        return None

    def resolve(self, project_id: str | None, key: str) -> Project | None:
        """The project of an id, else of a Jira key."""
        if project_id and project_id in self.by_id:
            return self.by_id[project_id]
        return self.by_key.get(key)

    def key_for(self, ticket_number: str | None, project_id: str | None = None) -> str:
        """The project key to show: the project's, else the ticket prefix."""
        project = self.for_ticket(ticket_number, project_id)
        if project is not None:
            return project.key
        return ticket_number.rsplit("-", 1)[0] if ticket_number else ""
