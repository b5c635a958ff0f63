using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.WebUtilities;
using Portal.Web.Platform;

namespace Portal.Web.Tests;

/// <summary>The scheme half of the one forwarded-headers resolver.</summary>
public sealed class ForwardedSchemeTests
{
    [Theory]
    [InlineData(0, "http", "https", "http")]
    [InlineData(1, "http", "https", "https")]
    [InlineData(1, "http", "", "http")]
    [InlineData(1, "http", "gopher", "http")]
    [InlineData(2, "http", "https", "https")]
    [InlineData(2, "http", "http, https, https", "https")]
    [InlineData(1, "http", "https, http", "http")]
    public void ResolveScheme_TakesTheTrustedProxysValue(int hops, string connection, string header, string expected)
    {
        Assert.Equal(expected, ClientAddressResolver.ResolveScheme(connection, [header], hops));
    }
}

/// <summary>
/// Behind an external load balancer and Cloud Run's front end (two trusted hops), with the public base URL
/// set: the client address and scheme come from the proxies, and only from them, for every consumer.
/// </summary>
public sealed class ForwardedRequestTests : IAsyncLifetime
{
    private const string LoadBalancer = "35.191.0.1";
    private readonly PortalTestHost _host = new() { WithSecondTenant = true };

    public Task InitializeAsync()
    {
        _host.Settings["Portal:Web:TrustedProxyHops"] = "2";
        _host.Settings["Portal:Web:PublicBaseUrl"] = "https://localhost";
        _host.Settings["Portal:Web:RateLimits:AddressPermitLimit"] = "25";
        return _host.InitializeAsync();
    }

    public Task DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task SignIn_BehindTheTlsFront_RedirectUriIsHttpsAndTheSecureAntiforgeryCookieWorks()
    {
        var browser = BehindProxy("203.0.113.10, " + LoadBalancer, "https");

        var page = await browser.GetAsync("/account/signin");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);

        var challenge = await browser.GetAsync($"/account/signin/{PortalTestHost.TenantId}");
        Assert.Equal(HttpStatusCode.Redirect, challenge.StatusCode);
        var query = QueryHelpers.ParseQuery(challenge.Headers.Location!.Query);
        Assert.Equal($"https://localhost/signin-oidc/{PortalTestHost.TenantId}", query["redirect_uri"].ToString());
        Assert.Contains(challenge.Headers.GetValues("Set-Cookie"), c => c.Contains("secure", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task PlainHttpAtTheFront_RedirectsToThePublicHttpsOrigin()
    {
        var browser = BehindProxy("203.0.113.11, " + LoadBalancer, "http");

        var response = await browser.GetAsync("/account/signin?x=1");

        Assert.Equal(HttpStatusCode.PermanentRedirect, response.StatusCode);
        Assert.Equal("https://localhost/account/signin?x=1", response.Headers.Location!.ToString());
    }

    [Theory]
    [InlineData("evil.example")]
    [InlineData("localhost:8443")]
    [InlineData("localhost.evil.example")]
    public async Task ForeignHost_IsRefusedAndNeverReflected(string host)
    {
        var browser = BehindProxy("203.0.113.12, " + LoadBalancer, "https");
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/account/signin/{PortalTestHost.TenantId}");
        request.Headers.Host = host;

        var response = await browser.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("evil", body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("8443", body, StringComparison.Ordinal);
        Assert.DoesNotContain(_host.LogLines, l => l.Contains("evil", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task AllowList_AtTwoHops_SpoofedLeftEntriesNeverCount()
    {
        const string tenant = PortalTestHost.SecondTenantId;
        var admin = await _host.SignInToAsync(tenant, TenancyTestKit.Admin, TenancyTestKit.From(_host.NewClient(), "203.0.113.7, " + LoadBalancer));
        var saved = await TenancyTestKit.PostAsync(admin, "/admin/ip-allowlist", "/admin/ip-allowlist", ("networks", "203.0.113.0/24"));
        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);

        var tier3 = await _host.SignInToAsync(tenant, TenancyTestKit.Tier3, TenancyTestKit.From(_host.NewClient(), "203.0.113.50, " + LoadBalancer));
        Assert.Equal(HttpStatusCode.OK, (await tier3.GetAsync("/console")).StatusCode);

        // Outside the list; then the same client prepending an allowed address, at one and at two entries' depth.
        Assert.Equal(HttpStatusCode.Forbidden, (await TenancyTestKit.From(tier3, "198.51.100.9, " + LoadBalancer).GetAsync("/console")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await TenancyTestKit.From(tier3, "203.0.113.7, 198.51.100.9, " + LoadBalancer).GetAsync("/console")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await TenancyTestKit.From(tier3, "203.0.113.7, 203.0.113.8, 198.51.100.9, " + LoadBalancer).GetAsync("/console")).StatusCode);

        // Fewer entries than hops: not through both proxies, so unknown, and refused.
        Assert.Equal(HttpStatusCode.Forbidden, (await TenancyTestKit.From(tier3, "203.0.113.7").GetAsync("/console")).StatusCode);

        // The audit records the resolved client network, not the proxy's and not the spoofed one.
        var denials = (await TenancyTestKit.AuditAsync(_host, tenant)).Where(d => (string)d["action"]! == "access.ip_denied").ToList();
        Assert.Equal(4, denials.Count);
        Assert.Equal(3, denials.Count(d => (string?)d["clientNet"] == "198.51.100.0/24"));
        var signIns = (await TenancyTestKit.AuditAsync(_host, tenant)).Where(d => (string)d["action"]! == "agent.signin").ToList();
        Assert.All(signIns, d => Assert.Equal("203.0.113.0/24", (string?)d["clientNet"]));
    }

    [Fact]
    public async Task ApiKeyRequests_AuditedWithTheResolvedClientNetwork_NeitherTheProxysNorASpoofedOne()
    {
        // ApiKeyAuthentication.EntryFor reads the connection's address, which the first step of the pipeline has made
        // the trusted proxies' client, as for every other record.
        var api = BehindProxy("198.51.100.99, 203.0.113.41, " + LoadBalancer, "https");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/tenants/" + PortalTestHost.TenantId + "/audit");
        request.Headers.Add("X-Api-Key", "portal_ak_short");

        Assert.Equal(HttpStatusCode.Unauthorized, (await api.SendAsync(request)).StatusCode);

        var refusal = Assert.Single(await TenancyTestKit.AuditAsync(_host), d => (string)d["action"]! == "api.access");
        Assert.Equal("203.0.113.0/24", (string?)refusal["clientNet"]);
    }

    [Fact]
    public async Task RateLimit_CountsTheResolvedAddress_SpoofedEntriesDoNotOpenNewPartitions()
    {
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 30; i++)
        {
            var browser = BehindProxy($"10.9.{i}.1, 192.0.2.77, {LoadBalancer}", "https");
            statuses.Add((await browser.GetAsync("/account/signin")).StatusCode);
        }

        Assert.Equal(25, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(5, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.Equal(HttpStatusCode.OK, (await BehindProxy("192.0.2.78, " + LoadBalancer, "https").GetAsync("/account/signin")).StatusCode);
    }

    [Fact]
    public async Task CloudTraceContext_OnlyHeader_IsTheRequestsTrace()
    {
        var browser = BehindProxy("203.0.113.13, " + LoadBalancer, "https");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/error/404");
        request.Headers.TryAddWithoutValidation("X-Cloud-Trace-Context", "4bf92f3577b34da6a3ce929d0e0e4736/12345;o=1");

        var page = await (await browser.SendAsync(request)).Content.ReadAsStringAsync();

        // The error page shows the request id, which is the trace id.
        Assert.Contains("4bf92f3577b34da6a3ce929d0e0e4736", page, StringComparison.Ordinal);
    }

    /// <summary>A browser as the portal's container sees it: plain http from the front end, with its forwarded headers.</summary>
    private HttpClient BehindProxy(string forwardedFor, string forwardedProto)
    {
        var client = _host.Factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, BaseAddress = new Uri("http://localhost") });
        client.DefaultRequestHeaders.TryAddWithoutValidation("X-Forwarded-For", forwardedFor);
        client.DefaultRequestHeaders.TryAddWithoutValidation("X-Forwarded-Proto", forwardedProto);
        return client;
    }
}
