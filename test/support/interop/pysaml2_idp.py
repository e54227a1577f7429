"""A SAML 2.0 IdP nobody on this team wrote: pysaml2 (Debian's python3-pysaml2, which
signs with xmlsec1) makes a signed login Response for our SP, for the interop tests
(test/integration/saml-interop.test.ts).

Reads one JSON object on stdin:
  {"entityId", "keyFile", "certFile", "spMetadataFile", "acsUrl", "nameId",
   "attributes": {name: [values]}, "signAssertion": bool, "signResponse": bool,
   "signAlg": URI, "digestAlg": URI, "inResponseTo": str|null, "sessionIndex": str}
and prints the base64 SAMLResponse (HTTP-POST binding) on stdout.
"""
import base64
import json
import sys

from saml2 import BINDING_HTTP_POST
from saml2.config import IdPConfig
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.server import Server
from saml2.authn_context import PASSWORDPROTECTEDTRANSPORT


def main() -> None:
    request = json.load(sys.stdin)
    config = IdPConfig()
    config.load(
        {
            "entityid": request["entityId"],
            "key_file": request["keyFile"],
            "cert_file": request["certFile"],
            "xmlsec_binary": "/usr/bin/xmlsec1",
            "metadata": {"local": [request["spMetadataFile"]]},
            "service": {
                "idp": {
                    "endpoints": {"single_sign_on_service": [(request["entityId"] + "/sso", BINDING_HTTP_POST)]},
                    "policy": {"default": {"lifetime": {"minutes": 5}, "attribute_restrictions": None, "name_form": "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"}},
                    "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                }
            },
        }
    )
    server = Server(config=config)
    sp_entity_id = request["spEntityId"]
    response = server.create_authn_response(
        identity=request.get("attributes", {}),
        in_response_to=request.get("inResponseTo"),
        destination=request["acsUrl"],
        sp_entity_id=sp_entity_id,
        name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=request["nameId"]),
        authn={"class_ref": PASSWORDPROTECTEDTRANSPORT, "authn_instant": None},
        sign_response=request.get("signResponse", False),
        sign_assertion=request.get("signAssertion", True),
        sign_alg=request["signAlg"],
        digest_alg=request["digestAlg"],
        session_not_on_or_after=None,
    )
    sys.stdout.write(base64.b64encode(str(response).encode("utf-8")).decode("ascii"))


if __name__ == "__main__":
    main()
