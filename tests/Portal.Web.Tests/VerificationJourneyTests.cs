using System.Net;
using System.Text.Json.Nodes;
using Portal.Storage;

namespace Portal.Web.Tests;

/// <summary>
/// The spine, end to end over real HTTP: an agent signs in through OIDC, looks a caller up, verifies them
/// by a number-matched push or a TOTP code, and acts — and everything that must be refused is refused.
/// One portal, emulator and store serves a class (SQLite in <see cref="VerificationJourneyTests"/>; Firestore in
/// <see cref="FirestoreVerificationJourneyTests"/>); each test has callers and agents of its own, and reads only the
/// records it wrote, so that it sees what it would see on a portal of its own.
/// </summary>
public abstract class VerificationJourneys(PortalTestHost host) : IAsyncLifetime
{
    /// <summary>The demo's Alice, for what only she has (her card's details, her masked login); no test alarms her.</summary>
    private const string DemoAlice = "alice.caller@demo.example";
    private const string DemoTier3 = "tier3.agent@demo.example";
    private const string Auditor = "auditor@demo.example";

    private readonly PortalTestHost _host = host;
    private readonly string _alice = TestPeople.NewCaller(host.Emulator.State, push: true);
    private readonly string _bob = TestPeople.NewCaller(host.Emulator.State);
    private readonly string _tier1 = TestPeople.NewAgent(host.Emulator.State, "Helpdesk Tier 1");
    private readonly string _tier2 = TestPeople.NewAgent(host.Emulator.State, "Helpdesk Tier 2");
    private readonly string _tier3 = TestPeople.NewAgent(host.Emulator.State, "Helpdesk Tier 3");
    private StoreMark? _mark;

    public async Task InitializeAsync() =>
        _mark = await StoreMark.TakeAsync(_host.Store, Collection("audit"), Collection("pendingVerifications"), Collection("verificationSessions"), Collection("callerCounters"));

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Journey_PushApprovedThenPasswordReset_ResetsAndAuditsWithoutPii()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_tier3));

        // The caller card: the caller as Okta knows them, read for this screen (the PII scan at the end proves none of it is kept).
        var callerPage = WebUtility.HtmlDecode(await agent.LookupAsync(DemoAlice));
        Assert.Contains("Caller: Alice Caller", callerPage, StringComparison.Ordinal);
        Assert.Contains($"data-field=\"login\">{DemoAlice}<", callerPage, StringComparison.Ordinal);
        Assert.Contains("data-field=\"title\">Payroll Specialist<", callerPage, StringComparison.Ordinal);
        Assert.Contains("data-field=\"department\">Finance<", callerPage, StringComparison.Ordinal);
        Assert.Contains("data-field=\"manager\">Morgan Lead<", callerPage, StringComparison.Ordinal);
        Assert.Contains("UTC (2 days ago)", callerPage, StringComparison.Ordinal);
        Assert.Contains("never read them out", callerPage, StringComparison.Ordinal);
        Assert.Contains("okta.push", callerPage, StringComparison.Ordinal);
        Assert.Contains("okta.totp", callerPage, StringComparison.Ordinal);

        var session = await agent.VerifyByPushAsync(DemoAlice);
        var sessionPage = await agent.GetPageAsync(session);
        Assert.Contains("Verified", sessionPage, StringComparison.Ordinal);
        Assert.Contains("data-expires", sessionPage, StringComparison.Ordinal);

        var reset = await agent.ActAsync("password-reset", ConsoleDriver.VerificationId(session), ("kind", "OneTimeLink"), ("ticketRef", "INC-1042"));
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        var resultPage = await reset.Content.ReadAsStringAsync();
        Assert.Contains("data-field=\"secret\"", resultPage, StringComparison.Ordinal);
        Assert.Equal(1, _host.Emulator.State.FindCaller(DemoAlice)!.PasswordResets);
        Assert.True(reset.Headers.CacheControl?.NoStore, "A page with a one-time secret must not be stored.");

        var secret = PortalTestHost.SecretOn(resultPage);
        Assert.False(string.IsNullOrWhiteSpace(secret));

        var audit = await AuditDocumentsAsync();
        var actions = audit.Select(d => (string)d["action"]!).ToList();
        Assert.Contains("agent.signin", actions);
        Assert.Contains("caller.lookup", actions);
        Assert.Contains("verification.push.start", actions);
        Assert.Contains("verification.push.result", actions);
        var resetRecord = Assert.Single(audit, d => (string)d["action"]! == "action.password_reset");
        Assert.Equal("succeeded", (string)resetRecord["outcome"]!);
        Assert.Equal("INC-1042", (string)resetRecord["ticketRef"]!);
        Assert.NotNull(resetRecord["completedAt"]);

        // D1: nothing stored and nothing logged holds the caller's e-mail, login, IdP id, name or the one-time link.
        var caller = _host.Emulator.State.FindCaller(DemoAlice)!;
        string[] forbidden = [caller.Email, caller.Login, caller.Id, caller.FirstName + " " + caller.LastName, System.Net.WebUtility.HtmlDecode(secret)];
        var everything = await AllStoredTextAsync();
        foreach (var value in forbidden)
        {
            Assert.DoesNotContain(value, everything, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(_host.LogLines, line => line.Contains(value, StringComparison.OrdinalIgnoreCase));
        }

        // Names are common words ("Caller"): a name is a leak where it stands as a stored value of its own.
        Assert.DoesNotContain($"\"{caller.FirstName}\"", everything, StringComparison.Ordinal);
        Assert.DoesNotContain($"\"{caller.LastName}\"", everything, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Push_WrongNumberPicked_RejectedAlarmedAndNoActionPossible()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_tier3));
        var before = await agent.LookupAsync(_alice);
        var pending = await agent.StartPushAsync(before);
        var push = Assert.Single(_host.Emulator.State.PendingPushes(_alice));
        var wrong = push.Choices.First(c => c != push.CorrectAnswer);
        _host.Emulator.State.AnswerPush(push.TransactionId, wrong);

        var (state, next) = await agent.PollAsync(pending);

        Assert.Equal("Rejected", state);
        Assert.Null(next);
        var audit = await AuditDocumentsAsync();
        Assert.Contains(audit, d => (string)d["action"]! == "verification.push.result" && (string)d["outcome"]! == "alarm" && (string)d["reason"]! == "push_rejected");

        // V6: the caller is now under alarm: the console says so and offers no way to verify, and a new push
        // (posted from the page as it was before the alarm) is refused before the IdP is asked.
        var again = await agent.LookupAsync(_alice);
        Assert.Contains("data-code=\"Alarm\"", again, StringComparison.Ordinal);
        Assert.Contains("data-field=\"no-methods\"", again, StringComparison.Ordinal);
        Assert.DoesNotContain("action=\"/verification/push\"", again, StringComparison.Ordinal);
        var verifyCallsBefore = _host.Emulator.State.Requests.Count(r => r.PathAndQuery.EndsWith("/verify", StringComparison.Ordinal));
        var refused = await PortalTestHost.PostFormAsync(agent.Browser, "/verification/push", PortalTestHost.FormToken(again),
            ("callerRef", PortalTestHost.HiddenValue(before, "callerRef")), ("factorId", PortalTestHost.HiddenValue(before, "factorId")));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        Assert.Contains("caller_alarm", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(verifyCallsBefore, _host.Emulator.State.Requests.Count(r => r.PathAndQuery.EndsWith("/verify", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Push_CallerSaysNotMe_Rejected()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_tier3));
        var pending = await agent.StartPushAsync(await agent.LookupAsync(_alice));
        var push = Assert.Single(_host.Emulator.State.PendingPushes(_alice));
        _host.Emulator.State.DenyPush(push.TransactionId);

        var (state, _) = await agent.PollAsync(pending);

        Assert.Equal("Rejected", state);
    }

    [Fact]
    public async Task Push_NotAnswered_StaysWaitingThenTimesOutAfterTenMinutes()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_tier3));
        var pending = await agent.StartPushAsync(await agent.LookupAsync(_alice));
        Assert.Equal("Waiting", (await agent.PollAsync(pending)).State);

        _host.Clock.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1));

        Assert.Equal("TimedOut", (await agent.PollAsync(pending)).State);
    }

    /// <summary>
    /// Review F12: the number the caller must pick is stored while the push waits (the agent's page shows it on
    /// any instance) and cleared when the push ends, however it ends, so the store never keeps it past its use.
    /// </summary>
    [Theory]
    [InlineData("Approved")]
    [InlineData("Rejected")]
    [InlineData("TimedOut")]
    public async Task Push_Ended_TheNumberIsNoLongerStored(string end)
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_tier3));
        var pending = await agent.StartPushAsync(await agent.LookupAsync(_alice));
        var push = Assert.Single(_host.Emulator.State.PendingPushes(_alice));
        var waiting = Assert.Single(await DocumentsAsync("pendingVerifications"));
        Assert.Equal(push.CorrectAnswer, (int)waiting["correctAnswer"]!);
        Assert.NotEqual(0, push.CorrectAnswer);

        switch (end)
        {
            case "Approved":
                Assert.True(_host.Emulator.State.AnswerPush(push.TransactionId, push.CorrectAnswer));
                break;
            case "Rejected":
                Assert.True(_host.Emulator.State.AnswerPush(push.TransactionId, push.Choices.First(c => c != push.CorrectAnswer)));
                break;
            default:
                _host.Clock.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1));
                break;
        }

        Assert.Equal(end, (await agent.PollAsync(pending)).State);
        var ended = Assert.Single(await DocumentsAsync("pendingVerifications"));
        Assert.Equal(end, (string)ended["state"]!, StringComparer.OrdinalIgnoreCase);
        Assert.Equal(0, (int)ended["correctAnswer"]!);
        var endedPage = await agent.GetPageAsync(pending);
        Assert.DoesNotContain($">{push.CorrectAnswer}<", endedPage, StringComparison.Ordinal);

        // Nor a cleared number (0) offered to read out, e.g. when the agent comes back to the page with Back.
        Assert.DoesNotContain("tap <strong>", endedPage, StringComparison.Ordinal);
        Assert.Contains("This push has ended; there is no number to read out.", endedPage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Action_WithoutVerification_Refused403AndIdpUntouched()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_tier3));
        var before = _host.Emulator.State.Callers.ToDictionary(c => c.Id, c => c.PasswordResets + c.TemporaryPasswordsIssued);

        var response = await agent.ActAsync("password-reset", "0123456789abcdef0123456789abcdef", ("kind", "TemporaryPassword"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.All(_host.Emulator.State.Callers, c => Assert.Equal(before.GetValueOrDefault(c.Id), c.PasswordResets + c.TemporaryPasswordsIssued));
        Assert.Contains(await AuditDocumentsAsync(), d => (string)d["action"]! == "action.password_reset" && (string)d["outcome"]! == "denied");
    }

    /// <summary>
    /// A challenge is not a verification: the id of a push the agent is waiting on opens no session page and no action,
    /// and an id of the wrong shape is refused where it comes in, as not found.
    /// </summary>
    [Fact]
    public async Task ChallengeId_IsNoVerificationId_MalformedIdsNotFound()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_tier3));
        var pending = await agent.StartPushAsync(await agent.LookupAsync(_alice));
        var challengeId = pending.Split('/').Last();

        var asSession = await agent.Browser.GetAsync("/verification/session/" + challengeId);
        var action = await agent.ActAsync("revoke-sessions", challengeId);
        var malformed = await agent.Browser.GetAsync("/verification/pending/" + challengeId.ToUpperInvariant());

        Assert.Equal(HttpStatusCode.NotFound, asSession.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, action.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, malformed.StatusCode);
        Assert.Equal(0, _host.Emulator.State.FindCaller(_alice)!.SessionsRevoked);
        Assert.Contains(await AuditDocumentsAsync(), d => (string?)d["action"] == "action.sessions_revoke" && (string?)d["reason"] == "no_verification");
    }

    [Fact]
    public async Task Action_OtherAgentsVerification_Refused()
    {
        var owner = new ConsoleDriver(_host, await _host.SignInAsync(_tier3));
        var session = await owner.VerifyByPushAsync(_alice);
        var other = new ConsoleDriver(_host, await _host.SignInAsync(_tier2));

        var page = await other.Browser.GetAsync(session);
        var response = await other.ActAsync("revoke-sessions", ConsoleDriver.VerificationId(session));

        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(0, _host.Emulator.State.FindCaller(_alice)!.SessionsRevoked);
    }

    [Fact]
    public async Task Action_AfterVerificationExpired_Refused()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_tier3));
        var session = await agent.VerifyByPushAsync(_alice);

        _host.Clock.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1));
        var response = await agent.ActAsync("revoke-sessions", ConsoleDriver.VerificationId(session));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(0, _host.Emulator.State.FindCaller(_alice)!.SessionsRevoked);
    }

    [Fact]
    public async Task Action_VerificationOfOneCaller_CannotBeTurnedOnAnother()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_tier3));
        var session = await agent.VerifyByPushAsync(_alice);
        var bob = _host.Emulator.State.FindCaller(_bob)!;

        // The form names no caller; whatever caller fields a crafted request adds are not read.
        var response = await agent.ActAsync("revoke-sessions", ConsoleDriver.VerificationId(session), ("callerId", bob.Id), ("login", _bob), ("callerRef", "x"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, _host.Emulator.State.FindCaller(_alice)!.SessionsRevoked);
        Assert.Equal(0, bob.SessionsRevoked);
    }

    [Fact]
    public async Task Action_SameActionTwiceInOneVerification_SecondRefused()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_tier3));
        var id = ConsoleDriver.VerificationId(await agent.VerifyByPushAsync(_alice));

        var first = await agent.ActAsync("revoke-sessions", id);
        var second = await agent.ActAsync("revoke-sessions", id);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, second.StatusCode);
        Assert.Equal(1, _host.Emulator.State.FindCaller(_alice)!.SessionsRevoked);
    }

    [Fact]
    public async Task Action_SameActionRacedInParallel_RunsOnce()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_tier3));
        var id = ConsoleDriver.VerificationId(await agent.VerifyByPushAsync(_alice));
        var token = PortalTestHost.FormToken(await agent.GetPageAsync("/console"));

        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ =>
            agent.PostActionAsync("revoke-sessions", token, id)));

        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.OK);
        Assert.Equal(1, _host.Emulator.State.FindCaller(_alice)!.SessionsRevoked);
    }

    [Fact]
    public async Task Tier1Agent_CanVerifyButCannotReset_AndIsToldWhichPermissionTheTierLacks()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_tier1));
        var session = await agent.VerifyByPushAsync(_alice);
        var sessionPage = await agent.GetPageAsync(session);

        var response = await agent.ActAsync("password-reset", ConsoleDriver.VerificationId(session), ("kind", "SendEmail"));

        Assert.DoesNotContain("action=\"/actions/", sessionPage, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var refusal = await response.Content.ReadAsStringAsync();
        Assert.Contains("Your tier does not include <strong>Reset passwords</strong>", refusal, StringComparison.Ordinal);
        Assert.Contains("action.password_reset", refusal, StringComparison.Ordinal);
        Assert.Equal(0, _host.Emulator.State.FindCaller(_alice)!.PasswordResets);
        Assert.Contains(await AuditDocumentsAsync(), d => (string)d["action"]! == "access.denied" && (string)d["reason"]! == "missing:action.password_reset");
    }

    [Fact]
    public async Task Totp_RightCode_Verifies_WrongCodeFails_ReusedCodeFails()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_tier3));
        var page = await agent.LookupAsync(_bob);
        var current = _host.Emulator.State.CurrentTotp(_bob);
        var wrongCode = ((int.Parse(current, System.Globalization.CultureInfo.InvariantCulture) + 1) % 1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);

        var wrong = await agent.VerifyByTotpAsync(page, wrongCode);
        var right = await agent.VerifyByTotpAsync(page, current);
        var reused = await agent.VerifyByTotpAsync(page, current);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, wrong.StatusCode);
        Assert.Contains("wrong_code", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, right.StatusCode);
        Assert.StartsWith("/verification/session/", right.Headers.Location!.OriginalString, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, reused.StatusCode);
        Assert.Contains("code_replayed", await reused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>
    /// Every start that names a caller leaves an audit record under its method's start action, the ones refused before
    /// the IdP is asked included: a malformed code, and a factor the IdP does not list for the method (a crafted form).
    /// Neither is charged to the caller.
    /// </summary>
    [Fact]
    public async Task Start_RefusedBeforeTheIdp_AuditedWithItsCode_NotChargedToTheCaller()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_tier3));
        var page = await agent.LookupAsync(_bob);
        var totpFactor = PortalTestHost.HiddenValue(ConsoleDriver.FormFor(page, "/verification/totp"), "factorId");

        var malformed = await agent.VerifyByTotpAsync(page, "12ab56");
        var pushToTotp = await agent.PostStartAsync(page, "/verification/totp", "/verification/push", totpFactor);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, malformed.StatusCode);
        Assert.Contains("malformed_code", await malformed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, pushToTotp.StatusCode);
        Assert.Contains("factor_not_challengeable", await pushToTotp.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(_host.Emulator.State.PendingPushes(_bob));
        var audit = await AuditDocumentsAsync();
        Assert.Contains(audit, d => (string?)d["action"] == "verification.totp" && (string?)d["outcome"] == "denied" && (string?)d["reason"] == "malformed_code");
        Assert.Contains(audit, d => (string?)d["action"] == "verification.push.start" && (string?)d["outcome"] == "denied" && (string?)d["reason"] == "factor_not_challengeable");

        // Nothing was charged: the caller's counters were not written.
        Assert.Empty(await _mark!.SinceAsync(Collection("callerCounters")));
        var right = await agent.VerifyByTotpAsync(page, _host.Emulator.State.CurrentTotp(_bob));
        Assert.Equal(HttpStatusCode.Redirect, right.StatusCode);
    }

    [Fact]
    public async Task Totp_IsNotEnoughForTemporaryAccess()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_tier3));
        var verified = await agent.VerifyByTotpAsync(await agent.LookupAsync(_bob), _host.Emulator.State.CurrentTotp(_bob));
        var id = ConsoleDriver.VerificationId(verified.Headers.Location!.OriginalString);

        var tap = await agent.ActAsync("temporary-access", id);
        var revoke = await agent.ActAsync("revoke-sessions", id);

        Assert.Equal(HttpStatusCode.Forbidden, tap.StatusCode);
        Assert.Equal(0, _host.Emulator.State.FindCaller(_bob)!.TemporaryAccessCodesIssued);
        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
    }

    [Fact]
    public async Task Totp_FailuresInARow_StartACooldownThatANewChallengeDoesNotReset()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_tier3));
        var page = await agent.LookupAsync(_bob);
        for (var i = 0; i < 5; i++)
        {
            var failed = await agent.VerifyByTotpAsync(page, (100000 + i).ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(HttpStatusCode.UnprocessableEntity, failed.StatusCode);
        }

        var right = await agent.VerifyByTotpAsync(page, _host.Emulator.State.CurrentTotp(_bob));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, right.StatusCode);
        Assert.Contains("cooling_down", await right.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignOut_EndsTheVerificationSessions()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_tier3));
        var id = ConsoleDriver.VerificationId(await agent.VerifyByPushAsync(_alice));
        var token = PortalTestHost.FormToken(await agent.GetPageAsync("/console"));
        var signOut = await PortalTestHost.PostFormAsync(agent.Browser, "/account/signout", token);
        Assert.Equal(HttpStatusCode.OK, signOut.StatusCode);

        var again = new ConsoleDriver(_host, await _host.SignInAsync(_tier3));
        var response = await again.ActAsync("revoke-sessions", id);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(0, _host.Emulator.State.FindCaller(_alice)!.SessionsRevoked);
        Assert.Empty(await DocumentsAsync("verificationSessions"));
    }

    [Fact]
    public async Task SignIn_AgentWithoutMfa_Refused()
    {
        var client = _host.NewClient();
        var challenge = await client.GetAsync($"/account/signin/{PortalTestHost.TenantId}");
        var authorize = challenge.Headers.Location!;
        var form = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(authorize.Query).ToDictionary(p => p.Key, p => p.Value.ToString());
        form["agent"] = _host.Emulator.State.Agents.Single(a => a.Email == "nomfa.agent@demo.example").Subject;
        using var idp = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        var picked = await idp.PostAsync(new Uri(authorize.GetLeftPart(UriPartial.Path)), new FormUrlEncodedContent(form));

        var callback = await client.GetAsync(picked.Headers.Location!.PathAndQuery);
        var console = await client.GetAsync("/console");

        Assert.Equal("/account/signin?failed=1", callback.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.Redirect, console.StatusCode);
        Assert.StartsWith("/account/signin", console.Headers.Location!.AbsolutePath, StringComparison.Ordinal);
        Assert.Contains(await AuditDocumentsAsync(), d => (string)d["action"]! == "agent.signin" && (string)d["reason"]! == "agent_mfa_missing");
    }

    [Fact]
    public async Task Post_WithoutAntiforgeryToken_Refused()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_tier3));

        var response = await agent.Browser.PostAsync("/console/lookup", new FormUrlEncodedContent([new("login", _alice)]));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain(await AuditDocumentsAsync(), d => (string)d["action"]! == "caller.lookup");
    }

    [Fact]
    public async Task Action_IdpOutage_AgentToldAndAuditCompletedAsFailed()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_tier3));
        var id = ConsoleDriver.VerificationId(await agent.VerifyByPushAsync(_alice));
        _host.Emulator.State.SetOutage(true);
        HttpResponseMessage response;
        try
        {
            // The reads before the action (the caller's admin roles) are retried with back-off on the portal's clock.
            var acting = agent.ActAsync("unlock", id);
            while (!acting.IsCompleted)
            {
                _host.Clock.Advance(TimeSpan.FromSeconds(1));
                await Task.WhenAny(acting, Task.Delay(50));
            }

            response = await acting;
        }
        finally
        {
            // The IdP is back for the next test on this portal.
            _host.Emulator.State.SetOutage(false);
        }

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("role=\"alert\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var record = Assert.Single(await AuditDocumentsAsync(), d => (string)d["action"]! == "action.account_unlock");
        Assert.Equal("failed", (string)record["outcome"]!);
        Assert.Equal(0, _host.Emulator.State.FindCaller(_alice)!.Unlocks);
    }

    [Fact]
    public async Task Audit_AgentTheIdpCannotName_KeepsTheMaskedLogin_AndThePageStillAnswers()
    {
        var stranger = _host.Emulator.State.AddAgent("stranger.agent@demo.example", "Stranger Agent", ["Helpdesk Tier 3"]);
        _host.Emulator.State.FailNext(403, stranger.Subject);
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(stranger.Email));
        await agent.LookupAsync(_alice);
        var auditor = new ConsoleDriver(_host, await _host.SignInAsync(Auditor));

        var page = await auditor.GetPageAsync("/audit");

        Assert.Contains(">s***@d***.example</a>", page, StringComparison.Ordinal);
        Assert.DoesNotContain("Stranger Agent", page, StringComparison.Ordinal);
        Assert.Contains(">Audit Reviewer<", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Lookup_FactorEnrolledJustNow_IsFlaggedForAQuestion_OlderOnesAreNot()
    {
        var caller = _host.Emulator.State.AddCaller("fresh.factor@demo.example", "fresh.factor@demo.example", "Fresh", "Factor");
        _host.Emulator.State.EnrolNow(caller.Login);
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_tier3));

        var page = WebUtility.HtmlDecode(await agent.LookupAsync(caller.Login));

        Assert.Single(System.Text.RegularExpressions.Regex.Matches(page, "data-field=\"recently-enrolled\""));
        Assert.Contains("(just now) <strong class=\"recent\" data-field=\"recently-enrolled\"> Enrolled recently: ask the caller when and why they set it up.", System.Text.RegularExpressions.Regex.Replace(page, "\\s+", " "), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Lookup_LockedOutCaller_CardSaysSinceWhen()
    {
        // Locked out 35 minutes ago, as the demo's Dave is when the emulator starts (other tests move this portal's clock on).
        var dave = _host.Emulator.State.FindCaller(TestPeople.NewCaller(_host.Emulator.State, push: true))!;
        _host.Emulator.State.SetStatus(dave.Login, "LOCKED_OUT");
        dave.StatusChanged = _host.Clock.GetUtcNow().AddMinutes(-35);
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_tier3));

        var page = WebUtility.HtmlDecode(await agent.LookupAsync(dave.Login));

        Assert.Matches("data-status=\"LockedOut\">locked out since \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} UTC \\(\\d+ minutes ago\\)<", page);
    }

    [Fact]
    public async Task Audit_AuditorSeesMaskedRecords_Tier3CannotOpenAudit()
    {
        var tier3 = new ConsoleDriver(_host, await _host.SignInAsync(DemoTier3));
        await tier3.LookupAsync(DemoAlice);
        var auditor = new ConsoleDriver(_host, await _host.SignInAsync(Auditor));

        var page = await auditor.GetPageAsync("/audit");
        var denied = await tier3.Browser.GetAsync("/audit");

        Assert.Contains("caller.lookup", page, StringComparison.Ordinal);
        Assert.Contains("a***@d***.example", page, StringComparison.Ordinal);
        Assert.DoesNotContain(DemoAlice, page, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);

        // Agents are told apart by the name Okta gives them, read when the page is drawn; the header names the auditor.
        Assert.Contains(">Tier Three Agent</a>", page, StringComparison.Ordinal);
        Assert.Contains("data-field=\"agent-name\" title=\"auditor@demo.example\">Audit Reviewer<", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallerWithOnlySms_ShownAsNotVerifiable()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_tier3));

        var page = await agent.LookupAsync("carol.caller@demo.example");

        foreach (var own in new[] { "push", "totp", "stepup", "entrapush" })
        {
            Assert.DoesNotContain($"action=\"/verification/{own}\"", page, StringComparison.Ordinal);
        }

        Assert.Contains("no factor the portal can challenge", page, StringComparison.Ordinal);

        // Exactly the caller recovery is for (docs/recovery.md): the tenant's recovery method is offered instead.
        Assert.Contains("action=\"/verification/manager\"", page, StringComparison.Ordinal);
    }

    private static CollectionPath Collection(string name) => CollectionPath.ForTenant(PortalTestHost.TenantId, name);

    /// <summary>The tenant's audit records this test wrote.</summary>
    private Task<List<JsonObject>> AuditDocumentsAsync() => DocumentsAsync("audit");

    /// <summary>The documents of a tenant collection this test wrote.</summary>
    private async Task<List<JsonObject>> DocumentsAsync(string collection) =>
        [.. (await _mark!.SinceAsync(Collection(collection))).Select(d => d.Data)];

    /// <summary>Every document of a tenant collection, whoever wrote it.</summary>
    private async Task<List<JsonObject>> AllDocumentsAsync(string collection)
    {
        var list = new List<JsonObject>();
        await foreach (var doc in _host.Store.QueryAsync(new DocumentQuery(Collection(collection))))
        {
            list.Add(doc.Data);
        }

        return list;
    }

    /// <summary>Every row of the SQLite file, as text: the whole of what the portal keeps.</summary>
    private async Task<string> AllStoredTextAsync()
    {
        var builder = new System.Text.StringBuilder();
        foreach (var collection in new[] { "audit", "agentSessions", "verificationSessions", "pendingVerifications", "callerCounters", "totpUses" })
        {
            foreach (var doc in await AllDocumentsAsync(collection))
            {
                builder.AppendLine(doc.ToJsonString());
            }
        }

        await foreach (var doc in _host.Store.QueryAsync(new DocumentQuery(new CollectionPath("dataProtectionKeys"))))
        {
            builder.AppendLine(doc.Data.ToJsonString());
        }

        // And the raw database files, so that nothing written outside these collections escapes the scan.
        builder.AppendLine(await PiiScan.RawDatabaseFilesAsync(_host.DataDirectory));

        return builder.ToString();
    }
}

/// <summary>The journeys on the default portal (SQLite), one portal for the class.</summary>
public sealed class VerificationJourneyTests(PortalHostFixture fixture) : VerificationJourneys(fixture.Portal), IClassFixture<PortalHostFixture>;
