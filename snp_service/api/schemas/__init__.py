"""marshmallow schemas of the API, one module per area; the OpenAPI document is built from them."""
