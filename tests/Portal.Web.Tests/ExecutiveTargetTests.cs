using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Portal.Idp;
using Portal.IdpEmulator;
using Portal.Storage;
using Portal.Web.Verification;

namespace Portal.Web.Tests;

/// <summary>
/// Executive targets (docs/tenancy.md, "Executive targets: two independent methods"), over HTTP against the emulator: a
/// caller in a group the tenant names in <c>ExecutiveTargets:Groups</c> is acted on only through the second of two live
/// verifications of the same agent session by different methods. One method: refused (<c>second_method_required</c>),
/// audited, the verification left unused. Push then TOTP chained: the action runs. The chain is checked at the second
/// start (same method, another caller's or another agent session's verification, an ended one: refused) and again at
/// the action (the first ended meanwhile: refused). A caller in no such group is unaffected; a group look-up that fails
/// counts as executive.
/// </summary>
/// <remarks>
/// One portal serves the class: each test has its own callers and agent and reads only the records written since it
/// began. The demo Okta tenant names the group "Executives" (the test host's first tenant starts from it). Tests that
/// move the clock move it forward only, for their own callers.
/// </remarks>
public sealed class ExecutiveTargetTests(PortalHostFixture fixture) : IClassFixture<PortalHostFixture>, IAsyncLifetime
{
    private readonly PortalTestHost _host = fixture.Portal;
    private readonly string _agent = TestPeople.NewAgent(fixture.Portal.Emulator.State, "Helpdesk Tier 3");
    private StoreMark? _mark;

    private EmulatorState Idp => _host.Emulator.State;

    public async Task InitializeAsync() => _mark = await StoreMark.TakeAsync(_host.Store, Audit);

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task OneMethodOnly_ActionRefusedSecondMethodRequired_Audited_VerificationUnused_PageOffersNoAction()
    {
        var caller = NewExecutive();
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_agent));

        Assert.Contains("data-executive=\"Executive\"", await agent.LookupAsync(caller), StringComparison.Ordinal);
        var session = await agent.VerifyByPushAsync(caller);
        var id = ConsoleDriver.VerificationId(session);

        // The page says what is needed, offers the second method, and no action the action would refuse.
        var page = System.Net.WebUtility.HtmlDecode(await agent.GetPageAsync(session));
        Assert.Contains(ExecutiveTargets.Note, page, StringComparison.Ordinal);
        Assert.Contains("Verify by a second method", page, StringComparison.Ordinal);
        Assert.DoesNotContain("data-offered=\"true\"", page, StringComparison.Ordinal);

        var refused = await agent.ActAsync("revoke-sessions", id);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("second, independent method", System.Net.WebUtility.HtmlDecode(await refused.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        Assert.Equal(0, Idp.FindCaller(caller)!.SessionsRevoked);

        var denied = Assert.Single(await AuditAsync(), d => (string)d["action"]! == "action.sessions_revoke");
        Assert.Equal(("denied", "second_method_required"), ((string)denied["outcome"]!, (string)denied["reason"]!));
        var stored = await Store.GetSessionAsync(PortalTestHost.TenantId, id, CancellationToken.None);
        Assert.NotNull(stored);
        Assert.Empty(stored.UsedActions);
    }

    [Fact]
    public async Task PushThenTotp_ChainedInTheSameAgentSession_TheActionRuns()
    {
        var caller = NewExecutive();
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_agent));
        var first = ConsoleDriver.VerificationId(await agent.VerifyByPushAsync(caller));

        // The second look-up carries the first verification and offers only the other methods.
        var second = await SecondMethodPageAsync(agent, first);
        Assert.Contains("data-field=\"second-method\"", second, StringComparison.Ordinal);
        Assert.DoesNotContain("action=\"/verification/push\"", second, StringComparison.Ordinal);
        var totp = ConsoleDriver.FormFor(second, "/verification/totp");
        Assert.Equal(first, PortalTestHost.HiddenValue(totp, "priorVerificationId"));

        var verified = await StartTotpAsync(agent, second, first, caller);
        Assert.Equal(HttpStatusCode.Redirect, verified.StatusCode);
        var sessionPath = verified.Headers.Location!.OriginalString;
        Assert.StartsWith("/verification/session/", sessionPath, StringComparison.Ordinal);
        var page = await agent.GetPageAsync(sessionPath);
        Assert.Contains("data-field=\"prior-method\"", page, StringComparison.Ordinal);
        Assert.DoesNotContain("data-field=\"executive\"", page, StringComparison.Ordinal);
        Assert.Contains("data-action=\"sessions_revoke\" data-offered=\"true\"", page, StringComparison.Ordinal);

        var stored = await Store.GetSessionAsync(PortalTestHost.TenantId, ConsoleDriver.VerificationId(sessionPath), CancellationToken.None);
        Assert.Equal((first, VerificationMethods.OktaPush, VerificationMethods.OktaTotp), (stored!.PriorVerificationId, stored.PriorMethod, stored.Method));

        Assert.Equal(HttpStatusCode.OK, (await agent.ActAsync("revoke-sessions", ConsoleDriver.VerificationId(sessionPath))).StatusCode);
        Assert.Equal(1, Idp.FindCaller(caller)!.SessionsRevoked);
        var done = Assert.Single(await AuditAsync(), d => (string)d["action"]! == "action.sessions_revoke");
        Assert.Equal("succeeded", (string)done["outcome"]!);

        // V13 in the audit: the record that opened the second verification names the first (its id, nothing of the caller).
        var opened = Assert.Single(await AuditAsync(), d => (string)d["action"]! == "verification.totp" && (string)d["outcome"]! == "succeeded");
        Assert.Equal("prior:" + first, (string?)opened["reason"]);
    }

    [Fact]
    public async Task TotpThenPush_TheSecondThroughAWaitingChallenge_TheActionRuns_TheOpeningRecordNamesTheFirst()
    {
        var caller = NewExecutive();
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_agent));
        var byCode = await agent.VerifyByTotpAsync(await agent.LookupAsync(caller), Idp.CurrentTotp(caller));
        Assert.Equal(HttpStatusCode.Redirect, byCode.StatusCode);
        var first = ConsoleDriver.VerificationId(byCode.Headers.Location!.OriginalString);

        // The second method's page offers the push, carrying the first; the push waits on the caller's phone.
        var second = await SecondMethodPageAsync(agent, first);
        Assert.DoesNotContain("action=\"/verification/totp\"", second, StringComparison.Ordinal);
        var push = ConsoleDriver.FormFor(second, "/verification/push");
        Assert.Equal(first, PortalTestHost.HiddenValue(push, "priorVerificationId"));
        var started = await PortalTestHost.PostFormAsync(agent.Browser, "/verification/push", PortalTestHost.FormToken(push),
            ("callerRef", PortalTestHost.HiddenValue(push, "callerRef")), ("factorId", PortalTestHost.HiddenValue(push, "factorId")), ("priorVerificationId", PortalTestHost.HiddenValue(push, "priorVerificationId")));
        Assert.Equal(HttpStatusCode.Redirect, started.StatusCode);
        var pendingPath = started.Headers.Location!.OriginalString;
        var waiting = await Store.GetPendingAsync(PortalTestHost.TenantId, ConsoleDriver.VerificationId(pendingPath), CancellationToken.None);
        Assert.Equal((ChallengeState.Waiting, first, VerificationMethods.OktaTotp), (waiting!.State, waiting.PriorVerificationId, waiting.PriorMethod));

        // Before the caller answers, the first alone still acts on nothing.
        Assert.Equal(HttpStatusCode.Forbidden, (await agent.ActAsync("revoke-sessions", first)).StatusCode);

        var challenge = Assert.Single(Idp.PendingPushes(caller));
        Assert.True(Idp.AnswerPush(challenge.TransactionId, challenge.CorrectAnswer));
        var (state, next) = await agent.PollAsync(pendingPath);
        Assert.Equal("Approved", state);
        var stored = await Store.GetSessionAsync(PortalTestHost.TenantId, ConsoleDriver.VerificationId(next!), CancellationToken.None);
        Assert.Equal((first, VerificationMethods.OktaTotp, VerificationMethods.OktaPush), (stored!.PriorVerificationId, stored.PriorMethod, stored.Method));

        Assert.Equal(HttpStatusCode.OK, (await agent.ActAsync("revoke-sessions", stored.Id)).StatusCode);
        Assert.Equal(1, Idp.FindCaller(caller)!.SessionsRevoked);
        var audit = await AuditAsync();
        var acted = audit.Where(d => (string)d["action"]! == "action.sessions_revoke").Select(d => ((string)d["outcome"]!, (string?)d["reason"])).ToList();
        Assert.Equal(2, acted.Count);
        Assert.Contains(("denied", "second_method_required"), acted);
        Assert.Contains(acted, a => a.Item1 == "succeeded");
        var opened = Assert.Single(audit, d => (string)d["action"]! == "verification.push.result" && (string)d["outcome"]! == "succeeded");
        Assert.Equal("approved prior:" + first, (string?)opened["reason"]);
    }

    [Fact]
    public async Task PriorStillStoredPastItsEnd_RefusedAtTheStartAsExpired()
    {
        // Defence in depth: the stores stop returning a verification at its end, so only a document kept longer than its
        // verification (written by another version, a store whose expiry lags) reaches this check. The first's document
        // is rewritten with a later expiry to make one.
        var caller = NewExecutive();
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_agent));
        var first = ConsoleDriver.VerificationId(await agent.VerifyByPushAsync(caller));
        var second = await SecondMethodPageAsync(agent, first);
        var key = new DocumentKey(CollectionPath.ForTenant(PortalTestHost.TenantId, "verificationSessions"), first);
        var document = await _host.Store.GetAsync(key);
        await _host.Store.SetAsync(key, document!.Data, document.ExpireAt!.Value.AddMinutes(10));
        _host.Clock.Advance(TimeSpan.FromMinutes(10));

        var late = await StartTotpAsync(agent, second, first, caller);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, late.StatusCode);
        Assert.Contains("data-code=\"prior_verification_expired\"", await late.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var refused = Assert.Single(await AuditAsync(), d => (string)d["action"]! == "verification.totp");
        Assert.Equal(("denied", "prior_verification_expired"), ((string)refused["outcome"]!, (string?)refused["reason"]));
    }

    [Fact]
    public async Task SameMethodTwice_RefusedAtTheStart_Audited_NoPushSent()
    {
        var caller = NewExecutive();
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_agent));
        var lookup = await agent.LookupAsync(caller);
        var pushFactor = PortalTestHost.HiddenValue(ConsoleDriver.FormFor(lookup, "/verification/push"), "factorId");
        var first = ConsoleDriver.VerificationId(await agent.VerifyByPushAsync(caller));
        var pushesBefore = Idp.PendingPushes(caller).Count;

        // The page offers no push; a crafted one is refused before anything reaches the caller.
        var second = await SecondMethodPageAsync(agent, first);
        var totp = ConsoleDriver.FormFor(second, "/verification/totp");
        var crafted = await PortalTestHost.PostFormAsync(agent.Browser, "/verification/push", PortalTestHost.FormToken(totp),
            ("callerRef", PortalTestHost.HiddenValue(totp, "callerRef")), ("factorId", pushFactor), ("priorVerificationId", first));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, crafted.StatusCode);
        Assert.Contains("data-code=\"second_method_same\"", await crafted.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(pushesBefore, Idp.PendingPushes(caller).Count);
        var start = Assert.Single(await AuditAsync(), d => (string)d["action"]! == "verification.push.start" && (string?)d["reason"] == "second_method_same");
        Assert.Equal("denied", (string)start["outcome"]!);
    }

    [Fact]
    public async Task PriorOfAnotherCaller_OrOfAnotherAgentSession_RefusedAtTheStart()
    {
        var (vera, other) = (NewExecutive(), NewExecutive());
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_agent));
        var first = ConsoleDriver.VerificationId(await agent.VerifyByPushAsync(vera));

        // Another caller's look-up, with Vera's verification slipped into the form.
        var otherCaller = await StartTotpAsync(agent, await agent.LookupAsync(other), first, other);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, otherCaller.StatusCode);
        Assert.Contains("data-code=\"prior_verification_invalid\"", await otherCaller.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // The same agent in another session (another browser): the first verification is not this session's.
        var elsewhere = new ConsoleDriver(_host, await _host.SignInAsync(_agent));
        var fromElsewhere = await StartTotpAsync(elsewhere, await elsewhere.LookupAsync(vera), first, vera);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, fromElsewhere.StatusCode);
        Assert.Contains("data-code=\"prior_verification_invalid\"", await fromElsewhere.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var secondPage = await PortalTestHost.PostFormAsync(elsewhere.Browser, "/console/second", PortalTestHost.FormToken(await elsewhere.GetPageAsync("/console")), ("verificationId", first));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, secondPage.StatusCode);

        var refusals = (await AuditAsync()).Where(d => (string)d["action"]! == "verification.totp").ToList();
        Assert.Equal(2, refusals.Count(d => (string?)d["reason"] == "prior_verification_invalid" && (string)d["outcome"]! == "denied"));
        Assert.DoesNotContain(refusals, d => (string)d["outcome"]! == "succeeded");
    }

    [Fact]
    public async Task PriorEnded_RefusedAtTheStart_AndAChainWhoseFirstEndedRefusedAtTheAction()
    {
        var caller = NewExecutive();
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_agent));

        // The first ends before the second is started: refused at the start.
        var first = ConsoleDriver.VerificationId(await agent.VerifyByPushAsync(caller));
        var second = await SecondMethodPageAsync(agent, first);
        _host.Clock.Advance(TimeSpan.FromMinutes(10));
        var late = await StartTotpAsync(agent, second, first, caller);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, late.StatusCode);
        // At the instant it ends the store no longer returns it (as for an action): refused as no verification of this agent's.
        Assert.Contains("data-code=\"prior_verification_invalid\"", await late.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // The first ends after the second was made: both must still be live when acting.
        var again = ConsoleDriver.VerificationId(await agent.VerifyByPushAsync(caller));
        _host.Clock.Advance(TimeSpan.FromMinutes(6));
        var chained = await StartTotpAsync(agent, await SecondMethodPageAsync(agent, again), again, caller);
        Assert.Equal(HttpStatusCode.Redirect, chained.StatusCode);
        var sessionPath = chained.Headers.Location!.OriginalString;
        _host.Clock.Advance(TimeSpan.FromMinutes(5));

        Assert.Contains("data-executive=\"PriorEnded\"", await agent.GetPageAsync(sessionPath), StringComparison.Ordinal);
        var refused = await agent.ActAsync("revoke-sessions", ConsoleDriver.VerificationId(sessionPath));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(0, Idp.FindCaller(caller)!.SessionsRevoked);
        var audit = await AuditAsync();
        Assert.Contains(audit, d => (string)d["action"]! == "verification.totp" && (string?)d["reason"] == "prior_verification_invalid");
        Assert.Equal("second_method_required", (string)Assert.Single(audit, d => (string)d["action"]! == "action.sessions_revoke")["reason"]!);
    }

    [Fact]
    public async Task SecondMethodStartedLate_ItsChallengeEndsWithTheFirstVerification_NotItsOwnLifetime()
    {
        var caller = NewExecutive();
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_agent));
        var first = ConsoleDriver.VerificationId(await agent.VerifyByPushAsync(caller));
        var firstEnds = (await Store.GetSessionAsync(PortalTestHost.TenantId, first, CancellationToken.None))!.ExpiresAt;

        // Six minutes on, an ID verification (twenty minutes of its own) as the second method waits only the first's four.
        _host.Clock.Advance(TimeSpan.FromMinutes(6));
        var form = ConsoleDriver.FormFor(await SecondMethodPageAsync(agent, first), "/verification/idv");
        var started = await PortalTestHost.PostFormAsync(agent.Browser, "/verification/idv", PortalTestHost.FormToken(form),
            ("callerRef", PortalTestHost.HiddenValue(form, "callerRef")), ("factorId", PortalTestHost.HiddenValue(form, "factorId")), ("priorVerificationId", first));
        Assert.Equal(HttpStatusCode.Redirect, started.StatusCode);
        var waiting = await Store.GetPendingAsync(PortalTestHost.TenantId, ConsoleDriver.VerificationId(started.Headers.Location!.OriginalString), CancellationToken.None);
        Assert.Equal((first, firstEnds), (waiting!.PriorVerificationId, waiting.ExpiresAt));
    }

    [Fact]
    public async Task CallerInNoExecutiveGroup_OneMethodActs()
    {
        var caller = TestPeople.NewCaller(Idp, push: true);
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_agent));

        Assert.DoesNotContain("data-field=\"executive\"", await agent.LookupAsync(caller), StringComparison.Ordinal);
        var session = await agent.VerifyByPushAsync(caller);
        var page = await agent.GetPageAsync(session);
        Assert.DoesNotContain("data-field=\"executive\"", page, StringComparison.Ordinal);
        Assert.DoesNotContain("Verify by a second method", page, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.OK, (await agent.ActAsync("revoke-sessions", ConsoleDriver.VerificationId(session))).StatusCode);
        Assert.Equal(1, Idp.FindCaller(caller)!.SessionsRevoked);
    }

    [Fact]
    public async Task GroupLookUpFails_CouldNotCheckAtLookUp_TheActionTreatsTheCallerAsExecutive()
    {
        var caller = TestPeople.NewCaller(Idp, push: true);
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_agent));

        Idp.FailNext(403, "/groups");
        var lookup = System.Net.WebUtility.HtmlDecode(await agent.LookupAsync(caller));
        Assert.Contains("data-executive=\"Unknown\"", lookup, StringComparison.Ordinal);
        Assert.Contains("Could not check whether this caller is an executive target", lookup, StringComparison.Ordinal);

        var id = ConsoleDriver.VerificationId(await agent.VerifyByPushAsync(caller));
        Idp.FailNext(403, "/groups");
        var refused = await agent.ActAsync("revoke-sessions", id);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(0, Idp.FindCaller(caller)!.SessionsRevoked);
        Assert.Equal("second_method_required", (string)Assert.Single(await AuditAsync(), d => (string)d["action"]! == "action.sessions_revoke")["reason"]!);

        // The IdP answers again: the caller is in no executive group, and the unused verification acts.
        Assert.Equal(HttpStatusCode.OK, (await agent.ActAsync("revoke-sessions", id)).StatusCode);
        Assert.Equal(1, Idp.FindCaller(caller)!.SessionsRevoked);
    }

    /// <summary>A new caller with push and TOTP, in the demo tenant's executive group.</summary>
    private string NewExecutive()
    {
        var caller = TestPeople.NewCaller(Idp, push: true);
        Idp.AddToGroup(caller, DemoTenants.ExecutivesGroup);
        return caller;
    }

    /// <summary>"Verify by a second method" on the verification's page: the console's page of the same caller, carrying it.</summary>
    private static async Task<string> SecondMethodPageAsync(ConsoleDriver agent, string verificationId)
    {
        var form = ConsoleDriver.FormFor(await agent.GetPageAsync("/verification/session/" + verificationId), "/console/second");
        var response = await PortalTestHost.PostFormAsync(agent.Browser, "/console/second", PortalTestHost.FormToken(form), ("verificationId", PortalTestHost.HiddenValue(form, "verificationId")));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>Posts the TOTP form of <paramref name="callerPage"/> with the caller's current code, naming <paramref name="priorVerificationId"/> as the first verification.</summary>
    private async Task<HttpResponseMessage> StartTotpAsync(ConsoleDriver agent, string callerPage, string priorVerificationId, string login)
    {
        var form = ConsoleDriver.FormFor(callerPage, "/verification/totp");
        var code = Idp.CurrentTotp(login);
        return await PortalTestHost.PostFormAsync(agent.Browser, "/verification/totp", PortalTestHost.FormToken(form),
            ("callerRef", PortalTestHost.HiddenValue(form, "callerRef")), ("factorId", PortalTestHost.HiddenValue(form, "factorId")), ("code", code), ("priorVerificationId", priorVerificationId));
    }

    private VerificationStore Store => _host.Factory.Services.GetRequiredService<VerificationStore>();

    private static CollectionPath Audit => CollectionPath.ForTenant(PortalTestHost.TenantId, "audit");

    private async Task<List<JsonObject>> AuditAsync() => [.. (await _mark!.SinceAsync(Audit)).Select(d => d.Data)];
}
