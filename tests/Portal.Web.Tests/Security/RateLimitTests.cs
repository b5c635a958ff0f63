using System.Net;
using Microsoft.AspNetCore.Http;
using Portal.Web.Agents;

namespace Portal.Web.Tests.Security;

/// <summary>docs/security-requirements.md A5: 429 with Retry-After, per agent and per client address, stricter where the IdP is called.</summary>
public sealed class RateLimitTests : IAsyncLifetime
{
    private const int SensitiveLimit = 3;
    private const int AddressLimit = 40;
    private readonly PortalTestHost _host = new();

    public RateLimitTests()
    {
        _host.Settings["Portal:Web:RateLimits:SensitivePermitLimit"] = SensitiveLimit.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _host.Settings["Portal:Web:RateLimits:AgentPermitLimit"] = "1000";
        _host.Settings["Portal:Web:RateLimits:AddressPermitLimit"] = AddressLimit.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _host.Settings["Portal:Web:RateLimits:WindowSeconds"] = "3600";
    }

    public Task InitializeAsync() => _host.InitializeAsync();

    public Task DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task Lookup_OverTheSensitiveLimit_429WithRetryAfterAndIdpNotCalled()
    {
        var agent = await _host.SignInAsync(SecurityTestKit.Tier3);
        var token = await SecurityTestKit.TokenAsync(agent);
        for (var i = 0; i < SensitiveLimit; i++)
        {
            var allowed = await PortalTestHost.PostFormAsync(agent, "/console/lookup", token, ("login", SecurityTestKit.Alice));
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }

        var idpCallsBefore = _host.Emulator.State.Requests.Count;
        var refused = await PortalTestHost.PostFormAsync(agent, "/console/lookup", token, ("login", SecurityTestKit.Alice));

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        var retryAfter = refused.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.True(retryAfter > TimeSpan.Zero);
        Assert.Contains("Too many requests", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(idpCallsBefore, _host.Emulator.State.Requests.Count);

        // Only the sensitive routes are limited this tightly: the agent's other pages still open.
        Assert.Equal(HttpStatusCode.OK, (await agent.GetAsync("/console")).StatusCode);
    }

    /// <summary>Review F12: <c>Retry-After</c> is the time left until the window resets, not the whole window every time.</summary>
    [Fact]
    public async Task RetryAfter_IsTheTimeLeftUntilTheWindowResets()
    {
        var agent = await _host.SignInAsync(SecurityTestKit.Tier3);
        var token = await SecurityTestKit.TokenAsync(agent);
        for (var i = 0; i < SensitiveLimit; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await PortalTestHost.PostFormAsync(agent, "/console/lookup", token, ("login", SecurityTestKit.Alice))).StatusCode);
        }

        // The window (an hour here) opened with the first look-up; 20 minutes on, 40 are left.
        _host.Clock.Advance(TimeSpan.FromMinutes(20));
        var refused = await PortalTestHost.PostFormAsync(agent, "/console/lookup", token, ("login", SecurityTestKit.Alice));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(TimeSpan.FromMinutes(40), refused.Headers.RetryAfter?.Delta);

        // A page view 20 minutes later keeps the session from idling out (the console is not a limited route).
        _host.Clock.Advance(TimeSpan.FromMinutes(20));
        Assert.Equal(HttpStatusCode.OK, (await agent.GetAsync("/console")).StatusCode);
        _host.Clock.Advance(TimeSpan.FromMinutes(20) - TimeSpan.FromSeconds(1));
        var lastSecond = await PortalTestHost.PostFormAsync(agent, "/console/lookup", token, ("login", SecurityTestKit.Alice));
        Assert.Equal(HttpStatusCode.TooManyRequests, lastSecond.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), lastSecond.Headers.RetryAfter?.Delta);

        // When it says: the window has reset and the look-up is served.
        _host.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await PortalTestHost.PostFormAsync(agent, "/console/lookup", token, ("login", SecurityTestKit.Alice))).StatusCode);
    }

    [Fact]
    public async Task SensitiveLimit_IsPerAgent_AnotherAgentUnaffected()
    {
        var first = await _host.SignInAsync(SecurityTestKit.Tier3);
        var second = await _host.SignInAsync(SecurityTestKit.Tier2);
        var firstToken = await SecurityTestKit.TokenAsync(first);
        for (var i = 0; i < SensitiveLimit; i++)
        {
            // Every request up to the limit is served: the limit is not lower than its setting.
            Assert.Equal(HttpStatusCode.OK, (await PortalTestHost.PostFormAsync(first, "/console/lookup", firstToken, ("login", SecurityTestKit.Alice))).StatusCode);
        }

        var firstAgain = await PortalTestHost.PostFormAsync(first, "/console/lookup", firstToken, ("login", SecurityTestKit.Alice));
        var secondResponse = await PortalTestHost.PostFormAsync(second, "/console/lookup", await SecurityTestKit.TokenAsync(second), ("login", SecurityTestKit.Alice));

        Assert.Equal(HttpStatusCode.TooManyRequests, firstAgain.StatusCode);
        Assert.Equal(HttpStatusCode.OK, secondResponse.StatusCode);
    }

    [Fact]
    public async Task VerificationAndActionPosts_CountAgainstTheSensitiveLimit()
    {
        var agent = await _host.SignInAsync(SecurityTestKit.Tier3);
        var token = await SecurityTestKit.TokenAsync(agent);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i <= SensitiveLimit; i++)
        {
            var path = i % 2 == 0 ? "/actions/unlock" : "/verification/totp";
            var posted = await PortalTestHost.PostFormAsync(agent, path, token, ("verificationId", AppRoute.SampleId), ("callerRef", "x"), ("code", "1"));
            statuses.Add((await PortalTestHost.FollowSeeOtherAsync(agent, posted, "/actions/result/")).StatusCode);
        }

        // Before the limit each request reaches its handler: refused for its own reasons (no verification, bad form), never 429.
        Assert.All(statuses.Take(SensitiveLimit), s => Assert.True(s is HttpStatusCode.Forbidden or HttpStatusCode.UnprocessableEntity, $"got {(int)s}"));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
    }

    [Fact]
    public async Task ClientAddress_OverItsLimit_429_OtherAddressUnaffected()
    {
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? last = null;
        for (var i = 0; i <= AddressLimit; i++)
        {
            last = await GetFromAsync("203.0.113.7", "/account/signin");
            statuses.Add(last.StatusCode);
        }

        var other = await GetFromAsync("198.51.100.9", "/account/signin");

        Assert.All(statuses.Take(AddressLimit), s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(StatusCodes.Status429TooManyRequests, (int)last!.StatusCode);
        Assert.True(last.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public void EndpointTable_EveryVerificationActionAndLookupRoute_IsCountedAsReachingTheIdp()
    {
        var routes = SecurityTestKit.Routes(_host);
        var sensitive = routes.Where(r => r.Method == "POST" && (r.Template.TrimStart('/').StartsWith("verification/", StringComparison.Ordinal)
            || r.Template.TrimStart('/').StartsWith("actions/", StringComparison.Ordinal)
            || r.Template.TrimStart('/') == "console/lookup")).ToList();

        // The posts that call the IdP: push, Entra push, TOTP, step-up, poll, the five actions and the look-up.
        Assert.True(sensitive.Count >= 11, $"Expected the verification, action and look-up posts, found {sensitive.Count}.");
        Assert.All(sensitive, r => Assert.NotNull(r.Endpoint.Metadata.GetMetadata<IdpRouteMetadata>()));
        Assert.All(routes.Except(sensitive), r => Assert.Null(r.Endpoint.Metadata.GetMetadata<IdpRouteMetadata>()));
    }

    private async Task<HttpResponseMessage> GetFromAsync(string address, string path)
    {
        var context = await _host.Factory.Server.SendAsync(c =>
        {
            c.Request.Scheme = "https";
            c.Request.Host = new HostString("localhost");
            c.Request.Method = "GET";
            c.Request.Path = path;
            c.Connection.RemoteIpAddress = System.Net.IPAddress.Parse(address);
        });
        var response = new HttpResponseMessage((HttpStatusCode)context.Response.StatusCode);
        if (context.Response.Headers.RetryAfter.Count > 0)
        {
            response.Headers.TryAddWithoutValidation("Retry-After", context.Response.Headers.RetryAfter.ToString());
        }

        return response;
    }
}
