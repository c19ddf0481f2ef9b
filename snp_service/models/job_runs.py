"""One row per background job run: which instance ran it, when, how long, with what counts.

It is how operators (and the tests) see that exactly one instance runs the jobs,
and how a new leader knows a nightly job was missed.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..core.database import UTCDateTime
from ..core.extensions import db


class JobRun(db.Model):
    __tablename__ = "job_run"
    __table_args__ = (Index("ix_job_run_job_started", "job", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(50))
    # "host:pid" of the scheduler instance (or "cli" for run-job).
    instance: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int] = mapped_column(Integer)
    succeeded: Mapped[bool]
    result: Mapped[dict | None] = mapped_column(JSON)
