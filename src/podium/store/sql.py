"""The SQL store: journal, artifact records, cache and breakers over one SQLAlchemy connection.

SQLite (WAL) by default, PostgreSQL by URL. Statements are built once and reused (SQLAlchemy
caches their compiled form); each write is one statement committed before it returns, so the
runner can journal a state change and then act on it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import and_, bindparam, case, func, or_, select, update
from sqlalchemy import delete as sql_delete
from sqlalchemy.exc import IntegrityError

from podium.settings import Settings
from podium.store import schema as t
from podium.store.artifacts import ArtifactIndex, FileArtifactStore
from podium.store.base import ArtifactStore, CacheIndex, Journal, StateStore
from podium.store.cache import summarise
from podium.store.memory import check_run_fields, find_run_id
from podium.store.open import Store
from podium.store.records import (
    ArtifactRecord,
    AttemptRecord,
    BreakerState,
    ObservedStats,
    RunRecord,
    StepRecord,
)
from podium.store.schema import Database
from podium.store.stats import NOT_MODEL_FAULTS, OPEN_STATES, observed_from

__all__ = ["Database", "SqlArtifactIndex", "SqlCache", "SqlJournal", "SqlState", "open_sql_store"]


def _run(row: Any) -> RunRecord:
    m = row._mapping
    return RunRecord(
        run_id=m["run_id"],
        pipeline=m["pipeline"],
        spec_path=m["spec_path"],
        spec_hash=m["spec_hash"],
        status=m["status"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        out_dir=m["out_dir"],
        policy=m["policy"],
        budget_usd=m["budget_usd"],
        cost_usd=m["cost_usd"] or 0.0,
        wall_s=m["wall_s"],
        inputs=m["inputs"] or {},
        plan=(m["plan"] or {}) if "plan" in m else {},
        error=m["error"],
    )


def _step(row: Any) -> StepRecord:
    m = row._mapping
    return StepRecord(
        run_id=m["run_id"],
        key=m["key"],
        step_id=m["step_id"],
        status=m["status"],
        model=m["model"],
        cache_key=m["cache_key"],
        outputs=tuple(m["outputs"] or ()),
        cost_usd=m["cost_usd"] or 0.0,
        started_at=m["started_at"],
        finished_at=m["finished_at"],
        error_code=m["error_code"],
        error=m["error"],
        decision=m["decision"] or {},
    )


def _attempt(row: Any) -> AttemptRecord:
    m = row._mapping
    return AttemptRecord(
        attempt_id=m["attempt_id"],
        run_id=m["run_id"],
        step_key=m["step_key"],
        model=m["model"],
        provider=m["provider"],
        idempotency_key=m["idempotency_key"],
        status=m["status"],
        started_at=m["started_at"],
        finished_at=m["finished_at"],
        request_id=m["request_id"],
        state=m["state"] or {},
        cost_usd=m["cost_usd"] or 0.0,
        reserved_usd=m["reserved_usd"] or 0.0,
        latency_s=m["latency_s"],
        error_code=m["error_code"],
        error=m["error"],
        cache_hit=bool(m["cache_hit"]),
        hedge=bool(m["hedge"]),
        outputs=tuple(m["outputs"] or ()),
        metadata=m["meta"] or {},
    )


def _params(record: Any) -> dict[str, Any]:
    """A record's fields as statement parameters: shallow (``asdict`` deep-copies nested
    decisions and costs more than the write itself)."""
    names = _FIELDS.get(type(record))
    if names is None:
        names = _FIELDS[type(record)] = tuple(f.name for f in dataclasses.fields(record))
    return {name: getattr(record, name) for name in names}


_FIELDS: dict[type, tuple[str, ...]] = {}


def _attempt_params(a: AttemptRecord) -> dict[str, Any]:
    params = _params(a)
    params["meta"] = params.pop("metadata")
    params["outputs"] = list(a.outputs)
    return params


class SqlJournal(Journal):
    """Runs, steps and attempts in SQL tables.

    Args:
        db: the shared database connection.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._put_step = db.upsert(t.steps, ("run_id", "key"))
        self._put_attempt = db.upsert(t.attempts, ("attempt_id",))
        self._by_key = (
            select(t.attempts)
            .where(t.attempts.c.idempotency_key == bindparam("k"))
            .order_by(t.attempts.c.id)
        )
        self._run_by_id = select(t.runs).where(t.runs.c.run_id == bindparam("r"))
        # a run's plan document can be most of its row (50-120 kB for 50-100 steps): listings,
        # the summary's run header and the cancel watcher read the other columns only
        self._no_plan = select(*(c for c in t.runs.c if c.name != "plan"))
        self._run_no_plan = self._no_plan.where(t.runs.c.run_id == bindparam("r"))
        self._steps_of = (
            select(t.steps).where(t.steps.c.run_id == bindparam("r")).order_by(t.steps.c.id)
        )
        self._insert_run = db.insert(t.runs)
        self._set_plan = db.update_by(t.runs, "run_id", ("plan", "updated_at"))

    def _write(self, stmt: Any, params: dict[str, Any]) -> int:
        """One write, committed together with whatever is held back."""
        return self.db.write(stmt, params)

    def _read(self, stmt: Any, params: dict[str, Any] | None = None) -> list[Any]:
        """One query; what is held back is written first, so reads see every record."""
        self.db.flush()
        return self.db.read(stmt, params)

    def flush(self) -> None:
        """Write what is held back, now."""
        self.db.flush()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """Across every process using this database (see :meth:`Database.exclusive`)."""
        with self.db.exclusive():
            yield

    def note_step(self, step: StepRecord) -> None:
        """Write a step record with the next write (one commit for both)."""
        params = _params(step)
        params["outputs"] = list(step.outputs)
        self.db.hold(("step", step.run_id, step.key), self._put_step, params)

    def note_attempt(self, attempt: AttemptRecord) -> None:
        """Write an attempt record with the next write (one commit for both)."""
        self.db.hold(("attempt", attempt.attempt_id), self._put_attempt, _attempt_params(attempt))

    def note_plan(self, run_id: str, plan: dict[str, Any]) -> None:
        """Set a run's plan document with the next write (one commit for both)."""
        params = {"run_id_": run_id, "plan": plan, "updated_at": time.time()}
        self.db.hold(("plan", run_id), self._set_plan, params)

    def create_run(self, run: RunRecord) -> None:
        """Record a new run."""
        self.flush()
        try:
            self.db.write(self._insert_run, _params(run))
        except IntegrityError as exc:
            raise ValueError(f"run '{run.run_id}' already exists") from exc

    def _resolve(self, run_id: str) -> str:
        rows = self._read(
            select(t.runs.c.run_id)
            .where(t.runs.c.run_id.startswith(run_id, autoescape=True))
            .limit(20)
        )
        ids = [r[0] for r in rows if r[0].startswith(run_id)]
        return find_run_id(ids if run_id else [], run_id)

    def update_run(self, run_id: str, **fields: Any) -> None:
        """Change fields of a run (status, cost_usd, wall_s, error, out_dir, plan)."""
        check_run_fields(fields)
        fields.setdefault("updated_at", time.time())
        stmt = update(t.runs).values(**fields)
        # the runner always names the run in full: one statement; a prefix costs a lookup
        if not self._write(stmt.where(t.runs.c.run_id == run_id), {}):
            full = self._resolve(run_id)
            self._write(stmt.where(t.runs.c.run_id == full), {})

    def get_run(self, run_id: str, *, plan: bool = True) -> RunRecord:
        """A run (a unique prefix of its id is enough). KeyError if none."""
        query = self._run_by_id if plan else self._run_no_plan
        rows = self._read(query, {"r": run_id})
        if not rows:
            rows = self._read(query, {"r": self._resolve(run_id)})
        return _run(rows[0])

    def list_runs(self, pipeline: str | None = None, limit: int = 50) -> list[RunRecord]:
        """Runs, newest first, without their plan documents."""
        query = self._no_plan.order_by(t.runs.c.created_at.desc()).limit(limit)
        if pipeline is not None:
            query = query.where(t.runs.c.pipeline == pipeline)
        return [_run(r) for r in self._read(query)]

    def put_step(self, step: StepRecord) -> None:
        """Insert or replace a step record (keyed by run_id and key)."""
        params = _params(step)
        params["outputs"] = list(step.outputs)
        self._write(self._put_step, params)

    def steps(self, run_id: str) -> list[StepRecord]:
        """The run's step records, in the order they were first written."""
        return [_step(r) for r in self._read(self._steps_of, {"r": run_id})]

    def put_attempt(self, attempt: AttemptRecord) -> None:
        """Insert or replace an attempt record (keyed by attempt_id)."""
        self._write(self._put_attempt, _attempt_params(attempt))

    def attempts(
        self, run_id: str | None = None, step_key: str | None = None
    ) -> list[AttemptRecord]:
        """Attempts of a run (or all), oldest first."""
        query = select(t.attempts).order_by(t.attempts.c.started_at, t.attempts.c.id)
        if run_id is not None:
            query = query.where(t.attempts.c.run_id == run_id)
        if step_key is not None:
            query = query.where(t.attempts.c.step_key == step_key)
        return [_attempt(r) for r in self._read(query)]

    def attempt_by_key(self, idempotency_key: str) -> AttemptRecord | None:
        """The attempt with this idempotency key, if any."""
        rows = self._read(self._by_key, {"k": idempotency_key})
        return _attempt(rows[-1]) if rows else None

    def observed(self, model: str, window: int = 200) -> ObservedStats:
        """Latency and error figures of the last ``window`` finished, non-cached attempts."""
        raw = self._observed_raw(model, window)
        if raw is not None:
            return observed_from(model, [(r[0], r[1], r[2] or 0.0) for r in raw])
        a = t.attempts.c
        if model.startswith("provider:"):
            who = a.provider == model.removeprefix("provider:")
        elif "@" in model:
            who = a.model == model
        else:
            who = or_(a.model == model, a.model.startswith(model + "@", autoescape=True))
        # only the three figures: decoding whole rows (JSON columns) costs ten times more
        query = (
            select(a.status, a.latency_s, a.cost_usd)
            .where(
                who,
                a.finished_at.is_not(None),
                a.cache_hit.is_(False),
                a.status.not_in([*OPEN_STATES, "cancelled"]),
                or_(
                    a.status != "failed",
                    a.error_code.is_(None),
                    a.error_code.not_in(sorted(NOT_MODEL_FAULTS)),
                ),
            )
            .order_by(a.finished_at.desc())
            .limit(window)
        )
        rows = self._read(query)
        return observed_from(model, [(r[0], r[1], r[2] or 0.0) for r in rows])

    def _observed_raw(self, model: str, window: int) -> list[tuple[Any, ...]] | None:
        """:meth:`observed`'s query as plain SQL on SQLite (the router asks it per model on
        every plan, and SQLAlchemy builds and runs it in ten times the query's own time)."""
        if self.db.dialect != "sqlite":
            return None
        if model.startswith("provider:"):
            who, params = "provider = ?", [model.removeprefix("provider:")]
        elif "@" in model:
            who, params = "model = ?", [model]
        else:
            escaped = model.replace("/", "//").replace("%", "/%").replace("_", "/_")
            who, params = "(model = ? OR model LIKE ? ESCAPE '/')", [model, escaped + "@%"]
        closed = sorted({*OPEN_STATES, "cancelled"})
        faults = sorted(NOT_MODEL_FAULTS)
        sql = (
            f"SELECT status, latency_s, cost_usd FROM attempts WHERE {who} "
            "AND finished_at IS NOT NULL AND cache_hit IS 0 "
            f"AND status NOT IN ({', '.join('?' * len(closed))}) "
            "AND (status != 'failed' OR error_code IS NULL "
            f"OR error_code NOT IN ({', '.join('?' * len(faults))})) "
            "ORDER BY finished_at DESC LIMIT ?"
        )
        self.db.flush()  # reads see what is held back
        return self.db.read_raw(sql, [*params, *closed, *faults, window])

    def spent(self, since: float, pipeline: str | None = None) -> float:
        """USD spent (settled attempts plus open reservations) since a unix time."""
        a = t.attempts.c
        charge = case(
            (
                and_(a.status.in_(sorted(OPEN_STATES)), a.reserved_usd > a.cost_usd),
                a.reserved_usd,
            ),
            else_=a.cost_usd,
        )
        query = select(func.coalesce(func.sum(charge), 0.0)).where(a.started_at >= since)
        if pipeline is not None:
            query = query.join(t.runs, t.runs.c.run_id == a.run_id).where(
                t.runs.c.pipeline == pipeline
            )
        return float(self._read(query)[0][0])


def _artifact(row: Any) -> ArtifactRecord:
    m = row._mapping
    return ArtifactRecord(
        sha256=m["sha256"],
        type=m["type"],
        ext=m["ext"],
        size=m["size"],
        metadata=m["meta"] or {},
        lineage=m["lineage"] or {},
        created_at=m["created_at"],
    )


# every store lookup of a new output asks this (is it stored already, under which name?): on
# SQLite it skips SQLAlchemy, whose execution costs ten times the query on a worker thread
SHA256_HEX = 64  # characters in a whole sha256
_FIND_SQL = (
    "SELECT sha256, type, ext, size, meta, lineage, created_at FROM artifacts "
    "WHERE sha256 >= ? AND sha256 < ? LIMIT 5"
)


def _json(text: str | None) -> dict[str, Any]:
    """A JSON column as SQLAlchemy's JSON type reads it (NULL reads as empty)."""
    value = json.loads(text) if text is not None else None
    return value if isinstance(value, dict) else {}


def _artifact_params(record: ArtifactRecord) -> dict[str, Any]:
    params = _params(record)
    params["meta"] = params.pop("metadata")
    return params


class SqlArtifactIndex(ArtifactIndex):
    """Artifact records in the ``artifacts`` table.

    Args:
        db: the shared database connection.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._save = db.upsert(t.artifacts, ("sha256",))
        # records held back for the next write's transaction, until it commits
        self._held: dict[str, ArtifactRecord] = {}
        db.on_flush.append(self._held.clear)
        c = t.artifacts.c
        # a range on the primary key finds a hex prefix with the index, on any database
        self._find = (
            select(t.artifacts)
            .where(c.sha256 >= bindparam("lo"), c.sha256 < bindparam("hi"))
            .limit(5)
        )

    def save(self, record: ArtifactRecord) -> None:
        """Insert or replace a record."""
        self.db.write(self._save, _artifact_params(record))

    def hold(self, record: ArtifactRecord) -> None:
        """Save a record with the database's next write (readers here see it at once)."""
        with self.db.lock:
            self._held[record.sha256] = record
            self.db.hold(("artifact", record.sha256), self._save, _artifact_params(record))

    def find(self, prefix: str) -> list[ArtifactRecord]:
        """Records whose sha256 starts with ``prefix``."""
        with self.db.lock:
            if len(prefix) == SHA256_HEX:  # a whole hash, as every store write asks: no scan
                one = self._held.get(prefix)
                held = [one] if one is not None else []
            else:
                held = [r for sha, r in self._held.items() if sha.startswith(prefix)]
            raw = self.db.read_raw(_FIND_SQL, (prefix, prefix + "g"))
            rows = (
                self.db.read(self._find, {"lo": prefix, "hi": prefix + "g"}) if raw is None else []
            )
        found = {r.sha256: r for r in held}
        for r in rows:
            if r._mapping["sha256"].startswith(prefix) and r._mapping["sha256"] not in found:
                found[r._mapping["sha256"]] = _artifact(r)
        for sha, type_, ext, size, meta, lineage, created in raw or ():
            if sha.startswith(prefix) and sha not in found:
                found[sha] = ArtifactRecord(
                    sha, type_, ext, size, _json(meta), _json(lineage), created
                )
        return list(found.values())

    def all(self) -> list[ArtifactRecord]:
        """Every record, oldest first."""
        self.db.flush()
        query = select(t.artifacts).order_by(t.artifacts.c.created_at)
        return [_artifact(r) for r in self.db.read(query)]

    def drop(self, sha256: str) -> None:
        """Forget a record."""
        self.db.flush()
        self.db.write(sql_delete(t.artifacts).where(t.artifacts.c.sha256 == sha256), {})


class SqlCache(CacheIndex):
    """Cache key -> outputs in the ``cache`` table.

    Args:
        db: the shared database connection.
        artifacts: the artifact store, to report bytes in :meth:`stats`.
    """

    def __init__(self, db: Database, artifacts: ArtifactStore | None = None) -> None:
        self.db = db
        self.artifacts = artifacts
        self._put = db.upsert(t.cache, ("key",), keep=("created_at", "hits"))
        c = t.cache.c
        self._get = select(c.outputs).where(c.key == bindparam("k"))
        self._hit = (
            update(t.cache)
            .where(c.key == bindparam("k"))
            .values(hits=c.hits + 1, last_used=bindparam("now"))
        )

    def get(self, key: str) -> tuple[str, ...] | None:
        """The outputs stored under ``key`` (counts a hit)."""
        rows = self.db.read(self._get, {"k": key})
        if not rows:
            return None
        self.db.write(self._hit, {"k": key, "now": time.time()})
        return tuple(rows[0][0])

    def put(self, key: str, outputs: Sequence[str], model: str) -> None:
        """Remember the outputs of ``key``."""
        now = time.time()
        params = {
            "key": key,
            "outputs": list(outputs),
            "model": model,
            "created_at": now,
            "last_used": now,
            "hits": 0,
        }
        self.db.write(self._put, params)

    def stats(self) -> dict[str, Any]:
        """Entries, hits, bytes referenced and bytes saved by hits."""
        rows = self.db.read(select(t.cache.c.outputs, t.cache.c.hits))
        return summarise([(tuple(r[0]), int(r[1])) for r in rows], self.artifacts)

    def entries(self) -> list[tuple[str, tuple[str, ...], float]]:
        """(key, outputs, last_used) of every entry."""
        c = t.cache.c
        rows = self.db.read(select(c.key, c.outputs, c.last_used).order_by(c.last_used))
        return [(r[0], tuple(r[1]), float(r[2])) for r in rows]

    def remove(self, key: str) -> None:
        """Forget a key."""
        self.db.write(sql_delete(t.cache).where(t.cache.c.key == key), {})


class SqlState(StateStore):
    """Circuit-breaker states in the ``breakers`` table.

    Args:
        db: the shared database connection.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._put = db.upsert(t.breakers, ("key",))
        self._get = select(t.breakers).where(t.breakers.c.key == bindparam("k"))

    @staticmethod
    def _state(row: Any) -> BreakerState:
        m = row._mapping
        return BreakerState(
            key=m["key"],
            state=m["state"],
            consecutive_failures=m["consecutive_failures"],
            opened_until=m["opened_until"],
            recent=tuple(bool(x) for x in m["recent"] or ()),
        )

    def breaker(self, key: str) -> BreakerState:
        """The breaker's state (closed if never seen)."""
        # plain SQL on SQLite: the router reads three keys per model on every plan, and
        # SQLAlchemy builds and runs the query in several times the query's own time
        raw = self.db.read_raw(
            "SELECT state, consecutive_failures, opened_until, recent FROM breakers WHERE key = ?",
            [key],
        )
        if raw is not None:
            if not raw:
                return BreakerState(key=key, state="closed")
            state, failures, until, recent = raw[0]
            flags = json.loads(recent) if recent else ()
            return BreakerState(key, state, failures, until, tuple(bool(x) for x in flags or ()))
        rows = self.db.read(self._get, {"k": key})
        return self._state(rows[0]) if rows else BreakerState(key=key, state="closed")

    def take_probe(self, key: str, now: float, lease_until: float) -> bool:
        """Take a due half-open probe (see :meth:`StateStore.take_probe`) inside the
        database's exclusive section: one process on this database gets it."""
        with self.db.exclusive():
            return super().take_probe(key, now, lease_until)

    def put_breaker(self, state: BreakerState) -> None:
        """Persist a breaker's state."""
        params = {
            "key": state.key,
            "state": state.state,
            "consecutive_failures": state.consecutive_failures,
            "opened_until": state.opened_until,
            "recent": list(state.recent),
        }
        self.db.write(self._put, params)

    def breakers(self) -> list[BreakerState]:
        """Every known breaker, by key."""
        rows = self.db.read(select(t.breakers).order_by(t.breakers.c.key))
        return [self._state(r) for r in rows]


def open_sql_store(settings: Settings, *, fsync: bool = True) -> Store:
    """The SQL journal, cache and state at ``settings.db_url`` with file artifacts.

    Args:
        settings: ``db_url`` and ``artifacts_root`` say where; remote artifacts are
            materialised under ``<home>/artifact-cache``.
        fsync: fsync each artifact write (see :class:`FileArtifactStore`).
    """
    db = Database(settings.db_url)
    try:
        artifacts = FileArtifactStore(
            settings.artifacts_root,
            index=SqlArtifactIndex(db),
            cache_dir=settings.home / "artifact-cache",
            fsync=fsync,
        )
    except BaseException:
        db.close()  # a wrong PODIUM_ARTIFACT_URL must not leave the database open
        raise
    journal = SqlJournal(db)

    def close() -> None:
        journal.flush()
        db.close()

    return Store(
        journal=journal,
        artifacts=artifacts,
        cache=SqlCache(db, artifacts),
        state=SqlState(db),
        _close=close,
    )
