"""Typed settings.

Precedence, lowest first: built-in defaults < ``settings.toml`` in the config
dir < a ``.env`` file (the working directory's, or ``JTT_ENV_FILE``) < the
process environment. ``JTT_CONFIG_DIR`` / ``JTT_DATA_DIR`` move the folders.

Secrets never live in ``settings.toml``: the MongoDB password is in keyring
(see :mod:`jtt_tui.secrets`) or, on hosts without one, in the environment.
"""

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from jtt_tui.domain.validation import sentence
from jtt_tui.files import write_private_file
from jtt_tui.redaction import redact

if TYPE_CHECKING:
    from jtt_tui.jira.estimate import Estimate

SETTINGS_FILE = "settings.toml"
APP_NAME = "jtt"


class ConfigError(Exception):
    """A setting has a value jtt cannot use. The message names the variable
    (or settings.toml key), the redacted value and what is allowed."""


@dataclass(frozen=True)
class EnvVar:
    name: str
    path: tuple[str, ...]
    default: str
    help: str


# Every environment variable jtt reads, in the order .env.example lists them.
ENV_VARS: tuple[EnvVar, ...] = (
    EnvVar(
        "MONGODB_ENABLED",
        ("mongodb", "enabled"),
        "false",
        "Use MongoDB instead of the local SQLite store (true/false).",
    ),
    EnvVar(
        "MONGODB_URI",
        ("mongodb", "uri"),
        "",
        "Connection string, mongodb://host:27017 or mongodb+srv://cluster.example.net "
        "(keep passwords out of it: use keyring via `jtt db configure`).",
    ),
    EnvVar("MONGODB_DATABASE", ("mongodb", "database"), "jtt", "Database name."),
    EnvVar(
        "MONGODB_DUAL_WRITE",
        ("mongodb", "dual_write"),
        "off",
        "Gradual mode: write to both the local store and MongoDB; read-local (local is "
        "the source of truth), read-both (local, falling back to MongoDB) or read-remote "
        "(MongoDB first). off: one store only.",
    ),
    EnvVar(
        "MONGODB_USER",
        ("mongodb", "username"),
        "",
        "Database user (leave empty for a server without authentication).",
    ),
    EnvVar(
        "MONGODB_PASSWORD",
        ("mongodb", "password"),
        "",
        "Password, only for hosts without a keyring; otherwise use "
        "`jtt db configure --password-stdin`, which stores it in keyring.",
    ),
    EnvVar(
        "MONGODB_SSL",
        ("mongodb", "tls"),
        "auto",
        "TLS: auto (on for remote hosts and mongodb+srv://), true or false.",
    ),
    EnvVar(
        "MONGODB_AUTH_SOURCE",
        ("mongodb", "auth_source"),
        "",
        "Database holding the user's credentials (often admin); empty = the driver default.",
    ),
    EnvVar(
        "MONGODB_MAX_POOL_SIZE",
        ("mongodb", "max_pool_size"),
        "10",
        "Most connections kept open (1-500).",
    ),
    EnvVar(
        "MONGODB_MIN_POOL_SIZE",
        ("mongodb", "min_pool_size"),
        "0",
        "Fewest connections kept open (0 to the max pool size).",
    ),
    EnvVar(
        "MONGODB_MAX_IDLE_TIME_MS",
        ("mongodb", "max_idle_time_ms"),
        "60000",
        "Close a pooled connection idle this long (milliseconds).",
    ),
    EnvVar(
        "MONGODB_SERVER_SELECTION_TIMEOUT_MS",
        ("mongodb", "server_selection_timeout_ms"),
        "2000",
        "Give up finding a usable server after this long (ms); small = a dead "
        "server is noticed quickly.",
    ),
    EnvVar(
        "MONGODB_CONNECT_TIMEOUT_MS",
        ("mongodb", "connect_timeout_ms"),
        "2000",
        "Give up opening a connection after this long (ms).",
    ),
    EnvVar(
        "MONGODB_SOCKET_TIMEOUT_MS",
        ("mongodb", "socket_timeout_ms"),
        "5000",
        "Time limit of one database operation (ms): a slower reply counts as a timeout.",
    ),
    EnvVar(
        "MONGODB_TLS_CA_FILE",
        ("mongodb", "tls_ca_file"),
        "",
        "PEM file of the certificate authority to trust (empty = the system's).",
    ),
    EnvVar(
        "DEFAULT_USER_ID",
        ("user_id",),
        "",
        "Your user id in shared stores; empty = generated once and kept in settings.toml.",
    ),
    EnvVar(
        "ENABLE_MULTI_USER",
        ("enable_multi_user",),
        "false",
        "Team features on MongoDB: shared projects with team members (true/false).",
    ),
    EnvVar(
        "LOCAL_STORE_PATH",
        ("local", "store_path"),
        "",
        "Path of the SQLite store; empty = jtt.db in the data directory.",
    ),
    EnvVar(
        "LOCAL_BACKUP_ENABLED",
        ("local", "backup_enabled"),
        "true",
        "Keep rolling backups of the local store (the last 7) in the data directory.",
    ),
    EnvVar(
        "LOCAL_BACKUP_INTERVAL_HOURS",
        ("local", "backup_interval_hours"),
        "24",
        "Hours between local backups (1-720); one is also made when the app quits.",
    ),
    EnvVar(
        "JTT_HEALTH_INTERVAL_S",
        ("health_interval_s",),
        "5",
        "Seconds between MongoDB health checks (0.5-3600).",
    ),
    EnvVar(
        "JTT_ENCRYPTION",
        ("encryption", "enabled"),
        "false",
        "Encrypt descriptions, notes, client contact details and bank details in the store "
        "(AES-256-GCM); `jtt keys init` turns it on and encrypts what is there.",
    ),
    EnvVar(
        "JTT_DATA_KEY",
        ("encryption", "data_key"),
        "",
        "The data key (standard base64 of 32 random bytes, from `jtt keys generate`), only "
        "for hosts without a keyring; several separated by commas, the first encrypts.",
    ),
    EnvVar(
        "JTT_JIRA_URL",
        ("jira", "url"),
        "",
        "Jira site: https://<site>.atlassian.net (Cloud) or your server's address "
        "(Server / Data Center).",
    ),
    EnvVar(
        "JTT_JIRA_EMAIL",
        ("jira", "email"),
        "",
        "Your Atlassian account e-mail (Jira Cloud: e-mail + API token); empty = "
        "Server / Data Center (personal access token).",
    ),
    EnvVar(
        "JTT_JIRA_TOKEN",
        ("jira", "token"),
        "",
        "API token (Cloud) or personal access token (Server/DC), only for hosts without a "
        "keyring; otherwise `jtt jira configure --token-stdin` stores it in keyring.",
    ),
    EnvVar(
        "JTT_ALLOW_CONCURRENT_TIMERS",
        ("timer", "allow_concurrent"),
        "false",
        "Let several timers run at once instead of pausing the running one (their time "
        "overlaps, so this also allows overlaps).",
    ),
    EnvVar(
        "JTT_ALLOW_OVERLAP",
        ("timer", "allow_overlap"),
        "false",
        "Allow time on two tickets at once (shown with a warning sign; `jtt doctor` counts "
        "them). false: every change that would overlap another ticket's time is refused.",
    ),
    EnvVar(
        "JTT_FORGOTTEN_AFTER",
        ("timer", "forgotten_after"),
        "10h",
        "A timer running longer than this (or across midnight) is asked about: keep it, "
        "stop it at a time, or discard the extra time.",
    ),
    EnvVar(
        "JTT_DAY_ENDS",
        ("timer", "day_ends"),
        "18:00",
        "When the working day ends (HH:MM): where a forgotten timer is suggested to stop "
        "when jtt saw nothing later.",
    ),
    EnvVar(
        "JTT_WORK_HOURS",
        ("timer", "work_hours"),
        "Mon-Fri 09:00-18:00",
        "Working hours: while the app is open in them and no timer runs, it reminds you "
        "to start one. Empty: no reminders.",
    ),
    EnvVar(
        "JTT_IDLE_REMINDER",
        ("timer", "idle_reminder"),
        "15m",
        "How long the app waits, in working hours with no timer running, before it "
        "reminds you (0: never).",
    ),
    EnvVar(
        "JTT_JOURNAL_KEEP",
        ("journal", "keep"),
        "500",
        "How many changes undo can go back (10-100000).",
    ),
    EnvVar(
        "JTT_JOURNAL_DAYS",
        ("journal", "days"),
        "30",
        "Changes older than this many days are dropped from the undo journal (1-3650).",
    ),
)
# Variables that choose where things are, read before anything else.
LOCATION_VARS: tuple[EnvVar, ...] = (
    EnvVar(
        "JTT_CONFIG_DIR",
        (),
        "",
        "Folder of settings.toml (default: the platform's config dir, e.g. ~/.config/jtt).",
    ),
    EnvVar(
        "JTT_DATA_DIR",
        (),
        "",
        "Folder of the local store, backups and outbox "
        "(default: the platform's data dir, e.g. ~/.local/share/jtt).",
    ),
    EnvVar("JTT_ENV_FILE", (), "", "A .env file to read instead of ./.env."),
    EnvVar(
        "JTT_LOG_DIR",
        (),
        "",
        "Folder of the log file jtt.log (default: the platform's log dir, "
        "e.g. ~/.local/state/jtt/log).",
    ),
    EnvVar(
        "JTT_SERVER",
        (),
        "on",
        "off: no command server (status, start, stop… then import jtt in each process; "
        "environment only).",
    ),
    EnvVar(
        "JTT_RUNTIME_DIR",
        (),
        "",
        "Folder of the command server's socket (default: $XDG_RUNTIME_DIR/jtt or "
        "/tmp/jtt-UID; environment only).",
    ),
)
_ENV_BY_PATH = {var.path: var for var in ENV_VARS}
_SECRET_HELP = {
    ("mongodb", "password"): "run `jtt db configure --password-stdin` (keyring) or set "
    "MONGODB_PASSWORD in the environment",
    ("encryption", "data_key"): "run `jtt keys import --stdin` (keyring) or set JTT_DATA_KEY "
    "in the environment",
    ("jira", "token"): "run `jtt jira configure --token-stdin` (keyring) or set JTT_JIRA_TOKEN "
    "in the environment",
}
_SECRET_PATHS = set(_SECRET_HELP)


class _Section(BaseModel):
    # nan and inf are no interval, timeout or size: "a finite number"
    model_config = ConfigDict(extra="forbid", validate_default=True, allow_inf_nan=False)


class MongoConfig(_Section):
    enabled: bool = False
    uri: str = ""
    database: str = Field(
        default="jtt", min_length=1, max_length=63, pattern=r'^[^/\\. "$*<>:|?]+$'
    )
    dual_write: Literal["off", "read-local", "read-both", "read-remote"] = "off"
    username: str = Field(default="", max_length=256)
    password: SecretStr | None = None
    # settings.toml remembers only that keyring holds the password
    password_in_keyring: bool = False
    tls: bool | None = None
    tls_ca_file: Path | None = None
    tls_allow_invalid_certificates: bool = False
    auth_source: str = Field(default="", max_length=63)
    max_pool_size: int = Field(default=10, ge=1, le=500)
    # after max_pool_size: its validator compares with it
    min_pool_size: int = Field(default=0, ge=0, le=500)
    max_idle_time_ms: int = Field(default=60_000, ge=0, le=86_400_000)
    server_selection_timeout_ms: int = Field(default=2_000, ge=100, le=600_000)
    connect_timeout_ms: int = Field(default=2_000, ge=100, le=600_000)
    socket_timeout_ms: int = Field(default=5_000, ge=100, le=600_000)

    @model_validator(mode="before")
    @classmethod
    def _empty_means_default(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            if str(data.get("tls", "")).lower() in ("", "auto"):
                data["tls"] = None
            for name in ("tls_ca_file", "password"):
                if data.get(name) == "":
                    data[name] = None
        return data

    @field_validator("uri")
    @classmethod
    def _uri_scheme(cls, uri: str) -> str:
        if uri and not re.match(r"^mongodb(\+srv)?://[^\s/?#]+", uri):
            raise ValueError("must start with mongodb:// or mongodb+srv:// followed by a host")
        if uri:
            _check_uri_hosts(uri)
        return uri

    @field_validator("min_pool_size")
    @classmethod
    def _min_below_max(cls, value: int, info: ValidationInfo) -> int:
        maximum = info.data.get("max_pool_size")
        if maximum is not None and value > maximum:
            raise ValueError(f"is larger than the max pool size ({maximum})")
        return value

    @field_validator("tls_ca_file")
    @classmethod
    def _ca_file_exists(cls, path: Path | None) -> Path | None:
        if path is not None and not path.expanduser().is_file():
            raise ValueError("no such file")
        return path

    @property
    def configured(self) -> bool:
        return bool(self.uri)


class LocalConfig(_Section):
    store_path: Path | None = None
    backup_enabled: bool = True
    backup_interval_hours: int = Field(default=24, ge=1, le=720)

    @model_validator(mode="before")
    @classmethod
    def _empty_path(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("store_path") == "":
            data = {**data, "store_path": None}
        return data


class EncryptionConfig(_Section):
    enabled: bool = False
    # the keyring key new values are sealed with (JTT_DATA_KEY overrides it)
    key_id: str = Field(default="", pattern=r"^[0-9a-f]{0,16}$")
    # set while `jtt keys init/rotate/disable` re-encrypts: a re-run resumes
    reencrypt_pending: bool = False
    data_key: SecretStr | None = None

    @field_validator("data_key", mode="before")
    @classmethod
    def _empty_key(cls, value: Any) -> Any:
        return None if value == "" else value


class JiraConfig(_Section):
    url: str = ""
    # Cloud when set (basic auth, REST v3); Server / Data Center when empty
    # (bearer personal access token, REST v2)
    email: str = Field(default="", max_length=254)
    token: SecretStr | None = None
    # the default search of the new-timer dialog and `jtt jira pull`
    jql: str = Field(
        default="assignee = currentUser() AND statusCategory != Done ORDER BY updated DESC",
        max_length=2000,
    )
    # a worklog per finished segment, or one per ticket and day
    push_mode: Literal["segment", "day"] = "segment"
    # Jira's remaining-estimate handling for pushed worklogs, as its own
    # log-work dialog: auto, leave, new (set it to estimate_value) or manual
    # (reduce it by estimate_value per worklog)
    adjust_estimate: Literal["auto", "leave", "new", "manual"] = "auto"
    estimate_value: str = Field(default="", max_length=40)
    # Jira Cloud e-mails an issue's watchers about each worklog unless told
    # not to; jtt tells it not to unless this is on (Server / DC: no choice)
    notify_watchers: bool = False
    # apply the project's billing rounding to pushed time
    round_pushed: bool = False
    timeout_s: float = Field(default=10.0, ge=1, le=120)

    @field_validator("token", mode="before")
    @classmethod
    def _empty_token(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("url")
    @classmethod
    def _site_url(cls, url: str) -> str:
        url = url.strip().rstrip("/")
        if not url:
            return ""
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("must be the Jira site's address, e.g. https://yoursite.atlassian.net")
        if parts.username or parts.password:
            raise ValueError("must not contain credentials (the token goes to keyring)")
        if parts.query or parts.fragment:
            raise ValueError("must be the site's address only (no ?query or #fragment)")
        return url

    @field_validator("email")
    @classmethod
    def _email(cls, email: str) -> str:
        email = email.strip()
        if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            raise ValueError(f"{email!r} is not an e-mail address")
        return email

    @model_validator(mode="after")
    def _estimate_complete(self) -> Self:
        from jtt_tui.jira.estimate import estimate_problem

        self.estimate_value = self.estimate_value.strip()
        if self.adjust_estimate in ("auto", "leave"):
            self.estimate_value = ""  # nothing to say for these
        problem = estimate_problem(self.adjust_estimate, self.estimate_value)
        if problem:
            raise ValueError(problem)
        return self

    @property
    def cloud(self) -> bool:
        return bool(self.email)

    @property
    def configured(self) -> bool:
        return bool(self.url)

    @property
    def estimate(self) -> "Estimate":
        from jtt_tui.jira.estimate import Estimate

        return Estimate(self.adjust_estimate, self.estimate_value)


class TimerConfig(_Section):
    allow_concurrent: bool = False
    allow_overlap: bool = False
    forgotten_after: str = "10h"
    day_ends: str = Field(default="18:00", pattern=r"^([01]?\d|2[0-3]):[0-5]\d$")
    work_hours: str = Field(default="Mon-Fri 09:00-18:00", max_length=100)
    idle_reminder: str = "15m"

    @field_validator("forgotten_after", "idle_reminder", mode="before")
    @classmethod
    def _duration_text(cls, value: Any, info: ValidationInfo) -> Any:
        from jtt_tui.domain.durations import parse_duration

        # a bare number: hours for forgotten_after, minutes for idle_reminder
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = f"{value}{'h' if info.field_name == 'forgotten_after' else 'm'}"
        if not isinstance(value, str):
            return value
        text = value.strip()
        if info.field_name == "idle_reminder" and text in ("", "0", "off"):
            return "0"
        if re_number := re.fullmatch(r"\d+(\.\d+)?", text):
            text = f"{re_number.group(0)}{'h' if info.field_name == 'forgotten_after' else 'm'}"
        duration = parse_duration(text)  # DomainError is a ValueError: a clear message
        if info.field_name == "forgotten_after" and duration.total_seconds() < 3600:
            raise ValueError("at least 1 hour")
        return text

    @field_validator("work_hours")
    @classmethod
    def _work_hours(cls, value: str) -> str:
        from jtt_tui.domain.workday import parse_work_hours

        parse_work_hours(value)
        return value.strip()

    def rules(self) -> Any:
        """These settings as the timer service's rules."""
        from datetime import time

        from jtt_tui.domain.durations import parse_duration
        from jtt_tui.domain.workday import TimerRules, parse_work_hours

        hour, minute = (int(part) for part in self.day_ends.split(":"))
        reminder = parse_duration(self.idle_reminder) if self.idle_reminder != "0" else None
        return TimerRules(
            forgotten_after=parse_duration(self.forgotten_after),
            day_ends=time(hour, minute),
            work_hours=parse_work_hours(self.work_hours),
            idle_reminder=reminder or None,
        )


class JournalConfig(_Section):
    keep: int = Field(default=500, ge=10, le=100_000)
    days: int = Field(default=30, ge=1, le=3650)


class UiConfig(_Section):
    theme: Literal["dark", "light", "ansi"] = "dark"


def _check_uri_hosts(uri: str) -> None:
    """The host list of a MongoDB URI, checked the way the driver will (so a
    typo is reported where it is typed, not at the first connection)."""
    srv = uri.startswith("mongodb+srv://")
    rest = uri.split("://", 1)[1]
    hosts_part = re.split(r"[/?]", rest, maxsplit=1)[0]
    hosts_part = hosts_part.rsplit("@", 1)[-1]  # after any user:password@
    hosts = hosts_part.split(",")
    if srv and len(hosts) != 1:
        raise ValueError("a mongodb+srv:// URI names exactly one host (the cluster's DNS name)")
    for host in hosts:
        match = re.fullmatch(r"(\[[0-9a-fA-F:.]+\]|[^:\[\]]+)(?::(.*))?", host)
        if not match:
            raise ValueError(f"{host or 'an empty host'} is not a host name")
        port = match.group(2)
        if port is None:
            continue
        if srv:
            raise ValueError("a mongodb+srv:// host takes no port number")
        if not port.isdigit() or not 1 <= int(port) <= 65535:
            raise ValueError(f"port {port!r} of {match.group(1)} must be a number from 1 to 65535")


class Settings(_Section):
    user_id: str = Field(default="", max_length=128, pattern=r"^[\w.@+-]*$")
    enable_multi_user: bool = False
    health_interval_s: float = Field(default=5.0, ge=0.5, le=3600)
    local: LocalConfig = Field(default_factory=LocalConfig)
    mongodb: MongoConfig = Field(default_factory=MongoConfig)
    timer: TimerConfig = Field(default_factory=TimerConfig)
    journal: JournalConfig = Field(default_factory=JournalConfig)
    encryption: EncryptionConfig = Field(default_factory=EncryptionConfig)
    jira: JiraConfig = Field(default_factory=JiraConfig)
    ui: UiConfig = Field(default_factory=UiConfig)
    keys: dict[str, str] = Field(default_factory=dict)
    # where things are (never written to settings.toml)
    config_dir: Path
    data_dir: Path
    env_file: Path | None = None
    # what was read but not used (a .env line that could not be parsed, an
    # unknown JTT_/MONGODB_ variable): said once by the interface
    _warnings: list[str] = PrivateAttr(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        return self._warnings

    @property
    def settings_path(self) -> Path:
        return self.config_dir / SETTINGS_FILE

    @property
    def store_path(self) -> Path:
        return (self.local.store_path or self.data_dir / "jtt.db").expanduser()

    @property
    def backup_dir(self) -> Path:
        return self.data_dir / "backups"

    @property
    def backend(self) -> Literal["local", "mongodb"]:
        return "mongodb" if self.mongodb.enabled else "local"


def _default_dirs(env: Mapping[str, str]) -> tuple[Path, Path]:
    config = env.get("JTT_CONFIG_DIR")
    data = env.get("JTT_DATA_DIR")
    if not (config and data):
        import platformdirs

        config = config or platformdirs.user_config_dir(APP_NAME)
        data = data or platformdirs.user_data_dir(APP_NAME)
    return Path(config).expanduser(), Path(data).expanduser()


def _read_env_file(
    environ: Mapping[str, str],
) -> tuple[dict[str, str], Path | None, list[str]]:
    """The .env file's variables, its path, and what could not be read of it."""
    named = environ.get("JTT_ENV_FILE")
    path = Path(named).expanduser() if named else Path.cwd() / ".env"
    if not path.is_file():
        if named:
            raise ConfigError(f"JTT_ENV_FILE={named}: no such file")
        return {}, None, []
    import io

    from dotenv import dotenv_values  # only paid for when a .env exists
    from dotenv.parser import parse_stream

    text = _read_text(path)
    warnings = [
        f"{path}, line {binding.original.line}: cannot be read (an unterminated quote?): ignored"
        for binding in parse_stream(io.StringIO(text))
        if binding.error
    ]
    values = {k: v for k, v in dotenv_values(stream=io.StringIO(text)).items() if v is not None}
    return values, path, warnings


def _read_text(path: Path) -> str:
    """A settings file as text; one that is not UTF-8 is named with its line."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}, line {line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the "
            "file as UTF-8"
        ) from None


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(_read_text(path))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix or delete the file") from None


def _set_path(target: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for part in path[:-1]:
        target = target.setdefault(part, {})
    target[path[-1]] = value


def _get_path(source: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(source, Mapping) or part not in source:
            return None
        source = source[part]
    return source


def load_settings(
    environ: Mapping[str, str] | None = None,
    *,
    persist_user_id: bool = True,
    find_owner: bool = True,
) -> Settings:
    """Settings from every source. Raises ConfigError with one clear line."""
    process_env = dict(os.environ if environ is None else environ)
    file_env, env_file, warnings = _read_env_file(process_env)
    env = {**file_env, **process_env}
    unknown = _unknown_variables(env)
    if unknown:
        warnings.append(f"unknown setting{'s' * (len(unknown) > 1)} ignored: {', '.join(unknown)}")
    config_dir, data_dir = _default_dirs(env)
    toml_path = config_dir / SETTINGS_FILE
    data: dict[str, Any] = _read_toml(toml_path)
    for secret in _SECRET_PATHS:
        if _get_path(data, secret) is not None:
            raise ConfigError(
                f"{toml_path}: [{secret[0]}] {secret[1]} must not be stored in settings.toml; "
                f"remove it and {_SECRET_HELP[secret]}"
            )
    sources: dict[tuple[str, ...], str] = {}
    for var in ENV_VARS:
        if var.name in env:
            value = env[var.name].strip()
            _set_path(data, var.path, value)
            from_file = var.name in file_env and var.name not in process_env
            sources[var.path] = str(env_file) if from_file else "the environment"
    data.update(config_dir=config_dir, data_dir=data_dir, env_file=env_file)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, data, sources, toml_path)) from None
    from jtt_tui.redaction import register_secret

    secrets: tuple[SecretStr | None, ...] = (
        settings.mongodb.password,
        settings.encryption.data_key,
        settings.jira.token,
    )
    for kept in secrets:
        if kept is not None:
            register_secret(kept.get_secret_value())
    if not settings.user_id and find_owner:
        settings.user_id = _stored_or_new_user_id(settings, persist=persist_user_id)
    settings.warnings.extend(warnings)
    return settings


# read by jtt but not settings (folders, the .env file) or only by its tests
_OTHER_VARIABLES = frozenset(var.name for var in LOCATION_VARS)


def _unknown_variables(env: Mapping[str, str]) -> list[str]:
    """JTT_… and MONGODB_… names jtt does not know (a typo would otherwise
    go unnoticed), each with the likely name meant."""
    known = {var.name for var in ENV_VARS} | _OTHER_VARIABLES
    found = []
    for name in sorted(env):
        if not name.startswith(("JTT_", "MONGODB_")) or name in known:
            continue
        if name.startswith("JTT_TEST_"):
            continue  # the test suite's own
        import difflib  # only when there is a name to match: not on every start-up

        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.8)
        found.append(f"{name} (did you mean {close[0]}?)" if close else name)
    return found


def _stored_or_new_user_id(settings: Settings, *, persist: bool) -> str:
    """A stable id: generated once, then kept in settings.toml. Without one
    (settings lost), the local store says whose data it holds: its one
    owner is taken (and written back); several are a question for the user
    — a new id is never made silently over existing data. (A MongoDB store
    is shared by a team: there a new id is normal; `jtt doctor` lists the
    ids it holds.)"""
    stored = _get_path(_read_toml(settings.settings_path), ("user_id",))
    if isinstance(stored, str) and stored:
        return stored
    if settings.backend == "local":
        from jtt_tui.storage.owners import describe, local_owners

        owners = local_owners(settings.store_path)
        if len(owners) == 1:
            (owner,) = owners
            if persist:
                update_settings_file(settings.config_dir, {"user_id": owner})
            return owner
        if owners:
            raise ConfigError(
                f"no user id is set ({settings.settings_path} has none) and "
                f"{settings.store_path} holds the data of {describe(owners)}: say which is "
                "you with `jtt user adopt ID` (or set DEFAULT_USER_ID)"
            )
    import getpass

    try:
        login = re.sub(r"[^\w.-]", "", getpass.getuser())[:32] or "user"
    except (KeyError, OSError):
        login = "user"
    user_id = f"{login}-{os.urandom(4).hex()}"
    if persist:
        update_settings_file(settings.config_dir, {"user_id": user_id})
    return user_id


def _explain(
    exc: ValidationError,
    data: Mapping[str, Any],
    sources: Mapping[tuple[str, ...], str],
    toml_path: Path,
) -> str:
    """One line: where the bad value came from, the value (redacted), what is
    wrong and what is allowed."""
    error = exc.errors()[0]
    loc = tuple(str(part) for part in error["loc"])
    value = _get_path(data, loc)
    shown = "***" if loc in _SECRET_PATHS else redact("" if value is None else value)
    if loc in sources:
        where = f"{loc_name(loc)}={shown} (from {sources[loc]})"
    else:
        key = f"[{loc[0]}] {'.'.join(loc[1:])}" if len(loc) > 1 else ".".join(loc)
        where = f"{toml_path}: {key} = {shown}"
    message = sentence(error)
    allowed = _ALLOWED.get(loc)
    return f"{where}: {message}" + (f" (allowed: {allowed})" if allowed else "")


def loc_name(loc: tuple[str, ...]) -> str:
    """The environment variable for a settings path (or its dotted name)."""
    var = _ENV_BY_PATH.get(loc)
    return var.name if var else ".".join(loc)


_ALLOWED: dict[tuple[str, ...], str] = {
    ("mongodb", "enabled"): "true or false",
    ("mongodb", "tls"): "auto, true or false",
    ("mongodb", "uri"): "mongodb://… or mongodb+srv://…",
    ("mongodb", "max_pool_size"): "a whole number from 1 to 500",
    ("mongodb", "min_pool_size"): "a whole number from 0 to the max pool size",
    ("mongodb", "max_idle_time_ms"): "milliseconds, 0 to 86400000",
    ("mongodb", "server_selection_timeout_ms"): "milliseconds, 100 to 600000",
    ("mongodb", "connect_timeout_ms"): "milliseconds, 100 to 600000",
    ("mongodb", "socket_timeout_ms"): "milliseconds, 100 to 600000",
    ("local", "backup_enabled"): "true or false",
    ("local", "backup_interval_hours"): "a whole number of hours, 1 to 720",
    ("health_interval_s",): "seconds, 0.5 to 3600",
    ("timer", "allow_concurrent"): "true or false",
    ("timer", "allow_overlap"): "true or false",
    ("timer", "forgotten_after"): "a duration of at least 1h, e.g. 10h",
    ("timer", "day_ends"): "a time of day, HH:MM",
    ("timer", "work_hours"): "days and hours, e.g. Mon-Fri 09:00-18:00, or empty",
    ("timer", "idle_reminder"): "a duration such as 15m, or 0 for no reminders",
    ("journal", "keep"): "a whole number from 10 to 100000",
    ("journal", "days"): "a whole number of days, 1 to 3650",
    ("enable_multi_user",): "true or false",
    ("ui", "theme"): "dark, light or ansi",
    ("user_id",): "letters, digits and . _ @ + -",
}


# -- writing settings.toml ----------------------------------------------------------


def update_settings_file(config_dir: Path, changes: Mapping[str, Any]) -> Path:
    """Merge ``changes`` (nested dicts mirror the TOML tables; None deletes a
    key) into settings.toml and write it atomically with mode 0600."""
    path = config_dir / SETTINGS_FILE
    current = _read_toml(path)
    _merge(current, changes)
    for secret in _SECRET_PATHS:
        if _get_path(current, secret) is not None:
            raise ValueError("refusing to write a password into settings.toml")
    write_private_file(path, dump_toml(current).encode())
    return path


def _merge(target: dict[str, Any], changes: Mapping[str, Any]) -> None:
    for key, value in changes.items():
        if isinstance(value, Mapping):
            section = target.setdefault(key, {})
            if not isinstance(section, dict):
                section = target[key] = {}
            _merge(section, value)
        elif value is None:
            target.pop(key, None)
        else:
            target[key] = value


def dump_toml(data: Mapping[str, Any]) -> str:
    """TOML for our settings: top-level scalars, then one table per section."""
    lines: list[str] = []
    tables: list[tuple[str, Mapping[str, Any]]] = []
    for key, value in data.items():
        if isinstance(value, Mapping):
            tables.append((key, value))
        else:
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    for name, table in tables:
        lines.append("")
        lines.append(f"[{_toml_key(name)}]")
        for key, value in table.items():
            if isinstance(value, Mapping):
                raise ValueError(f"settings.toml supports one level of tables ({name}.{key})")
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    return "\n".join(lines).lstrip("\n") + "\n"


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_string(key)


def _toml_string(text: str) -> str:
    out = ['"']
    for char in text:
        code = ord(char)
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        return _toml_string(str(value))
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to settings.toml")
