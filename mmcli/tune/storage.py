"""Where a study lives (Optuna's own storages: no home-made coordinator), and what becomes of
a trial whose process was killed.

``--storage`` is a database URL (``sqlite:///tune.db``, ``postgresql://...``: Optuna's
``RDBStorage``) or a file path (Optuna's ``JournalStorage`` over a ``JournalFileBackend``,
its option for several processes on one host: SQLite is known to report "database is locked"
under concurrent writers, optuna #820, #4994). Without it the journal file ``DIR/study.log``
is used, so running ``mmcli tune`` again on the same ``--out`` continues the study.

A process killed during a trial (``kill -9``) leaves the trial RUNNING forever. Each trial
records the host and pid that runs it; when ``mmcli tune`` starts, a RUNNING trial of this
host whose process is gone is marked FAILED and its parameters are queued again (Optuna's
``enqueue_trial``), so the next trial re-runs that point. Trials of live processes or other
hosts are left alone.

Two processes opening a new SQLite file at once both create Optuna's tables and stamp its
schema version; one of them failed (``UNIQUE constraint failed: alembic_version``, 8 of 20
pairs of ``mmcli tune`` started together). Opening is retried while the error is one of
that race; any other error opening the database is a usage error naming ``--storage``.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import Any

from mmcli.errors import UsageError

HOST_ATTR, PID_ATTR, REQUEUED_ATTR = "mmcli_host", "mmcli_pid", "mmcli_requeued_from"
JOURNAL_FILE = "study.log"
SQLITE_TIMEOUT = 60  # seconds a SQLite writer waits for another's lock before failing
OPEN_ATTEMPTS = 20  # tries at opening an RDB storage that another process is creating


def open_storage(storage: str | None, out: Path) -> tuple[Any, str]:
    """The Optuna storage named by ``storage`` (default: the journal file in ``out``) and
    how to name it in the summary."""
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    if storage is not None and "://" in storage:
        if not storage.startswith("sqlite"):
            return _open_rdb(storage, {}), storage
        # isolation_level None: pysqlite emits no BEGIN of its own; _begin_immediate does.
        rdb = _open_rdb(storage, {
            "connect_args": {"timeout": SQLITE_TIMEOUT, "isolation_level": None}})
        _begin_immediate(rdb.engine)
        return rdb, storage
    path = Path(storage) if storage is not None else out / JOURNAL_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    return JournalStorage(JournalFileBackend(str(path))), str(path)


def _open_rdb(url: str, engine_kwargs: dict):
    """Optuna's ``RDBStorage`` on ``url``, retried while another process is creating the
    same database's tables (see the module's docstring).

    Raises:
        UsageError: the database cannot be opened (no such folder, not a database, no
            server), or the race did not settle after ``OPEN_ATTEMPTS`` tries.
    """
    from optuna.storages import RDBStorage
    from sqlalchemy.exc import IntegrityError, OperationalError

    attempt = 1
    while True:
        try:
            return RDBStorage(url, engine_kwargs=engine_kwargs)
        except (IntegrityError, OperationalError) as exc:
            cause = str(getattr(exc, "orig", None) or exc)
            racing = isinstance(exc, IntegrityError) or any(
                words in cause for words in ("already exists", "locked"))
            if not racing or attempt == OPEN_ATTEMPTS:
                raise UsageError(f"--storage {url}: cannot open the study's database: "
                                 f"{cause}") from exc
        time.sleep(0.05 * attempt)
        attempt += 1


def _begin_immediate(engine) -> None:
    """Start each SQLite transaction with ``BEGIN IMMEDIATE`` (the write lock at once).

    Optuna's RDB storage hands a WAITING trial to one process by reading its state "for
    update" and then setting it RUNNING; SQLite ignores ``FOR UPDATE``, and pysqlite runs the
    read before any lock is taken, so two processes asking at once both got the same queued
    trial (measured: 38 distinct trials of 40 asked by 2 processes; then two processes trained
    into one trial's folder, and one failed on its lock). With the write lock taken at
    ``BEGIN`` the read and the update are one step; readers wait up to ``SQLITE_TIMEOUT``.
    SQLAlchemy's documented pysqlite recipe ("Serializable isolation / Savepoints /
    Transactional DDL").
    """
    from sqlalchemy import event

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def claim(trial) -> None:
    """Record on ``trial`` the host and pid running it."""
    trial.set_user_attr(HOST_ATTR, socket.gethostname())
    trial.set_user_attr(PID_ATTR, os.getpid())


def recover_orphans(study) -> list[int]:
    """Fail the RUNNING trials of this host whose process is gone and queue their parameters
    again. Returns the numbers of the trials failed (another process may have taken one
    first: it is then skipped)."""
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    host, failed = socket.gethostname(), []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        pid = trial.user_attrs.get(PID_ATTR)
        if trial.user_attrs.get(HOST_ATTR) != host or not isinstance(pid, int) or _alive(pid):
            continue
        try:
            study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
        except (UpdateFinishedTrialError, RuntimeError):
            continue
        failed.append(trial.number)
        if trial.params:
            study.enqueue_trial(trial.params, user_attrs={REQUEUED_ATTR: trial.number})
    return failed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
