"""The national directory (RPPS, the ANS "PS_LibreAcces" extract): one row per activity of a professional.

Only the columns the service uses, and only the professions and départements it was loaded for.
A load writes its rows under a new ``generation`` and then makes that generation the current one in
one transaction (``DirectoryLoad.status``): readers filter on the current generation, so they see the
previous load or the new one, never half of either.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..core.codes import Codes
from ..core.database import UTCDateTime
from ..core.extensions import db
from ..core.timeutil import utcnow


NAME_KEY = String(100).with_variant(String(100, collation="C"), "postgresql")


class DirectoryLoadStatus(Codes):
    LOADING = "loading"
    CURRENT = "current"
    REPLACED = "replaced"
    FAILED = "failed"


class DirectoryLoad(db.Model):
    """One load of the extract; its id is the generation its rows carry."""
    __tablename__ = "directory_load"
    __table_args__ = (CheckConstraint(DirectoryLoadStatus.sql_in("status"), name="status_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(10), default=DirectoryLoadStatus.LOADING.value, index=True)
    source: Mapped[str] = mapped_column(String(300))
    departements: Mapped[list] = mapped_column(JSON, default=list)
    lines_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_kept: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DirectoryEntry(db.Model):
    """One activity of a professional, as the extract gives it (names folded for the search)."""
    __tablename__ = "directory"
    __table_args__ = (
        Index("ix_directory_generation_rpps", "generation", "rpps"),
        Index("ix_directory_generation_last_key", "generation", "last_name_key"),
        Index("ix_directory_generation_first_key", "generation", "first_name_key"),
        Index("ix_directory_generation_later_key", "generation", "later_name_key"),
        Index("ix_directory_generation_commune", "generation", "commune_insee"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    generation: Mapped[int] = mapped_column(Integer)
    rpps: Mapped[str] = mapped_column(String(11))
    last_name: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100))
    # Lower case without accents, words separated by one space: what a name search compares.
    # Compared byte by byte ("C"), so a prefix is a range its index serves whatever the database's locale.
    last_name_key: Mapped[str] = mapped_column(NAME_KEY)
    first_name_key: Mapped[str] = mapped_column(NAME_KEY)
    # The last name's later words ("lebrun" of Fèvre-Lebrun): a compound name is found by its second part too.
    later_name_key: Mapped[str] = mapped_column(NAME_KEY)
    profession_code: Mapped[str] = mapped_column(String(2))  # TRE_G15: 10 médecin, 60 infirmier...
    specialty_code: Mapped[str | None] = mapped_column(String(10))  # TRE_R38: SM54 médecine générale...
    specialty_label: Mapped[str | None] = mapped_column(String(150))
    practice_siret: Mapped[str | None] = mapped_column(String(14))
    practice_finess: Mapped[str | None] = mapped_column(String(9))
    address: Mapped[str | None] = mapped_column(String(300))
    postal_code: Mapped[str | None] = mapped_column(String(5))
    commune_insee: Mapped[str | None] = mapped_column(String(5))
    commune_name: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20))
    departement: Mapped[str | None] = mapped_column(String(3))


class DirectoryNameWord(db.Model):
    """A word of a name that the entry's own keys do not start: the last name's third word on ("fontaine" of
    De La Fontaine; the first two are ``last_name_key`` and ``later_name_key``) and the first name's second word
    on ("pierre" of Jean-Pierre). One row per word and professional of a load: a name search reads a range of
    ``word_key`` and then the entries of those RPPS, both from indexes."""
    __tablename__ = "directory_name_word"
    __table_args__ = (Index("ix_directory_name_word_generation_word", "generation", "word_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    generation: Mapped[int] = mapped_column(Integer)
    word_key: Mapped[str] = mapped_column(NAME_KEY)
    rpps: Mapped[str] = mapped_column(String(11))
