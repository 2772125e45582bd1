#!/usr/bin/env python3
"""Drive one authorization code login against a local Tessera and print the access token.

The benchmark needs a real access token for /userinfo, and the only way to get one is the way a
browser does: authorization request, login form, code, token request. This script plays the
browser and the client, with the standard library only, so the benchmark needs nothing installed.

The client secret and the password come from the environment (BENCH_CLIENT_SECRET,
BENCH_PASSWORD) rather than the command line, where other users could read them in `ps`.
"""

import argparse
import base64
import hashlib
import html.parser
import http.client
import json
import os
import secrets
import sys
import urllib.parse

# A login takes a handful of hops (authorize, login, resume); anything past this is a loop.
MAX_REDIRECTS = 10
TIMEOUT_SECONDS = 10


class LoginError(Exception):
    pass


class Session:
    """One origin, its cookies, and redirects followed only while they stay on that origin.

    Cookies are kept by hand rather than with http.cookiejar: the jar refuses to send `Secure`
    cookies over plain http, while browsers do send them to loopback, and the benchmark server is
    plain http on 127.0.0.1. Talking to a single origin, a name-to-value map is the whole jar.
    """

    def __init__(self, origin):
        self.origin = origin
        self.cookies = {}

    def request(self, method, url, body=None, headers=None):
        parts = urllib.parse.urlsplit(url)
        if self.origin_of(url) != self.origin:
            raise LoginError(f"refusing to send a request off-origin: {url}")

        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")

        target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT_SECONDS)
        try:
            conn.request(method, target, body=body, headers=headers)
            response = conn.getresponse()
            content = response.read()
        finally:
            conn.close()

        for header in response.headers.get_all("Set-Cookie") or []:
            self.remember(header)
        return response.status, response.headers, content

    def remember(self, set_cookie):
        pair, _, attributes = set_cookie.partition(";")
        name, _, value = pair.strip().partition("=")
        if not name:
            return
        # Max-Age=0 (or below) is how a server deletes a cookie (RFC 6265 §5.2.2).
        for attribute in attributes.split(";"):
            key, _, number = attribute.strip().partition("=")
            if key.lower() == "max-age" and number.lstrip("-").isdigit() and int(number) <= 0:
                self.cookies.pop(name, None)
                return
        self.cookies[name] = value.strip()

    def follow(self, method, url, body=None, headers=None):
        """Follow same-origin redirects; stop at the first one that leaves the server.

        Returns ("page", url, status, content) when a response is not a redirect, or
        ("left", location) when the server redirects elsewhere (the client's redirect URI).
        """
        for _ in range(MAX_REDIRECTS):
            status, response_headers, content = self.request(method, url, body, headers)
            if status not in (301, 302, 303, 307, 308):
                return ("page", url, status, content)

            location = response_headers.get("Location")
            if not location:
                raise LoginError(f"{status} from {url} without a Location header")
            location = urllib.parse.urljoin(url, location)
            if self.origin_of(location) != self.origin:
                return ("left", location)

            # 307 and 308 repeat the request as it was; 301, 302 and 303 become a plain GET.
            if status in (301, 302, 303):
                method, body, headers = "GET", None, None
            url = location
        raise LoginError(f"more than {MAX_REDIRECTS} redirects starting at {url}")

    @staticmethod
    def origin_of(url):
        parts = urllib.parse.urlsplit(url)
        return (parts.scheme, parts.hostname, parts.port)


class LoginForm(html.parser.HTMLParser):
    """Finds the first form with a password field: its action and its hidden inputs."""

    def __init__(self):
        super().__init__()
        self.in_form = False
        self.action = None
        self.hidden = {}
        self.has_password = False
        self.done = False

    def handle_starttag(self, tag, attrs):
        if self.done:
            return
        attrs = dict(attrs)
        if tag == "form":
            self.in_form = True
            self.action = attrs.get("action")
            self.hidden = {}
            self.has_password = False
        elif tag == "input" and self.in_form:
            kind = (attrs.get("type") or "text").lower()
            if kind == "hidden" and attrs.get("name"):
                self.hidden[attrs["name"]] = attrs.get("value") or ""
            elif kind == "password":
                self.has_password = True

    def handle_endtag(self, tag):
        if tag == "form" and self.in_form:
            self.in_form = False
            self.done = self.has_password


def pkce_pair():
    """RFC 7636 §4.1 and §4.2: a random verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return verifier, challenge


def basic_auth(client_id, client_secret):
    """RFC 6749 §2.3.1: each half form-urlencoded before the Basic encoding."""
    pair = f"{urllib.parse.quote_plus(client_id)}:{urllib.parse.quote_plus(client_secret)}"
    return "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")


def discover(session, issuer):
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    status, _, content = session.request("GET", url)
    if status != 200:
        raise LoginError(f"discovery answered {status}")
    metadata = json.loads(content)
    if metadata.get("issuer") != issuer:
        raise LoginError(f"discovery names issuer {metadata.get('issuer')!r}, expected {issuer!r}")
    return metadata


def authorization_code(session, metadata, args, password, challenge):
    state = secrets.token_urlsafe(16)
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": args.client_id,
            "redirect_uri": args.redirect_uri,
            "scope": "openid profile email",
            "state": state,
            "nonce": secrets.token_urlsafe(16),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        quote_via=urllib.parse.quote,
    )
    outcome = session.follow("GET", metadata["authorization_endpoint"] + "?" + query)

    if outcome[0] == "page":
        _, login_url, status, content = outcome
        if status != 200:
            raise LoginError(f"login page answered {status}")
        form = LoginForm()
        form.feed(content.decode("utf-8", "replace"))
        if not form.done:
            raise LoginError(f"no login form with a password field at {login_url}")
        if "csrf" not in form.hidden:
            raise LoginError("login form has no csrf field")

        fields = dict(form.hidden)
        fields["username"] = args.username
        fields["password"] = password
        action = urllib.parse.urljoin(login_url, form.action or login_url)
        outcome = session.follow("POST", action, urllib.parse.urlencode(fields))

    if outcome[0] != "left":
        _, url, status, _ = outcome
        raise LoginError(f"login did not end at the redirect URI ({status} at {url})")
    return read_authorization_response(outcome[1], args, metadata["issuer"], state)


def read_authorization_response(location, args, issuer, state):
    # Everything but the query must be the redirect URI exactly (RFC 6749 §3.1.2).
    landed = urllib.parse.urlsplit(location)
    if landed._replace(query="", fragment="") != urllib.parse.urlsplit(args.redirect_uri):
        raise LoginError(f"redirected to {location}, not to the registered redirect URI")
    params = urllib.parse.parse_qs(landed.query)

    if "error" in params:
        raise LoginError(f"authorization error: {params['error'][0]}")

    if params.get("state") != [state]:
        raise LoginError("state in the authorization response does not match")

    # RFC 9207 §2.4: when the issuer is in the response, it must be the one we asked.
    if "iss" in params and params["iss"] != [issuer]:
        raise LoginError(f"iss {params['iss'][0]!r} is not the issuer {issuer!r}")

    if "code" not in params:
        raise LoginError("authorization response carries no code")
    return params["code"][0]


def redeem(session, metadata, args, client_secret, code, verifier):
    body = urllib.parse.urlencode(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": args.redirect_uri,
            "code_verifier": verifier,
        }
    )
    headers = {
        "Authorization": basic_auth(args.client_id, client_secret),
        "Accept": "application/json",
    }
    status, _, content = session.request("POST", metadata["token_endpoint"], body, headers)
    if status != 200:
        raise LoginError(f"token endpoint answered {status}: {content[:300]!r}")
    token = json.loads(content)
    if token.get("token_type", "").lower() != "bearer":
        raise LoginError(f"unexpected token_type {token.get('token_type')!r}")
    return token["access_token"]


def required_env(name):
    value = os.environ.get(name)
    if not value:
        raise LoginError(f"{name} is not set")
    return value


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issuer", required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--redirect-uri", required=True)
    parser.add_argument("--username", required=True)
    args = parser.parse_args()

    try:
        client_secret = required_env("BENCH_CLIENT_SECRET")
        password = required_env("BENCH_PASSWORD")

        issuer_parts = urllib.parse.urlsplit(args.issuer)
        if issuer_parts.scheme != "http":
            raise LoginError("the benchmark talks plain http to a loopback server")
        session = Session(Session.origin_of(args.issuer))

        metadata = discover(session, args.issuer)
        verifier, challenge = pkce_pair()
        code = authorization_code(session, metadata, args, password, challenge)
        print(redeem(session, metadata, args, client_secret, code, verifier))
    except (LoginError, OSError, ValueError, KeyError) as err:
        print(f"get_token: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
