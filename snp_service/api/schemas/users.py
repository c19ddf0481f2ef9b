"""Schemas of user accounts."""
from marshmallow import Schema, fields, validate

from ...models import Role
from .common import BoundedList, Id


class UserSchema(Schema):
    id = fields.Integer(dump_only=True)
    email = fields.Email(required=True, validate=validate.Length(max=254))
    # The policy (length, common passwords, e-mail) is the service's, with its French reasons.
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=200))
    role = fields.String(required=True, validate=validate.OneOf(Role.values()))
    cpts_ids = BoundedList(Id(strict=True), load_default=list, max_items=50, metadata={
        "description": "the account's whole scope: a coordinator gives only CPTS they manage"})
    practitioner_id = Id(strict=True, allow_none=True, load_default=None, metadata={
        "description": "a gp account's practitioner (required for, and only for, role gp), a member of each of cpts_ids"})
    active = fields.Boolean(dump_only=True)
