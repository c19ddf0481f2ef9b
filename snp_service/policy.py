"""Who may do what: every role and scope check of the service is a function here; views and services call them.

Views authorise the request, services the rows they find (``docs/architecture.md``, "Who checks access"):
a view checks the caller's role (``require_roles`` with one of the groups below) and the scope the request
names (a CPTS: ``check_cpts``, ``listing_scope``; a practitioner: ``get_practitioner``,
``acting_practitioner``; a season: ``managed_season``; an account of a CPTS: ``managed_account``); a service
checks the rows it loads and acts on (a booking: ``booking_visible``; a slot: ``practitioner_in_scope``; an
account: ``check_account_management``) and every change that would widen a scope
(``check_scope_change``, ``check_account_creation``).

Scope is the CPTS a person was *given* (``user_cpts``), never one inherited through a practitioner:

- an admin sees everything;
- a coordinator reads and manages the CPTS of their account;
- a regulator reads the CPTS of their account and books across every CPTS sharing a regulation
  area with them;
- a GP acts on their own practitioner (their slots, and every booking on them, with the patient,
  whoever made it) and reads the CPTS their account was given (their own line of a statement).
  Their practitioner's other memberships give them nothing more.

An account's CPTS are exactly those its creator manages; a practitioner link is for a GP account only,
to a practitioner of each of those CPTS (``check_account_creation``). An account *reaches* the
CPTS it was given and, for a GP account, every CPTS of its practitioner (a GP sees the patients any
of them books on their slots): creating, or managing (set-up link, (de)activation, ...), an account
needs the manager to manage every CPTS it reaches, else only an admin may (``check_account_management``).
Seeing a practitioner's feed is acting as the practitioner: the same rule (``acts_for_practitioner``).

A booking belongs to the CPTS it was made for (``booking.cpts_id``, chosen when booking from the
booker's scope and the practitioner's memberships, kept by a move; an imported one belongs to the
importing CPTS). Its patient is seen, and the booking read, cancelled, moved or given an outcome,
only by an admin, the slot's practitioner, and those who read that CPTS: its coordinators, and the
regulators of its regulation area (``booking_visible``, ``bookings_visible``). Anyone else who sees
the slot sees it booked, without the patient.
"""
from __future__ import annotations

from functools import cache, wraps

from flask import g, has_request_context, request
from flask_login import current_user as session_user
from sqlalchemy import bindparam, select

from .core.database import MAX_ID
from .core.errors import Forbidden, Invalid, NotFound, Unauthorized
from .core.extensions import db
from .core.timeutil import to_paris, utcnow
from .models import Booking, Cpts, Practitioner, Role, Season, Slot, User, practitioner_cpts

# Who may call what: each group is a rule of its own, named for it, so that a change of one rule changes one line.
EVERY_ROLE = tuple(Role)
# The coordination of a CPTS: its record, members, accounts, seasons, reports, imports.
COORDINATION = (Role.ADMIN, Role.COORDINATOR)
# Who searches and books during a call (the console is open to the coordination too).
BOOKERS = (Role.REGULATOR, Role.COORDINATOR, Role.ADMIN)
# Who publishes, lists, withdraws and imports a practitioner's slots and holds their feed: the GP themself, or a
# coordinator of their CPTS.
PUBLISHERS = (Role.GP, Role.COORDINATOR)
# Who reads a practitioner's record, records a booking's outcome, reads a supplement statement: never a regulator.
PRACTITIONER_READERS = (Role.ADMIN, Role.COORDINATOR, Role.GP)
OUTCOME_RECORDERS = (Role.COORDINATOR, Role.ADMIN, Role.GP)
STATEMENT_READERS = (Role.COORDINATOR, Role.GP, Role.ADMIN)
# Who may enter the practice space (the console and grid on practice data): those who book, as the real console.
PRACTISERS = BOOKERS
# Who sends a slot request to the nearby practitioners (and lists, reads, cancels those of their scope).
REQUESTERS = (Role.REGULATOR, Role.COORDINATOR)
# Who reads one slot request: its scope's requesters and the GPs it was sent to.
REQUEST_READERS = (Role.REGULATOR, Role.COORDINATOR, Role.GP)
# Who accepts a slot request: a GP, for themself.
REQUEST_ACCEPTERS = (Role.GP,)


def current_user() -> User | None:
    """The caller: from the API's bearer token, else from the page session."""
    user = g.get("api_user")
    if user is not None:
        return user
    if session_user and session_user.is_authenticated:
        return session_user._get_current_object()
    return None


def require_roles(*allowed: Role | tuple[Role, ...]):
    """Decorator: the caller must be signed in with one of the roles ``allowed`` (roles, or groups of them as
    defined above); passes ``user`` to the view."""
    roles = tuple(role for item in allowed for role in ((item,) if isinstance(item, str) else item))

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            user = current_user()
            if user is None:
                raise Unauthorized("Authentification requise", code="authentication_required")
            if user.role not in roles:
                raise Forbidden("Action non autorisée pour ce rôle", code="forbidden_role")
            return view(*args, user=user, **kwargs)
        wrapper.snp_roles = roles  # read by the OpenAPI document (401/403) and the authorisation matrix
        return wrapper
    return decorator


def may_practise(user: User) -> bool:
    return user.role in PRACTISERS


def _per_request(kind: str, user: User, compute):
    """``compute()``, remembered for the rest of the current request (scope checks run several times a request).

    Outside a request (jobs, CLI, services called directly) nothing is remembered.
    """
    if not has_request_context():
        return compute()
    current = request._get_current_object()
    cache = g.get("_snp_scope_cache")
    if cache is None or cache[0] is not current:  # g may outlive one request (an app context held around several)
        cache = (current, {})
        g._snp_scope_cache = cache
    key = (kind, user.id)
    if key not in cache[1]:
        cache[1][key] = compute()
    value = cache[1][key]
    return None if value is None else set(value)  # a copy: callers may change theirs


def member_cpts_ids(user: User) -> set[int]:
    """The CPTS the user's account was given (never those of a linked practitioner)."""
    return _per_request("member", user, lambda: {c.id for c in user.cpts})


def visible_cpts_ids(user: User) -> set[int] | None:
    """CPTS whose data the user may read; ``None`` means all (admin)."""
    if user.role == Role.ADMIN:
        return None
    if user.role == Role.REGULATOR:
        return regulation_area_cpts_ids(user)
    return member_cpts_ids(user)


def practitioner_lookup_scope(user: User) -> set[int] | None:
    """CPTS whose practitioners the treating-doctor look-up may suggest; ``None`` means all (admin).

    A regulator finds a caller's doctor anywhere in the regulation area, a coordinator in their
    own CPTS; a GP never browses the directory.
    """
    if user.role not in BOOKERS:
        raise Forbidden("Action non autorisée pour ce rôle", code="forbidden_role")
    return visible_cpts_ids(user)


def regulation_area_cpts_ids(user: User) -> set[int]:
    return _per_request("area", user, lambda: _regulation_area_cpts_ids(user))


def remember_scope(user: User, member: set[int], sharing_an_area: set[int]) -> None:
    """Keep for this request the user's CPTS ids and those sharing a regulation area, loaded with the user."""
    _per_request("member", user, lambda: member)
    _per_request("area", user, lambda: member | sharing_an_area)


def _regulation_area_cpts_ids(user: User) -> set[int]:
    own_cpts = list(user.cpts)
    own = {c.id for c in own_cpts}
    areas = {c.regulation_area for c in own_cpts if c.regulation_area}
    if not areas:
        return own
    shared = db.session.scalars(_area_cpts_statement(), {"areas": sorted(areas)})
    return own | set(shared)


@cache
def _area_cpts_statement():
    return select(Cpts.id).where(Cpts.regulation_area.in_(bindparam("areas", expanding=True)))


def check_cpts(user: User, cpts_id: int, *, manage: bool = False) -> None:
    """Raise unless ``user`` may read (or, with ``manage``, administer) CPTS ``cpts_id``."""
    if user.role == Role.ADMIN:
        return
    allowed = member_cpts_ids(user) if manage else visible_cpts_ids(user)
    if cpts_id not in allowed:
        raise Forbidden("Cette CPTS n'est pas dans votre périmètre", code="out_of_scope")
    if manage and user.role != Role.COORDINATOR:
        raise Forbidden("Réservé aux coordinateurs", code="forbidden_role")


def check_scope_change(actor: User | str, cpts: Cpts | None, data: dict) -> None:
    """Raise unless ``actor`` may create CPTS ``cpts`` (None: a new one) or set what ``data`` changes of its scope.

    The regulation area decides which regulators read and book whose patients: a coordinator who
    could set it would widen their own regulators' reach to other CPTS' patients (SPEC section 8).
    Only an admin creates a CPTS or sets its area; the CLI and jobs (a label, not a user) are operators.
    """
    if not isinstance(actor, User) or actor.role == Role.ADMIN:
        return
    if cpts is None:
        raise Forbidden("Seul un administrateur crée une CPTS", code="forbidden_role")
    if "regulation_area" in data:
        raise Forbidden("Seul un administrateur change la zone de régulation d'une CPTS", code="scope_admin_only",
                        fields={"regulation_area": ["only an admin may set it"]})


def listing_scope(user: User, cpts_id: int | None = None) -> set[int] | None:
    """The CPTS a listing shows: ``cpts_id`` when given (403 unless the user reads it), else all the user reads.

    ``None`` means every CPTS (an admin without a ``cpts_id``).
    """
    scope = visible_cpts_ids(user)
    if cpts_id is None:
        return scope
    if scope is not None and cpts_id not in scope:
        raise Forbidden("Cette CPTS n'est pas dans votre périmètre", code="out_of_scope")
    return {cpts_id}


def supplement_lines_for(user: User) -> int | None:
    """Whose lines of a supplement statement the user reads: a GP only their own (a practitioner id), others all.

    A GP account without a practitioner reads none (never every line); regulators read no statement.
    The caller has already checked the CPTS (``check_cpts``).
    """
    if user.role == Role.GP:
        if user.practitioner_id is None:
            raise Forbidden("Compte médecin sans praticien rattaché", code="no_practitioner")
        return user.practitioner_id
    if user.role in COORDINATION:
        return None
    raise Forbidden("Action non autorisée pour ce rôle", code="forbidden_role")


def check_account_creation(actor: User | str, role: str, cpts_ids, practitioner_id: int | None) -> None:
    """Raise unless ``actor`` may create an account with ``role`` in ``cpts_ids`` (linked to ``practitioner_id``).

    An admin creates any account; a coordinator only non-admin accounts given CPTS they manage, and
    only accounts reaching nothing else: a GP account reaches its practitioner's CPTS too, so a
    practitioner who also belongs to a CPTS the coordinator does not manage gets their account from an
    admin. The CLI (a label, not a user) is an operator. That the link is for a GP account, to a
    practitioner of those CPTS, is the account's own rule (``accounts.create_user``), for every creator.
    """
    if not isinstance(actor, User) or actor.role == Role.ADMIN:
        return
    if actor.role != Role.COORDINATOR:
        raise Forbidden("Action non autorisée pour ce rôle", code="forbidden_role")
    if role == Role.ADMIN or not cpts_ids:
        raise Forbidden("Un coordinateur crée des comptes de sa CPTS, hors administrateurs", code="forbidden_role")
    for cpts_id in cpts_ids:
        check_cpts(actor, cpts_id, manage=True)
    if practitioner_id is not None:
        practitioner = get_practitioner(actor, practitioner_id)
        if role == Role.GP and not manages_every(actor, practitioner.cpts_ids):
            raise Forbidden("Ce praticien exerce aussi dans une CPTS que vous ne coordonnez pas : "
                            "son compte est créé par un administrateur", code="practitioner_shared",
                            fields={"practitioner_id": ["also a member of a CPTS you do not manage"]})


def check_account_management(actor: User | str, account: User) -> None:
    """Raise unless ``actor`` may manage ``account`` (set-up link, (de)activation, and any later change of it).

    An admin manages any other account; a coordinator the non-admin accounts whose every CPTS
    (``account_cpts_ids``) they manage, never their own. The rest is a 404: no account is revealed.
    """
    if not isinstance(actor, User):
        return
    if account.id == actor.id:
        raise Forbidden("Vous ne pouvez pas changer l'état de votre propre compte", code="own_account")
    if actor.role == Role.ADMIN:
        return
    if actor.role != Role.COORDINATOR:
        raise Forbidden("Action non autorisée pour ce rôle", code="forbidden_role")
    if not may_manage_account(actor, account):
        raise NotFound("Compte introuvable")


def check_second_factor_reset(actor: User | str, account: User) -> None:
    """Raise unless ``actor`` may reset ``account``'s second factor (issue 25): a coordinator a member's (every
    CPTS the account reaches is theirs), an admin anyone's; the rule of ``check_account_management``."""
    check_account_management(actor, account)


def may_manage_account(actor: User, account: User) -> bool:
    """Whether ``actor`` manages ``account`` (``check_account_management`` without the refusal): for the pages' buttons."""
    if account.id == actor.id:
        return False
    if actor.role == Role.ADMIN:
        return True
    return actor.role == Role.COORDINATOR and account.role != Role.ADMIN and manages_every(actor, account_cpts_ids(account))


def account_cpts_ids(account: User) -> set[int]:
    """Every CPTS whose patients ``account`` may see: those it was given and, for a GP, those of its practitioner
    (a GP sees each booking on their own slots, whichever CPTS made it)."""
    reached = set(account.cpts_ids)
    if account.role == Role.GP and account.practitioner is not None:
        reached |= set(account.practitioner.cpts_ids)
    return reached


def manages_every(user: User, cpts_ids) -> bool:
    """Whether ``user`` manages each of ``cpts_ids`` (an admin: all; none given: nobody)."""
    cpts_ids = set(cpts_ids)
    if user.role == Role.ADMIN:
        return True
    return user.role == Role.COORDINATOR and bool(cpts_ids) and cpts_ids <= member_cpts_ids(user)


def acts_for_practitioner(user: User, practitioner: Practitioner) -> bool:
    """Whether ``user`` may act *as* the practitioner (hold their feed, which shows every booking on their slots):
    the practitioner themselves, or a coordinator of every CPTS they belong to."""
    if user.role == Role.GP:
        return user.practitioner_id == practitioner.id
    return user.role == Role.COORDINATOR and manages_every(user, practitioner.cpts_ids)


def booking_visible(user: User, booking: Booking) -> bool:
    """Whether ``user`` may see ``booking``'s patient and act on it (read, cancel, move, outcome)."""
    if user.role == Role.ADMIN:
        return True
    if user.role == Role.GP:
        return booking.slot.practitioner_id == user.practitioner_id
    return booking.cpts_id in visible_cpts_ids(user)


def bookings_visible(user: User):
    """``booking_visible`` as a criterion on ``Booking`` (and ``Slot``, which the statement joins); None: all."""
    if user.role == Role.ADMIN:
        return None
    if user.role == Role.GP:
        return Slot.practitioner_id == user.practitioner_id
    return bookings_of(visible_cpts_ids(user))


def bookings_of(cpts_ids: set[int] | None):
    """The criterion "made for one of ``cpts_ids``" on ``Booking`` (``None``: every CPTS, so no criterion)."""
    return None if cpts_ids is None else Booking.cpts_id.in_(sorted(cpts_ids))


def practitioner_in_scope(user: User, practitioner_id: int) -> bool:
    if user.role == Role.ADMIN:
        return True
    if user.role == Role.GP:
        return user.practitioner_id == practitioner_id
    scope = visible_cpts_ids(user)
    row = db.session.execute(
        select(practitioner_cpts.c.cpts_id).where(
            practitioner_cpts.c.practitioner_id == practitioner_id, practitioner_cpts.c.cpts_id.in_(scope)
        ).limit(1)
    ).first()
    return row is not None


def get_practitioner(user: User, practitioner_id: int, *, manage: bool = False) -> Practitioner:
    """The practitioner if the user may act on them (a GP: only themselves); 404 otherwise."""
    practitioner = db.session.get(Practitioner, practitioner_id)
    if practitioner is None or not practitioner_in_scope(user, practitioner_id):
        raise NotFound("Praticien introuvable")
    if manage and user.role == Role.REGULATOR:
        raise Forbidden("Action non autorisée pour ce rôle", code="forbidden_role")
    return practitioner


def acting_practitioner(user: User, practitioner_id: int | None) -> Practitioner:
    """The practitioner whose slots ``user`` publishes, lists or imports: a GP their own (none named), a
    coordinator the member of their CPTS they name; 404 outside the user's scope."""
    if practitioner_id is None:
        if user.role != Role.GP:
            raise Invalid("Précisez le praticien", fields={"practitioner_id": ["required for a coordinator"]})
        practitioner_id = user.practitioner_id
    return get_practitioner(user, practitioner_id, manage=True)


def coordinated_cpts(user: User) -> list[Cpts]:
    """The CPTS whose coordination pages the user may open: all for an admin, those of their account for a
    coordinator."""
    if user.role == Role.ADMIN:
        return list(db.session.scalars(select(Cpts).order_by(Cpts.name)))
    return list(user.cpts)


def managed_season(user: User, season_id: int) -> Season:
    """The season, if the user manages its CPTS (403 otherwise); 404 when there is none (an id beyond the
    INTEGER column, as a query string may carry, names none)."""
    season = db.session.get(Season, season_id) if 0 < season_id <= MAX_ID else None
    if season is None:
        raise NotFound("Saison introuvable")
    check_cpts(user, season.cpts_id, manage=True)
    return season


def managed_account(user: User, cpts_id: int, account_id: int) -> User:
    """An account of CPTS ``cpts_id`` that the user manages (``may_manage_account``); 404 otherwise: no
    account is revealed."""
    account = db.session.get(User, account_id)
    if account is None or cpts_id not in account.cpts_ids or not may_manage_account(user, account):
        raise NotFound("Compte introuvable")
    return account


def bookings_listing(user: User, practitioner_id: int | None = None) -> list:
    """The criteria (on ``Booking`` and ``Slot``) of a listing of the bookings ``user`` sees, of one practitioner
    if named: ``bookings_visible``, so another CPTS's booking on a shared practitioner is left out (its slot
    still shows as booked wherever slots are shown). A GP naming another practitioner is refused (403), a
    practitioner out of scope is not found (404)."""
    if user.role == Role.GP and practitioner_id not in (None, user.practitioner_id):
        raise Forbidden("Vous ne voyez que vos propres rendez-vous", code="out_of_scope")
    criteria = []
    if practitioner_id is not None:
        if not practitioner_in_scope(user, practitioner_id):
            raise NotFound("Praticien introuvable")
        criteria.append(Slot.practitioner_id == practitioner_id)
    visible = bookings_visible(user)
    return criteria if visible is None else [*criteria, visible]


def check_outcome_recorder(user: User) -> None:
    """A booking's outcome is recorded by the practitioner or the coordination, never by a regulator."""
    if user.role not in OUTCOME_RECORDERS:
        raise Forbidden("Le résultat est saisi par le médecin ou la coordination", code="forbidden_role")


def outcome_correctable(role: Role | str, booking: Booking, now=None) -> bool:
    """Whether an account of ``role`` may change the outcome already recorded on ``booking``.

    A GP corrects a wrong tap the same day (Paris) as the slot; later, the coordination may, since each
    correction reaches the supplement ledger as a reversal line.
    """
    if role in COORDINATION:
        return True
    return to_paris(now or utcnow()).date() == to_paris(booking.slot.start_at).date()


def may_scrape_metrics(environ: dict) -> bool:
    """``/metrics``: only a caller whose socket address is in ``METRICS_ALLOW``, talking to the service directly.

    The socket peer, never a forwarded address (``core.proxy.socket_peer``); and a request that came through a
    proxy (it carries ``X-Forwarded-For``) is refused even from an allowed address, since nginx on 127.0.0.1 would
    otherwise lend its address to any client of the public site.
    """
    from flask import current_app

    from .core.proxy import is_trusted, parse_networks, socket_peer

    if environ.get("HTTP_X_FORWARDED_FOR") is not None:
        return False
    return is_trusted(socket_peer(environ), parse_networks(current_app.config["METRICS_ALLOW"]))


def requesting_cpts(user: User) -> int:
    """The CPTS a slot request of ``user`` belongs to: their own first (a requester without one has no area)."""
    own = member_cpts_ids(user)
    if not own:
        raise Forbidden("Aucune CPTS rattachée à ce compte", code="no_cpts")
    return min(own)


def slot_request_visible(user: User, request_cpts_id: int, recipient_ids) -> bool:
    """A request is seen by the requesters of its scope, and by the GPs it was sent to (their own practitioner)."""
    if user.role == Role.GP:
        return user.practitioner_id is not None and user.practitioner_id in recipient_ids
    if user.role not in REQUESTERS:
        return False
    return request_cpts_id in (visible_cpts_ids(user) or ())


def slot_requests_scope(user: User) -> set[int]:
    """The CPTS whose requests a requester lists (their regulation area for a regulator)."""
    return visible_cpts_ids(user) or set()
