"""An independent SAML IdP for interoperability tests: pysaml2 (Debian's python3-pysaml2,
with xmlsec1 doing the XML-DSig and XML-Enc) answers for a service provider whose metadata
it reads, signing the assertion and/or the Response with the algorithms asked for, and
(unless told not to) encrypting the assertion to the encryption certificate that metadata
publishes. Used by acs-interop-pysaml2.test.ts (encryption) and saml-interop.test.ts
(signature algorithms, RSA and EC keys).

Run with Debian's interpreter, which has saml2: /usr/bin/python3 test/support/pysaml2_idp.py
Reads one JSON object on stdin:
  {"idpEntityId", "idpKeyPem", "idpCertPem", "spMetadataXml", "spEntityId", "acsUrl",
   "nameId", "attributes": {name: [values]}, "inResponseTo" (optional),
   "signResponse" (default false), "signAssertion" (default true),
   "signAlg", "digestAlg" (XML-DSig URIs, default RSA-SHA256 / SHA-256),
   "encrypt" (default true), "content" ("aes256-cbc" | "aes128-cbc" | "aes256-gcm" |
   "aes128-gcm", default aes256-cbc)}
Prints the base64 SAMLResponse (the HTTP-POST form value). Keys are the test's own,
made at test time, and live in a temporary directory removed on exit.
"""
import base64
import json
import os
import shutil
import sys
import tempfile

import saml2.entity
from saml2 import BINDING_HTTP_POST, saml
from saml2.config import IdPConfig
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.server import Server
from saml2.sigver import pre_encryption_part
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

AES = {
    "aes256-cbc": ("http://www.w3.org/2001/04/xmlenc#aes256-cbc", "aes-256"),
    "aes128-cbc": ("http://www.w3.org/2001/04/xmlenc#aes128-cbc", "aes-128"),
    "aes256-gcm": ("http://www.w3.org/2009/xmlenc11#aes256-gcm", "aes-256"),
    "aes128-gcm": ("http://www.w3.org/2009/xmlenc11#aes128-gcm", "aes-128"),
}


def main():
    request = json.load(sys.stdin)
    algorithm, session_key = AES[request.get("content", "aes256-cbc")]
    encrypt_assertion = bool(request.get("encrypt", True))
    workdir = tempfile.mkdtemp(prefix="pysaml2-idp-")
    try:
        paths = {}
        for name, text in (("key.pem", request["idpKeyPem"]), ("cert.pem", request["idpCertPem"]), ("sp.xml", request["spMetadataXml"])):
            paths[name] = os.path.join(workdir, name)
            with open(paths[name], "w", encoding="utf-8") as handle:
                handle.write(text)

        config = IdPConfig()
        config.load(
            {
                "entityid": request["idpEntityId"],
                "xmlsec_binary": shutil.which("xmlsec1") or "/usr/bin/xmlsec1",
                "key_file": paths["key.pem"],
                "cert_file": paths["cert.pem"],
                "encryption_keypairs": [{"key_file": paths["key.pem"], "cert_file": paths["cert.pem"]}],
                "metadata": {"local": [paths["sp.xml"]]},
                "service": {
                    "idp": {
                        "endpoints": {"single_sign_on_service": [(request["idpEntityId"] + "/sso", BINDING_HTTP_POST)]},
                        "policy": {"default": {"lifetime": {"minutes": 5}, "attribute_restrictions": None, "name_form": saml.NAME_FORMAT_BASIC}},
                        "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                    }
                },
                "delete_tmpfiles": True,
            }
        )
        idp = Server(config=config)

        # pysaml2 encrypts with 3DES unless told otherwise, which the SP (rightly) refuses:
        # AES content and RSA-OAEP-MGF1P key transport, as xmlsec1 runs them.
        def aes_template(**kwargs):
            return pre_encryption_part(msg_enc=algorithm, **kwargs)

        saml2.entity.pre_encryption_part = aes_template
        encrypt = idp.sec.encrypt_assertion

        def encrypt_with_aes(statement, enc_key, template, key_type="des-192", **kwargs):
            return encrypt(statement, enc_key, template, key_type=session_key, **kwargs)

        idp.sec.encrypt_assertion = encrypt_with_aes

        name_id = NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=request["nameId"])
        response = idp.create_authn_response(
            identity=request.get("attributes", {}),
            in_response_to=request.get("inResponseTo"),
            destination=request["acsUrl"],
            sp_entity_id=request["spEntityId"],
            name_id=name_id,
            authn={"class_ref": saml.AUTHN_PASSWORD_PROTECTED, "authn_auth": request["idpEntityId"]},
            sign_assertion=bool(request.get("signAssertion", True)),
            sign_response=bool(request.get("signResponse", False)),
            encrypt_assertion=encrypt_assertion,
            encrypt_assertion_self_contained=encrypt_assertion,
            sign_alg=request.get("signAlg", SIG_RSA_SHA256),
            digest_alg=request.get("digestAlg", DIGEST_SHA256),
        )
        text = str(response)
        if encrypt_assertion and "EncryptedAssertion" not in text:
            raise SystemExit("pysaml2 did not encrypt the assertion (no encryption certificate in the SP metadata?)")
        sys.stdout.write(base64.b64encode(text.encode("utf-8")).decode("ascii"))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
