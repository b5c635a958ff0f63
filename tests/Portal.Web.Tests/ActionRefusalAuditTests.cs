using System.Net;
using System.Text.Json.Nodes;
using Portal.Web.Tests.Security;

namespace Portal.Web.Tests;

/// <summary>
/// A refused action leaves an audit record with the outcome and the reason an auditor needs (D3, V5, V7): a
/// verification used twice for the same action, and one used at the instant it ends.
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

    [Fact]
    public async Task Verification_OneTickBeforeItsTenMinutesActs_AtTenMinutesRefusedAndAudited()
    {
        // The other tests of this host pushed to the same caller: their pushes leave the push window first.
        _host.Clock.Advance(TimeSpan.FromMinutes(10));
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(SecurityTestKit.Tier3));
        var early = ConsoleDriver.VerificationId(await agent.VerifyByPushAsync(SecurityTestKit.Alice));
        _host.Clock.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromTicks(1));
        var revokedBefore = _host.Emulator.State.FindCaller(SecurityTestKit.Alice)!.SessionsRevoked;
        Assert.Equal(HttpStatusCode.OK, (await agent.ActAsync("revoke-sessions", early)).StatusCode);
        Assert.Equal(revokedBefore + 1, _host.Emulator.State.FindCaller(SecurityTestKit.Alice)!.SessionsRevoked);

        var late = ConsoleDriver.VerificationId(await agent.VerifyByPushAsync(SecurityTestKit.Alice));
        _host.Clock.Advance(TimeSpan.FromMinutes(10));
        var refused = await agent.ActAsync("unlock", late);

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(revokedBefore + 1, _host.Emulator.State.FindCaller(SecurityTestKit.Alice)!.SessionsRevoked);

        // At the instant it ends the store no longer returns the verification: the action is refused as having none.
        var denied = Assert.Single(await RecordsAsync("action.account_unlock"));
        Assert.Equal("denied", (string?)denied["outcome"]);
        Assert.Equal("no_verification", (string?)denied["reason"]);
    }

    private async Task<List<JsonObject>> RecordsAsync(string action) =>
        [.. (await SecurityTestKit.AuditAsync(_host)).Where(d => (string?)d["action"] == action)];
}
