"""Schemas of the history import."""
from marshmallow import Schema, fields

from .common import Id


class HistoryImportQuerySchema(Schema):
    cpts_id = Id(required=True)


class HistoryImportResultSchema(Schema):
    slots = fields.Integer()
    bookings = fields.Integer()
    withdrawn = fields.Integer()
