"""The SQL schema of the store and the one connection a process writes through.

Written in SQLAlchemy Core with portable types, so the same tables live in SQLite (the default,
in WAL mode) or PostgreSQL (by URL). Upserts use each dialect's ``ON CONFLICT``.

Durability: every write commits before it returns. SQLite runs with ``journal_mode=WAL`` and
``synchronous=NORMAL``: a committed transaction survives the process being killed at any moment
(what crash-resume needs); only an operating-system crash or power loss may lose the last few
(WAL is fsynced at checkpoints, not at each commit), never leaving a half transaction.
Checkpoints run on a thread of their own (:class:`Checkpointer`), never inside a commit.

A write may be *held* (:meth:`Database.hold`): a record nothing acts on by itself (a step
``running``, an output's artifact record, an attempt's success before its step's) is not
committed on its own but in the transaction of the next write, which is always made before
anything is acted on. So a SIGKILL loses at most held records whose state change had not been
acted on yet, and a step's attempt's success and its own ``succeeded`` land together or not at
all, never before its artifacts' records (which may land first: an artifact's record says only
that its bytes are durable). On SQLite the upserts go to the driver as plain prepared SQL
(:class:`RawUpsert`, the same statement and stored values as SQLAlchemy's); PostgreSQL keeps
SQLAlchemy.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    create_engine,
    event,
    insert,
    inspect,
    text,
    update,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.dml import Insert, Update

from podium.errors import InvalidInput, Unavailable

BUSY_TIMEOUT_MS = 10_000
#: PostgreSQL advisory lock key of :meth:`Database.exclusive` ("podium" in ASCII)
ADVISORY_KEY = 0x706F6469756D
_T = TypeVar("_T")

metadata = MetaData()

runs = Table(
    "runs",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("pipeline", String(200), nullable=False),
    Column("spec_path", Text),
    Column("spec_hash", String(64), nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("out_dir", Text),
    Column("policy", String(200)),
    Column("budget_usd", Float),
    Column("cost_usd", Float, nullable=False, default=0.0),
    Column("wall_s", Float),
    Column("inputs", JSON),
    Column("plan", JSON),
    Column("error", Text),
    Index("ix_runs_pipeline_created", "pipeline", "created_at"),
    Index("ix_runs_created", "created_at"),
)

steps = Table(
    "steps",
    metadata,
    # the surrogate id keeps "the order they were first written" through upserts
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False),
    Column("key", String(200), nullable=False),
    Column("step_id", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("model", String(300)),
    Column("cache_key", String(64)),
    Column("outputs", JSON),
    Column("cost_usd", Float, nullable=False, default=0.0),
    Column("started_at", Float),
    Column("finished_at", Float),
    Column("error_code", String(40)),
    Column("error", Text),
    Column("decision", JSON),
    UniqueConstraint("run_id", "key", name="uq_steps_run_key"),
)

attempts = Table(
    "attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("attempt_id", String(64), nullable=False, unique=True),
    Column("run_id", String(64), nullable=False),
    Column("step_key", String(200), nullable=False),
    Column("model", String(300), nullable=False),
    Column("provider", String(100), nullable=False),
    Column("idempotency_key", String(128), nullable=False),
    Column("status", String(20), nullable=False),
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float),
    Column("request_id", String(300)),
    Column("state", JSON),
    Column("cost_usd", Float, nullable=False, default=0.0),
    Column("reserved_usd", Float, nullable=False, default=0.0),
    Column("latency_s", Float),
    Column("error_code", String(40)),
    Column("error", Text),
    Column("cache_hit", Boolean, nullable=False, default=False),
    Column("hedge", Boolean, nullable=False, default=False),
    Column("outputs", JSON),
    Column("meta", JSON),
    Index("ix_attempts_run_step", "run_id", "step_key"),
    Index("ix_attempts_idem", "idempotency_key"),
    # every index is paid on each of an attempt's writes: only the runner's and router's
    # lookups get one (per-provider figures are rare and scan)
    Index("ix_attempts_model_finished", "model", "finished_at"),
    Index("ix_attempts_started", "started_at"),
)

artifacts = Table(
    "artifacts",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("type", String(20), nullable=False),
    Column("ext", String(16), nullable=False),
    Column("size", Integer, nullable=False),
    Column("meta", JSON),
    Column("lineage", JSON),
    Column("created_at", Float, nullable=False),
)

cache = Table(
    "cache",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("outputs", JSON, nullable=False),
    Column("model", String(300), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("last_used", Float, nullable=False),
    Column("hits", Integer, nullable=False, default=0),
)

breakers = Table(
    "breakers",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("state", String(20), nullable=False),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("opened_until", Float),
    Column("recent", JSON),
)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA wal_autocheckpoint=0")  # the Checkpointer's thread does it
    cur.close()


class Checkpointer:
    """Copies SQLite's write-ahead log into the database on a thread of its own.

    Left to itself, SQLite checkpoints inside whichever commit takes the log past 1000 pages:
    that commit also copies the pages back and fsyncs the database, several milliseconds
    spent by the event loop that happened to commit, while steps wait on it. The store turns
    that off (``wal_autocheckpoint=0``) and checkpoints here every ``every`` commits instead,
    ``PASSIVE`` and through a connection of its own, so no writer waits for it. The last
    connection to close checkpoints what is left, as SQLite always does.

    Args:
        path: the database file.
        every: commits between checkpoints.
    """

    def __init__(self, path: Path, every: int = 256) -> None:
        self.path = path
        self.every = every
        self._commits = 0
        self._thread: threading.Thread | None = None

    def committed(self) -> None:
        """Count a commit; start a checkpoint when one is due and none is running."""
        self._commits += 1
        if self._commits < self.every or (self._thread and self._thread.is_alive()):
            return
        self._commits = 0
        self._thread = threading.Thread(target=self.checkpoint, name="podium-wal", daemon=True)
        self._thread.start()

    def checkpoint(self) -> None:
        """One passive checkpoint (best effort: a busy or failed one is retried next time)."""
        with contextlib.suppress(sqlite3.Error):
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000)
            try:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                conn.close()

    def close(self) -> None:
        """Wait for a checkpoint under way."""
        if self._thread is not None:
            self._thread.join()


class Database:
    """One engine and one long-lived connection, shared by the SQL store's parts.

    Every statement runs under a lock on the one connection (threads may share the store);
    every write commits before returning.

    Args:
        url: a SQLAlchemy URL (``sqlite:///path.db``, ``postgresql+psycopg://...``).
    """

    def __init__(self, url: str) -> None:
        try:
            parsed = make_url(url)
        except (ArgumentError, ValueError):  # ValueError: a port that is not a number
            # unparsed, so a password cannot be masked: everything before an "@" is hidden
            shown = "***@" + url.rpartition("@")[2] if "@" in url else url
            raise InvalidInput(
                f"cannot parse {shown!r} as a database URL",
                where="PODIUM_DATABASE_URL",
                hint="use sqlite:///path/podium.db or postgresql+psycopg://user@host/db",
            ) from None
        self.url = url
        self.dialect = parsed.get_backend_name()
        shown = parsed.render_as_string(hide_password=True)
        if self.dialect not in ("sqlite", "postgresql"):
            raise InvalidInput(
                f"the store runs on SQLite or PostgreSQL, not {self.dialect} ({shown})",
                where="PODIUM_DATABASE_URL",
                hint="use sqlite:///path/podium.db or postgresql+psycopg://user@host/db",
            )
        try:
            self._open(parsed, url)
        except ModuleNotFoundError as exc:
            raise Unavailable(
                f"no database driver for {shown} ({exc.name} is not installed)",
                where="PODIUM_DATABASE_URL",
                hint="pip install 'psycopg[binary]' for PostgreSQL",
            ) from exc
        except (SQLAlchemyError, OSError) as exc:
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            raise Unavailable(
                f"cannot open the store at {shown}: {reason}",
                where="PODIUM_DATABASE_URL" if self.dialect != "sqlite" else "PODIUM_HOME",
                hint="check that the path is writable or the server is up",
            ) from exc

    def _open(self, parsed: URL, url: str) -> None:
        kwargs: dict[str, Any] = {}
        database = parsed.database or ""
        if self.dialect == "sqlite":
            if database and database != ":memory:" and not database.startswith("file:"):
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {
                "check_same_thread": False,
                "timeout": BUSY_TIMEOUT_MS / 1000,
            }
            if not database or database == ":memory:":
                kwargs["poolclass"] = StaticPool
        self.engine: Engine = create_engine(url, **kwargs)
        self.checkpointer: Checkpointer | None = None
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
            if database and database != ":memory:" and not database.startswith("file:"):
                self.checkpointer = Checkpointer(Path(database))
        self.lock = threading.RLock()
        self._exclusive = threading.Lock()
        # SQLite: a file beside the database that every process using it locks (see exclusive)
        self._lock_file: Path | None = None
        if self.dialect == "sqlite" and self.checkpointer is not None:
            self._lock_file = Path(database).with_name(Path(database).name + ".lock")
        for attempt in range(3):
            try:
                metadata.create_all(self.engine)
                _add_missing_columns(self.engine)
                break
            except OperationalError:
                # another process created the same table or column a moment before us
                if attempt == 2:
                    raise
                time.sleep(0.05)
        self.conn: Connection = self.engine.connect()
        self._upserts: dict[str, Insert] = {}
        self._updates: dict[str, Update] = {}
        # SQLite: the hot upserts skip SQLAlchemy's execution machinery (about two thirds of a
        # write's cost) and go straight to the driver as prepared SQL; sqlite3 caches the
        # prepared statement, so a write is one bind, one step and one commit
        self._raw: dict[int, RawUpsert | RawUpdate] = {}
        # writes held back to ride with the next write's transaction (see hold())
        self._held: dict[tuple[str, ...], tuple[Any, Mapping[str, Any]]] = {}
        self.on_flush: list[Callable[[], None]] = []

    def upsert(self, table: Table, keys: Sequence[str], keep: Sequence[str] = ()) -> Insert:
        """This database's :func:`build_upsert` for ``table``, built once and reused.

        Args:
            table: the table.
            keys: the conflict target (primary key or a unique constraint's columns).
            keep: columns an update leaves as they were (besides the surrogate ``id``).
        """
        name = f"{table.name}:{','.join(keys)}:{','.join(keep)}"
        stmt = self._upserts.get(name)
        if stmt is None:
            stmt = self._upserts[name] = build_upsert(self.dialect, table, keys, keep)
            if self.dialect == "sqlite":
                self._raw[id(stmt)] = RawUpsert(table, keys, keep)
        return stmt

    def insert(self, table: Table) -> Insert:
        """A plain ``INSERT`` into ``table`` (failing on a duplicate key), built once; plain
        SQL on SQLite like the upserts. A duplicate raises SQLAlchemy's ``IntegrityError`` on
        either path."""
        name = f"{table.name}:insert"
        stmt = self._upserts.get(name)
        if stmt is None:
            stmt = self._upserts[name] = insert(table)
            if self.dialect == "sqlite":
                self._raw[id(stmt)] = RawUpsert(table, ())
        return stmt

    def update_by(self, table: Table, key: str, columns: Sequence[str]) -> Update:
        """``UPDATE table SET columns WHERE key = :key``, built once; on SQLite, written as
        plain SQL like the upserts (parameters named after the columns).

        Args:
            table: the table.
            key: the column naming the row.
            columns: the columns set.
        """
        name = f"{table.name}:{key}:{','.join(columns)}"
        stmt = self._updates.get(name)
        if stmt is None:
            values = {c: bindparam(c, type_=table.c[c].type) for c in columns}
            where = table.c[key] == bindparam(f"{key}_", type_=table.c[key].type)
            stmt = self._updates[name] = update(table).where(where).values(**values)
            if self.dialect == "sqlite":
                self._raw[id(stmt)] = RawUpdate(table, key, columns)
        return stmt

    def write(self, stmt: Any, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> int:
        """Run one write and commit it before returning; return the rows it touched."""
        return self.write_many([(stmt, params)])

    def write_many(
        self, writes: Sequence[tuple[Any, Mapping[str, Any] | Sequence[Mapping[str, Any]]]]
    ) -> int:
        """Run several writes as one transaction, committed before returning.

        Either all of them are in the journal or none is; one commit serves them all.

        Args:
            writes: ``(statement, params)`` pairs, run in order.
        """
        with self.lock:
            held, self._held = self._held, {}
            batch = [*held.values(), *writes]
            if not batch:
                return 0
            try:
                if all(id(stmt) in self._raw for stmt, _ in batch):
                    touched = self._write_raw(batch)
                else:
                    touched = self._again_if_dropped(lambda: self._write_all(batch))
            except BaseException:
                # nothing of the transaction landed: what was held stays held
                self._held = {**held, **self._held}
                raise
            if self.checkpointer is not None:
                self.checkpointer.committed()
            for done in self.on_flush:
                done()
            return touched

    def hold(self, key: tuple[str, ...], stmt: Any, params: Mapping[str, Any]) -> None:
        """Hold a write back until the next write, and commit it in that write's transaction.

        For records nothing acts on by themselves: they become durable together with the state
        change that is acted on (a later hold under the same key replaces an earlier one).

        Args:
            key: what the write is about (a later write under the same key wins).
            stmt: an upsert from :meth:`upsert`.
            params: its parameters.
        """
        with self.lock:
            self._held.pop(key, None)  # keep the order the records were last written in
            self._held[key] = (stmt, params)

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold a lock every process using this database shares, for a read-then-write that
        must not interleave with another process's (a daily budget's check and reservation).

        SQLite: ``flock`` on ``<database>.lock`` beside the file (the processes of one machine,
        which is what a SQLite file serves). PostgreSQL: a session advisory lock. Threads of
        this process queue on a lock of their own first.
        """
        with self._exclusive:
            if self.dialect == "postgresql":
                with self.lock:
                    self.conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": ADVISORY_KEY})
                    self.conn.rollback()  # the lock belongs to the session, not the transaction
                try:
                    yield
                finally:
                    with self.lock:
                        self.conn.execute(
                            text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY}
                        )
                        self.conn.rollback()
            elif self._lock_file is not None:
                import fcntl

                with open(self._lock_file, "a+b") as fh:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
                    try:
                        yield
                    finally:
                        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            else:  # an in-memory database lives in this process only
                yield

    def flush(self) -> None:
        """Commit what is held back, now."""
        with self.lock:
            if self._held:
                self.write_many([])

    def _write_raw(
        self, writes: Sequence[tuple[Any, Mapping[str, Any] | Sequence[Mapping[str, Any]]]]
    ) -> int:
        raw = self.conn.connection.driver_connection
        assert raw is not None
        touched = 0
        try:
            for stmt, params in writes:
                up = self._raw[id(stmt)]
                if isinstance(params, Mapping):
                    touched += raw.execute(up.sql, up.row(params)).rowcount
                else:
                    touched += raw.executemany(up.sql, [up.row(p) for p in params]).rowcount
            raw.commit()
        except sqlite3.IntegrityError as exc:  # as SQLAlchemy's path reports it
            raw.rollback()
            raise IntegrityError(up.sql, None, exc) from exc
        except BaseException:
            raw.rollback()
            raise
        return int(touched)

    def _write_all(
        self, writes: Sequence[tuple[Any, Mapping[str, Any] | Sequence[Mapping[str, Any]]]]
    ) -> int:
        try:
            touched = 0
            for stmt, params in writes:
                touched += int(self.conn.execute(stmt, params).rowcount or 0)
            self.conn.commit()
        except BaseException:
            self.conn.rollback()
            raise
        return touched

    def read_raw(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]] | None:
        """Run one plain SQL query straight on the SQLite driver; ``None`` on other databases.

        For the hot lookups a worker thread makes while the loop commits: SQLAlchemy's
        execution machinery costs several times the query and holds the lock meanwhile.
        """
        if self.dialect != "sqlite":
            return None
        with self.lock:
            raw = self.conn.connection.driver_connection
            assert raw is not None
            return list(raw.execute(sql, params).fetchall())

    def read(self, stmt: Any, params: Mapping[str, Any] | None = None) -> list[Any]:
        """Run one query and return its rows (ending the read transaction)."""
        with self.lock:
            return self._again_if_dropped(lambda: self._read(stmt, params))

    def _read(self, stmt: Any, params: Mapping[str, Any] | None) -> list[Any]:
        try:
            return list(self.conn.execute(stmt, params or {}).all())
        finally:
            # end the implicit transaction so this connection never pins an old snapshot
            self.conn.rollback()

    def _again_if_dropped(self, call: Callable[[], _T]) -> _T:
        """Run ``call``; if the server dropped the connection, reconnect and run it once more.

        Every write is an upsert or an update, so running one again is harmless; a new run's
        insert that did land first fails as a duplicate, which the journal reports.
        """
        try:
            return call()
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            self.conn.close()
            self.conn = self.engine.connect()
            return call()

    def journal_mode(self) -> str | None:
        """SQLite's journal mode (``wal``), or None for other databases."""
        if self.dialect != "sqlite":
            return None
        rows = self.read(text("PRAGMA journal_mode"))
        return str(rows[0][0]).lower() if rows else None

    def close(self) -> None:
        """Commit what is held back, close the connection and dispose of the engine."""
        with self.lock:
            self.flush()
            if self.checkpointer is not None:
                self.checkpointer.close()
            self.conn.close()
            self.engine.dispose()


def _add_missing_columns(engine: Engine) -> None:
    """Add columns a newer Podium declares to tables an older one created.

    Records only ever gain fields, so a store made by an older version is brought up to date
    by ``ALTER TABLE ... ADD COLUMN`` (nullable; readers treat NULL as the field's default).
    """
    inspector = inspect(engine)
    with engine.begin() as conn:
        for table in metadata.sorted_tables:
            have = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name in have:
                    continue
                kind = column.type.compile(dialect=engine.dialect)
                conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))


class RawUpsert:
    """A SQLite upsert as plain SQL with its parameter conversion (JSON columns dumped).

    Same statement as :func:`build_upsert` builds for SQLite, same stored values as SQLAlchemy
    writes (JSON text, booleans as 0/1), so both paths read each other's rows.

    Args:
        table: the table.
        keys: the conflict target.
        keep: columns an update leaves as they were (besides the surrogate ``id``).
    """

    def __init__(self, table: Table, keys: Sequence[str], keep: Sequence[str] = ()) -> None:
        cols = [c for c in table.columns if c.name != "id"]
        self.names = tuple(c.name for c in cols)
        # the columns' scalar defaults (callables are not used by this schema)
        self.defaults = {
            c.name: arg
            for c in cols
            if (arg := getattr(c.default, "arg", None)) is not None and not callable(arg)
        }
        self.json = frozenset(c.name for c in cols if isinstance(c.type, JSON))
        skip = {*keys, *keep, "id"}
        names = ", ".join(f'"{n}"' for n in self.names)
        marks = ", ".join("?" for _ in self.names)
        sets = ", ".join(f'"{n}" = excluded."{n}"' for n in self.names if n not in skip)
        target = ", ".join(f'"{k}"' for k in keys)
        self.sql = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"
        if keys:  # none: a plain insert, failing on a duplicate key
            self.sql += f" ON CONFLICT ({target}) DO UPDATE SET {sets}"

    def row(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        """The positional parameters of one row."""
        out = []
        for name in self.names:
            value = params.get(name, self.defaults.get(name))
            if name in self.json:
                value = json.dumps(value)
            out.append(value)
        return tuple(out)


class RawUpdate:
    """A SQLite ``UPDATE ... SET ... WHERE key = ?`` as plain SQL (JSON columns dumped).

    Its parameters are named as :meth:`Database.update_by` names them: the columns, and the
    key with a trailing underscore.

    Args:
        table: the table.
        key: the column naming the row.
        columns: the columns set.
    """

    def __init__(self, table: Table, key: str, columns: Sequence[str]) -> None:
        self.names = (*columns, f"{key}_")
        self.json = frozenset(c for c in columns if isinstance(table.c[c].type, JSON))
        sets = ", ".join(f'"{c}" = ?' for c in columns)
        self.sql = f'UPDATE {table.name} SET {sets} WHERE "{key}" = ?'

    def row(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        """The positional parameters."""
        return tuple(json.dumps(params[n]) if n in self.json else params[n] for n in self.names)


def build_upsert(
    dialect: str, table: Table, keys: Sequence[str], keep: Sequence[str] = ()
) -> Insert:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE`` in SQLite's or PostgreSQL's dialect.

    Args:
        dialect: ``sqlite`` or ``postgresql``.
        table: the table.
        keys: the conflict target.
        keep: columns an update leaves as they were (besides the surrogate ``id``).
    """
    base: Any
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        base = pg_insert(table)
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        base = sqlite_insert(table)
    else:
        raise ValueError(f"the store runs on SQLite or PostgreSQL, not {dialect}")
    skip = {*keys, *keep, "id"}
    return base.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=list(keys),
        set_={c.name: base.excluded[c.name] for c in table.columns if c.name not in skip},
    )
