using System.Net;

namespace Portal.Web.Tests;

/// <summary>
/// An Entra tenant end to end over real HTTP: agent sign-in at the Entra-like authority (tiers from group ids and
/// app roles), look-up through Graph, step-up at the caller's own Entra sign-in, then a TAP and a session revocation.
/// </summary>
public sealed class EntraJourneyTests : IAsyncLifetime
{
    private const string Grace = "grace.caller@entra.example";
    private const string Ivan = "ivan.admin@entra.example";
    private const string Tier3 = "tier3.agent@entra.example";
    private const string Tenant = StepUpTestHost.EntraTenant;

    private readonly StepUpTestHost _host = new();

    public Task InitializeAsync() => _host.InitializeAsync();

    public Task DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task Journey_EntraStepUpThenTapAndRevoke_ShownOnceAuditedNoSecretsKept()
    {
        var agent = await _host.SignInEntraAsync(Tier3);
        var callerPage = await _host.LookupAsync(agent, Grace);
        Assert.Contains("oidc.stepup", callerPage, StringComparison.Ordinal);

        // The caller card through the real Graph SDK: job title, department, the manager by $expand, password change date.
        var card = WebUtility.HtmlDecode(callerPage);
        Assert.Contains("Caller: Grace Caller", card, StringComparison.Ordinal);
        Assert.Contains("data-field=\"title\">Account Executive<", card, StringComparison.Ordinal);
        Assert.Contains("data-field=\"department\">Sales<", card, StringComparison.Ordinal);
        Assert.Contains("data-field=\"manager\">Riley Director<", card, StringComparison.Ordinal);
        Assert.Contains("data-field=\"password-changed\">", card, StringComparison.Ordinal);
        Assert.Contains("not read (it needs the AuditLog.Read.All permission)", card, StringComparison.Ordinal);
        Assert.Contains("Read from Microsoft Entra ID for this screen only", card, StringComparison.Ordinal);
        Assert.Contains("data-field=\"agent-name\" title=\"tier3.agent@entra.example\">Entra Tier Three Agent<", card, StringComparison.Ordinal);

        var (pending, link, code) = await _host.StartStepUpAsync(agent, callerPage);
        var done = await _host.CallerCompletesAsync(link, code, Grace, _host.Emulator.State.CurrentEntraTotp(Grace));
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);

        // Entra asks for the Conditional Access context through the claims parameter.
        var authorize = Assert.Single(_host.Emulator.State.CallerAuthorizeRequests);
        Assert.Contains("acrs", authorize.Parameters["claims"], StringComparison.Ordinal);
        Assert.Equal("login", authorize.Parameters["prompt"]);

        var (state, next) = await _host.PollAsync(agent, pending);
        Assert.Equal("Approved", state);
        var verificationId = next!.Split('/')[^1];

        var tap = await ActAsync(agent, "temporary-access", verificationId);
        Assert.Equal(HttpStatusCode.OK, tap.StatusCode);
        var tapPage = await tap.Content.ReadAsStringAsync();
        var secret = PortalTestHost.SecretOn(tapPage);
        Assert.False(string.IsNullOrWhiteSpace(secret));
        var grace = _host.Emulator.State.FindEntraUser(Grace)!;
        Assert.Equal(1, grace.TemporaryAccessPassesIssued);

        // Shown once: the session page afterwards does not carry it.
        Assert.DoesNotContain(secret, await _host.GetPageAsync(agent, next), StringComparison.Ordinal);

        var revoke = await ActAsync(agent, "revoke-sessions", verificationId);
        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        Assert.Equal(1, grace.SessionsRevoked);

        var audit = await _host.AuditAsync(Tenant);
        foreach (var action in new[] { "agent.signin", "caller.lookup", "verification.stepup.start", "verification.stepup.code", "verification.stepup.result", "action.tap_issue", "action.sessions_revoke" })
        {
            Assert.Contains(audit, d => (string?)d["action"] == action && (string?)d["outcome"] == "succeeded");
        }

        // D1: the TAP, the caller's UPN, object id and name are in no stored record and no log line.
        var stored = await _host.AllStoredTextAsync();
        foreach (var value in new[] { secret, grace.UserPrincipalName, grace.Id, grace.DisplayName })
        {
            Assert.DoesNotContain(value, stored, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(_host.LogLines, l => l.Contains(value, StringComparison.OrdinalIgnoreCase));
        }
    }

    [Theory]
    [InlineData(Ivan)]                                  // active Global Administrator
    [InlineData("judy.eligible@entra.example")]         // PIM-eligible User Administrator over an administrative unit
    [InlineData("kim.groupadmin@entra.example")]        // member of a role-assignable group holding a custom role
    public async Task Tap_PrivilegedTarget_NeedsSecondAgentApprovalBeforeGraphIsAsked(string upn)
    {
        var agent = await _host.SignInEntraAsync(Tier3);
        var verificationId = await VerifyAsync(agent, upn);

        var tap = await ActAsync(agent, "temporary-access", verificationId);

        Assert.Equal(HttpStatusCode.Forbidden, tap.StatusCode);
        Assert.Contains("privileged account", WebUtility.HtmlDecode(await tap.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        Assert.Equal(0, _host.Emulator.State.FindEntraUser(upn)!.TemporaryAccessPassesIssued);
        Assert.Contains(await _host.AuditAsync(Tenant), d => (string?)d["action"] == "approval.request");
    }

    [Fact]
    public async Task MfaReset_OneMethodRefused_PartialOutcomeShownAndAuditedExactly()
    {
        var agent = await _host.SignInEntraAsync(Tier3);
        var verificationId = await VerifyAsync(agent, Grace);
        _host.Emulator.State.FailNext(403, "/microsoftAuthenticatorMethods/");

        var reset = await ActAsync(agent, "reset-factors", verificationId);

        var page = WebUtility.HtmlDecode(await reset.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        Assert.Contains("data-outcome=\"partial\"", page, StringComparison.Ordinal);
        Assert.Contains("Removed: authenticator app (OATH code). Still registered: Microsoft Authenticator", page, StringComparison.Ordinal);
        var record = Assert.Single(await _host.AuditAsync(Tenant), d => (string?)d["action"] == "action.mfa_reset");
        Assert.Equal("partial", (string?)record["outcome"]);
        Assert.Equal("removed: authenticator app (OATH code); remaining: Microsoft Authenticator; refused: Authorization_RequestDenied", (string?)record["reason"]);
    }

    [Fact]
    public async Task MfaReset_DefaultMethodLast_EveryMethodRemovedAndNamed()
    {
        var agent = await _host.SignInEntraAsync(Tier3);
        var verificationId = await VerifyAsync(agent, Grace);

        var reset = await ActAsync(agent, "reset-factors", verificationId);

        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        Assert.Contains("Every MFA method was removed (authenticator app (OATH code), Microsoft Authenticator)", WebUtility.HtmlDecode(await reset.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        Assert.Equal(["passwordAuthenticationMethod"], _host.Emulator.State.FindEntraUser(Grace)!.Methods.Select(m => m.ODataType));
        Assert.Contains(await _host.AuditAsync(Tenant), d => (string?)d["action"] == "action.mfa_reset" && (string?)d["outcome"] == "succeeded");
    }

    [Fact]
    public async Task SyncedCaller_ConsoleExplainsAndSessionOffersTapNotPasswordReset()
    {
        const string Mallory = "mallory.synced@entra.example";
        var agent = await _host.SignInEntraAsync(Tier3);
        var lookup = WebUtility.HtmlDecode(await _host.LookupAsync(agent, Mallory));
        Assert.Contains("Synced from on-premises Active Directory", lookup, StringComparison.Ordinal);

        var verificationId = await VerifyAsync(agent, Mallory);
        var session = WebUtility.HtmlDecode(await _host.GetPageAsync(agent, "/verification/session/" + verificationId));

        Assert.Contains("data-field=\"password-reset-note\"", session, StringComparison.Ordinal);
        Assert.DoesNotContain("/actions/password-reset", session, StringComparison.Ordinal);
        Assert.Contains("/actions/temporary-access", session, StringComparison.Ordinal);
        Assert.Contains("/actions/revoke-sessions", session, StringComparison.Ordinal);
    }

    private async Task<string> VerifyAsync(HttpClient agent, string upn)
    {
        var (pending, link, code) = await _host.StartStepUpAsync(agent, await _host.LookupAsync(agent, upn));
        await _host.CallerCompletesAsync(link, code, upn, _host.Emulator.State.CurrentEntraTotp(upn));
        var (state, next) = await _host.PollAsync(agent, pending);
        Assert.Equal("Approved", state);
        return next!.Split('/')[^1];
    }

    [Fact]
    public async Task StepUp_EntraSignInWithoutMfa_NoAcrsSoRefused()
    {
        var agent = await _host.SignInEntraAsync(Tier3);
        var (pending, link, code) = await _host.StartStepUpAsync(agent, await _host.LookupAsync(agent, Grace));

        var done = await _host.CallerCompletesAsync(link, code, Grace, otp: "");

        Assert.Equal(HttpStatusCode.BadRequest, done.StatusCode);
        Assert.Equal("Rejected", (await _host.PollAsync(agent, pending)).State);
        Assert.Contains(await _host.AuditAsync(Tenant), d => (string?)d["action"] == "verification.stepup.result" && (string?)d["reason"] == "mfa_missing");
    }

    [Fact]
    public async Task StepUp_EntraOtherUserSignsIn_SubjectMismatchAlarm()
    {
        var agent = await _host.SignInEntraAsync(Tier3);
        var (pending, link, code) = await _host.StartStepUpAsync(agent, await _host.LookupAsync(agent, Grace));

        await _host.CallerCompletesAsync(link, code, Ivan, _host.Emulator.State.CurrentEntraTotp(Ivan));

        Assert.Equal("Rejected", (await _host.PollAsync(agent, pending)).State);
        Assert.Contains(await _host.AuditAsync(Tenant), d => (string?)d["action"] == "verification.stepup.result" && (string?)d["outcome"] == "alarm" && (string?)d["reason"] == "subject_mismatch");
    }

    [Fact]
    public async Task AgentSignIn_AppRoleInToken_GivesTier()
    {
        var agent = await _host.SignInEntraAsync("role.agent@entra.example");

        var console = await _host.GetPageAsync(agent, "/console");

        Assert.Contains("Tier 3", console, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AgentSignIn_EntraAgentWithoutMfa_Refused()
    {
        var client = _host.NewClient();
        var challenge = await client.GetAsync($"/account/signin/{Tenant}");
        var authorize = challenge.Headers.Location!;
        var form = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(authorize.Query).ToDictionary(p => p.Key, p => p.Value.ToString());
        form["agent"] = _host.Emulator.State.EntraAgents.Single(a => a.UserPrincipalName == "nomfa.agent@entra.example").ObjectId;
        using var idp = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        var picked = await idp.PostAsync(new Uri(authorize.GetLeftPart(UriPartial.Path)), new FormUrlEncodedContent(form));

        var signedIn = await client.GetAsync(picked.Headers.Location!.PathAndQuery);

        Assert.Contains("failed", signedIn.Headers.Location?.ToString() ?? "", StringComparison.Ordinal);
        Assert.Contains(await _host.AuditAsync(Tenant), d => (string?)d["action"] == "agent.signin" && (string?)d["reason"] == "agent_mfa_missing");
    }

    private async Task<HttpResponseMessage> ActAsync(HttpClient agent, string route, string verificationId)
    {
        var token = PortalTestHost.FormToken(await _host.GetPageAsync(agent, "/console"));
        var posted = await PortalTestHost.PostFormAsync(agent, "/actions/" + route, token, ("verificationId", verificationId), ("confirmed", "true"), ("ticketRef", "INC-7"));
        return await PortalTestHost.FollowSeeOtherAsync(agent, posted, "/actions/result/");
    }

}
