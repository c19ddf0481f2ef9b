"""Schemas of user accounts."""
from marshmallow import Schema, fields, validate

from ...models import ROLES
from .common import BoundedList, Id


class UserSchema(Schema):
    id = fields.Integer(dump_only=True)
    email = fields.Email(required=True, validate=validate.Length(max=254))
    # The policy (length, common passwords, e-mail) is the service's, with its French reasons.
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=200))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    cpts_ids = BoundedList(Id(strict=True), load_default=list, max_items=50)
    practitioner_id = Id(strict=True, allow_none=True, load_default=None)
    active = fields.Boolean(dump_only=True)
