using System.Globalization;
using System.Net;
using Portal.Web.Tests.Security;

namespace Portal.Web.Tests;

/// <summary>
/// The limits of docs/security-requirements.md V2–V5 at their edges, on one clock for the portal and the emulator: each test
/// here fails when its limit is removed or moved, even though the emulator would refuse the same thing.
/// </summary>
public sealed class PushLifetimeTests : IClassFixture<PushLifetimeTests.Host>
{
    private readonly PortalTestHost _host;

    public PushLifetimeTests(Host fixture) => _host = fixture.Portal;

    /// <summary>An emulator whose pushes wait 30 minutes, so only the portal's own ten-minute cap can end one at 10:00.</summary>
    public sealed class Host : IAsyncLifetime
    {
        public PortalTestHost Portal { get; } = new() { EmulatorPushLifetime = TimeSpan.FromMinutes(30) };

        public Task InitializeAsync() => Portal.InitializeAsync();

        public Task DisposeAsync() => Portal.DisposeAsync();
    }

    [Fact]
    public async Task Push_WaitingAt9m59s_TimedOutAt10m00s_ByThePortalsOwnCap()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(SecurityTestKit.Tier3));
        var pending = await agent.StartPushAsync(await agent.LookupAsync(SecurityTestKit.Alice));

        _host.Clock.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromSeconds(1));
        Assert.Equal("Waiting", (await agent.PollAsync(pending)).State);

        _host.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("TimedOut", (await agent.PollAsync(pending)).State);

        // The IdP still waits: the timeout is the portal's (V2), not the emulator's.
        Assert.Single(_host.Emulator.State.PendingPushes(SecurityTestKit.Alice));
        var result = Assert.Single(await SecurityTestKit.AuditAsync(_host), d => (string?)d["action"] == "verification.push.result");
        Assert.Equal("failed", (string?)result["outcome"]);
        Assert.Equal("push_timed_out", (string?)result["reason"]);
    }
}

public sealed class PushLimitTests : IClassFixture<PushLimitTests.Host>
{
    private readonly PortalTestHost _host;

    public PushLimitTests(Host fixture) => _host = fixture.Portal;

    public sealed class Host : IAsyncLifetime
    {
        public PortalTestHost Portal { get; } = new();

        public Task InitializeAsync() => Portal.InitializeAsync();

        public Task DisposeAsync() => Portal.DisposeAsync();
    }

    [Fact]
    public async Task ThreePushesPerTenMinutes_TheFourthRefusedBeforeTheIdp_UntilTheWindowMoves()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(SecurityTestKit.Tier3));
        for (var i = 0; i < 3; i++)
        {
            await agent.StartPushAsync(await agent.LookupAsync(SecurityTestKit.Alice));
            _host.Clock.Advance(TimeSpan.FromMinutes(1));
        }

        Assert.Equal(3, PushesSent());

        // 2 minutes after the third push, 9:59 after the first: the fourth is refused and never reaches the IdP.
        _host.Clock.Advance(TimeSpan.FromMinutes(7) - TimeSpan.FromSeconds(1));
        var fourth = await SendPushAsync(agent);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, fourth.StatusCode);
        Assert.Contains("data-code=\"push_limit\"", await fourth.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(3, PushesSent());
        var denied = Assert.Single(await SecurityTestKit.AuditAsync(_host), d => (string?)d["action"] == "verification.push.start" && (string?)d["outcome"] == "denied");
        Assert.Equal("push_limit", (string?)denied["reason"]);

        // 10:00 after the first push it has left the window: one more may go.
        _host.Clock.Advance(TimeSpan.FromSeconds(1));
        var fifth = await SendPushAsync(agent);
        Assert.Equal(HttpStatusCode.Redirect, fifth.StatusCode);
        Assert.Equal(4, PushesSent());
    }

    private int PushesSent() => _host.Emulator.State.Requests.Count(r => r.Method == "POST" && r.PathAndQuery.EndsWith("/verify", StringComparison.Ordinal) && r.PathAndQuery.Contains("/factors/opf", StringComparison.Ordinal));

    private static async Task<HttpResponseMessage> SendPushAsync(ConsoleDriver agent)
    {
        var page = await agent.LookupAsync(SecurityTestKit.Alice);
        return await PortalTestHost.PostFormAsync(agent.Browser, "/verification/push", PortalTestHost.FormToken(page),
            ("callerRef", PortalTestHost.HiddenValue(page, "callerRef")), ("factorId", PortalTestHost.HiddenValue(page, "factorId")));
    }
}

public sealed class TotpReplayTests : IClassFixture<TotpReplayTests.Host>
{
    private readonly PortalTestHost _host;

    public TotpReplayTests(Host fixture) => _host = fixture.Portal;

    public sealed class Host : IAsyncLifetime
    {
        public PortalTestHost Portal { get; } = new();

        public Task InitializeAsync() => Portal.InitializeAsync();

        public Task DisposeAsync() => Portal.DisposeAsync();
    }

    [Fact]
    public async Task ReplayedCode_RefusedByThePortalItself_TheIdpNeverSeesItTwice()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(SecurityTestKit.Tier3));
        var page = await agent.LookupAsync(SecurityTestKit.Bob);
        var code = _host.Emulator.State.CurrentTotp(SecurityTestKit.Bob);

        var first = await agent.VerifyByTotpAsync(page, code);
        var replayed = await agent.VerifyByTotpAsync(page, code);

        Assert.Equal(HttpStatusCode.Redirect, first.StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, replayed.StatusCode);
        Assert.Contains("data-code=\"code_replayed\"", await replayed.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // V3: the portal's own record of used codes refused it; the IdP was asked once.
        Assert.Equal(1, _host.Emulator.State.Requests.Count(r => r.Method == "POST" && r.PathAndQuery.EndsWith("/verify", StringComparison.Ordinal)));
        var records = (await SecurityTestKit.AuditAsync(_host)).Where(d => (string?)d["action"] == "verification.totp").ToList();
        Assert.Equal(2, records.Count);
        Assert.Single(records, d => (string?)d["outcome"] == "succeeded");
        var refused = Assert.Single(records, d => (string?)d["outcome"] == "alarm");
        Assert.Equal("code_replayed", (string?)refused["reason"]);
    }
}

public sealed class SignOutScopeTests : IClassFixture<SignOutScopeTests.Host>
{
    private readonly PortalTestHost _host;

    public SignOutScopeTests(Host fixture) => _host = fixture.Portal;

    public sealed class Host : IAsyncLifetime
    {
        public PortalTestHost Portal { get; } = new();

        public Task InitializeAsync() => Portal.InitializeAsync();

        public Task DisposeAsync() => Portal.DisposeAsync();
    }

    [Fact]
    public async Task SignOut_EndsOnlyTheVerificationsOfTheAgentWhoSignedOut()
    {
        var leaving = new ConsoleDriver(_host, await _host.SignInAsync(SecurityTestKit.Tier3));
        var staying = new ConsoleDriver(_host, await _host.SignInAsync(SecurityTestKit.Tier2));
        var leavingId = ConsoleDriver.VerificationId(await leaving.VerifyByPushAsync(SecurityTestKit.Alice));
        var stayingVerified = await staying.VerifyByTotpAsync(await staying.LookupAsync(SecurityTestKit.Bob), _host.Emulator.State.CurrentTotp(SecurityTestKit.Bob));
        Assert.Equal(HttpStatusCode.Redirect, stayingVerified.StatusCode);
        var stayingId = ConsoleDriver.VerificationId(stayingVerified.Headers.Location!.OriginalString);

        var token = PortalTestHost.FormToken(await leaving.GetPageAsync("/console"));
        Assert.Equal(HttpStatusCode.OK, (await PortalTestHost.PostFormAsync(leaving.Browser, "/account/signout", token)).StatusCode);

        Assert.Equal(1, await SecurityTestKit.CountAsync(_host, "verificationSessions"));
        var again = new ConsoleDriver(_host, await _host.SignInAsync(SecurityTestKit.Tier3));
        Assert.Equal(HttpStatusCode.Forbidden, (await again.ActAsync("revoke-sessions", leavingId)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await staying.ActAsync("revoke-sessions", stayingId)).StatusCode);
        Assert.Equal(0, _host.Emulator.State.FindCaller(SecurityTestKit.Alice)!.SessionsRevoked);
        Assert.Equal(1, _host.Emulator.State.FindCaller(SecurityTestKit.Bob)!.SessionsRevoked);
    }
}

public sealed class TotalFailureCapTests : IClassFixture<TotalFailureCapTests.Host>
{
    private readonly PortalTestHost _host;

    public TotalFailureCapTests(Host fixture) => _host = fixture.Portal;

    /// <summary>Ten failures per cool-down (the most a tenant may allow), so that a hundred take ten rounds.</summary>
    public sealed class Host : IAsyncLifetime
    {
        public Host()
        {
            Portal.Settings["Portal:Tenants:0:Verification:MaxFailuresBeforeCooldown"] = "10";
            Portal.Settings["Portal:Web:RateLimits:SensitivePermitLimit"] = "100000";
            Portal.Settings["Portal:Web:RateLimits:AgentPermitLimit"] = "100000";
            Portal.Settings["Portal:Web:RateLimits:AddressPermitLimit"] = "100000";
        }

        public PortalTestHost Portal { get; } = new();

        public Task InitializeAsync() => Portal.InitializeAsync();

        public Task DisposeAsync() => Portal.DisposeAsync();
    }

    [Fact]
    public async Task HundredFailures_ThenEveryChallengeAndActionRefused_WhateverTheCooldowns()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(SecurityTestKit.Tier3));

        var failures = 0;
        string? lastForm = null;
        for (var round = 0; round < 10; round++)
        {
            // Past the cool-down of the round before (15 minutes), in one-minute steps so that the agent's session stays alive.
            for (var minute = 0; round > 0 && minute < 16; minute++)
            {
                _host.Clock.Advance(TimeSpan.FromMinutes(1));
                await agent.GetPageAsync("/console");
            }

            var page = await agent.LookupAsync(SecurityTestKit.Bob);
            lastForm = page;
            var current = _host.Emulator.State.CurrentTotp(SecurityTestKit.Bob);
            for (var i = 0; i < 10; i++)
            {
                var wrong = WrongCode(current, (round * 10) + i);
                var failed = await agent.VerifyByTotpAsync(page, wrong);
                Assert.Equal(HttpStatusCode.UnprocessableEntity, failed.StatusCode);
                var body = await failed.Content.ReadAsStringAsync();
                Assert.True(body.Contains("data-code=\"wrong_code\"", StringComparison.Ordinal), $"failure {failures + 1} was refused for another reason");
                failures++;
            }
        }

        Assert.Equal(100, failures);
        for (var minute = 0; minute < 16; minute++)
        {
            _host.Clock.Advance(TimeSpan.FromMinutes(1));
            await agent.GetPageAsync("/console");
        }

        var calls = VerifyCalls();
        // The console offers no way to verify a caller at the cap; the form from before it, posted again, is refused by the server.
        Assert.DoesNotContain("action=\"/verification/totp\"", await agent.LookupAsync(SecurityTestKit.Bob), StringComparison.Ordinal);
        var blocked = await agent.VerifyByTotpAsync(lastForm!, _host.Emulator.State.CurrentTotp(SecurityTestKit.Bob));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, blocked.StatusCode);
        Assert.Contains("data-code=\"failure_limit\"", await blocked.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(calls, VerifyCalls());
        var denied = (await SecurityTestKit.AuditAsync(_host)).Last(d => (string?)d["action"] == "verification.totp" && (string?)d["outcome"] == "denied");
        Assert.Equal("failure_limit", (string?)denied["reason"]);
    }

    private int VerifyCalls() => _host.Emulator.State.Requests.Count(r => r.Method == "POST" && r.PathAndQuery.EndsWith("/verify", StringComparison.Ordinal));

    private static string WrongCode(string current, int n)
    {
        var value = (int.Parse(current, CultureInfo.InvariantCulture) + 1 + n) % 1_000_000;
        return value.ToString("D6", CultureInfo.InvariantCulture);
    }
}
