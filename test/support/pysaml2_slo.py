#!/usr/bin/python3
"""
pysaml2 (Debian's python3-pysaml2, with xmlsec1) as the identity provider of a single
logout interoperability test (test/integration/single-logout-interop.test.ts).

    /usr/bin/python3 test/support/pysaml2_slo.py logout-request < args.json
        A LogoutRequest from the IdP to the SP, by the HTTP-Redirect binding, signed with
        RSA-SHA256 by pysaml2. Prints {"id", "location"}: the SP's SLO URL with the query.

    /usr/bin/python3 test/support/pysaml2_slo.py logout-request-post < args.json
        The same by the HTTP-POST binding: the LogoutRequest signed by xmlsec1 (enveloped
        XML signature, RSA-SHA256, SHA-256). Prints {"id", "action", "SAMLRequest", "RelayState"}.

    /usr/bin/python3 test/support/pysaml2_slo.py verify-logout-response < args.json
        Reads the SP's LogoutResponse from the URL it redirected to ("location"): verifies
        its detached signature with the signing certificate of the SP's metadata, and
        parses it as pysaml2 does (Destination, status). Prints what it found.

args.json: idp_entity_id, idp_sso_url, idp_slo_url, key_file, cert_file (the IdP's key
pair, made by the test at run time), sp_metadata_file (the SP metadata the service
served), sp_entity_id, sp_slo_url, and per command: name_id, name_id_format,
session_index, relay_state / location.

Exits non-zero (never skips) when saml2 cannot be imported.
"""
import json
import sys
from urllib.parse import parse_qs, urlparse

import re

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.saml import NameID
from saml2.server import Server
from saml2.sigver import verify_redirect_signature
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256


def idp_server(args):
    config = IdPConfig()
    config.load(
        {
            "entityid": args["idp_entity_id"],
            "service": {
                "idp": {
                    "endpoints": {
                        "single_sign_on_service": [(args["idp_sso_url"], BINDING_HTTP_REDIRECT)],
                        "single_logout_service": [(args["idp_slo_url"], BINDING_HTTP_REDIRECT)],
                    },
                },
            },
            "key_file": args["key_file"],
            "cert_file": args["cert_file"],
            "metadata": {"local": [args["sp_metadata_file"]]},
            "xmlsec_binary": "/usr/bin/xmlsec1",
            "accepted_time_diff": 60,
        }
    )
    return Server(config=config)


def logout_request(idp, args):
    name_id = NameID(text=args["name_id"], format=args.get("name_id_format"))
    request_id, request = idp.create_logout_request(
        destination=args["sp_slo_url"],
        issuer_entity_id=args["sp_entity_id"],
        name_id=name_id,
        session_indexes=[args["session_index"]] if args.get("session_index") else None,
        sign=False,
    )
    info = idp.apply_binding(
        BINDING_HTTP_REDIRECT,
        str(request),
        args["sp_slo_url"],
        relay_state=args.get("relay_state", ""),
        sign=True,
        sigalg=SIG_RSA_SHA256,
    )
    location = dict(info["headers"])["Location"]
    return {"id": request_id, "location": location}


def logout_request_post(idp, args):
    name_id = NameID(text=args["name_id"], format=args.get("name_id_format"))
    request_id, signed = idp.create_logout_request(
        destination=args["sp_slo_url"],
        issuer_entity_id=args["sp_entity_id"],
        name_id=name_id,
        session_indexes=[args["session_index"]] if args.get("session_index") else None,
        sign=True,
        sign_alg=SIG_RSA_SHA256,
        digest_alg=DIGEST_SHA256,
    )
    info = idp.apply_binding(BINDING_HTTP_POST, str(signed), args["sp_slo_url"], relay_state=args.get("relay_state", ""), sign=False)
    form = info["data"]
    field = lambda name: re.search(r'name="%s"\s+value="([^"]*)"' % name, form).group(1)
    return {"id": request_id, "action": args["sp_slo_url"], "SAMLRequest": field("SAMLRequest"), "RelayState": field("RelayState")}


def verify_logout_response(idp, args):
    query = {name: values[0] for name, values in parse_qs(urlparse(args["location"]).query).items()}
    certificates = idp.metadata.certs(args["sp_entity_id"], "spsso", "signing")
    signature_valid = bool(certificates) and any(
        verify_redirect_signature(query, idp.sec.sec_backend, cert=certificate) for certificate in certificates
    )
    parsed = idp.parse_logout_request_response(query["SAMLResponse"], BINDING_HTTP_REDIRECT)
    response = parsed.response
    return {
        "signature_valid": signature_valid,
        "sig_alg": query.get("SigAlg"),
        "relay_state": query.get("RelayState"),
        "in_response_to": response.in_response_to,
        "issuer": response.issuer.text,
        "destination": response.destination,
        "status": response.status.status_code.value,
    }


def main():
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    args = json.load(sys.stdin)
    idp = idp_server(args)
    if command == "logout-request":
        result = logout_request(idp, args)
    elif command == "logout-request-post":
        result = logout_request_post(idp, args)
    elif command == "verify-logout-response":
        result = verify_logout_response(idp, args)
    else:
        sys.exit("usage: pysaml2_slo.py logout-request|logout-request-post|verify-logout-response < args.json")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
