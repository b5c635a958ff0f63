using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Portal.Web.Tests.Security;

/// <summary>F8 (no Server header) and F9 (a state-changing request marked cross-site by the browser is refused), docs/security-requirements.md H2, S4.</summary>
public sealed class CrossSiteAndServerHeaderTests(PortalHostFixture fixture) : IClassFixture<PortalHostFixture>, IAsyncLifetime
{
    // One portal serves the class; a test reads only the audit records it wrote.
    private readonly PortalTestHost _host = fixture.Portal;
    private StoreMark? _mark;

    public async Task InitializeAsync() =>
        _mark = await StoreMark.TakeAsync(_host.Store, Portal.Storage.CollectionPath.ForTenant(PortalTestHost.TenantId, "audit"));

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public void Kestrel_SendsNoServerHeader()
    {
        // The test server has no Kestrel; what Kestrel is told decides what it writes on every response, its own 400s included.
        Assert.False(_host.Factory.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.AddServerHeader);
    }

    [Theory]
    [InlineData("Origin", "https://evil.example", "cross_site_origin")]
    [InlineData("Origin", "null", "cross_site_origin")]
    [InlineData("Sec-Fetch-Site", "cross-site", "cross_site_fetch")]
    [InlineData("Sec-Fetch-Site", "same-site", "cross_site_fetch")]
    public async Task CrossSitePost_WithAValidToken_RefusedAndAudited(string header, string value, string reason)
    {
        var agent = await _host.SignInAsync(SecurityTestKit.Tier3);
        var token = await SecurityTestKit.TokenAsync(agent);
        var idpCalls = _host.Emulator.State.Requests.Count;

        using var request = new HttpRequestMessage(HttpMethod.Post, "/console/lookup")
        {
            Content = new FormUrlEncodedContent([new("login", SecurityTestKit.Alice), new("__RequestVerificationToken", token)]),
        };
        request.Headers.TryAddWithoutValidation(header, value);
        var response = await agent.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(idpCalls, _host.Emulator.State.Requests.Count);
        var record = Assert.Single((await _mark!.SinceAsync(Portal.Storage.CollectionPath.ForTenant(PortalTestHost.TenantId, "audit"))).Select(d => d.Data), d => (string)d["action"]! == "access.cross_site");
        Assert.Equal("denied", (string)record["outcome"]!);
        Assert.Equal(reason, (string)record["reason"]!);
    }

    [Theory]
    [InlineData("https://localhost")]
    [InlineData("null")] // what Chromium sends on a same-origin form POST under the portal's Referrer-Policy: no-referrer
    public async Task SameOriginPost_FromTheBrowser_Accepted(string origin)
    {
        var agent = await _host.SignInAsync(SecurityTestKit.Tier3);
        var token = await SecurityTestKit.TokenAsync(agent);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/console/lookup")
        {
            Content = new FormUrlEncodedContent([new("login", SecurityTestKit.Alice), new("__RequestVerificationToken", token)]),
        };
        request.Headers.TryAddWithoutValidation("Origin", origin);
        request.Headers.TryAddWithoutValidation("Sec-Fetch-Site", "same-origin");

        Assert.Equal(HttpStatusCode.OK, (await agent.SendAsync(request)).StatusCode);
    }
}
