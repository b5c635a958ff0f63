using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Portal.Web.Tenancy;

namespace Portal.Web.Tests;

/// <summary>The tenant's action policy (V7) and the alarm cool-down (V6), over the real journey.</summary>
public sealed class PolicyTests : IAsyncLifetime
{
    private readonly PortalTestHost _host = new();

    public Task InitializeAsync() => _host.InitializeAsync();

    public Task DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task ActionMethods_TenantRequiresPushForPasswordReset_TotpRefused()
    {
        var admin = await _host.SignInAsync(TenancyTestKit.Admin);
        var saved = await TenancyTestKit.PostAsync(admin, "/admin/policy", "/admin/policy/actions", ("action", "password_reset"), ("methods", "okta.push"), ("methods", "oidc.stepup"));
        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);

        var agent = new ConsoleDriver(_host, await _host.SignInAsync(TenancyTestKit.Tier3));
        var verified = await agent.VerifyByTotpAsync(await agent.LookupAsync(TenancyTestKit.Bob), _host.Emulator.State.CurrentTotp(TenancyTestKit.Bob));
        var id = ConsoleDriver.VerificationId(verified.Headers.Location!.OriginalString);

        var reset = await agent.ActAsync("password-reset", id);
        var revoke = await agent.ActAsync("revoke-sessions", id);

        Assert.Equal(HttpStatusCode.Forbidden, reset.StatusCode);
        Assert.Equal(0, _host.Emulator.State.FindCaller(TenancyTestKit.Bob)!.PasswordResets);
        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        Assert.Contains(await TenancyTestKit.AuditAsync(_host), d => (string)d["action"]! == "action.password_reset" && (string)d["reason"]! == "method_insufficient");
    }

    [Fact]
    public async Task ActionMethods_WeakMethodNamesRefused()
    {
        var admin = await _host.SignInAsync(TenancyTestKit.Admin);

        var refused = await TenancyTestKit.PostAsync(admin, "/admin/policy", "/admin/policy/actions", ("action", "tap_issue"), ("methods", "okta.sms"));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        Assert.False(_host.Factory.Services.GetRequiredService<ITenantCatalog>().Find(PortalTestHost.TenantId)!.ActionMethods.ContainsKey("tap_issue"));
    }

    /// <summary>
    /// An Okta administrator is privileged by their admin role alone, assigned directly or through a group, with no
    /// privileged group configured; a roles look-up Okta refuses (a credential without okta.roles.read) counts as
    /// privileged (fail closed).
    /// </summary>
    [Theory]
    [InlineData("direct")]
    [InlineData("group")]
    [InlineData("lookup-refused")]
    public async Task OktaAdminRole_WithoutAnyPrivilegedGroup_NeedsASecondAgentsApproval(string how)
    {
        var state = _host.Emulator.State;
        var login = $"role.{how}.{Guid.NewGuid():N}@demo.example";
        state.AddCaller(login, login, "Rhea", "Role");
        if (how == "direct")
        {
            state.AssignRole(login, "USER_ADMIN");
        }
        else if (how == "group")
        {
            state.AssignGroupRole("Helpdesk Leads " + how, "HELP_DESK_ADMIN");
            state.AddToGroup(login, "Helpdesk Leads " + how);
        }

        Assert.Empty(_host.Factory.Services.GetRequiredService<ITenantCatalog>().Find(PortalTestHost.TenantId)!.PrivilegedGroups);
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(TenancyTestKit.Tier3));
        var id = ConsoleDriver.VerificationId((await agent.VerifyByTotpAsync(await agent.LookupAsync(login), state.CurrentTotp(login))).Headers.Location!.OriginalString);
        if (how == "lookup-refused")
        {
            state.FailNext(403, "/roles");
        }

        var revoke = await agent.ActAsync("revoke-sessions", id);

        Assert.Equal(HttpStatusCode.Forbidden, revoke.StatusCode);
        Assert.Contains("second agent", await revoke.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, state.FindCaller(login)!.SessionsRevoked);
    }

    /// <summary>
    /// Issue 10 / V7 at look-up: the agent learns that a caller is privileged before verifying them, by the same rule
    /// the actions use (an admin role; a roles answer refused counts as privileged), and a plain caller has no marker.
    /// </summary>
    [Fact]
    public async Task Lookup_PrivilegedCaller_MarkedBeforeAnyVerification_PlainCallerNot()
    {
        var state = _host.Emulator.State;
        var admin = $"marked.{Guid.NewGuid():N}@demo.example";
        var plain = $"unmarked.{Guid.NewGuid():N}@demo.example";
        state.AddCaller(admin, admin, "Rhea", "Role");
        state.AddCaller(plain, plain, "Paul", "Plain");
        state.AssignRole(admin, "SUPER_ADMIN");
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(TenancyTestKit.Tier3));

        var adminPage = await agent.LookupAsync(admin);
        var plainPage = await agent.LookupAsync(plain);
        state.FailNext(403, "/roles");
        var refusedPage = await agent.LookupAsync(plain);

        Assert.Contains("data-field=\"privileged\" data-privilege=\"Privileged\"", adminPage, StringComparison.Ordinal);
        Assert.Contains("second agent&#x27;s approval", adminPage, StringComparison.Ordinal);
        Assert.DoesNotContain("data-field=\"privileged\"", plainPage, StringComparison.Ordinal);
        Assert.Contains("data-field=\"privileged\" data-privilege=\"Unknown\"", refusedPage, StringComparison.Ordinal);
    }

    /// <summary>Issue 10: unlock is offered only to an account the IdP says is locked out now.</summary>
    [Fact]
    public async Task SessionPage_UnlockOfferedOnlyWhileTheAccountIsLockedOut()
    {
        var state = _host.Emulator.State;
        var login = $"lock.{Guid.NewGuid():N}@demo.example";
        state.AddCaller(login, login, "Lena", "Lock");
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(TenancyTestKit.Tier3));
        var session = (await agent.VerifyByTotpAsync(await agent.LookupAsync(login), state.CurrentTotp(login))).Headers.Location!.OriginalString;

        var active = await agent.GetPageAsync(session);
        state.SetStatus(login, "LOCKED_OUT");
        var locked = await agent.GetPageAsync(session);

        Assert.Contains("data-action=\"account_unlock\" data-offered=\"false\"", active, StringComparison.Ordinal);
        Assert.Contains("The account is not locked out (the identity provider says active now)", active, StringComparison.Ordinal);
        Assert.Contains("data-action=\"account_unlock\" data-offered=\"true\"", locked, StringComparison.Ordinal);
        Assert.Contains("data-action=\"sessions_revoke\" data-offered=\"true\"", active, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallerWithoutAdminRole_AndNoPrivilegedGroup_ActsWithoutApproval()
    {
        var state = _host.Emulator.State;
        var login = $"plain.{Guid.NewGuid():N}@demo.example";
        state.AddCaller(login, login, "Paul", "Plain");
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(TenancyTestKit.Tier3));
        var id = ConsoleDriver.VerificationId((await agent.VerifyByTotpAsync(await agent.LookupAsync(login), state.CurrentTotp(login))).Headers.Location!.OriginalString);

        var revoke = await agent.ActAsync("revoke-sessions", id);

        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        Assert.Equal(1, state.FindCaller(login)!.SessionsRevoked);
    }

    [Fact]
    public async Task PrivilegedTarget_NeedsASecondAgentsApproval()
    {
        var admin = await _host.SignInAsync(TenancyTestKit.Admin);
        Assert.Equal(HttpStatusCode.OK, (await TenancyTestKit.PostAsync(admin, "/admin/policy", "/admin/policy/privileged", ("groups", "Okta Administrators"))).StatusCode);
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(TenancyTestKit.Tier3));
        var id = ConsoleDriver.VerificationId(await agent.VerifyByPushAsync(TenancyTestKit.Erin));

        var first = await agent.ActAsync("revoke-sessions", id, ("ticketRef", "INC-9001"));
        Assert.Equal(HttpStatusCode.Forbidden, first.StatusCode);
        var resultUrl = first.RequestMessage!.RequestUri!.PathAndQuery;
        var waiting = await first.Content.ReadAsStringAsync();
        Assert.Contains("second agent", waiting, StringComparison.Ordinal);
        Assert.Contains("data-watch-value=\"Pending\"", waiting, StringComparison.Ordinal);
        Assert.Contains("This page moves on by itself when they decide.", waiting, StringComparison.Ordinal);
        Assert.Equal(0, _host.Emulator.State.FindCaller(TenancyTestKit.Erin)!.SessionsRevoked);
        var stateUrl = $"/actions/approval/{id}/sessions_revoke";
        Assert.Equal("{\"value\":\"Pending\"}", await agent.Browser.GetStringAsync(stateUrl));

        // The requester cannot approve their own request.
        var queue = await agent.GetPageAsync("/approvals");
        var approvalId = id + ".sessions_revoke";
        Assert.DoesNotContain($"/approvals/{approvalId}/approve", queue, StringComparison.Ordinal);
        var self = await PortalTestHost.PostFormAsync(agent.Browser, $"/approvals/{approvalId}/approve", PortalTestHost.FormToken(queue));
        Assert.Equal(HttpStatusCode.Forbidden, self.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await agent.ActAsync("revoke-sessions", id)).StatusCode);

        var colleague = await _host.SignInAsync(TenancyTestKit.Tier2);
        var row = (await new ConsoleDriver(_host, colleague).GetPageAsync("/approvals")).Split("<tr>").Single(r => r.Contains(approvalId, StringComparison.Ordinal));
        Assert.Contains("e***@d***.example", row, StringComparison.Ordinal);
        Assert.Contains("Sign out everywhere", row, StringComparison.Ordinal);
        Assert.Contains("INC-9001", row, StringComparison.Ordinal);
        Assert.Contains("Okta Verify push with number matching", row, StringComparison.Ordinal);

        // Only the requester can follow the request's state.
        Assert.Equal(HttpStatusCode.NotFound, (await colleague.GetAsync(stateUrl)).StatusCode);

        var approved = await TenancyTestKit.PostAsync(colleague, "/approvals", $"/approvals/{approvalId}/approve");
        Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        Assert.Equal("/approvals", approved.RequestMessage!.RequestUri!.AbsolutePath);
        Assert.Contains("Approved. The requesting agent can now submit the action once.", await approved.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain("data-field=\"message\"", await colleague.GetStringAsync("/approvals"), StringComparison.Ordinal); // said once, not on F5

        // The requester's page now says so (its script reloads it when the state moves off "Pending").
        Assert.Equal("{\"value\":\"Approved\"}", await agent.Browser.GetStringAsync(stateUrl));
        var movedOn = await (await agent.Browser.GetAsync(resultUrl)).Content.ReadAsStringAsync();
        Assert.Contains("Approved by ", movedOn, StringComparison.Ordinal);
        Assert.DoesNotContain("role=\"alert\"", movedOn, StringComparison.Ordinal);
        Assert.Contains($"href=\"/verification/session/{id}\"", movedOn, StringComparison.Ordinal);

        var second = await agent.ActAsync("revoke-sessions", id);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(1, _host.Emulator.State.FindCaller(TenancyTestKit.Erin)!.SessionsRevoked);
        var audit = await TenancyTestKit.AuditAsync(_host);
        Assert.Contains(audit, d => (string)d["action"]! == "approval.request");
        Assert.Contains(audit, d => (string)d["action"]! == "approval.approve" && (string)d["outcome"]! == "succeeded");
        Assert.Contains(audit, d => (string)d["action"]! == "approval.approve" && (string)d["reason"]! == "self_approval");
    }

    /// <summary>
    /// Issue 11 item 2: the agent asks for the approval at look-up, before verifying; a colleague approves it from the
    /// queue (which says the caller is not verified yet); the action then goes through once, after the verification,
    /// for the agent who asked only.
    /// </summary>
    [Fact]
    public async Task PrivilegedCaller_ApprovalAskedAtLookup_UsedOnceAfterVerifying_ByTheAskingAgentOnly()
    {
        var state = _host.Emulator.State;
        var login = $"ahead.{Guid.NewGuid():N}@demo.example";
        state.AddCaller(login, login, "Ada", "Ahead");
        state.AssignRole(login, "SUPER_ADMIN");
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(TenancyTestKit.Tier3));
        var colleague = new ConsoleDriver(_host, await _host.SignInAsync(TenancyTestKit.Tier2));

        var looked = await agent.LookupAsync(login);
        Assert.Contains("<li data-action=\"sessions_revoke\" data-approval=\"none\">", looked, StringComparison.Ordinal);
        Assert.DoesNotContain("<li data-action=\"account_unlock\"", looked, StringComparison.Ordinal); // not locked out: nothing to unlock
        var asked = await AskAsync(agent, looked, "sessions_revoke");
        Assert.Equal(HttpStatusCode.OK, asked.StatusCode);
        var askedPage = await asked.Content.ReadAsStringAsync();
        Assert.Contains("<li data-action=\"sessions_revoke\" data-approval=\"Pending\">", askedPage, StringComparison.Ordinal);
        Assert.Contains("Asked for a colleague&#x27;s approval of Sign out everywhere.", askedPage, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await AskAsync(agent, askedPage, "sessions_revoke")).StatusCode); // F5 asks once

        var queue = await colleague.GetPageAsync("/approvals");
        var rows = queue.Split("<tr>").Where(r => r.Contains("a***@d***.example", StringComparison.Ordinal)).ToList();
        var row = Assert.Single(rows);
        Assert.Contains("Not yet: asked at look-up, while verifying.", row, StringComparison.Ordinal);
        var approvalId = System.Text.RegularExpressions.Regex.Match(row, "/approvals/([0-9a-f]{32}\\.sessions_revoke)/approve").Groups[1].Value;
        Assert.NotEmpty(approvalId);
        var approved = await TenancyTestKit.PostAsync(colleague.Browser, "/approvals", $"/approvals/{approvalId}/approve");
        Assert.Contains("after verifying the caller", await approved.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // The colleague who approved cannot use it: it is the asking agent's, for their own verification.
        var colleagueSession = ConsoleDriver.VerificationId((await colleague.VerifyByTotpAsync(await colleague.LookupAsync(login), state.CurrentTotp(login))).Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.Forbidden, (await colleague.ActAsync("revoke-sessions", colleagueSession)).StatusCode);
        Assert.Equal(0, state.FindCaller(login)!.SessionsRevoked);

        var again = await agent.LookupAsync(login);
        Assert.Contains("<li data-action=\"sessions_revoke\" data-approval=\"Approved\">", again, StringComparison.Ordinal);
        _host.Clock.Advance(TimeSpan.FromSeconds(31));
        var id = ConsoleDriver.VerificationId((await agent.VerifyByTotpAsync(again, state.CurrentTotp(login))).Headers.Location!.OriginalString);
        var revoked = await agent.ActAsync("revoke-sessions", id);

        Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        Assert.Equal(1, state.FindCaller(login)!.SessionsRevoked);
        var audit = await TenancyTestKit.AuditAsync(_host);
        Assert.Single(audit, d => (string)d["action"]! == "approval.request" && ((string?)d["reason"])?.StartsWith("sessions_revoke before_verification", StringComparison.Ordinal) == true);
        var use = Assert.Single(audit, d => (string)d["action"]! == "approval.use" && (string)d["reason"]! == "sessions_revoke before_verification");

        // The colleague's decision is on the caller's timeline too: it carries the caller's pseudonym.
        var callerHash = (string)use["caller"]!["idHash"]!;
        Assert.Matches("^[0-9a-f]{64}$", callerHash);
        Assert.Contains(audit, d => (string)d["action"]! == "approval.approve" && (string)d["outcome"]! == "succeeded" && (string?)d["caller"]?["idHash"] == callerHash);

        // Used once: the next verification needs a new approval.
        _host.Clock.Advance(TimeSpan.FromSeconds(31));
        var next = ConsoleDriver.VerificationId((await agent.VerifyByTotpAsync(await agent.LookupAsync(login), state.CurrentTotp(login))).Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.Forbidden, (await agent.ActAsync("revoke-sessions", next)).StatusCode);
        Assert.Equal(1, state.FindCaller(login)!.SessionsRevoked);
    }

    /// <summary>Asking ahead is refused for a caller who needs no approval and for an action outside the agent's tiers; a rejection asked ahead blocks the action.</summary>
    [Fact]
    public async Task ApprovalAskedAtLookup_RefusedWhereNotNeeded_AndARejectionStands()
    {
        var state = _host.Emulator.State;
        var plain = $"noask.{Guid.NewGuid():N}@demo.example";
        var admin = $"rejected.{Guid.NewGuid():N}@demo.example";
        state.AddCaller(plain, plain, "Paul", "Plain");
        state.AddCaller(admin, admin, "Rex", "Rejected");
        state.AssignRole(admin, "ORG_ADMIN");
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(TenancyTestKit.Tier3));
        var colleague = new ConsoleDriver(_host, await _host.SignInAsync(TenancyTestKit.Tier2));

        var plainPage = await agent.LookupAsync(plain);
        Assert.DoesNotContain("data-field=\"approvals\"", plainPage, StringComparison.Ordinal);
        var notNeeded = await AskAsync(agent, plainPage, "sessions_revoke");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, notNeeded.StatusCode);
        Assert.Contains("data-code=\"not_privileged\"", await notNeeded.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, (await AskAsync(agent, plainPage, "no_such_action")).StatusCode);

        var adminPage = await agent.LookupAsync(admin);
        Assert.Equal(HttpStatusCode.OK, (await AskAsync(agent, adminPage, "sessions_revoke")).StatusCode);
        var row = (await colleague.GetPageAsync("/approvals")).Split("<tr>").Single(r => r.Contains("r***@d***.example", StringComparison.Ordinal));
        var approvalId = System.Text.RegularExpressions.Regex.Match(row, "/approvals/([0-9a-f]{32}\\.sessions_revoke)/reject").Groups[1].Value;
        Assert.Equal(HttpStatusCode.OK, (await TenancyTestKit.PostAsync(colleague.Browser, "/approvals", $"/approvals/{approvalId}/reject")).StatusCode);

        var rejectedPage = await agent.LookupAsync(admin);
        Assert.Contains("<li data-action=\"sessions_revoke\" data-approval=\"Rejected\">", rejectedPage, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await AskAsync(agent, rejectedPage, "sessions_revoke")).StatusCode);
        Assert.Contains("data-approval=\"Rejected\"", await agent.LookupAsync(admin), StringComparison.Ordinal); // asking again does not undo it
        var id = ConsoleDriver.VerificationId((await agent.VerifyByTotpAsync(rejectedPage, state.CurrentTotp(admin))).Headers.Location!.OriginalString);
        var refused = await agent.ActAsync("revoke-sessions", id);

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(0, state.FindCaller(admin)!.SessionsRevoked);
        Assert.Contains(await TenancyTestKit.AuditAsync(_host), d => (string)d["action"]! == "action.sessions_revoke" && (string)d["reason"]! == "approval_rejected");
    }

    private static Task<HttpResponseMessage> AskAsync(ConsoleDriver agent, string callerPage, string action) =>
        PortalTestHost.PostFormAsync(agent.Browser, "/console/approval", PortalTestHost.FormToken(callerPage), ("callerRef", PortalTestHost.HiddenValue(callerPage, "callerRef")), ("actionName", action));

    [Fact]
    public async Task PrivilegedTarget_RejectedByColleague_StaysRefused_NonPrivilegedCallerUnaffected()
    {
        var admin = await _host.SignInAsync(TenancyTestKit.Admin);
        Assert.Equal(HttpStatusCode.OK, (await TenancyTestKit.PostAsync(admin, "/admin/policy", "/admin/policy/privileged", ("groups", "Okta Administrators"))).StatusCode);
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(TenancyTestKit.Tier3));
        var erin = ConsoleDriver.VerificationId(await agent.VerifyByPushAsync(TenancyTestKit.Erin));
        Assert.Equal(HttpStatusCode.Forbidden, (await agent.ActAsync("revoke-sessions", erin)).StatusCode);

        var colleague = await _host.SignInAsync(TenancyTestKit.Tier2);
        Assert.Equal(HttpStatusCode.OK, (await TenancyTestKit.PostAsync(colleague, "/approvals", $"/approvals/{erin}.sessions_revoke/reject")).StatusCode);

        Assert.Equal(HttpStatusCode.Forbidden, (await agent.ActAsync("revoke-sessions", erin)).StatusCode);
        Assert.Equal(0, _host.Emulator.State.FindCaller(TenancyTestKit.Erin)!.SessionsRevoked);
        var alice = ConsoleDriver.VerificationId(await agent.VerifyByPushAsync(TenancyTestKit.Alice));
        Assert.Equal(HttpStatusCode.OK, (await agent.ActAsync("revoke-sessions", alice)).StatusCode);
    }

    [Fact]
    public async Task NotMe_AfterAVerification_BlocksActionsForTheCooldown()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(TenancyTestKit.Tier3));
        var id = ConsoleDriver.VerificationId(await agent.VerifyByPushAsync(TenancyTestKit.Alice));

        // A second push the caller answers "not me": an alarm on the caller.
        var pending = await agent.StartPushAsync(await agent.LookupAsync(TenancyTestKit.Alice));
        var push = Assert.Single(_host.Emulator.State.PendingPushes(TenancyTestKit.Alice));
        _host.Emulator.State.DenyPush(push.TransactionId);
        Assert.Equal("Rejected", (await agent.PollAsync(pending)).State);

        var blocked = await agent.ActAsync("revoke-sessions", id);
        Assert.Equal(HttpStatusCode.Forbidden, blocked.StatusCode);
        Assert.Equal(0, _host.Emulator.State.FindCaller(TenancyTestKit.Alice)!.SessionsRevoked);
        Assert.Contains(await TenancyTestKit.AuditAsync(_host), d => (string)d["action"]! == "action.sessions_revoke" && (string)d["reason"]! == "caller_alarm");
    }
}
