using System.Net;
using System.Text.Json.Nodes;
using Portal.IdpEmulator;
using Portal.Storage;

namespace Portal.Web.Tests;

/// <summary>
/// ID verification through Okta (docs/recovery.md), over HTTP against the emulator: the caller goes through the
/// identity verification their organisation set up at Okta, and the portal reads the result Okta records in its System
/// Log for this caller since the agent started. Okta's pass opens a temporary access code (never a password reset) and
/// the caller is told; a failed verification ends it and counts; a pass before the start, or another caller's, counts
/// for nothing; an account closed meanwhile is not recovered; twenty minutes without a result time it out.
/// </summary>
/// <remarks>
/// One portal serves the class: each test has its own caller and agent and reads only the records written since it
/// began. The demo Okta tenant turns ID verification on (the test host's first tenant starts from it).
/// </remarks>
public sealed class IdVerificationTests(PortalHostFixture fixture) : IClassFixture<PortalHostFixture>, IAsyncLifetime
{
    private readonly PortalTestHost _host = fixture.Portal;
    private readonly string _agent = TestPeople.NewAgent(fixture.Portal.Emulator.State, "Helpdesk Tier 3");
    private StoreMark? _mark;

    private EmulatorState Idp => _host.Emulator.State;

    public async Task InitializeAsync() => _mark = await StoreMark.TakeAsync(_host.Store, Audit, Pending);

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task LostPhone_IdVerifiedAtOkta_TemporaryAccessCodeOnly_CallerTold()
    {
        var caller = TestPeople.NewCaller(Idp, push: true);
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_agent));
        var page = await agent.LookupAsync(caller);
        var form = System.Net.WebUtility.HtmlDecode(ConsoleDriver.FormFor(page, "/verification/idv"));
        Assert.Contains("Your organisation accepts it for: Issue temporary access code.", form, StringComparison.Ordinal);

        var pending = await StartAsync(agent, page);
        var waiting = System.Net.WebUtility.HtmlDecode(await agent.GetPageAsync(pending));
        Assert.Contains("data-poll-seconds=\"10\"", waiting, StringComparison.Ordinal);
        Assert.Contains("Forgot password?", waiting, StringComparison.Ordinal);
        Assert.Equal(("Waiting", null), await PollAsync(agent, pending));
        Assert.Empty(Idp.PendingPushes(caller));

        Idp.VerifyIdentity(caller, passed: true);
        var (state, next) = await PollAsync(agent, pending);
        Assert.Equal("Approved", state);
        Assert.StartsWith("/verification/session/", next, StringComparison.Ordinal);
        Assert.Contains("ID verification through Okta (recovery)", await agent.GetPageAsync(next!), StringComparison.Ordinal);

        var id = ConsoleDriver.VerificationId(next!);
        Assert.Equal(HttpStatusCode.Forbidden, (await agent.ActAsync("password-reset", id, ("kind", "OneTimeLink"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await agent.ActAsync("revoke-sessions", id)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await agent.ActAsync("temporary-access", id)).StatusCode);
        Assert.Equal(1, Idp.FindCaller(caller)!.TemporaryAccessCodesIssued);
        Assert.Single(Idp.Mailbox.To(Idp.FindCaller(caller)!.Email));

        var audit = await AuditAsync();
        Assert.Equal("succeeded", (string)Assert.Single(audit, d => (string)d["action"]! == "verification.idv.start")["outcome"]!);
        var result = Assert.Single(audit, d => (string)d["action"]! == "verification.idv.result");
        Assert.Equal(("succeeded", "approved"), ((string)result["outcome"]!, (string)result["reason"]!));
        var done = Assert.Single(audit, d => (string)d["action"]! == "action.tap_issue" && (string)d["outcome"]! == "succeeded");
        Assert.Equal(Portal.Idp.VerificationMethods.RecoveryIdVerification, (string)done["method"]!);
    }

    [Fact]
    public async Task NotVerified_Ended_CountedAgainstTheCaller_ALaterPassDoesNotUndoIt()
    {
        var caller = TestPeople.NewCaller(Idp, push: true);
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_agent));
        var pending = await StartAsync(agent, await agent.LookupAsync(caller));

        Idp.VerifyIdentity(caller, passed: false);
        _host.Clock.Advance(TimeSpan.FromSeconds(30));
        Idp.VerifyIdentity(caller, passed: true);
        Assert.Equal(("Rejected", null), await PollAsync(agent, pending));
        Assert.Contains("did not pass", System.Net.WebUtility.HtmlDecode(await agent.GetPageAsync(pending)), StringComparison.Ordinal);
        var result = Assert.Single(await AuditAsync(), d => (string)d["action"]! == "verification.idv.result");
        Assert.Equal(("failed", "idv_not_verified"), ((string)result["outcome"]!, (string)result["reason"]!));

        // Each failed verification counts against the caller: four more, and the caller is cooling down.
        for (var i = 0; i < 4; i++)
        {
            // Each attempt starts after the last result: only what Okta records from the start on counts.
            _host.Clock.Advance(TimeSpan.FromSeconds(1));
            var again = await StartAsync(agent, await agent.LookupAsync(caller));
            Idp.VerifyIdentity(caller, passed: false);
            Assert.Equal("Rejected", (await PollAsync(agent, again)).State);
        }

        var page = await agent.LookupAsync(caller);
        Assert.DoesNotContain("action=\"/verification/idv\"", page, StringComparison.Ordinal);
        Assert.Contains("data-code=\"CoolingDown\"", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VendorError_EndedNotVerified_NotCountedAgainstTheCaller()
    {
        var caller = TestPeople.NewCaller(Idp, push: true);
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_agent));

        // Six results that are not Okta's DENY, one past the failure limit: none is the caller failing the check.
        for (var i = 0; i < 6; i++)
        {
            _host.Clock.Advance(TimeSpan.FromSeconds(1));
            var pending = await StartAsync(agent, await agent.LookupAsync(caller));
            Idp.RecordIdentityVerification(caller, "FAILURE", "VENDOR_ERROR");
            Assert.Equal(("Rejected", null), await PollAsync(agent, pending));
            if (i == 0)
            {
                Assert.Contains("ended without a decision", System.Net.WebUtility.HtmlDecode(await agent.GetPageAsync(pending)), StringComparison.Ordinal);
            }
        }

        var results = (await AuditAsync()).Where(d => (string)d["action"]! == "verification.idv.result").ToList();
        Assert.Equal(6, results.Count);
        Assert.All(results, d => Assert.Equal(("failed", "idv_no_decision"), ((string)d["outcome"]!, (string)d["reason"]!)));
        var page = await agent.LookupAsync(caller);
        Assert.DoesNotContain("data-code=\"CoolingDown\"", page, StringComparison.Ordinal);
        Assert.Contains("action=\"/verification/idv\"", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APassBeforeTheStart_AndAnotherCallersPass_CountForNothing_ThenTimedOut()
    {
        var caller = TestPeople.NewCaller(Idp, push: true);
        var someoneElse = TestPeople.NewCaller(Idp, push: true);
        Idp.VerifyIdentity(caller, passed: true);
        _host.Clock.Advance(TimeSpan.FromSeconds(5));
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_agent));
        var pending = await StartAsync(agent, await agent.LookupAsync(caller));

        Idp.VerifyIdentity(someoneElse, passed: true);
        Assert.Equal(("Waiting", null), await PollAsync(agent, pending));

        _host.Clock.Advance(TimeSpan.FromMinutes(21));
        Assert.Equal(("TimedOut", null), await PollAsync(agent, pending));
        var result = Assert.Single(await AuditAsync(), d => (string)d["action"]! == "verification.idv.result");
        Assert.Equal(("failed", "idv_timed_out"), ((string)result["outcome"]!, (string)result["reason"]!));
    }

    [Fact]
    public async Task AccountSuspendedBeforeTheResult_OktasPassVerifiesNothing()
    {
        var caller = TestPeople.NewCaller(Idp, push: true);
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_agent));
        var pending = await StartAsync(agent, await agent.LookupAsync(caller));

        Idp.SetStatus(caller, "SUSPENDED");
        Idp.VerifyIdentity(caller, passed: true);
        Assert.Equal(("Rejected", null), await PollAsync(agent, pending));
        Assert.Contains("account was closed during the ID verification", System.Net.WebUtility.HtmlDecode(await agent.GetPageAsync(pending)), StringComparison.Ordinal);
        var result = Assert.Single(await AuditAsync(), d => (string)d["action"]! == "verification.idv.result");
        Assert.Equal(("failed", "caller_inactive"), ((string)result["outcome"]!, (string)result["reason"]!));
    }

    [Fact]
    public async Task AnotherAgentSession_CannotSeeOrPollIt()
    {
        var caller = TestPeople.NewCaller(Idp, push: true);
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_agent));
        var pending = await StartAsync(agent, await agent.LookupAsync(caller));

        var other = new ConsoleDriver(_host, await _host.SignInAsync(TestPeople.NewAgent(Idp, "Helpdesk Tier 3")));
        Assert.Equal(HttpStatusCode.NotFound, (await other.Browser.GetAsync(pending)).StatusCode);
        Idp.VerifyIdentity(caller, passed: true);
        Assert.Equal("Approved", (await PollAsync(agent, pending)).State);
    }

    [Fact]
    public async Task TwoAgentsAtOnce_TheSecondStartRefusedWhileTheFirstWaits_AttemptGivenBack_AnotherAllowedOnceItEnded()
    {
        var caller = TestPeople.NewCaller(Idp, push: true);
        var first = new ConsoleDriver(_host, await _host.SignInAsync(_agent));
        var second = new ConsoleDriver(_host, await _host.SignInAsync(TestPeople.NewAgent(Idp, "Helpdesk Tier 3")));
        var firstPending = await StartAsync(first, await first.LookupAsync(caller));

        // One check of the real holder at Okta would satisfy two waiting verifications: a second is not started, by
        // another agent or by the same one, and the refusal is not the caller's failure (six, one past the limit).
        foreach (var agent in new[] { second, second, second, first, second, second })
        {
            var refused = await agent.PostStartAsync(await agent.LookupAsync(caller), "/verification/idv", "/verification/idv", "idv");
            Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
            var body = await refused.Content.ReadAsStringAsync();
            Assert.Contains("data-code=\"idv_already_waiting\"", body, StringComparison.Ordinal);
            Assert.Contains("already waiting", System.Net.WebUtility.HtmlDecode(body), StringComparison.Ordinal);
        }

        Assert.DoesNotContain("data-code=\"CoolingDown\"", await second.LookupAsync(caller), StringComparison.Ordinal);
        var starts = (await AuditAsync()).Where(d => (string)d["action"]! == "verification.idv.start").Select(d => (string?)d["reason"]).ToList();
        Assert.Equal(7, starts.Count);
        Assert.Equal(6, starts.Count(r => r == Portal.Web.Verification.Methods.IdVerificationMethod.AlreadyWaiting));

        Idp.VerifyIdentity(caller, passed: true);
        Assert.Equal("Approved", (await PollAsync(first, firstPending)).State);

        // The first has ended: the caller's place is free again.
        _host.Clock.Advance(TimeSpan.FromSeconds(1));
        var secondPending = await StartAsync(second, await second.LookupAsync(caller));
        Assert.Equal(("Waiting", null), await PollAsync(second, secondPending));
    }

    [Fact]
    public async Task PolledAgainAtOnce_OktaIsReadOnce()
    {
        var caller = TestPeople.NewCaller(Idp, push: true);
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_agent));
        var pending = await StartAsync(agent, await agent.LookupAsync(caller));
        Assert.Equal(("Waiting", null), await PollAsync(agent, pending));

        // A pass lands, but a second tab (or "Check now") asks again within the read interval: Okta is not read again.
        Idp.VerifyIdentity(caller, passed: true);
        Assert.Equal(("Waiting", null), await agent.PollAsync(pending));
        Assert.Equal("Approved", (await PollAsync(agent, pending)).State);
    }

    /// <summary>Polls once the read interval has passed since the last read (the page asks every ten seconds).</summary>
    private Task<(string State, string? Next)> PollAsync(ConsoleDriver agent, string pending)
    {
        _host.Clock.Advance(Portal.Web.Verification.Methods.IdVerificationMethod.ReadInterval);
        return agent.PollAsync(pending);
    }

    private static async Task<string> StartAsync(ConsoleDriver agent, string callerPage)
    {
        var started = await agent.PostStartAsync(callerPage, "/verification/idv", "/verification/idv", "idv");
        Assert.Equal(HttpStatusCode.Redirect, started.StatusCode);
        return started.Headers.Location!.OriginalString;
    }

    private static CollectionPath Audit => CollectionPath.ForTenant(PortalTestHost.TenantId, "audit");

    private static CollectionPath Pending => CollectionPath.ForTenant(PortalTestHost.TenantId, "pendingVerifications");

    private async Task<List<JsonObject>> AuditAsync() => [.. (await _mark!.SinceAsync(Audit)).Select(d => d.Data)];
}
