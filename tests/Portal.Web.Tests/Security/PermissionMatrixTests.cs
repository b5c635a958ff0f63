using System.Net;
using Microsoft.AspNetCore.Authorization;
using Portal.Web.Authorization;

namespace Portal.Web.Tests.Security;

/// <summary>
/// SECURITY.md A1: every route of the endpoint table × every default tier (and no sign-in), allow or deny,
/// asserted by real requests. A route must name a permission policy or be in the short list below of routes
/// that deliberately need none; a new route without either fails here.
/// </summary>
public sealed class PermissionMatrixTests : IAsyncLifetime
{
    private const string Anonymous = "(anonymous)";
    private const string AnyAgent = "(any signed-in agent)";
    private const string ApiKey = "(tenant API key, never an agent cookie)";
    private const string CallerLink = "(the caller's own browser, by a one-time link)";

    /// <summary>Routes that need no permission: who may use them, and why.</summary>
    private static readonly Dictionary<string, string> Exempt = new(StringComparer.Ordinal)
    {
        ["GET /account/signin"] = Anonymous,
        ["POST /account/find"] = Anonymous,
        ["GET /account/signin/{tenantId}"] = Anonymous,
        ["GET /account/denied"] = Anonymous,
        ["GET /error"] = Anonymous,
        ["GET /error/{status:int}"] = Anonymous,
        ["GET /healthz"] = Anonymous,
        ["POST /account/signout"] = AnyAgent,
        ["GET /"] = AnyAgent,
        ["GET /api/v1/tenants/{tenantId}/audit"] = ApiKey,
        ["GET /stepup/{token}"] = CallerLink,
        ["POST /stepup/{token}"] = CallerLink,
        ["GET /stepup/callback"] = CallerLink,
    };

    /// <summary>Pinned: weakening one of these policies (say, TAP to caller.verify) fails here even though the route still has "a" policy.</summary>
    private static readonly Dictionary<string, string> Pinned = new(StringComparer.Ordinal)
    {
        ["GET /console"] = Permissions.CallerLookup,
        ["POST /console/lookup"] = Permissions.CallerLookup,
        ["POST /verification/push"] = Permissions.CallerVerify,
        ["POST /verification/totp"] = Permissions.CallerVerify,
        ["GET /verification/pending/{id}"] = Permissions.CallerVerify,
        ["POST /verification/pending/{id}/poll"] = Permissions.CallerVerify,
        ["GET /verification/session/{id}"] = Permissions.CallerVerify,
        ["POST /actions/password-reset"] = Permissions.PasswordReset,
        ["POST /actions/revoke-sessions"] = Permissions.SessionsRevoke,
        ["POST /actions/unlock"] = Permissions.AccountUnlock,
        ["POST /actions/reset-factors"] = Permissions.MfaReset,
        ["POST /actions/temporary-access"] = Permissions.TapIssue,
        ["GET /audit"] = Permissions.AuditRead,
    };

    private static readonly Dictionary<string, string> AgentOfTier = new(StringComparer.Ordinal)
    {
        [DefaultTiers.Tier1] = SecurityTestKit.Tier1,
        [DefaultTiers.Tier2] = SecurityTestKit.Tier2,
        [DefaultTiers.Tier3] = SecurityTestKit.Tier3,
        [DefaultTiers.Auditor] = SecurityTestKit.Auditor,
        [DefaultTiers.TenantAdmin] = SecurityTestKit.Admin,
    };

    private readonly PortalTestHost _host = new();

    public PermissionMatrixTests()
    {
        _host.Settings["Portal:Web:RateLimits:SensitivePermitLimit"] = "100000";
        _host.Settings["Portal:Web:RateLimits:AgentPermitLimit"] = "100000";
        _host.Settings["Portal:Web:RateLimits:AddressPermitLimit"] = "100000";
    }

    public Task InitializeAsync() => _host.InitializeAsync();

    public Task DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public void EndpointTable_EveryRouteHasAPermissionPolicyOrIsADeliberateExemption()
    {
        var routes = SecurityTestKit.Routes(_host);

        var unaccounted = routes.Where(r => RequiredPermission(r) is null && !Exempt.ContainsKey(Key(r))).Select(Key).ToList();

        Assert.True(unaccounted.Count == 0, "Routes without a permission policy: " + string.Join(", ", unaccounted));
        Assert.All(Pinned, p => Assert.Equal(p.Value, RequiredPermission(Assert.Single(routes, r => Key(r) == p.Key))));
        Assert.All(Exempt.Where(e => e.Value is Anonymous or ApiKey or CallerLink), e => Assert.True(
            routes.Single(r => Key(r) == e.Key).Endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null, e.Key + " should allow anonymous access"));
    }

    [Fact]
    public async Task EveryRoute_EveryDefaultTierAndAnonymous_AllowedExactlyWhenTheTierHoldsThePermission()
    {
        var routes = SecurityTestKit.Routes(_host)
            .OrderBy(r => Key(r) == "POST /account/signout" ? 1 : 0)
            .ToList();
        Assert.True(routes.Count >= Pinned.Count + Exempt.Count);
        var failures = new List<string>();
        var cells = 0;

        var anonymous = _host.NewClient();
        foreach (var route in routes)
        {
            var response = await SendAsync(anonymous, route, token: null);
            var challenged = SecurityTestKit.IsSignInChallenge(response) || response.StatusCode is HttpStatusCode.Unauthorized;
            var expectAllowed = Exempt.GetValueOrDefault(Key(route)) is Anonymous or CallerLink;
            if (challenged == expectAllowed)
            {
                failures.Add($"{Anonymous} {route}: expected {(expectAllowed ? "allow" : "deny")}, got {(int)response.StatusCode}");
            }

            cells++;
        }

        foreach (var (tier, email) in AgentOfTier)
        {
            var browser = await _host.SignInAsync(email);
            var token = await SecurityTestKit.TokenAsync(browser);
            var held = DefaultTiers.All.Single(t => t.Name == tier).Permissions;
            foreach (var route in routes)
            {
                var permission = RequiredPermission(route);
                var deniedBefore = await DeniedCountAsync();
                var response = await SendAsync(browser, route, token);
                if (Exempt.GetValueOrDefault(Key(route)) == ApiKey)
                {
                    // An agent's cookie is no credential for the SIEM API.
                    if (response.StatusCode != HttpStatusCode.Unauthorized)
                    {
                        failures.Add($"{tier} {route}: expected 401 without an API key, got {(int)response.StatusCode}");
                    }

                    cells++;
                    continue;
                }

                var expectAllowed = permission is null || held.Contains(permission);
                var denied = response.StatusCode == HttpStatusCode.Forbidden && await DeniedCountAsync() == deniedBefore + 1;
                var challenged = SecurityTestKit.IsSignInChallenge(response);
                if (expectAllowed == (denied || challenged) || (!expectAllowed && !denied))
                {
                    failures.Add($"{tier} {route}: expected {(expectAllowed ? "allow" : "deny")}, got {(int)response.StatusCode}{(denied ? " (access.denied audited)" : "")}");
                }

                cells++;
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
        Assert.Equal(routes.Count * (AgentOfTier.Count + 1), cells);
    }

    private static string Key(AppRoute route) => route.ToString();

    /// <summary>The permission the route's authorization metadata names, if any.</summary>
    private static string? RequiredPermission(AppRoute route) =>
        route.Endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).LastOrDefault(p => p is not null && Permissions.All.Contains(p));

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
}
