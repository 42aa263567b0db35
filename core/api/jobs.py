"""Retrain jobs of the HTTP API: :func:`core.training.run_training` in a background thread,
with status and progress kept in memory (lost when the server restarts; the training run
itself is recorded in the store as always).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from dataclasses import asdict, dataclass, field
from typing import Callable

from core import training
from core.errors import QuantdeskError

log = logging.getLogger(__name__)

QUEUED, RUNNING, COMPLETED, FAILED = "queued", "running", "completed", "failed"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass
class Job:
    """One retrain job.

    Attributes:
        id: hex job id. family: registry family. who: who asked (``api:<key name>``).
        status: ``queued`` | ``running`` | ``completed`` | ``failed``.
        progress: fraction done in [0, 1]. message: the trainer's last progress message.
        version: the candidate version written (when completed). error: why it failed.
        created_at, finished_at: ISO UTC times.
    """

    id: str
    family: str
    who: str
    status: str = QUEUED
    progress: float = 0.0
    message: str = ""
    version: str | None = None
    error: str | None = None
    created_at: str = field(default_factory=_now)
    finished_at: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


class JobStore:
    """Jobs by id, the newest ``keep`` kept. ``runner(family, who=, progress=)`` defaults to
    :func:`core.training.run_training` (returns a run with ``status``/``version``/``error``)."""

    def __init__(self, runner: Callable[..., object] | None = None, keep: int = 200) -> None:
        self.runner = runner
        self.keep = keep
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def start(self, family: str, who: str) -> Job:
        """Queue a retrain of ``family`` and start it in a daemon thread; returns the job."""
        job = Job(uuid.uuid4().hex, family, who)
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > self.keep:
                self._jobs.pop(next(iter(self._jobs)))
        threading.Thread(target=self._run, args=(job,), name=f"retrain-{family}",
                         daemon=True).start()
        return job

    def _run(self, job: Job) -> None:
        def progress(frac: float, msg: str) -> None:
            job.progress = max(0.0, min(1.0, float(frac)))
            job.message = str(msg)[:500]

        job.status = RUNNING
        runner = self.runner or training.run_training
        try:
            run = runner(job.family, who=job.who, progress=progress)
            failed = str(getattr(run, "status", "")).lower() == "failed" or getattr(
                run, "error", None)
            if failed:
                job.status, job.error = FAILED, str(getattr(run, "error", "") or "failed")
            else:
                job.status, job.version, job.progress = COMPLETED, getattr(run, "version",
                                                                           None), 1.0
        except QuantdeskError as err:
            job.status, job.error = FAILED, str(err)
        except Exception as err:  # a trainer bug: recorded on the job, logged with traceback
            log.exception("retrain job %s of %s failed", job.id, job.family)
            job.status, job.error = FAILED, f"{type(err).__name__}: {err}"
        job.finished_at = _now()
