"""Signs a demo agent in to the portal through the IdP emulator's OIDC code flow, as a browser would, and
prints what the load generator needs: the Cookie header and a form token. Used by bench/http.sh.
Usage: signin.py PORTAL_URL TENANT AGENT_EMAIL"""
import html, http.cookiejar, re, shlex, sys, urllib.parse, urllib.request

portal, tenant, email = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
jar = http.cookiejar.CookieJar()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)


def fetch(url, data=None):
    try:
        with opener.open(url, data=data) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode(errors="replace")


status, headers, _ = fetch(f"{portal}/account/signin/{tenant}")
assert status == 302, f"sign-in challenge answered {status}"
authorize = headers["Location"]
status, _, page = fetch(authorize)
assert status == 200, f"the emulator's sign-in page answered {status}"
# The emulator lists each demo agent as a form of hidden fields; take the one whose e-mail is given.
for form in re.findall(r"<form .*?</form>", page, re.S):
    if f"<div>{html.escape(email)}</div>" in form:
        action = html.unescape(re.search(r'action="([^"]+)"', form).group(1))
        fields = {html.unescape(n): html.unescape(v) for n, v in re.findall(r'name="([^"]+)" value="([^"]*)"', form)}
        break
else:
    sys.exit(f"no demo agent {email} on the emulator's sign-in page")
target = urllib.parse.urljoin(authorize, action)
status, headers, _ = fetch(target, urllib.parse.urlencode(fields).encode())
assert status in (302, 303), f"picking the agent answered {status}"
status, _, _ = fetch(headers["Location"])
assert status == 302, f"the portal's sign-in callback answered {status}"
status, _, console = fetch(f"{portal}/console" if "auditor" not in email else f"{portal}/audit")
assert status == 200, f"the first page after sign-in answered {status}"
token = html.unescape(re.search(r'name="__RequestVerificationToken" type="hidden" value="([^"]+)"', console).group(1))
cookie = "; ".join(f"{c.name}={c.value}" for c in jar if "127.0.0.1" in c.domain or "localhost" in c.domain or c.domain == "")
# Quoted for the shell that evals these lines.
print(f"COOKIE={shlex.quote(cookie)}")
print(f"TOKEN={shlex.quote(token)}")
