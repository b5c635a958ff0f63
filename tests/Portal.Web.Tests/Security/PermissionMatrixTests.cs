using System.Net;
using Microsoft.AspNetCore.Authorization;
using Portal.Web.Agents;
using Portal.Web.Tenancy;

namespace Portal.Web.Tests.Security;

/// <summary>
/// docs/security-requirements.md A1: every route of the endpoint table × every default tier (and no sign-in), allow or deny,
/// asserted by real requests against answers written out in <see cref="Table"/>, never derived from the tiers or
/// the routes' own metadata. A new route without a row fails here, and the message gives the row to add.
/// </summary>
public sealed class PermissionMatrixTests(PermissionMatrixTests.Fixture fixture) : IClassFixture<PermissionMatrixTests.Fixture>
{
    /// <summary>
    /// The expected answer of every route for each default tier, written out: a policy or a default tier that
    /// changes fails here even when the route still names "a" permission. <c>allow</c>: served; <c>deny</c>: 403
    /// with an <c>access.denied</c> audit record; <c>sign-in</c>: sent to sign in (or 401); <c>api-key</c>: 401, only
    /// a tenant API key opens it, never an agent's cookie.
    /// </summary>
    private const string Table = """
        route                                  | anonymous | Tier 1 | Tier 2 | Tier 3 | Auditor | Tenant admin
        GET /                                  | sign-in   | allow  | allow  | allow  | allow   | allow
        GET /account/denied                    | allow     | allow  | allow  | allow  | allow   | allow
        GET /account/signin                    | allow     | allow  | allow  | allow  | allow   | allow
        GET /account/signin/{tenantId}         | allow     | allow  | allow  | allow  | allow   | allow
        POST /account/find                     | allow     | allow  | allow  | allow  | allow   | allow
        POST /account/signout                  | sign-in   | allow  | allow  | allow  | allow   | allow
        POST /actions/password-reset           | sign-in   | deny   | allow  | allow  | deny    | deny
        GET /actions/approval/{verificationId}/{actionName} | sign-in | allow | allow | allow | deny | deny
        GET /actions/result/{id}               | sign-in   | allow  | allow  | allow  | deny    | deny
        POST /actions/reset-factors            | sign-in   | deny   | deny   | allow  | deny    | deny
        POST /actions/revoke-sessions          | sign-in   | deny   | allow  | allow  | deny    | deny
        POST /actions/temporary-access         | sign-in   | deny   | deny   | allow  | deny    | deny
        POST /actions/unlock                   | sign-in   | deny   | allow  | allow  | deny    | deny
        GET /admin/api-keys                    | sign-in   | deny   | deny   | deny   | deny    | allow
        POST /admin/api-keys                   | sign-in   | deny   | deny   | deny   | deny    | allow
        POST /admin/api-keys/{id}/revoke       | sign-in   | deny   | deny   | deny   | deny    | allow
        GET /admin/api-keys/created/{id}       | sign-in   | deny   | deny   | deny   | deny    | allow
        GET /admin/changes                     | sign-in   | deny   | deny   | deny   | deny    | allow
        GET /admin/connection                  | sign-in   | deny   | deny   | deny   | deny    | allow
        POST /admin/connection/test            | sign-in   | deny   | deny   | deny   | deny    | allow
        GET /admin/ip-allowlist                | sign-in   | deny   | deny   | deny   | deny    | allow
        POST /admin/ip-allowlist               | sign-in   | deny   | deny   | deny   | deny    | allow
        GET /admin/policy                      | sign-in   | deny   | deny   | deny   | deny    | allow
        POST /admin/policy/actions             | sign-in   | deny   | deny   | deny   | deny    | allow
        POST /admin/policy/privileged          | sign-in   | deny   | deny   | deny   | deny    | allow
        POST /admin/policy/heightened          | sign-in   | deny   | deny   | deny   | deny    | allow
        POST /admin/policy/scripts             | sign-in   | deny   | deny   | deny   | deny    | allow
        POST /admin/policy/verification        | sign-in   | deny   | deny   | deny   | deny    | allow
        POST /admin/policy/webhook             | sign-in   | deny   | deny   | deny   | deny    | allow
        POST /admin/policy/webhook/key         | sign-in   | deny   | deny   | deny   | deny    | allow
        POST /admin/policy/webhook/test        | sign-in   | deny   | deny   | deny   | deny    | allow
        GET /admin/recovery                    | sign-in   | deny   | deny   | deny   | deny    | allow
        POST /admin/recovery/executives        | sign-in   | deny   | deny   | deny   | deny    | allow
        POST /admin/recovery/methods           | sign-in   | deny   | deny   | deny   | deny    | allow
        GET /admin/tiers                       | sign-in   | deny   | deny   | deny   | deny    | allow
        POST /admin/groups/map                 | sign-in   | deny   | deny   | deny   | deny    | allow
        POST /admin/groups/unmap               | sign-in   | deny   | deny   | deny   | deny    | allow
        POST /admin/tiers/create               | sign-in   | deny   | deny   | deny   | deny    | allow
        POST /admin/tiers/delete               | sign-in   | deny   | deny   | deny   | deny    | allow
        POST /admin/tiers/permissions          | sign-in   | deny   | deny   | deny   | deny    | allow
        POST /admin/tiers/rename               | sign-in   | deny   | deny   | deny   | deny    | allow
        GET /api/v1/tenants/{tenantId}/audit   | api-key   | api-key| api-key| api-key| api-key | api-key
        GET /api/v1/tenants/{tenantId}/heightened-mode | api-key | api-key | api-key | api-key | api-key | api-key
        PUT /api/v1/tenants/{tenantId}/heightened-mode | api-key | api-key | api-key | api-key | api-key | api-key
        GET /approvals                         | sign-in   | allow  | allow  | allow  | deny    | deny
        POST /approvals/{id}/approve           | sign-in   | allow  | allow  | allow  | deny    | deny
        GET /approvals/queue                   | sign-in   | allow  | allow  | allow  | deny    | deny
        POST /approvals/{id}/reject            | sign-in   | allow  | allow  | allow  | deny    | deny
        GET /audit                             | sign-in   | deny   | deny   | deny   | allow   | allow
        GET /audit/callers/{idHash}            | sign-in   | deny   | deny   | deny   | allow   | allow
        POST /audit/callers/find               | sign-in   | deny   | deny   | deny   | allow   | allow
        POST /audit/export                     | sign-in   | deny   | deny   | deny   | allow   | allow
        GET /audit/records/{id}                | sign-in   | deny   | deny   | deny   | allow   | allow
        GET /console                           | sign-in   | allow  | allow  | allow  | deny    | deny
        POST /console/approval                 | sign-in   | allow  | allow  | allow  | deny    | deny
        POST /console/lookup                   | sign-in   | allow  | allow  | allow  | deny    | deny
        POST /console/second                   | sign-in   | allow  | allow  | allow  | deny    | deny
        GET /error                             | allow     | allow  | allow  | allow  | allow   | allow
        GET /error/{status:int}                | allow     | allow  | allow  | allow  | allow   | allow
        GET /health/live                       | allow     | allow  | allow  | allow  | allow   | allow
        GET /health/ready                      | allow     | allow  | allow  | allow  | allow   | allow
        GET /recovery/not-me/{token}           | allow     | allow  | allow  | allow  | allow   | allow
        POST /recovery/not-me/{token}          | allow     | allow  | allow  | allow  | allow   | allow
        GET /stepup/callback                   | allow     | allow  | allow  | allow  | allow   | allow
        GET /stepup/continue/{state}           | allow     | allow  | allow  | allow  | allow   | allow
        GET /stepup/{token}                    | allow     | allow  | allow  | allow  | allow   | allow
        POST /stepup/{token}                   | allow     | allow  | allow  | allow  | allow   | allow
        GET /usage                             | sign-in   | deny   | deny   | deny   | deny    | allow
        POST /verification/callback            | sign-in   | allow  | allow  | allow  | deny    | deny
        POST /verification/entrapush           | sign-in   | allow  | allow  | allow  | deny    | deny
        GET /verification/pending/{id}         | sign-in   | allow  | allow  | allow  | deny    | deny
        POST /verification/pending/{id}/poll   | sign-in   | allow  | allow  | allow  | deny    | deny
        POST /verification/pending/{id}/callback | sign-in | allow  | allow  | allow  | deny    | deny
        POST /verification/push                | sign-in   | allow  | allow  | allow  | deny    | deny
        POST /verification/manager             | sign-in   | allow  | allow  | allow  | deny    | deny
        POST /verification/idv                 | sign-in   | allow  | allow  | allow  | deny    | deny
        GET /verification/session/{id}         | sign-in   | allow  | allow  | allow  | deny    | deny
        POST /verification/stepup              | sign-in   | allow  | allow  | allow  | deny    | deny
        POST /verification/totp                | sign-in   | allow  | allow  | allow  | deny    | deny
        """;

    private const string Anonymous = "anonymous";

    /// <summary>The columns of <see cref="Table"/> after the route, and the demo agent who holds each default tier.</summary>
    private static readonly (string Tier, string? Email)[] Columns =
    [
        (Anonymous, null),
        (DefaultTiers.Tier1, SecurityTestKit.Tier1),
        (DefaultTiers.Tier2, SecurityTestKit.Tier2),
        (DefaultTiers.Tier3, SecurityTestKit.Tier3),
        (DefaultTiers.Auditor, SecurityTestKit.Auditor),
        (DefaultTiers.TenantAdmin, SecurityTestKit.Admin),
    ];

    private static readonly string[] Answers = ["allow", "deny", "sign-in", "api-key"];

    private static readonly Dictionary<string, Dictionary<string, string>> Expected = ParseTable();

    // One portal serves the class; the matrix counts access.denied records from where each request began.
    private readonly PortalTestHost _host = fixture.Portal;

    [Fact]
    public void Table_HasExactlyOneRowPerRouteOfTheEndpointTable()
    {
        var routes = SecurityTestKit.Routes(_host);
        var keys = routes.Select(Key).ToHashSet(StringComparer.Ordinal);

        var missing = keys.Where(k => !Expected.ContainsKey(k)).Select(k => $"  {k} | sign-in | deny | deny | deny | deny | deny").ToList();
        var stale = Expected.Keys.Where(k => !keys.Contains(k)).ToList();

        Assert.True(missing.Count == 0, "Routes without a row in PermissionMatrixTests.Table. Add each, with the answers you intend " +
            "(this line is only a start: anonymous | Tier 1 | Tier 2 | Tier 3 | Auditor | Tenant admin):" + Environment.NewLine + string.Join(Environment.NewLine, missing));
        Assert.True(stale.Count == 0, "Rows of PermissionMatrixTests.Table whose route no longer exists (remove them): " + string.Join(", ", stale));

        // Every route open without an agent says so in its metadata: [AllowAnonymous] where anyone is served, the API-key
        // policy where only a tenant API key opens it (without [AllowAnonymous], which would serve a refused key); nothing
        // is open by accident of a filter.
        Assert.All(routes.Where(r => Expected[Key(r)][Anonymous] is "allow"), r => Assert.True(
            r.Endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null, Key(r) + " should allow anonymous access"));
        // An API-key route also names the key scopes that open it (docs/audit.md, "Keys"), so no key opens every route.
        Assert.All(routes.Where(r => Expected[Key(r)][Anonymous] is "api-key"), r => Assert.True(
            r.Endpoint.Metadata.GetMetadata<IAllowAnonymous>() is null
                && r.Endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(a => a.Policy == ApiKeyAuthentication.Policy)
                && r.Endpoint.Metadata.GetMetadata<ApiKeyScopeAttribute>() is { Scopes.Count: > 0 },
            Key(r) + " should require a tenant API key (the API-key policy and the key scopes that open it, without [AllowAnonymous])"));
    }

    [Fact]
    public async Task EveryRoute_EveryDefaultTierAndAnonymous_AnswersAsTheTableSays()
    {
        var routes = SecurityTestKit.Routes(_host)
            .Where(r => Expected.ContainsKey(Key(r)))
            .OrderBy(r => Key(r) == "POST /account/signout" ? 1 : 0)
            .ToList();
        Assert.True(routes.Count == Expected.Count, "The table and the endpoint table differ; see Table_HasExactlyOneRowPerRouteOfTheEndpointTable.");
        var failures = new List<string>();
        var cells = 0;

        var anonymous = _host.NewClient();
        foreach (var route in routes)
        {
            var response = await SendAsync(anonymous, route, token: null);
            var challenged = SecurityTestKit.IsSignInChallenge(response) || response.StatusCode is HttpStatusCode.Unauthorized;
            var expected = Expected[Key(route)][Anonymous];
            var ok = expected switch
            {
                "allow" => !challenged,
                "api-key" => response.StatusCode == HttpStatusCode.Unauthorized,
                _ => challenged,
            };
            if (!ok)
            {
                failures.Add($"{Anonymous} {route}: expected {expected}, got {(int)response.StatusCode}");
            }

            cells++;
        }

        foreach (var (tier, email) in Columns.Skip(1))
        {
            var browser = await _host.SignInAsync(email!);
            var token = await SecurityTestKit.TokenAsync(browser);
            foreach (var route in routes)
            {
                var expected = Expected[Key(route)][tier];
                var deniedBefore = await DeniedCountAsync();
                var response = await SendAsync(browser, route, token);
                var denied = response.StatusCode == HttpStatusCode.Forbidden && await DeniedCountAsync() == deniedBefore + 1;
                var challenged = SecurityTestKit.IsSignInChallenge(response);
                var ok = expected switch
                {
                    // An agent's cookie is no credential for the SIEM API.
                    "api-key" => response.StatusCode == HttpStatusCode.Unauthorized,
                    // Allowed past the permission check: an action may still refuse (403, no verification) for its own reasons.
                    "allow" => !denied && !challenged,
                    _ => denied,
                };
                if (!ok)
                {
                    failures.Add($"{tier} {route}: expected {expected}, got {(int)response.StatusCode}{(denied ? " (access.denied audited)" : "")}");
                }

                cells++;
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
        Assert.Equal(routes.Count * Columns.Length, cells);
    }

    private static Dictionary<string, Dictionary<string, string>> ParseTable()
    {
        var rows = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        foreach (var line in Table.Split('\n').Skip(1).Select(l => l.Trim()).Where(l => l.Length > 0))
        {
            var cells = line.Split('|').Select(c => c.Trim()).ToArray();
            if (cells.Length != Columns.Length + 1 || cells.Skip(1).Any(c => !Answers.Contains(c)))
            {
                throw new InvalidOperationException($"Malformed row in PermissionMatrixTests.Table: {line}");
            }

            rows.Add(cells[0], Columns.Select((c, i) => (c.Tier, Answer: cells[i + 1])).ToDictionary(c => c.Tier, c => c.Answer, StringComparer.Ordinal));
        }

        return rows;
    }

    private static string Key(AppRoute route) => route.ToString();

    private async Task<int> DeniedCountAsync() =>
        (await SecurityTestKit.AuditAsync(_host)).Count(d => (string?)d["action"] == "access.denied");

    private static async Task<HttpResponseMessage> SendAsync(HttpClient browser, AppRoute route, string? token)
    {
        if (route.Method == "GET")
        {
            return await browser.GetAsync(route.SamplePath);
        }

        var fields = new List<KeyValuePair<string, string>>
        {
            new("verificationId", AppRoute.SampleId), new("callerRef", "x"), new("factorId", "x"), new("code", "123456"),
            new("login", "nobody@demo.example"), new("email", "agent@demo.example"),
        };
        if (token is not null)
        {
            fields.Add(new("__RequestVerificationToken", token));
        }

        using var request = new HttpRequestMessage(new HttpMethod(route.Method), route.SamplePath) { Content = new FormUrlEncodedContent(fields) };
        return await browser.SendAsync(request);
    }

    /// <summary>The class's portal, with limits no walk of the matrix reaches.</summary>
    public sealed class Fixture : PortalHostFixture
    {
        public Fixture()
        {
            Portal.Settings["Portal:Web:RateLimits:SensitivePermitLimit"] = "100000";
            Portal.Settings["Portal:Web:RateLimits:AgentPermitLimit"] = "100000";
            Portal.Settings["Portal:Web:RateLimits:AddressPermitLimit"] = "100000";
        }
    }
}
