using System.Net;
using System.Text.Json.Nodes;
using Portal.IdpEmulator;
using Portal.Storage;

namespace Portal.Web.Tests;

/// <summary>
/// Manager approval (docs/recovery.md), over HTTP against the emulator: a caller who lost their phone is verified by
/// their manager's push with number matching; the manager the IdP names, never one the caller gives; refused for no
/// manager, the caller as their own manager, a manager without a push or under alarm; the manager's rejection is an
/// alarm on the caller; the verification opens a temporary access code and never a password reset.
/// </summary>
/// <remarks>
/// One portal serves the class: each test has its own caller, manager and agent, and reads only the audit records
/// written since it began. The demo tenant turns manager approval on (the test host's first tenant starts from it).
/// </remarks>
public sealed class ManagerApprovalTests(PortalHostFixture fixture) : IClassFixture<PortalHostFixture>, IAsyncLifetime
{
    private readonly PortalTestHost _host = fixture.Portal;
    private readonly string _agent = TestPeople.NewAgent(fixture.Portal.Emulator.State, "Helpdesk Tier 3");
    private StoreMark? _mark;

    private EmulatorState Idp => _host.Emulator.State;

    public async Task InitializeAsync() => _mark = await StoreMark.TakeAsync(_host.Store, Audit);

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task LostPhone_ManagerApprovesOnTheirDevice_CallerVerified_TemporaryAccessIssued_PasswordResetNot()
    {
        var (caller, manager) = TestPeople.NewManagedCaller(Idp);
        Idp.SetWorkPhone(manager, "+1 555 0100 177");
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_agent));

        var page = await agent.LookupAsync(caller);
        Assert.Contains("data-field=\"recovery\"", page, StringComparison.Ordinal);
        Assert.Contains("Issue temporary access code", ConsoleDriver.FormFor(page, "/verification/manager"), StringComparison.Ordinal);
        var pending = await StartAsync(agent, page, HttpStatusCode.Redirect);

        // The push went to the manager's device, not the caller's; the agent's page shows whom to call and the number.
        Assert.Empty(Idp.PendingPushes(caller));
        var push = Assert.Single(Idp.PendingPushes(manager));
        var waiting = await agent.GetPageAsync(pending);
        Assert.Contains("+1 555 0100 177", System.Net.WebUtility.HtmlDecode(waiting), StringComparison.Ordinal);
        Assert.Contains($">{push.CorrectAnswer}<", waiting, StringComparison.Ordinal);
        Assert.Contains(Portal.Audit.PiiMask.Email(manager), waiting, StringComparison.Ordinal);

        Assert.True(Idp.AnswerPush(push.TransactionId, push.CorrectAnswer));
        var (state, next) = await agent.PollAsync(pending);
        Assert.Equal("Approved", state);
        var id = ConsoleDriver.VerificationId(next!);

        // The session page offers the temporary access code and says why a password reset is not offered.
        var session = await agent.GetPageAsync(next!);
        Assert.Contains("Manager approval", session, StringComparison.Ordinal);
        var reset = await agent.ActAsync("password-reset", id, ("kind", "OneTimeLink"));
        Assert.Equal(HttpStatusCode.Forbidden, reset.StatusCode);
        Assert.Equal(0, Idp.FindCaller(caller)!.PasswordResets);
        var tap = await agent.ActAsync("temporary-access", id);
        Assert.Equal(HttpStatusCode.OK, tap.StatusCode);
        Assert.Equal(1, Idp.FindCaller(caller)!.TemporaryAccessCodesIssued);

        // The recovery notice went to the caller's address on file (docs/recovery.md), the manager was not written to.
        Assert.Single(Idp.Mailbox.To(Idp.FindCaller(caller)!.Email));
        Assert.Empty(Idp.Mailbox.To(Idp.FindCaller(manager)!.Email));

        var audit = await AuditAsync();
        Assert.Equal("succeeded", (string)Assert.Single(audit, d => (string)d["action"]! == "verification.manager.start")["outcome"]!);
        var asked = Assert.Single(audit, d => (string)d["action"]! == "verification.manager.asked");
        Assert.Equal(Portal.Audit.PiiMask.Email(manager), (string?)asked["caller"]?["maskedLogin"]);
        Assert.Equal("approved", (string)Assert.Single(audit, d => (string)d["action"]! == "verification.manager.result")["reason"]!);
        Assert.Contains(audit, d => (string)d["action"]! == "action.password_reset" && (string)d["reason"]! == "method_insufficient");
        var issued = Assert.Single(audit, d => (string)d["action"]! == "action.tap_issue" && (string)d["outcome"]! == "succeeded");
        Assert.Equal("recovery.manager", (string)issued["method"]!);
    }

    [Fact]
    public async Task ManagerRejects_CallerUnderAlarm_NothingMoreOffered()
    {
        var (caller, manager) = TestPeople.NewManagedCaller(Idp, byLogin: true);
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_agent));

        var pending = await StartAsync(agent, await agent.LookupAsync(caller), HttpStatusCode.Redirect);
        Assert.True(Idp.DenyPush(Assert.Single(Idp.PendingPushes(manager)).TransactionId));
        var (state, _) = await agent.PollAsync(pending);

        Assert.Equal("Rejected", state);
        Assert.Contains("Rejected by the manager", await agent.GetPageAsync(pending), StringComparison.Ordinal);
        var again = await agent.LookupAsync(caller);
        Assert.Contains("data-code=\"Alarm\"", again, StringComparison.Ordinal);
        Assert.DoesNotContain("action=\"/verification/manager\"", again, StringComparison.Ordinal);
        var result = Assert.Single(await AuditAsync(), d => (string)d["action"]! == "verification.manager.result");
        Assert.Equal("alarm", (string)result["outcome"]!);
        Assert.Equal("manager_rejected", (string)result["reason"]!);
    }

    [Fact]
    public async Task CallerIsTheirOwnManager_Refused_NoPushAnywhere_AttemptGivenBack()
    {
        var caller = TestPeople.NewCaller(Idp, push: true);
        Idp.SetManager(caller, caller);
        await AssertRefusedAsync(caller, "manager_is_caller", "names the caller as their own manager");
        Assert.Empty(Idp.PendingPushes(caller));
    }

    [Fact]
    public async Task SuspendedCaller_NotRecovered_NothingSentToTheManager()
    {
        var (_, manager) = TestPeople.NewManagedCaller(Idp);
        var caller = Idp.AddCaller("qsusp.qendedx@demo.example", "qsusp.qendedx@demo.example", "Qsuspx", "Qendedx", "SUSPENDED", push: true).Login;
        Idp.SetManager(caller, manager);
        await AssertRefusedAsync(caller, "caller_inactive", "it cannot be recovered at the help desk");
        Assert.Empty(Idp.PendingPushes(manager));
    }

    [Fact]
    public async Task NoManagerAtTheIdp_Refused()
    {
        var caller = TestPeople.NewCaller(Idp, push: true);
        await AssertRefusedAsync(caller, "manager_absent", "names no manager for this caller");
    }

    [Fact]
    public async Task ManagerWithoutAPush_Refused_NothingSent()
    {
        var (caller, manager) = TestPeople.NewManagedCaller(Idp, managerPush: false);
        await AssertRefusedAsync(caller, "manager_no_factor", "has no Okta Verify push with number matching");
        Assert.Empty(Idp.PendingPushes(manager));
    }

    [Fact]
    public async Task ManagerUnderAlarm_Refused_NothingSent()
    {
        var (caller, manager) = TestPeople.NewManagedCaller(Idp, byLogin: true);

        // The manager's own push, rejected: the manager is under alarm now.
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_agent));
        var theirs = await agent.StartPushAsync(await agent.LookupAsync(manager));
        Assert.True(Idp.DenyPush(Assert.Single(Idp.PendingPushes(manager)).TransactionId));
        Assert.Equal("Rejected", (await agent.PollAsync(theirs)).State);

        await AssertRefusedAsync(caller, "manager_under_alarm", "under a security alarm");
        Assert.Empty(Idp.PendingPushes(manager));
    }

    [Fact]
    public async Task ManagerAskedThreeTimes_TheFourthRefusedByTheManagersPushLimit_TheCallersOwnPushStillOffered()
    {
        var (caller, manager) = TestPeople.NewManagedCaller(Idp);
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_agent));
        var page = await agent.LookupAsync(caller);
        for (var i = 0; i < 3; i++)
        {
            await StartAsync(agent, page, HttpStatusCode.Redirect);
        }

        var fourth = await StartResponseAsync(agent, page);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, fourth.StatusCode);
        Assert.Contains("data-code=\"manager_push_limit\"", await fourth.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(3, Idp.PendingPushes(manager).Count);
        Assert.Contains("action=\"/verification/push\"", await agent.LookupAsync(caller), StringComparison.Ordinal);
    }

    /// <summary>
    /// A refused start: 422 with the code, no push to anyone, audited with the code, and the caller's attempt given back
    /// (six refusals in a row, one past the failure limit, still leave the caller's own push available).
    /// </summary>
    private async Task AssertRefusedAsync(string caller, string code, string words)
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_agent));
        var page = await agent.LookupAsync(caller);
        for (var i = 0; i < 6; i++)
        {
            var refused = await StartResponseAsync(agent, page);
            Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
            var body = await refused.Content.ReadAsStringAsync();
            Assert.Contains($"data-code=\"{code}\"", body, StringComparison.Ordinal);
            Assert.Contains(words, System.Net.WebUtility.HtmlDecode(body), StringComparison.Ordinal);
        }

        var starts = (await AuditAsync()).Where(d => (string)d["action"]! == "verification.manager.start").ToList();
        Assert.Equal(6, starts.Count);
        Assert.All(starts, d => Assert.Equal(code, (string)d["reason"]!));
        Assert.DoesNotContain(await AuditAsync(), d => (string)d["action"]! == "verification.manager.asked");
        Assert.Contains("action=\"/verification/push\"", await agent.LookupAsync(caller), StringComparison.Ordinal);
    }

    private static async Task<string> StartAsync(ConsoleDriver agent, string callerPage, HttpStatusCode expected)
    {
        var response = await StartResponseAsync(agent, callerPage);
        Assert.Equal(expected, response.StatusCode);
        return response.Headers.Location!.OriginalString;
    }

    private static Task<HttpResponseMessage> StartResponseAsync(ConsoleDriver agent, string callerPage)
    {
        var form = ConsoleDriver.FormFor(callerPage, "/verification/manager");
        return PortalTestHost.PostFormAsync(agent.Browser, "/verification/manager", PortalTestHost.FormToken(form),
            ("callerRef", PortalTestHost.HiddenValue(form, "callerRef")), ("factorId", PortalTestHost.HiddenValue(form, "factorId")));
    }

    private static CollectionPath Audit => CollectionPath.ForTenant(PortalTestHost.TenantId, "audit");

    private async Task<List<JsonObject>> AuditAsync() => [.. (await _mark!.SinceAsync(Audit)).Select(d => d.Data)];
}

/// <summary>
/// <c>Recovery:RequireSecondAgent</c> (docs/recovery.md): an action on a caller verified by their manager's approval
/// waits for a second agent, as for a privileged target; the same caller verified by their own push does not.
/// A portal of its own: the setting is tenant-wide.
/// </summary>
public sealed class ManagerApprovalSecondAgentTests(ManagerApprovalSecondAgentTests.Fixture fixture) : IClassFixture<ManagerApprovalSecondAgentTests.Fixture>
{
    private readonly PortalTestHost _host = fixture.Portal;

    [Fact]
    public async Task RecoveryVerification_ActionWaitsForASecondAgent_OwnPushDoesNot()
    {
        var idp = _host.Emulator.State;
        var (caller, manager) = TestPeople.NewManagedCaller(idp);
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(TestPeople.NewAgent(idp, "Helpdesk Tier 3")));

        var page = await agent.LookupAsync(caller);
        var form = ConsoleDriver.FormFor(page, "/verification/manager");
        var started = await PortalTestHost.PostFormAsync(agent.Browser, "/verification/manager", PortalTestHost.FormToken(form),
            ("callerRef", PortalTestHost.HiddenValue(form, "callerRef")), ("factorId", PortalTestHost.HiddenValue(form, "factorId")));
        var pending = started.Headers.Location!.OriginalString;
        var push = Assert.Single(idp.PendingPushes(manager));
        Assert.True(idp.AnswerPush(push.TransactionId, push.CorrectAnswer));
        var id = ConsoleDriver.VerificationId((await agent.PollAsync(pending)).Next!);

        var waiting = await agent.ActAsync("temporary-access", id);
        Assert.Equal(HttpStatusCode.Forbidden, waiting.StatusCode);
        Assert.Contains("verified through a recovery method", await waiting.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, idp.FindCaller(caller)!.TemporaryAccessCodesIssued);

        var colleague = await _host.SignInAsync(TestPeople.NewAgent(idp, "Helpdesk Tier 3"));
        Assert.Equal(HttpStatusCode.OK, (await TenancyTestKit.PostAsync(colleague, "/approvals", $"/approvals/{id}.tap_issue/approve")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await agent.ActAsync("temporary-access", id)).StatusCode);
        Assert.Equal(1, idp.FindCaller(caller)!.TemporaryAccessCodesIssued);

        // The caller's own push is not a recovery: no second agent.
        var own = ConsoleDriver.VerificationId(await agent.VerifyByPushAsync(caller));
        Assert.Equal(HttpStatusCode.OK, (await agent.ActAsync("revoke-sessions", own)).StatusCode);
    }

    public sealed class Fixture : PortalHostFixture, IAsyncLifetime
    {
        public new Task InitializeAsync()
        {
            Portal.Settings["Portal:Tenants:0:Recovery:RequireSecondAgent"] = "true";
            return base.InitializeAsync();
        }
    }
}
