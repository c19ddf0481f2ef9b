"""POST /notify/twilio/status: Twilio delivery status callbacks, signature-checked."""
from flask import Blueprint

bp = Blueprint("twilio_status", __name__)
