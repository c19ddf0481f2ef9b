"""Who may call the SAS interface: the platform, by mutual TLS ended at our reverse proxy (SPEC section 7).

nginx verifies the client certificate against the IGC-Santé CA and passes the result in two headers,
``X-SSL-Client-Verify`` (``$ssl_client_verify``) and ``X-SSL-Client-S-DN`` (``$ssl_client_s_dn``). Anybody
can send those headers, so they count only on a connection from ``TRUSTED_PROXIES``: the socket's peer,
never a forwarded address, as the one rule of ``core.proxy`` decided it for this request (ProxyFix reads the
same). The certificate must then name the platform: CN and OU equal to ``SAS_CLIENT_CN`` and ``SAS_CLIENT_OU``.
Nothing configured means nobody gets in.
"""
from __future__ import annotations

import re

from cryptography import x509
from cryptography.x509.oid import NameOID

from ..core.errors import Forbidden, Unauthorized
from ..core.proxy import peer_is_trusted_proxy

VERIFY_HEADER = "X-SSL-Client-Verify"
DN_HEADER = "X-SSL-Client-S-DN"
# nginx's legacy $ssl_client_s_dn_legacy form: /C=FR/O=ANS/OU=.../CN=...
_LEGACY_RDN = re.compile(r"/(?=[A-Za-z][A-Za-z0-9.\-]*=)")
_LEGACY_KEYS = {"CN": "CN", "OU": "OU", "COMMONNAME": "CN", "ORGANIZATIONALUNITNAME": "OU"}


def check_caller(environ: dict, headers, config) -> None:
    """Raise Unauthorized (401) or Forbidden (403) unless the request comes from the SAS platform."""
    if not peer_is_trusted_proxy(environ):
        raise Unauthorized("Connexion directe refusée : l'interface SAS passe par le proxy en TLS mutuel",
                           code="untrusted_source")
    if headers.get(VERIFY_HEADER, "") != "SUCCESS":
        raise Unauthorized("Certificat client absent ou non vérifié", code="certificate_required")
    expected_cn, expected_ou = config.get("SAS_CLIENT_CN"), config.get("SAS_CLIENT_OU")
    if not expected_cn or not expected_ou:
        raise Forbidden("Interface SAS non configurée (SAS_CLIENT_CN, SAS_CLIENT_OU)", code="sas_not_configured")
    try:
        names = subject_names(headers.get(DN_HEADER, ""))
    except ValueError:
        raise Forbidden("Sujet du certificat illisible", code="certificate_refused")
    # str(): an environment value such as SNP_SAS_CLIENT_OU=123 arrives JSON-parsed as a number.
    if names["CN"] != [str(expected_cn)] or str(expected_ou) not in names["OU"]:
        raise Forbidden("Ce certificat n'est pas celui de la plateforme SAS", code="certificate_refused")


def subject_names(dn: str) -> dict[str, list[str]]:
    """The CN and OU values of a subject DN, RFC 2253/4514 (``CN=x,OU=y``) or legacy (``/OU=y/CN=x``).

    ValueError when the DN cannot be parsed. RFC 4514 is parsed by ``cryptography`` (escaped commas, plus
    signs and hex escapes included).
    """
    dn = dn.strip()
    if not dn:
        raise ValueError("empty DN")
    if dn.startswith("/"):
        names: dict[str, list[str]] = {"CN": [], "OU": []}
        for part in _LEGACY_RDN.split(dn)[1:]:
            key, _, value = part.partition("=")
            wanted = _LEGACY_KEYS.get(key.strip().upper())
            if wanted:
                names[wanted].append(value)
        return names
    name = x509.Name.from_rfc4514_string(dn)
    return {"CN": [a.value for a in name.get_attributes_for_oid(NameOID.COMMON_NAME)],
            "OU": [a.value for a in name.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)]}
