#!/usr/bin/env python3
"""POST a JSON body to the proxy for packaging/e2e-systemd.sh; the access key comes from $PROXY_KEY (never argv).
usage: post.py URL KEY-HEADER BODY [HEADER: VALUE]...   KEY-HEADER is x-api-key or authorization (Bearer).
Prints the status, the x-proxypool-* response headers (lower case) and the body."""
import os
import sys
import urllib.error
import urllib.request

url, key_header, body = sys.argv[1], sys.argv[2].lower(), sys.argv[3].encode()
key = os.environ["PROXY_KEY"]
req = urllib.request.Request(url, data=body, method="POST")
req.add_header("Content-Type", "application/json")
req.add_header(key_header, "Bearer " + key if key_header == "authorization" else key)
for h in sys.argv[4:]:
    k, v = h.split(":", 1)
    req.add_header(k.strip(), v.strip())
try:
    r = urllib.request.urlopen(req, timeout=30)
except urllib.error.HTTPError as e:
    r = e
print(r.status)
for k, v in r.headers.items():
    if k.lower().startswith("x-proxypool-"):
        print(f"{k.lower()}: {v}")
print(r.read().decode("utf-8", "replace"))
