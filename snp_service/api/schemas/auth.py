from marshmallow import Schema, fields, validate


class TokenRequestSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=200))
    device_token = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1500), metadata={
        "description": "The `device_token` this client received with an earlier sign-in to this account, if any "
                       "(OWASP device cookies). Failed attempts of a client that presents a valid one count "
                       "against that client alone, so attempts by others at this account's e-mail do not lock "
                       "it out. Unknown, expired or forged tokens are ignored (the client is then an unknown "
                       "device)."})


    otp = fields.String(load_default=None, allow_none=True, load_only=True, validate=validate.Length(max=32), metadata={
        "description": "The 6-digit code of the account's authenticator app (TOTP), or one of its recovery codes: "
                       "required when the account has a second factor (else 401 `second_factor_required`)."})


class TokenUserSchema(Schema):
    id = fields.Integer()
    role = fields.String()
    cpts_ids = fields.List(fields.Integer())
    practitioner_id = fields.Integer(allow_none=True)


class TokenResponseSchema(Schema):
    token = fields.String()
    expires_at = fields.DateTime(format="iso")
    user = fields.Nested(TokenUserSchema)
    device_token = fields.String(metadata={
        "description": "A signed token saying that this client signed in to this account (no secret in it), "
                       "valid for `KNOWN_DEVICE_DAYS` (90 days by default). Keep it and send it as `device_token` "
                       "with the next sign-ins: while the account is locked for unknown devices, this client "
                       "keeps a budget of its own."})
