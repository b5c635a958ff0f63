using System.Net;
using System.Text.RegularExpressions;
using Portal.Web.Tests.Security;

namespace Portal.Web.Tests;

/// <summary>
/// Post/Redirect/Get for actions (docs/security-decisions.md): the action's POST is answered by 303 to a result page,
/// so F5 and Back never post again; the one-time secret reaches that page through the agent's own browser (encrypted,
/// bound to the agent session, path-scoped), is shown on the first view only, and is kept nowhere on the server.
/// </summary>
public sealed partial class ActionResultPageTests(PortalHostFixture fixture) : IClassFixture<PortalHostFixture>
{
    private readonly PortalTestHost _host = fixture.Portal;

    [Fact]
    public async Task Action_AnsweredBySeeOther_SecretOnFirstViewOnly_ReloadsActNoMore()
    {
        var jar = new CookieContainer();
        var browser = _host.NewClient(jar);
        await _host.SignInAsync(SecurityTestKit.Tier3, browser);
        var agent = new ConsoleDriver(_host, browser);
        var id = ConsoleDriver.VerificationId(await agent.VerifyByPushAsync(SecurityTestKit.Alice));
        var issuedBefore = _host.Emulator.State.FindCaller(SecurityTestKit.Alice)!.TemporaryPasswordsIssued;

        var token = PortalTestHost.FormToken(await agent.GetPageAsync("/console"));
        var posted = await PortalTestHost.PostFormAsync(browser, "/actions/password-reset", token, ("verificationId", id), ("kind", "TemporaryPassword"), ("ticketRef", "INC-8101"));

        Assert.Equal(HttpStatusCode.SeeOther, posted.StatusCode);
        var location = posted.Headers.Location!.OriginalString;
        Assert.Matches(ResultPath(), location);
        Assert.Equal(string.Empty, await posted.Content.ReadAsStringAsync());
        var setCookie = Assert.Single(posted.Headers.GetValues("Set-Cookie"));
        Assert.Contains("path=" + location, setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(issuedBefore + 1, _host.Emulator.State.FindCaller(SecurityTestKit.Alice)!.TemporaryPasswordsIssued);

        var first = await browser.GetAsync(location);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.True(first.Headers.CacheControl?.NoStore, "A page with a one-time secret must not be stored.");
        var firstPage = await first.Content.ReadAsStringAsync();
        var secret = PortalTestHost.SecretOn(firstPage);
        Assert.True(secret.Length >= 8, "The first view shows the temporary password.");
        Assert.DoesNotContain(secret, setCookie, StringComparison.Ordinal);

        // F5 / Back: the page again, without the secret; nothing posted, nothing at the IdP, no audit record.
        var recordsAfterFirst = (await SecurityTestKit.AuditAsync(_host)).Count;
        foreach (var _ in Enumerable.Range(0, 2))
        {
            var again = await browser.GetAsync(location);
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            var page = await again.Content.ReadAsStringAsync();
            Assert.Contains("data-outcome=\"succeeded\"", page, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, page, StringComparison.Ordinal);
            Assert.Contains("The temporary password was shown once and is not shown again.", page, StringComparison.Ordinal);
        }

        Assert.Equal(issuedBefore + 1, _host.Emulator.State.FindCaller(SecurityTestKit.Alice)!.TemporaryPasswordsIssued);
        var records = await SecurityTestKit.AuditAsync(_host);
        Assert.Equal(recordsAfterFirst, records.Count);
        Assert.Single(records, r => (string?)r["action"] == "action.password_reset" && (string?)r["ticketRef"] == "INC-8101");
        Assert.All(jar.GetAllCookies(), c => Assert.DoesNotContain(secret, c.Value, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ResultPage_InAnotherAgentSession_EvenWithTheCookieCopied_ShowsNothing()
    {
        // Tier 2 here: the other tests sign in Tier 3, and an agent keeps at most three sessions.
        var jar = new CookieContainer();
        var browser = _host.NewClient(jar);
        await _host.SignInAsync(SecurityTestKit.Tier2, browser);
        var agent = new ConsoleDriver(_host, browser);
        var caller = _host.Emulator.State.AddCaller("rory.quill@demo.example", "rory.quill@demo.example", "Rory", "Quill", push: true).Login;
        var id = ConsoleDriver.VerificationId(await agent.VerifyByPushAsync(caller));
        var token = PortalTestHost.FormToken(await agent.GetPageAsync("/console"));
        var posted = await PortalTestHost.PostFormAsync(browser, "/actions/password-reset", token, ("verificationId", id), ("kind", "TemporaryPassword"));
        var location = posted.Headers.Location!.OriginalString;

        // The same agent signed in elsewhere (another session): the URL alone reads nothing, nor does it with the
        // result cookie copied from the first browser.
        var otherJar = new CookieContainer();
        var other = _host.NewClient(otherJar);
        await _host.SignInAsync(SecurityTestKit.Tier2, other);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync(location)).StatusCode);
        var copied = jar.GetCookies(new Uri("https://localhost" + location)).Where(c => c.Path == location).ToList();
        Assert.Single(copied);
        otherJar.Add(copied[0]);

        var stolen = await other.GetAsync(location);
        Assert.Equal(HttpStatusCode.NotFound, stolen.StatusCode);
        var stolenPage = await stolen.Content.ReadAsStringAsync();
        Assert.Equal("", PortalTestHost.SecretOn(stolenPage));
        Assert.Contains("Result no longer shown", stolenPage, StringComparison.Ordinal);

        // Signed out, the page is not served at all; the agent's own browser still gets its result.
        var anonymous = await _host.NewClient().GetAsync(location);
        Assert.NotEqual(HttpStatusCode.OK, anonymous.StatusCode);
        Assert.Equal("", PortalTestHost.SecretOn(await anonymous.Content.ReadAsStringAsync()));
        var own = await browser.GetAsync(location);
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        Assert.NotEqual("", PortalTestHost.SecretOn(await own.Content.ReadAsStringAsync()));
    }

    /// <summary>
    /// Sign-out everywhere (and MFA reset) need the agent to confirm that the caller knows: the checkbox is required in
    /// the form and enforced by the server, so a form posted without it changes nothing and leaves the verification
    /// able to act once confirmed.
    /// </summary>
    [Fact]
    public async Task SignOutEverywhere_PostedWithoutTheConfirmation_ChangesNothing_ThenWithIt_Acts()
    {
        var browser = _host.NewClient(new CookieContainer());
        await _host.SignInAsync(SecurityTestKit.Tier2, browser);
        var agent = new ConsoleDriver(_host, browser);
        var caller = _host.Emulator.State.AddCaller("cora.confirm@demo.example", "cora.confirm@demo.example", "Cora", "Confirm", push: true).Login;
        var id = ConsoleDriver.VerificationId(await agent.VerifyByPushAsync(caller));
        var token = PortalTestHost.FormToken(await agent.GetPageAsync("/verification/session/" + id));

        var unconfirmed = await PortalTestHost.FollowSeeOtherAsync(browser, await PortalTestHost.PostFormAsync(browser, "/actions/revoke-sessions", token, ("verificationId", id), ("confirmed", "false"), ("ticketRef", "INC-8400")), "/actions/result/");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, unconfirmed.StatusCode);
        Assert.Contains("Tick that the caller knows they will be signed out on every device", await unconfirmed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, _host.Emulator.State.FindCaller(caller)!.SessionsRevoked);
        var confirmed = await PortalTestHost.FollowSeeOtherAsync(browser, await PortalTestHost.PostFormAsync(browser, "/actions/revoke-sessions", token, ("verificationId", id), ("confirmed", "true"), ("ticketRef", "INC-8400")), "/actions/result/");
        Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        Assert.Equal(1, _host.Emulator.State.FindCaller(caller)!.SessionsRevoked);
    }

    [Fact]
    public async Task RefusedAction_AlsoRedirected_ResultPageCarriesTheRefusalAndItsStatus()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(SecurityTestKit.Tier3));
        var token = PortalTestHost.FormToken(await agent.GetPageAsync("/console"));
        var posted = await PortalTestHost.PostFormAsync(agent.Browser, "/actions/unlock", token, ("verificationId", "<script>not-an-id</script>"), ("ticketRef", "INC-8102"));
        Assert.Equal(HttpStatusCode.SeeOther, posted.StatusCode);

        var result = await agent.Browser.GetAsync(posted.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.Forbidden, result.StatusCode);
        var page = await result.Content.ReadAsStringAsync();
        Assert.Contains("There is no verification of this caller by you.", page, StringComparison.Ordinal);
        Assert.DoesNotContain("not-an-id", page, StringComparison.Ordinal);
        Assert.DoesNotContain("Back to the verified caller", page, StringComparison.Ordinal);

        // Reading the refusal again records nothing more: one denied record for the one post.
        await agent.Browser.GetAsync(posted.Headers.Location!.OriginalString);
        var records = (await SecurityTestKit.AuditAsync(_host)).Where(r => (string?)r["action"] == "action.account_unlock" && (string?)r["ticketRef"] == "INC-8102").ToList();
        Assert.Equal("no_verification", (string?)Assert.Single(records)["reason"]);
    }

    [Fact]
    public async Task SessionPage_OneTicketPerVerification_PrefilledAfterTheFirstAction_AndACallSummaryOfWhatHappened()
    {
        // Tier 2: sign-out everywhere and password reset; other tests here sign in Tier 3, and an agent keeps three sessions.
        var browser = _host.NewClient(new CookieContainer());
        await _host.SignInAsync(SecurityTestKit.Tier2, browser);
        var agent = new ConsoleDriver(_host, browser);
        var caller = _host.Emulator.State.AddCaller("sam.summary@demo.example", "sam.summary@demo.example", "Sam", "Summary", push: true).Login;
        var id = ConsoleDriver.VerificationId(await agent.VerifyByPushAsync(caller));
        var sessionPath = "/verification/session/" + id;
        var before = WebUtility.HtmlDecode(await agent.GetPageAsync(sessionPath));
        Assert.Contains("No action taken on the account.", before, StringComparison.Ordinal);
        Assert.DoesNotContain("value=\"INC-", before, StringComparison.Ordinal);

        var token = PortalTestHost.FormToken(before);
        await PortalTestHost.PostFormAsync(browser, "/actions/revoke-sessions", token, ("verificationId", id), ("confirmed", "true"), ("ticketRef", "INC-8300"));

        // The ticket of the first action is the call's: the action still to do is prefilled with it.
        var between = WebUtility.HtmlDecode(await agent.GetPageAsync(sessionPath));
        Assert.Contains("id=\"ticket-password_reset\" name=\"ticketRef\" maxlength=\"64\" autocomplete=\"off\" value=\"INC-8300\"", between, StringComparison.Ordinal);

        _host.Emulator.State.FailNext(500, "/lifecycle/reset_password");
        await PortalTestHost.PostFormAsync(browser, "/actions/password-reset", token, ("verificationId", id), ("kind", "SendEmail"), ("ticketRef", "INC-9999"));

        var after = WebUtility.HtmlDecode(await agent.GetPageAsync(sessionPath));
        var summary = Regex.Match(after, "<pre class=\"summary\" id=\"call-summary\" data-field=\"call-summary\">(.*?)</pre>", RegexOptions.Singleline).Groups[1].Value;
        var lines = summary.Split('\n');
        Assert.Equal(4, lines.Length);
        Assert.Matches(@"^Caller s\*\*\*@d\*\*\*\.example verified by Okta Verify push with number matching at \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC \(portal verification " + id + @"\)\.$", lines[0]);
        Assert.Matches(@"^Sign out everywhere: done at \d{2}:\d{2} UTC\.$", lines[1]);
        Assert.Matches(@"^Reset password: failed \(nothing may have changed; see the portal's audit\) at \d{2}:\d{2} UTC\.$", lines[2]);
        Assert.Equal("Ticket: INC-8300.", lines[3]);
        Assert.DoesNotContain(caller, after, StringComparison.OrdinalIgnoreCase);
    }

    [GeneratedRegex("^/actions/result/[0-9a-f]{32}$")]
    private static partial Regex ResultPath();
}
