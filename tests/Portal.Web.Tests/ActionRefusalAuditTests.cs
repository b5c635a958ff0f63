using System.Net;
using System.Text.Json.Nodes;
using Portal.Web.Tests.Security;

namespace Portal.Web.Tests;

/// <summary>
/// A refused action leaves an audit record with the outcome and the reason an auditor needs (D3, V5): here, a
/// verification used twice for the same action.
/// </summary>
public sealed class ActionRefusalAuditTests : IClassFixture<ActionRefusalAuditTests.Host>
{
    private readonly PortalTestHost _host;

    public ActionRefusalAuditTests(Host fixture) => _host = fixture.Portal;

    /// <summary>A tenant with a privileged group, so that every action first asks the IdP for the caller's groups.</summary>
    public sealed class Host : IAsyncLifetime
    {
        public Host() => Portal.Settings["Portal:Tenants:0:PrivilegedGroups:0"] = "Okta Administrators";

        public PortalTestHost Portal { get; } = new();

        public Task InitializeAsync() => Portal.InitializeAsync();

        public Task DisposeAsync() => Portal.DisposeAsync();
    }

    [Fact]
    public async Task SameActionTwice_SecondDeniedAndAuditedAsVerificationUsed()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(SecurityTestKit.Tier3));
        var id = ConsoleDriver.VerificationId(await agent.VerifyByPushAsync(SecurityTestKit.Alice));
        var revokedBefore = _host.Emulator.State.FindCaller(SecurityTestKit.Alice)!.SessionsRevoked;

        Assert.Equal(HttpStatusCode.OK, (await agent.ActAsync("revoke-sessions", id)).StatusCode);
        var second = await agent.ActAsync("revoke-sessions", id);

        Assert.Equal(HttpStatusCode.Forbidden, second.StatusCode);
        Assert.Equal(1, _host.Emulator.State.FindCaller(SecurityTestKit.Alice)!.SessionsRevoked - revokedBefore);
        var records = await RecordsAsync("action.sessions_revoke");
        var used = Assert.Single(records, r => (string?)r["reason"] == "verification_used");
        Assert.Equal("denied", (string?)used["outcome"]);
        Assert.NotNull(used["completedAt"]);
    }

    private async Task<List<JsonObject>> RecordsAsync(string action) =>
        [.. (await SecurityTestKit.AuditAsync(_host)).Where(d => (string?)d["action"] == action)];
}
