"""Raw HTTP requests signed with botocore's own SigV4 signer, for input no SDK would send."""
import datetime
import http.client
import json
import urllib.parse
from unittest import mock

import botocore.auth
import botocore.awsrequest
import botocore.credentials


class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body

    @property
    def code(self):
        return self.headers.get("x-amzn-errortype", "").split(":")[0]

    def json(self):
        return json.loads(self.body or b"{}")


def signed_headers(url, method, path, body, service, region="us-east-1", key="test", secret="test",
                   headers=None, when=None):
    """Headers botocore would send for this request (signature computed by botocore)."""
    creds = botocore.credentials.Credentials(key, secret)
    req = botocore.awsrequest.AWSRequest(method=method, url=url + path, data=body, headers=dict(headers or {}))
    signer = botocore.auth.SigV4Auth(creds, service, region)
    if when is None:
        signer.add_auth(req)
    else:
        # botocore reads the clock through botocore.auth.get_current_datetime (naive UTC).
        naive = when.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        with mock.patch("botocore.auth.get_current_datetime", return_value=naive):
            signer.add_auth(req)
    return dict(req.headers.items())


def send(url, method, path, body=b"", headers=None):
    """Send exactly these bytes (path is not normalised or re-encoded)."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        hdrs = dict(headers or {})
        hdrs.setdefault("Host", u.netloc)
        if body is not None:
            hdrs.setdefault("Content-Length", str(len(body)))
        for k, v in hdrs.items():
            conn.putheader(k, v)
        conn.endheaders()
        if body:
            conn.send(body)
        r = conn.getresponse()
        return Resp(r.status, r.getheaders(), r.read())
    finally:
        conn.close()


def call(url, method, path, body=b"", service="ivs", region="us-east-1", key="test", secret="test",
         headers=None, when=None, tamper=None):
    """Sign with botocore, optionally tamper with the body after signing, then send."""
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    h = signed_headers(url, method, path, body, service, region, key, secret, headers, when)
    if tamper is not None:
        body = tamper
        h["Content-Length"] = str(len(body))
    return send(url, method, path, body, h)
