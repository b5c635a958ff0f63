using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Portal.Web.Platform;
using Portal.Web.Tenancy;

namespace Portal.Web.Tests;

/// <summary>The client address behind trusted proxies, and CIDR matching (docs/security-requirements.md A4).</summary>
public sealed class IpAllowListRulesTests
{
    [Theory]
    [InlineData(1, "203.0.113.7", "203.0.113.7")]
    [InlineData(1, "198.51.100.1, 203.0.113.7", "203.0.113.7")]
    [InlineData(2, "203.0.113.7, 35.191.0.1", "203.0.113.7")]
    [InlineData(2, "10.0.0.1, 203.0.113.7, 35.191.0.1", "203.0.113.7")]
    [InlineData(1, "203.0.113.7:51000", "203.0.113.7")]
    [InlineData(1, "[2001:db8::5]:443", "2001:db8::5")]
    [InlineData(1, "2001:db8::5", "2001:db8::5")]
    public void Resolve_TrustedHops_TakesTheEntryTheOutermostTrustedProxyWrote(int hops, string header, string expected)
    {
        var address = ClientAddressResolver.Resolve(IPAddress.Parse("169.254.1.1"), [header], hops);

        Assert.Equal(IPAddress.Parse(expected), address);
    }

    [Fact]
    public void Resolve_NoProxy_UsesTheSocketAndIgnoresTheHeader()
    {
        var address = ClientAddressResolver.Resolve(IPAddress.Parse("::ffff:192.0.2.9"), ["203.0.113.7"], 0);

        Assert.Equal(IPAddress.Parse("192.0.2.9"), address);
    }

    [Theory]
    [InlineData(2, "203.0.113.7")]
    [InlineData(1, "")]
    [InlineData(1, "not-an-address")]
    public void Resolve_FewerEntriesThanProxiesOrGarbage_IsUnknown(int hops, string header)
    {
        Assert.Null(ClientAddressResolver.Resolve(IPAddress.Loopback, [header], hops));
    }

    [Theory]
    [InlineData("203.0.113.0/24", "203.0.113.200", true)]
    [InlineData("203.0.113.0/24", "203.0.114.1", false)]
    [InlineData("2001:db8::/48", "2001:db8:0:ffff::1", true)]
    [InlineData("2001:db8::/48", "2001:db9::1", false)]
    [InlineData("203.0.113.0/24", "::ffff:203.0.113.5", true)]
    public void Allows_Cidr_MatchesIPv4AndIPv6(string network, string address, bool expected)
    {
        Assert.Equal(expected, IpAllowListRules.Allows([network], IPAddress.Parse(address)));
    }

    [Fact]
    public void Allows_EmptyListAllowsAll_ListWithUnknownAddressDenies()
    {
        Assert.True(IpAllowListRules.Allows([], null));
        Assert.True(IpAllowListRules.Allows([], IPAddress.Parse("198.51.100.1")));
        Assert.False(IpAllowListRules.Allows(["198.51.100.0/24"], null));
    }

    [Theory]
    [InlineData("203.0.113.0/24", true)]
    [InlineData("2001:db8::/48", true)]
    [InlineData("203.0.113.5/24", false)]
    [InlineData("203.0.113.5", false)]
    [InlineData("example.com/24", false)]
    public void TryParseNetwork_StrictCidr(string text, bool expected)
    {
        Assert.Equal(expected, IpAllowListRules.TryParseNetwork(text, out _));
    }
}

/// <summary>The allow-list end to end: edited by the tenant admin, enforced on agents' requests and on the sign-in callback.</summary>
public sealed class IpAllowListTests : IAsyncLifetime
{
    private const string AdminAddress = "203.0.113.7";
    private const string OutsideAddress = "198.51.100.9";
    private readonly PortalTestHost _host = new();

    public Task InitializeAsync()
    {
        _host.Settings["Portal:Web:TrustedProxyHops"] = "1";
        return _host.InitializeAsync();
    }

    public Task DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task Save_ListWithoutOwnAddress_RefusedAsLockout()
    {
        var admin = await SignInFromAsync(TenancyTestKit.Admin, AdminAddress);
        var page = await (await admin.GetAsync("/admin/ip-allowlist")).Content.ReadAsStringAsync();
        Assert.Contains($"data-field=\"current-address\">{AdminAddress}<", page, StringComparison.Ordinal);

        var refused = await TenancyTestKit.PostAsync(admin, "/admin/ip-allowlist", "/admin/ip-allowlist", ("networks", "198.51.100.0/24"));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        Assert.Empty(Tenant().IpAllowList);
        Assert.Contains(await TenancyTestKit.AuditAsync(_host), d => (string)d["action"]! == "admin.ip_allowlist" && (string)d["outcome"]! == "denied" && (string)d["reason"]! == "ip_lockout");
    }

    [Fact]
    public async Task Enforce_AllowedDeniedIPv6AndSpoofedHeader()
    {
        var admin = await SignInFromAsync(TenancyTestKit.Admin, AdminAddress);
        var tier3 = await SignInFromAsync(TenancyTestKit.Tier3, AdminAddress);
        var saved = await TenancyTestKit.PostAsync(admin, "/admin/ip-allowlist", "/admin/ip-allowlist", ("networks", "203.0.113.0/24\n2001:db8::/48"));
        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        Assert.Equal(["203.0.113.0/24", "2001:db8::/48"], Tenant().IpAllowList);

        Assert.Equal(HttpStatusCode.OK, (await TenancyTestKit.From(tier3, "203.0.113.99").GetAsync("/console")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await TenancyTestKit.From(tier3, "2001:db8:0:42::1").GetAsync("/console")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await TenancyTestKit.From(tier3, OutsideAddress).GetAsync("/console")).StatusCode);

        // The client prepends an allowed address; Cloud Run appends the real one, which is the one read.
        Assert.Equal(HttpStatusCode.Forbidden, (await TenancyTestKit.From(tier3, AdminAddress + ", " + OutsideAddress).GetAsync("/console")).StatusCode);

        var denials = (await TenancyTestKit.AuditAsync(_host)).Where(d => (string)d["action"]! == "access.ip_denied").ToList();
        Assert.Equal(2, denials.Count);
        Assert.All(denials, d => Assert.Equal("198.51.100.0/24", (string)d["clientNet"]!));
    }

    [Fact]
    public async Task SignInCallback_FromOutsideTheList_RefusedBeforeASessionStarts()
    {
        var admin = await SignInFromAsync(TenancyTestKit.Admin, AdminAddress);
        Assert.Equal(HttpStatusCode.OK, (await TenancyTestKit.PostAsync(admin, "/admin/ip-allowlist", "/admin/ip-allowlist", ("networks", "203.0.113.0/24"))).StatusCode);

        var outsider = TenancyTestKit.From(_host.NewClient(), OutsideAddress);
        var callback = await _host.SignInCallbackAsync(PortalTestHost.TenantId, TenancyTestKit.Tier3, outsider);

        Assert.Equal(HttpStatusCode.Forbidden, callback.StatusCode);
        var audit = await TenancyTestKit.AuditAsync(_host);
        Assert.Contains(audit, d => (string)d["action"]! == "access.ip_denied" && (string)d["reason"]! == "signin_callback");
        Assert.Single(audit, d => (string)d["action"]! == "agent.signin");
    }

    /// <summary>F3: the OIDC handler matches its path case-insensitively, so the allow-list must find the tenant the same way.</summary>
    [Fact]
    public async Task SignInCallback_CaseVariantTenantFromOutsideTheList_RefusedBeforeASessionStarts()
    {
        var admin = await SignInFromAsync(TenancyTestKit.Admin, AdminAddress);
        Assert.Equal(HttpStatusCode.OK, (await TenancyTestKit.PostAsync(admin, "/admin/ip-allowlist", "/admin/ip-allowlist", ("networks", "203.0.113.0/24"))).StatusCode);

        var outsider = TenancyTestKit.From(_host.NewClient(), OutsideAddress);
        var callback = await _host.SignInCallbackAsync(PortalTestHost.TenantId, TenancyTestKit.Tier3, outsider, p => p.ToUpperInvariant());

        Assert.Equal(HttpStatusCode.Forbidden, callback.StatusCode);
        var audit = await TenancyTestKit.AuditAsync(_host);
        Assert.Contains(audit, d => (string)d["action"]! == "access.ip_denied" && (string)d["reason"]! == "signin_callback");
        Assert.Single(audit, d => (string)d["action"]! == "agent.signin");
    }

    /// <summary>F3: a callback for a tenant that is not configured is refused, never handed on unchecked.</summary>
    [Fact]
    public async Task SignInCallback_UnknownTenant_Refused()
    {
        var response = await TenancyTestKit.From(_host.NewClient(), OutsideAddress).GetAsync("/signin-oidc/no-such-tenant?code=x&state=y");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task EmptyList_AllowsEveryAddress()
    {
        var tier3 = await SignInFromAsync(TenancyTestKit.Tier3, OutsideAddress);

        Assert.Equal(HttpStatusCode.OK, (await tier3.GetAsync("/console")).StatusCode);
    }

    private async Task<HttpClient> SignInFromAsync(string agent, string address) =>
        await _host.SignInAsync(agent, TenancyTestKit.From(_host.NewClient(), address));

    private TenantSettings Tenant() => _host.Factory.Services.GetRequiredService<ITenantCatalog>().Find(PortalTestHost.TenantId)!;
}
