"""A long-lived PyJWT verifier for test/clients/jwks-rotation.test.ts (issue 17.3).

One PyJWKClient (Debian's python3-jwt, unmodified, default JWKS caching) lives for the whole test, so
its cache is warmed before a key rotation, as in a real API. Reads one JSON line per request on stdin:
{"warm": true} fetches the JWKS; {"token": "..."} verifies a token; answers one JSON line each.
"""
import json
import sys

import jwt
from jwt import PyJWKClient

url, issuer, audience = sys.argv[1], sys.argv[2], sys.argv[3]
client = PyJWKClient(url)

for line in sys.stdin:
    request = json.loads(line)
    try:
        if request.get("warm"):
            kids = [k.key_id for k in client.get_signing_keys()]
            answer = {"ok": True, "kids": kids}
        else:
            token = request["token"]
            key = client.get_signing_key_from_jwt(token)
            alg = jwt.get_unverified_header(token)["alg"]
            claims = jwt.decode(token, key.key, algorithms=[alg], issuer=issuer, audience=audience)
            answer = {"ok": True, "sub": claims.get("sub"), "kid": key.key_id}
    except Exception as err:  # the test reports the verifier's own error text
        answer = {"ok": False, "error": f"{type(err).__name__}: {err}"}
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
