"""Calls to the SAS platform's FHIR API, over HTTPS with our client certificate (``requests``).

``send`` returns the HTTP status of a 2xx answer or raises one of the outboxes' errors (``core.delivery``):
- ``TransientError``: the call surely did not reach the platform, or it asks to come back (5xx,
  408, 425, 429); the sender retries later with backoff;
- ``PermanentError``: the platform refused the call itself (other 4xx); no retry;
- ``UncertainError``: the platform may have received it (no answer after sending). The sender retries
  as a conditional PUT, which creates or updates: never a second appointment.
"""
from __future__ import annotations

import json

import requests
import urllib3

from ..core.delivery import PermanentError, TransientError, UncertainError
from .appointments import query_identifier
from .codes import FHIR_JSON

CONNECT_TIMEOUT_SECONDS = 5.0
_RETRY_LATER = {408, 425, 429}


class SasClient:
    def __init__(self, config: dict):
        self.base = config["SAS_API_URL"].rstrip("/")
        self.timeout = (CONNECT_TIMEOUT_SECONDS, float(config["SAS_PUSH_TIMEOUT_SECONDS"]))
        self.cert = None
        if config.get("SAS_CLIENT_CERT"):
            self.cert = ((config["SAS_CLIENT_CERT"], config["SAS_CLIENT_KEY"])
                         if config.get("SAS_CLIENT_KEY") else config["SAS_CLIENT_CERT"])
        # Given with each request: a session's own ``verify`` loses to REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE from
        # the environment, which would silently swap the platform's CA for the system's.
        self.verify = config.get("SAS_CA_BUNDLE") or True
        self.session = requests.Session()
        self.session.headers.update({"Content-Type": FHIR_JSON, "Accept": FHIR_JSON})

    def send(self, method: str, body: dict) -> int:
        """POST ``/Appointment``, or PUT ``/Appointment?identifier=<system>|<value>``."""
        params = None if method == "POST" else {"identifier": query_identifier(body)}
        try:
            response = self.session.request(method, f"{self.base}/Appointment", params=params,
                                            data=json.dumps(body, ensure_ascii=False).encode(), timeout=self.timeout,
                                            cert=self.cert, verify=self.verify)
        except (requests.exceptions.ConnectTimeout, requests.exceptions.SSLError) as error:
            raise TransientError("tls" if isinstance(error, requests.exceptions.SSLError) else "connect_timeout")
        except requests.exceptions.ReadTimeout:
            raise UncertainError("timeout")
        except requests.exceptions.ConnectionError as error:
            raise (TransientError("network") if _never_connected(error) else UncertainError("network"))
        except requests.exceptions.RequestException:
            raise UncertainError("network")
        status = response.status_code
        response.close()
        if 200 <= status < 300:
            return status
        code = f"http_{status}"
        if status >= 500 or status in _RETRY_LATER:
            raise TransientError(code)
        raise PermanentError(code)


def _never_connected(error: Exception) -> bool:
    """Connection refused or no route: the request never left (urllib3's NewConnectionError in the chain)."""
    seen = error
    while seen is not None:
        if isinstance(seen, urllib3.exceptions.NewConnectionError):
            return True
        reason = getattr(seen, "reason", None)
        seen = reason if isinstance(reason, BaseException) else (seen.args[0] if seen.args and
                                                                  isinstance(seen.args[0], BaseException) else None)
    return False
