"""A modal form: labelled fields with their error shown right under them.
Enter or ctrl+s saves, Escape or ctrl+g cancels; nothing is saved while any
field is invalid."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar, cast

from pydantic import ValidationError
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, Select, Static, TextArea

from jtt_tui.domain.errors import DomainError
from jtt_tui.ui.commands import bindings_for
from jtt_tui.ui.widgets.check import Check

T = TypeVar("T")
R = TypeVar("R")


def refusal_words(error: BaseException) -> str | None:
    """What a refused save says, as a sentence; None for an unexpected failure."""
    from jtt_tui.domain.validation import explain
    from jtt_tui.storage.errors import ConflictError, StorageError, classify

    if isinstance(error, ValidationError):
        return explain(error)
    if isinstance(error, ConflictError):
        return f"{error}: it was changed elsewhere meanwhile; look again and save again"
    if isinstance(error, DomainError | ValueError):
        return str(error)
    if isinstance(error, StorageError):
        failure = classify(error)
        return f"not saved: {failure.message}"
    return None


class FieldErrors(Exception):
    """Problems per field name; shown next to the fields."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class Errors:
    """Collects field errors while a form's values are checked."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def check(self, name: str, parse: Any, *args: Any, **kwargs: Any) -> Any:
        """Run ``parse``; a domain or validation error becomes ``name``'s message."""
        try:
            return parse(*args, **kwargs)
        except ValidationError as exc:
            from jtt_tui.domain.validation import sentence

            self.errors[name] = sentence(exc.errors()[0])
        except (DomainError, ValueError) as exc:
            self.errors[name] = str(exc)
        return None

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def raise_if_any(self) -> None:
        if self.errors:
            raise FieldErrors(self.errors)


def text_field(
    name: str,
    label: str,
    value: str = "",
    *,
    placeholder: str = "",
    password: bool = False,
    hint: str = "",
) -> Iterable[Widget]:
    yield Label(label, classes="field-label")
    yield Input(value, placeholder=placeholder, password=password, id=f"f-{name}", compact=True)
    if hint:
        yield Static(hint, classes="form-hint", markup=False)
    yield Static("", id=f"e-{name}", classes="field-error -empty", markup=False)


def area_field(name: str, label: str, value: str = "") -> Iterable[Widget]:
    yield Label(label, classes="field-label")
    yield TextArea(value, id=f"f-{name}", soft_wrap=True, tab_behavior="focus")
    yield Static("", id=f"e-{name}", classes="field-error -empty", markup=False)


def check_field(name: str, label: str, value: bool) -> Iterable[Widget]:
    yield Check(label, value, id=f"f-{name}", compact=True)
    yield Static("", id=f"e-{name}", classes="field-error -empty", markup=False)


def select_field(
    name: str, label: str, options: list[tuple[str, str]], value: str
) -> Iterable[Widget]:
    yield Label(label, classes="field-label")
    yield Select(options, value=value, allow_blank=False, id=f"f-{name}", compact=True)
    yield Static("", id=f"e-{name}", classes="field-error -empty", markup=False)


class FieldGroup:
    """Mixin for a widget or screen holding fields built with the ``*_field``
    helpers: read their values and show their errors."""

    query: Any
    query_one: Any

    def value(self, name: str) -> Any:
        widget = self.query_one(f"#f-{name}")
        if isinstance(widget, Input):
            return widget.value.strip()
        if isinstance(widget, TextArea):
            return widget.text
        if isinstance(widget, Checkbox | Select):
            return widget.value
        raise TypeError(f"no value for {name}")

    def show_errors(self, errors: dict[str, str]) -> None:
        """Put each message under its field (others in #form-error); focus
        the first field in error. An empty dict clears them all."""
        for static in self.query(".field-error"):
            static.update("")
            static.add_class("-empty")
        first: Widget | None = None
        general = []
        for name, message in errors.items():
            matches = self.query(f"#e-{name}")
            if matches:
                label = matches.first(Static)
                label.update(f"✗ {message}")
                label.remove_class("-empty")
                if first is None:
                    first = self.query_one(f"#f-{name}")
            else:
                general.append(message)
        boxes = self.query("#form-error")
        if general and boxes:
            box = boxes.first(Static)
            box.update("✗ " + "; ".join(general))
            box.remove_class("-empty")
        if first is not None:
            first.focus()


class FormModal(FieldGroup, ModalScreen[T | None], Generic[T]):
    BINDINGS = bindings_for("form")
    TITLE = "Form"
    SUBMIT = "Save"
    heading: str | None = None  # this form's own title (else the class's TITLE)
    # what writes the form's result, in a worker (see saving()); its result
    # is what the form closes with
    commit: Callable[[T], Any] | None = None
    _saving = False

    def saving(self, commit: Callable[[T], R]) -> ModalScreen[R | None]:
        """Write the result with ``commit`` (blocking: run off the UI thread)
        before closing: a refusal (an overlap, an unknown project, billed
        time …) shows in the form, under its field, and keeps what was typed.
        The form then closes with what ``commit`` returned."""
        self.commit = commit
        return cast("ModalScreen[R | None]", self)

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Label(self.heading or self.TITLE, classes="form-title")
            yield from self.fields()
            yield Static("", id="form-error", classes="field-error -empty")
            with Horizontal(classes="form-buttons"):
                yield Button(f"{self.SUBMIT} (^s)", id="submit", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        fields = self.query("Input, TextArea, Select, Checkbox")
        if fields:
            fields.first().focus()

    @abstractmethod
    def fields(self) -> Iterable[Widget]:
        """The form's widgets, built with the ``*_field`` helpers."""

    # -- reading and checking -----------------------------------------------------------

    @abstractmethod
    def build(self) -> T:
        """Check every field; return the result or raise FieldErrors."""

    # (words in a refusal, the field it is about): the first that matches a
    # field of this form wins; anything else shows below the form
    ERROR_FIELDS: tuple[tuple[str, str], ...] = (
        ("no project", "project"),
        ("would overlap", "start"),
        ("the end", "end"),
        ("start", "start"),
        ("ticket", "ticket"),
    )

    def error_field(self, message: str) -> str | None:
        """The field a refusal from the store is about (None: below the form)."""
        lowered = message.lower()
        for words, name in self.ERROR_FIELDS:
            if words in lowered and self.query(f"#f-{name}"):
                return name
        return None

    def action_submit(self) -> None:
        if self._saving:
            return  # one save at a time (Enter pressed twice)
        try:
            result = self.build()
        except FieldErrors as exc:
            self.show_errors(exc.errors)
            return
        commit = self.commit
        if commit is None:
            self.dismiss(result)
            return
        self._set_saving(True)

        def run() -> None:
            try:
                outcome = commit(result)
            except Exception as error:  # shown in the form (or reported): never lost
                self.app.call_from_thread(self._not_saved, error)
                return
            self.app.call_from_thread(self.dismiss, outcome)

        self.run_worker(run, thread=True, exit_on_error=False, group="form-save")

    def _set_saving(self, saving: bool) -> None:
        self._saving = saving
        for button in self.query("#submit"):
            button.disabled = saving

    def _not_saved(self, error: BaseException) -> None:
        self._set_saving(False)
        message = refusal_words(error)
        if message is None:
            self.app.report_failure(error)  # type: ignore[attr-defined]
            return
        self.show_errors({self.error_field(message) or "form": message})

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    @on(Button.Pressed, "#submit")
    def _submit_pressed(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()
