"""Which account a Pro Santé Connect (PSC) sign-in opens, from the national identifier PSC vouches for.

PSC's userinfo carries ``SubjectNameID``: the practitioner's national identifier, ``8`` + RPPS (or the RPPS
alone). The account is either the practitioner's own (a GP account linked to the practitioner of that
RPPS) or a regulator account to which the SAS platform gave that national identifier (INT_R02,
``SasRegulatorIdentifier``). Only an active account is found. A PSC sign-in is strong authentication (e-CPS
or CPS card): no second factor is asked after it.

The protocol itself (discovery, PKCE, the ID token's checks, userinfo) is ``psc_client``; this module only
reads identifiers and accounts.
"""
from __future__ import annotations

import re

from flask import current_app
from sqlalchemy import select

from ..core.errors import Forbidden
from ..core.extensions import db
from ..models import Practitioner, Role, SasRegulatorIdentifier, User

_RPPS = re.compile(r"^\d{11}$")
# PSC's authentication levels (``acr``), weakest first: eidas1 (e-CPS app, CPS card) is the least accepted.
ACR_LEVELS = ("eidas1", "eidas2", "eidas3")
ACCEPTED_ACR = ACR_LEVELS[ACR_LEVELS.index("eidas1"):]
# Who to ask when PSC vouches for someone the service does not know (shown on the refusal page).
NO_ACCOUNT = ("Aucun compte actif de ce service ne correspond à votre identifiant RPPS. Demandez au coordinateur "
              "de votre CPTS de vous créer un compte (médecin) ou, pour un régulateur, de vérifier que la "
              "plateforme SAS a bien transmis votre identifiant national.")


class NoAccount(Forbidden):
    code = "psc_no_account"


def configured() -> bool:
    """Whether PSC sign-in is offered: an issuer and a client registration are set."""
    config = current_app.config
    return bool(config.get("PSC_ISSUER") and config.get("PSC_CLIENT_ID") and config.get("PSC_CLIENT_SECRET"))


def rpps_of(subject_name_id: str | None) -> str | None:
    """The RPPS in a ``SubjectNameID`` (``8`` + 11 digits, or the 11 digits alone); None if it is neither."""
    if not isinstance(subject_name_id, str):
        return None
    if len(subject_name_id) == 12 and subject_name_id.startswith("8"):
        subject_name_id = subject_name_id[1:]
    return subject_name_id if _RPPS.match(subject_name_id) else None


def account_for(subject_name_id: str | None, prefer_regulator: bool = False) -> User:
    """The active account of the person PSC signed in: their GP account, or a regulator account carrying
    their national identifier. When both exist, the GP account unless ``prefer_regulator`` (the SAS booking
    link). ``NoAccount`` (403, French) when there is none."""
    rpps = rpps_of(subject_name_id)
    if rpps is None:
        raise NoAccount(NO_ACCOUNT)
    own = db.session.scalar(select(User).join(Practitioner, User.practitioner_id == Practitioner.id).where(
        Practitioner.rpps == rpps, User.role == Role.GP, User.active.is_(True)).order_by(User.id))
    regulator = db.session.scalar(
        select(User).join(SasRegulatorIdentifier, SasRegulatorIdentifier.user_id == User.id).where(
            SasRegulatorIdentifier.value.in_(("8" + rpps, rpps)), SasRegulatorIdentifier.type_code != "INTRN",
            User.role == Role.REGULATOR, User.active.is_(True)).order_by(User.id))
    found = (regulator or own) if prefer_regulator else (own or regulator)
    if found is None:
        raise NoAccount(NO_ACCOUNT)
    return found
