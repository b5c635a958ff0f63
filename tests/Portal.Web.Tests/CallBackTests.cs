using System.Net;
using System.Text.Json.Nodes;
using Portal.IdpEmulator;
using Portal.Storage;

namespace Portal.Web.Tests;

/// <summary>
/// Call-back to the number on file (docs/recovery.md), over HTTP against the emulator: the agent reads a one-time code
/// on the caller's call, calls the work phone the IdP has on file, and types the code who answered says back. It opens
/// "Sign out everywhere" only (never a password reset or a temporary access code by default), the caller is told at
/// their address on file, and the code is never stored. A wrong code fails and counts; "they did not call us" is an
/// alarm; no work phone on file, no call-back; only the agent session that started it can answer it.
/// </summary>
/// <remarks>
/// One portal serves the class: each test has its own caller and agent and reads only the records written since it
/// began. The demo tenant turns the call-back on (the test host's first tenant starts from it).
/// </remarks>
public sealed class CallBackTests(PortalHostFixture fixture) : IClassFixture<PortalHostFixture>, IAsyncLifetime
{
    private readonly PortalTestHost _host = fixture.Portal;
    private readonly string _agent = TestPeople.NewAgent(fixture.Portal.Emulator.State, "Helpdesk Tier 3");
    private StoreMark? _mark;

    private EmulatorState Idp => _host.Emulator.State;

    public async Task InitializeAsync() => _mark = await StoreMark.TakeAsync(_host.Store, Audit, Pending);

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task LostPhone_CalledBackAtTheNumberOnFile_CodeSaidBack_SignOutEverywhereOnly_CallerTold_CodeNeverStored()
    {
        var caller = NewCallerWithWorkPhone("+1 555 0100 181");
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_agent));

        var page = await agent.LookupAsync(caller);
        var form = ConsoleDriver.FormFor(page, "/verification/callback");
        Assert.Contains("Sign out everywhere", System.Net.WebUtility.HtmlDecode(form), StringComparison.Ordinal);
        Assert.DoesNotContain("Issue temporary access code", form, StringComparison.Ordinal);
        var started = await agent.StartCallBackAsync(page);
        Assert.Equal(HttpStatusCode.SeeOther, started.StatusCode);
        var pending = started.Headers.Location!.OriginalString;

        // The page shows the code to read out and the number on file to call; nothing reached any device.
        var waiting = System.Net.WebUtility.HtmlDecode(await agent.GetPageAsync(pending));
        var code = ConsoleDriver.CallBackCode(waiting);
        Assert.NotNull(code);
        Assert.Matches("^[0-9]{6}$", code);
        Assert.Contains("+1 555 0100 181", waiting, StringComparison.Ordinal);
        Assert.Empty(Idp.PendingPushes(caller));

        // The store keeps a keyed hash of the code, never the code.
        var stored = Assert.Single(await _mark!.SinceAsync(Pending));
        Assert.False(string.IsNullOrEmpty((string?)stored.Data["answerHash"] ?? (string?)stored.Data["AnswerHash"]));
        Assert.DoesNotContain(code, stored.Data.ToJsonString(), StringComparison.Ordinal);

        var confirmed = await agent.AnswerCallBackAsync(pending, code[..3] + " " + code[3..]);
        Assert.Equal(HttpStatusCode.SeeOther, confirmed.StatusCode);
        var next = confirmed.Headers.Location!.OriginalString;
        Assert.StartsWith("/verification/session/", next, StringComparison.Ordinal);
        var id = ConsoleDriver.VerificationId(next);
        Assert.Contains("Call-back to the number on file", await agent.GetPageAsync(next), StringComparison.Ordinal);

        // Weaker than a factor: no password reset, no temporary access code; signing out everywhere, yes.
        Assert.Equal(HttpStatusCode.Forbidden, (await agent.ActAsync("password-reset", id, ("kind", "OneTimeLink"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await agent.ActAsync("temporary-access", id)).StatusCode);
        Assert.Equal(0, Idp.FindCaller(caller)!.TemporaryAccessCodesIssued);
        var revoked = await agent.ActAsync("revoke-sessions", id);
        Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        Assert.Equal(1, Idp.FindCaller(caller)!.SessionsRevoked);

        // The recovery notice reached the caller's address on file.
        Assert.Single(Idp.Mailbox.To(Idp.FindCaller(caller)!.Email));

        var audit = await AuditAsync();
        Assert.Equal("succeeded", (string)Assert.Single(audit, d => (string)d["action"]! == "verification.callback.start")["outcome"]!);
        var result = Assert.Single(audit, d => (string)d["action"]! == "verification.callback.result");
        Assert.Equal(("succeeded", "approved"), ((string)result["outcome"]!, (string)result["reason"]!));
        var done = Assert.Single(audit, d => (string)d["action"]! == "action.sessions_revoke" && (string)d["outcome"]! == "succeeded");
        Assert.Equal(Portal.Idp.VerificationMethods.RecoveryCallBack, (string)done["method"]!);
        Assert.All(audit, d => Assert.DoesNotContain(code, d.ToJsonString(), StringComparison.Ordinal));
        Assert.DoesNotContain(_host.LogLines, l => l.Contains(code, StringComparison.Ordinal));
        Assert.Null(ConsoleDriver.CallBackCode(await agent.GetPageAsync(pending)));
    }

    [Fact]
    public async Task WrongCodeSaidBack_NotVerified_CountedAgainstTheCaller_AMistypeIsNot()
    {
        var caller = NewCallerWithWorkPhone("+1 555 0100 182");
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_agent));
        var pending = (await agent.StartCallBackAsync(await agent.LookupAsync(caller))).Headers.Location!.OriginalString;
        var code = ConsoleDriver.CallBackCode(await agent.GetPageAsync(pending))!;

        // Five digits: the agent's typo, refused in words, the call-back still waiting and nothing counted.
        var typo = await agent.AnswerCallBackAsync(pending, code[..5]);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, typo.StatusCode);
        Assert.Contains("The code is 6 digits", await typo.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("data-state=\"Waiting\"", await agent.GetPageAsync(pending), StringComparison.Ordinal);

        var wrong = await agent.AnswerCallBackAsync(pending, WrongCode(code));
        Assert.Equal(HttpStatusCode.SeeOther, wrong.StatusCode);
        Assert.Equal(pending, wrong.Headers.Location!.OriginalString);
        var ended = System.Net.WebUtility.HtmlDecode(await agent.GetPageAsync(pending));
        Assert.Contains("Not confirmed", ended, StringComparison.Ordinal);
        Assert.DoesNotContain("data-field=\"callback-code\"", ended, StringComparison.Ordinal);

        // The right code after the wrong one is too late: the call-back has ended.
        var late = await agent.AnswerCallBackAsync(pending, code);
        Assert.Equal(pending, late.Headers.Location!.OriginalString);
        var result = Assert.Single(await AuditAsync(), d => (string)d["action"]! == "verification.callback.result");
        Assert.Equal(("failed", "wrong_code"), ((string)result["outcome"]!, (string)result["reason"]!));
        Assert.DoesNotContain(await AuditAsync(), d => (string)d["action"]! == "verification.callback.result" && (string)d["reason"]! == "approved");

        // Each wrong code counts against the caller (the typo did not): four more, and the caller is cooling down.
        for (var i = 0; i < 4; i++)
        {
            var next = (await agent.StartCallBackAsync(await agent.LookupAsync(caller))).Headers.Location!.OriginalString;
            Assert.Equal(HttpStatusCode.SeeOther, (await agent.AnswerCallBackAsync(next, WrongCode(ConsoleDriver.CallBackCode(await agent.GetPageAsync(next))!))).StatusCode);
        }

        var page = await agent.LookupAsync(caller);
        Assert.DoesNotContain("action=\"/verification/callback\"", page, StringComparison.Ordinal);
        Assert.Contains("data-code=\"CoolingDown\"", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WorkPhoneChangedDuringTheCallBack_ConfirmationRefused_Alarm()
    {
        var caller = NewCallerWithWorkPhone("+1 555 0100 185");
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_agent));
        var pending = (await agent.StartCallBackAsync(await agent.LookupAsync(caller))).Headers.Location!.OriginalString;
        var code = ConsoleDriver.CallBackCode(await agent.GetPageAsync(pending))!;

        // Someone holding the account points the number on file at their own phone during the call.
        Idp.SetWorkPhone(caller, "+1 555 0100 199");
        var warned = System.Net.WebUtility.HtmlDecode(await agent.GetPageAsync(pending));
        Assert.Contains("data-changed=\"true\"", warned, StringComparison.Ordinal);
        Assert.DoesNotContain("+1 555 0100 199", warned, StringComparison.Ordinal);

        // The right code, said by whoever answered the new number, verifies nothing.
        var confirmed = await agent.AnswerCallBackAsync(pending, code);
        Assert.Equal(pending, confirmed.Headers.Location!.OriginalString);
        Assert.Contains("changed during the call-back", System.Net.WebUtility.HtmlDecode(await agent.GetPageAsync(pending)), StringComparison.Ordinal);
        Assert.Contains("data-code=\"Alarm\"", await agent.LookupAsync(caller), StringComparison.Ordinal);
        var result = Assert.Single(await AuditAsync(), d => (string)d["action"]! == "verification.callback.result");
        Assert.Equal(("alarm", "callback_phone_changed"), ((string)result["outcome"]!, (string)result["reason"]!));
    }

    [Fact]
    public async Task AccountSuspendedDuringTheCallBack_RightCodeVerifiesNothing_NotCountedAgainstTheCaller()
    {
        var caller = NewCallerWithWorkPhone("+1 555 0100 188");
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_agent));
        var pending = (await agent.StartCallBackAsync(await agent.LookupAsync(caller))).Headers.Location!.OriginalString;
        var code = ConsoleDriver.CallBackCode(await agent.GetPageAsync(pending))!;

        // The security team suspends the account while the agent is calling the number on file.
        Idp.SetStatus(caller, "SUSPENDED");
        var confirmed = await agent.AnswerCallBackAsync(pending, code);
        Assert.Equal(pending, confirmed.Headers.Location!.OriginalString);
        var ended = System.Net.WebUtility.HtmlDecode(await agent.GetPageAsync(pending));
        Assert.Contains("account was closed during the call-back", ended, StringComparison.Ordinal);
        Assert.Contains("class=\"state error\"", ended, StringComparison.Ordinal);
        Assert.DoesNotContain("/verification/session/", ended, StringComparison.Ordinal);
        var result = Assert.Single(await AuditAsync(), d => (string)d["action"]! == "verification.callback.result");
        Assert.Equal(("failed", "caller_inactive"), ((string)result["outcome"]!, (string)result["reason"]!));
    }

    [Fact]
    public async Task TimedOut_TheyDidNotCallUs_StillRaisesTheAlarm()
    {
        var caller = NewCallerWithWorkPhone("+1 555 0100 186");
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_agent));
        var pending = (await agent.StartCallBackAsync(await agent.LookupAsync(caller))).Headers.Location!.OriginalString;
        var code = ConsoleDriver.CallBackCode(await agent.GetPageAsync(pending))!;

        _host.Clock.Advance(TimeSpan.FromMinutes(11));
        var late = await agent.AnswerCallBackAsync(pending, code);
        Assert.Equal(pending, late.Headers.Location!.OriginalString);
        var ended = System.Net.WebUtility.HtmlDecode(await agent.GetPageAsync(pending));
        Assert.Contains("Timed out", ended, StringComparison.Ordinal);
        Assert.Contains("data-field=\"callback-not-me\"", ended, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.SeeOther, (await agent.AnswerCallBackAsync(pending, null, notMe: true)).StatusCode);
        Assert.Contains("data-code=\"Alarm\"", await agent.LookupAsync(caller), StringComparison.Ordinal);
        var results = (await AuditAsync()).Where(d => (string)d["action"]! == "verification.callback.result").Select(d => ((string)d["outcome"]!, (string)d["reason"]!)).Order().ToList();
        Assert.Equal([("alarm", "callback_not_me"), ("failed", "callback_timed_out")], results);

        // Said twice, it is reported once.
        await agent.AnswerCallBackAsync(pending, null, notMe: true);
        Assert.Single(await AuditAsync(), d => (string)d["action"]! == "verification.callback.result" && (string)d["reason"]! == "callback_not_me");
    }

    [Fact]
    public async Task APushsChallenge_CannotBeAnsweredAsACallBack()
    {
        var caller = NewCallerWithWorkPhone("+1 555 0100 187");
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_agent));
        var pending = await agent.StartPushAsync(await agent.LookupAsync(caller));

        var crafted = await agent.AnswerCallBackAsync(pending, "123456");
        Assert.Equal(pending, crafted.Headers.Location!.OriginalString);
        var notMe = await agent.AnswerCallBackAsync(pending, null, notMe: true);
        Assert.Equal(pending, notMe.Headers.Location!.OriginalString);
        Assert.Contains("data-state=\"Waiting\"", await agent.GetPageAsync(pending), StringComparison.Ordinal);
        Assert.DoesNotContain("data-code=\"Alarm\"", await agent.LookupAsync(caller), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WhoAnsweredNeverCalled_Alarm_NothingMoreCanBeDone()
    {
        var caller = NewCallerWithWorkPhone("+1 555 0100 183");
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_agent));
        var pending = (await agent.StartCallBackAsync(await agent.LookupAsync(caller))).Headers.Location!.OriginalString;

        var notMe = await agent.AnswerCallBackAsync(pending, null, notMe: true);
        Assert.Equal(HttpStatusCode.SeeOther, notMe.StatusCode);
        Assert.Contains("someone called in their name", System.Net.WebUtility.HtmlDecode(await agent.GetPageAsync(pending)), StringComparison.Ordinal);

        var again = await agent.LookupAsync(caller);
        Assert.Contains("data-code=\"Alarm\"", again, StringComparison.Ordinal);
        Assert.DoesNotContain("action=\"/verification/callback\"", again, StringComparison.Ordinal);
        var result = Assert.Single(await AuditAsync(), d => (string)d["action"]! == "verification.callback.result");
        Assert.Equal(("alarm", "callback_not_me"), ((string)result["outcome"]!, (string)result["reason"]!));
    }

    [Fact]
    public async Task NoWorkPhoneOnFile_Refused_NothingToCall_AttemptGivenBack()
    {
        var caller = TestPeople.NewCaller(Idp, push: true);
        Idp.SetWorkPhone(caller, null);
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_agent));
        var page = await agent.LookupAsync(caller);
        Assert.Contains("data-field=\"callback-unavailable\"", page, StringComparison.Ordinal);
        Assert.DoesNotContain("action=\"/verification/callback\"", page, StringComparison.Ordinal);

        // A crafted start (the button is not offered) is refused at the IdP's word, six times in a row, one past the
        // failure limit: each gave the attempt back, so the caller's own push is still offered.
        for (var i = 0; i < 6; i++)
        {
            var refused = await agent.PostStartAsync(page, "/verification/push", "/verification/callback", CallBackFactor);
            Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
            var body = System.Net.WebUtility.HtmlDecode(await refused.Content.ReadAsStringAsync());
            Assert.Contains("data-code=\"no_work_phone\"", body, StringComparison.Ordinal);
            Assert.Contains("Never call a number the caller gives you", body, StringComparison.Ordinal);
        }

        var starts = (await AuditAsync()).Where(d => (string)d["action"]! == "verification.callback.start").ToList();
        Assert.Equal(6, starts.Count);
        Assert.All(starts, d => Assert.Equal(("denied", "no_work_phone"), ((string)d["outcome"]!, (string)d["reason"]!)));
        Assert.Contains("action=\"/verification/push\"", await agent.LookupAsync(caller), StringComparison.Ordinal);
        Assert.Empty(await _mark!.SinceAsync(Pending));
    }

    [Fact]
    public async Task AnotherAgentSession_CannotAnswerTheCallBack_NorSeeItsCode()
    {
        var caller = NewCallerWithWorkPhone("+1 555 0100 184");
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(_agent));
        var pending = (await agent.StartCallBackAsync(await agent.LookupAsync(caller))).Headers.Location!.OriginalString;
        var code = ConsoleDriver.CallBackCode(await agent.GetPageAsync(pending))!;

        var other = new ConsoleDriver(_host, await _host.SignInAsync(TestPeople.NewAgent(Idp, "Helpdesk Tier 3")));
        Assert.Equal(HttpStatusCode.NotFound, (await other.Browser.GetAsync(pending)).StatusCode);
        var token = PortalTestHost.FormToken(await other.GetPageAsync("/console"));
        var answered = await PortalTestHost.PostFormAsync(other.Browser, pending + "/callback", token, ("code", code));
        Assert.Equal(HttpStatusCode.NotFound, answered.StatusCode);

        Assert.Contains("data-state=\"Waiting\"", await agent.GetPageAsync(pending), StringComparison.Ordinal);
        Assert.DoesNotContain(await AuditAsync(), d => (string)d["action"]! == "verification.callback.result");
    }

    private const string CallBackFactor = "callback";

    private string NewCallerWithWorkPhone(string phone)
    {
        var caller = TestPeople.NewCaller(Idp, push: true);
        Idp.SetWorkPhone(caller, phone);
        return caller;
    }

    /// <summary>Another six digits: each digit moved on by one.</summary>
    private static string WrongCode(string code) => new([.. code.Select(c => (char)('0' + ((c - '0' + 1) % 10)))]);

    private static CollectionPath Audit => CollectionPath.ForTenant(PortalTestHost.TenantId, "audit");

    private static CollectionPath Pending => CollectionPath.ForTenant(PortalTestHost.TenantId, "pendingVerifications");

    private async Task<List<JsonObject>> AuditAsync() => [.. (await _mark!.SinceAsync(Audit)).Select(d => d.Data)];
}
