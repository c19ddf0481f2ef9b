"""Schemas of practitioners: the member record, its summary in search results and bookings, the feed link."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ...models import Profession
from .common import BoundedList, Finess, Id, Insee, Name, PostalCode, Rpps, Siret


class PractitionerSchema(Schema):
    id = fields.Integer(dump_only=True)
    cpts_ids = BoundedList(Id(strict=True), required=True, min_items=1, max_items=50)
    rpps = Rpps(required=True)
    first_name = Name(required=True)
    last_name = Name(required=True)
    profession = fields.String(load_default=Profession.GP.value, validate=validate.OneOf(Profession.values()))
    phone = fields.String(allow_none=True, validate=validate.Length(max=20))
    address = fields.String(allow_none=True, validate=validate.Length(max=300))
    commune_insee = Insee(allow_none=True)
    postal_code = PostalCode(allow_none=True)
    lat = fields.Float(allow_none=True, validate=validate.Range(-90, 90))
    lon = fields.Float(allow_none=True, validate=validate.Range(-180, 180))
    practice_siret = Siret(allow_none=True)
    practice_finess = Finess(allow_none=True)
    sas_participation = fields.Boolean(load_default=False)
    takes_requests = fields.Boolean(load_default=False, metadata={
        "description": "receives the regulators' slot requests (\"Recevoir les demandes de créneau\")"})


class PractitionerCreateSchema(PractitionerSchema):
    """A new member: every field given, or ``directory_rpps`` and the fields to change from the directory's entry."""

    directory_rpps = Rpps(load_only=True)
    rpps = Rpps()
    first_name = Name()
    last_name = Name()
    profession = fields.String(validate=validate.OneOf(Profession.values()))
    sas_participation = fields.Boolean()

    @validates_schema
    def _directory_or_every_field(self, data, **kwargs):
        if "directory_rpps" in data:
            return
        missing = [name for name in ("rpps", "first_name", "last_name") if name not in data]
        if missing:
            raise ValidationError({name: ["Missing data for required field."] for name in missing})
        data.setdefault("profession", Profession.GP.value)
        data.setdefault("sas_participation", False)


class PractitionerQuerySchema(Schema):
    cpts_id = Id()


class PractitionerSummarySchema(Schema):
    id = fields.Integer()
    rpps = fields.String()
    first_name = fields.String()
    last_name = fields.String()
    address = fields.String(allow_none=True)
    commune_insee = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    profession = fields.String()


class PractitionerWithCalendarSchema(PractitionerSchema):
    """The practitioner as they themselves and their coordinator see it: with the feed's secret URL."""

    calendar_url = fields.String(dump_only=True)
