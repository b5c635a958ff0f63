using System.Net;
using System.Text.RegularExpressions;
using Portal.IdpEmulator;

namespace Portal.Web.Tests;

/// <summary>
/// Manager approval in an Entra tenant (docs/recovery.md), over real HTTP against the emulator's Graph and its Entra-like
/// sign-in: the manager Graph names (<c>/users/{id}/manager</c>) is sent a one-time step-up link at their address on
/// file (never shown to the agent), the agent reads them the short code, and only the manager's own strong sign-in
/// verifies the caller, for a temporary access pass and never a password reset. Refused, with the attempt given back and
/// nothing sent, for no manager, the caller as their own manager, a disabled manager, one without a strong method and
/// one under alarm; the caller or anyone else signing in with the manager's link is an alarm.
/// </summary>
public sealed partial class EntraManagerApprovalTests : IAsyncLifetime
{
    private const string Grace = "grace.caller@entra.example";
    private const string Riley = "riley.director@entra.example";
    private const string Tier3 = "tier3.agent@entra.example";
    private const string Tenant = StepUpTestHost.EntraTenant;

    private readonly StepUpTestHost _host = new()
    {
        // The Entra tenant (the second) turns manager approval on, with the emulator's mail sink as its relay.
        ExtraSettings = emulator => new Dictionary<string, string?>
        {
            ["Portal:Tenants:1:Recovery:ManagerApproval"] = "true",
            ["Portal:Tenants:1:Recovery:Notices:Smtp:Host"] = "127.0.0.1",
            ["Portal:Tenants:1:Recovery:Notices:Smtp:Port"] = emulator.MailSinkPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Portal:Tenants:1:Recovery:Notices:Smtp:From"] = "notices@entra.example",
            ["Portal:Tenants:1:Recovery:Notices:Smtp:Security"] = "None",
        },
    };

    private EmulatorState Idp => _host.Emulator.State;

    public Task InitializeAsync() => _host.InitializeAsync();

    public Task DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task LostPhone_ManagerSignsInWithTheirOwnStrongMethod_CallerVerified_TapIssued_PasswordResetNot()
    {
        var agent = await _host.SignInEntraAsync(Tier3);
        var callerPage = await _host.LookupAsync(agent, Grace);
        Assert.Contains("e-mails a one-time sign-in link to the caller's manager", callerPage, StringComparison.Ordinal);

        var (pending, code) = await StartAsync(agent, callerPage);

        // The agent's page: whom to call (the manager's work phone on file) and the code; never the link.
        var waiting = WebUtility.HtmlDecode(await _host.GetPageAsync(agent, pending));
        Assert.Contains("+1 555 0100 141", waiting, StringComparison.Ordinal);
        Assert.Contains(Portal.Audit.PiiMask.Email(Riley), waiting, StringComparison.Ordinal);
        Assert.DoesNotContain("/stepup/", waiting, StringComparison.Ordinal);

        // The link went to the manager's address on file only; the caller got nothing, and the code is not in the mail.
        var mail = Assert.Single(Idp.Mailbox.To(Riley));
        Assert.Empty(Idp.Mailbox.To(Grace));
        Assert.DoesNotContain(code, mail.TextBody, StringComparison.Ordinal);
        Assert.Contains("g***@e***.example", mail.Subject, StringComparison.Ordinal);
        Assert.DoesNotContain(Grace, mail.TextBody, StringComparison.OrdinalIgnoreCase);
        var link = LinkIn(mail);

        // The manager's page says who asks (masked as the portal masks) and for what, before they sign in.
        using var managerBrowser = _host.NewClient();
        var asked = WebUtility.HtmlDecode(await _host.GetPageAsync(managerBrowser, link.PathAndQuery));
        Assert.Contains("data-field=\"manager-request-caller\">g***@e***.example<", asked, StringComparison.Ordinal);
        Assert.Contains("Issue temporary access code", asked, StringComparison.Ordinal);
        Assert.DoesNotContain("Reset password", asked, StringComparison.Ordinal);

        var done = await _host.CallerCompletesAsync(link, code, Riley, Idp.CurrentEntraTotp(Riley), managerBrowser);
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        Assert.Equal("login", Idp.CallerAuthorizeRequests[^1].Parameters["prompt"]);

        var (state, next) = await _host.PollAsync(agent, pending);
        Assert.Equal("Approved", state);
        var verificationId = next!.Split('/')[^1];
        Assert.Contains("Manager approval", await _host.GetPageAsync(agent, next), StringComparison.Ordinal);
        var reset = await ActAsync(agent, "password-reset", verificationId, ("kind", "OneTimeLink"));
        Assert.Equal(HttpStatusCode.Forbidden, reset.StatusCode);
        var tap = await ActAsync(agent, "temporary-access", verificationId);
        Assert.Equal(HttpStatusCode.OK, tap.StatusCode);
        Assert.Equal(1, Idp.FindEntraUser(Grace)!.TemporaryAccessPassesIssued);

        // The caller is told at their own address on file afterwards (the recovery notice).
        Assert.Single(Idp.Mailbox.To(Grace));

        var audit = await _host.AuditAsync(Tenant);
        Assert.Equal("succeeded", (string?)Assert.Single(audit, d => (string?)d["action"] == "verification.manager.start")["outcome"]);
        var askedRecord = Assert.Single(audit, d => (string?)d["action"] == "verification.manager.asked");
        Assert.Equal(Portal.Audit.PiiMask.Email(Riley), (string?)askedRecord["caller"]?["maskedLogin"]);
        Assert.Equal("approver", (string?)askedRecord["reason"]);
        Assert.Equal("succeeded", (string?)Assert.Single(audit, d => (string?)d["action"] == "verification.manager.code")["outcome"]);
        var result = Assert.Single(audit, d => (string?)d["action"] == "verification.manager.result");
        Assert.Equal("approved", (string?)result["reason"]);
        Assert.Equal("recovery.manager", (string?)result["method"]);
        Assert.Equal("g***@e***.example", (string?)result["caller"]?["maskedLogin"]);
        Assert.Contains(audit, d => (string?)d["action"] == "action.password_reset" && (string?)d["reason"] == "method_insufficient");
        Assert.Equal("recovery.manager", (string?)Assert.Single(audit, d => (string?)d["action"] == "action.tap_issue" && (string?)d["outcome"] == "succeeded")["method"]);

        // No link, code, address or object id kept.
        var stored = await _host.AllStoredTextAsync();
        var riley = Idp.FindEntraUser(Riley)!;
        foreach (var value in new[] { link.Segments[^1], code, riley.UserPrincipalName, riley.Id, riley.DisplayName, Grace })
        {
            Assert.DoesNotContain(value, stored, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task CallerSignsInWithTheManagersLink_RefusedAsAnAlarm_CallerBlocked()
    {
        var agent = await _host.SignInEntraAsync(Tier3);
        var (pending, code) = await StartAsync(agent, await _host.LookupAsync(agent, Grace));

        var done = await _host.CallerCompletesAsync(LinkIn(Assert.Single(Idp.Mailbox.To(Riley))), code, Grace, Idp.CurrentEntraTotp(Grace));

        Assert.Equal(HttpStatusCode.BadRequest, done.StatusCode);
        var (state, _) = await _host.PollAsync(agent, pending);
        Assert.Equal("Rejected", state);
        var ended = WebUtility.HtmlDecode(await _host.GetPageAsync(agent, pending));
        Assert.True(ended.Contains("Refused: the caller, not their manager, signed in", StringComparison.Ordinal), Regex.Match(ended, "data-field=\"state\"[^<]*<").Value);
        var result = Assert.Single(await _host.AuditAsync(Tenant), d => (string?)d["action"] == "verification.manager.result");
        Assert.Equal("alarm", (string?)result["outcome"]);
        Assert.Equal("manager_signin_by_caller", (string?)result["reason"]);
        Assert.Contains("data-code=\"Alarm\"", await _host.LookupAsync(agent, Grace), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnotherUserSignsInWithTheManagersLink_RefusedAsAnAlarm()
    {
        const string other = "judy.eligible@entra.example";
        var agent = await _host.SignInEntraAsync(Tier3);
        var (pending, code) = await StartAsync(agent, await _host.LookupAsync(agent, Grace));

        var done = await _host.CallerCompletesAsync(LinkIn(Assert.Single(Idp.Mailbox.To(Riley))), code, other, Idp.CurrentEntraTotp(other));

        Assert.Equal(HttpStatusCode.BadRequest, done.StatusCode);
        Assert.Equal("Rejected", (await _host.PollAsync(agent, pending)).State);
        var result = Assert.Single(await _host.AuditAsync(Tenant), d => (string?)d["action"] == "verification.manager.result");
        Assert.Equal("alarm", (string?)result["outcome"]);
        Assert.Equal("manager_signin_mismatch", (string?)result["reason"]);
    }

    [Fact]
    public async Task NoManagerAtGraph_Refused() =>
        await AssertRefusedAsync(NewUser("Qnomgr Qxcaller").UserPrincipalName, "manager_absent", "names no manager for this caller");

    [Fact]
    public async Task CallerIsTheirOwnManager_Refused()
    {
        var caller = NewUser("Qselfmgr Qxcaller");
        Idp.SetEntraManager(caller.UserPrincipalName, caller.UserPrincipalName);
        await AssertRefusedAsync(caller.UserPrincipalName, "manager_is_caller", "names the caller as their own manager");
    }

    [Fact]
    public async Task ManagersAccountDisabled_Refused()
    {
        var (caller, manager) = NewPair();
        manager.AccountEnabled = false;
        await AssertRefusedAsync(caller.UserPrincipalName, "manager_inactive", "The caller's manager cannot approve");
    }

    [Fact]
    public async Task ManagerWithoutAStrongMethod_Refused()
    {
        var (caller, _) = NewPair(managerAuthenticator: false);
        await AssertRefusedAsync(caller.UserPrincipalName, "manager_no_factor", "has no strong sign-in method");
    }

    [Fact]
    public async Task ManagerUnderAlarm_Refused()
    {
        var (caller, manager) = NewPair();

        // The manager's own step-up, finished by someone else: the manager is under alarm now.
        var agent = await _host.SignInEntraAsync(Tier3);
        var (theirs, link, code) = await _host.StartStepUpAsync(agent, await _host.LookupAsync(agent, manager.UserPrincipalName));
        await _host.CallerCompletesAsync(link, code, Grace, Idp.CurrentEntraTotp(Grace));
        Assert.Equal("Rejected", (await _host.PollAsync(agent, theirs)).State);

        await AssertRefusedAsync(caller.UserPrincipalName, "manager_under_alarm", "under a security alarm");
    }

    /// <summary>
    /// A refused start: 422 with the code and its words, nothing mailed to anyone, audited with the code and no manager
    /// asked, and the caller's attempt given back (six in a row, one past the failure limit, leave their step-up offered).
    /// </summary>
    private async Task AssertRefusedAsync(string caller, string code, string words)
    {
        var agent = await _host.SignInEntraAsync(Tier3);
        var page = await _host.LookupAsync(agent, caller);
        var mailed = Idp.Mailbox.Messages.Count;
        for (var i = 0; i < 6; i++)
        {
            var refused = await PostStartAsync(agent, page);
            Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
            var body = WebUtility.HtmlDecode(await refused.Content.ReadAsStringAsync());
            Assert.Contains($"data-code=\"{code}\"", body, StringComparison.Ordinal);
            Assert.Contains(words, body, StringComparison.Ordinal);
        }

        Assert.Equal(mailed, Idp.Mailbox.Messages.Count);
        var audit = await _host.AuditAsync(Tenant);
        var starts = audit.Where(d => (string?)d["action"] == "verification.manager.start").ToList();
        Assert.Equal(6, starts.Count);
        Assert.All(starts, d => Assert.Equal(code, (string?)d["reason"]));
        Assert.DoesNotContain(audit, d => (string?)d["action"] == "verification.manager.asked");
        Assert.Contains("action=\"/verification/stepup\"", await _host.LookupAsync(agent, caller), StringComparison.Ordinal);
    }

    /// <summary>Starts the approval from the caller's page: the pending page's path and the code it shows the agent.</summary>
    private async Task<(string Pending, string Code)> StartAsync(HttpClient agent, string callerPage)
    {
        var response = await PostStartAsync(agent, callerPage);
        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        var pending = response.Headers.Location!.OriginalString;
        var page = await _host.GetPageAsync(agent, pending);
        var code = CodePattern().Match(page);
        Assert.True(code.Success, "The agent's page shows no code to read out to the manager.");
        return (pending, code.Groups[1].Value);
    }

    private static Task<HttpResponseMessage> PostStartAsync(HttpClient agent, string callerPage)
    {
        var form = ConsoleDriver.FormFor(callerPage, "/verification/manager");
        return PortalTestHost.PostFormAsync(agent, "/verification/manager", PortalTestHost.FormToken(form),
            ("callerRef", PortalTestHost.HiddenValue(form, "callerRef")), ("factorId", PortalTestHost.HiddenValue(form, "factorId")));
    }

    private async Task<HttpResponseMessage> ActAsync(HttpClient agent, string route, string verificationId, params (string Name, string Value)[] fields)
    {
        var token = PortalTestHost.FormToken(await _host.GetPageAsync(agent, "/console"));
        var posted = await PortalTestHost.PostFormAsync(agent, "/actions/" + route, token, [("verificationId", verificationId), ("confirmed", "true"), ("ticketRef", "INC-7001"), .. fields]);
        return await PortalTestHost.FollowSeeOtherAsync(agent, posted, "/actions/result/");
    }

    private static Uri LinkIn(ReceivedMail mail)
    {
        var match = LinkPattern().Match(mail.TextBody);
        Assert.True(match.Success, "The manager's mail carries no link.");
        return new Uri(match.Value);
    }

    private EntraUser NewUser(string name, bool authenticator = true) =>
        Idp.AddEntraUser($"q{Guid.NewGuid():N}@entra.example", name, authenticator, "+1 555 0100 170");

    private (EntraUser Caller, EntraUser Manager) NewPair(bool managerAuthenticator = true)
    {
        var caller = NewUser("Qreport Qxcaller");
        var manager = NewUser("Qmgr Qxapprover", managerAuthenticator);
        Idp.SetEntraManager(caller.UserPrincipalName, manager.UserPrincipalName);
        return (caller, manager);
    }

    [GeneratedRegex("data-field=\"manager-code\">([A-Z0-9]+)<")]
    private static partial Regex CodePattern();

    [GeneratedRegex(@"https?://localhost[^\s]*/stepup/[A-Za-z0-9_-]{43}")]
    private static partial Regex LinkPattern();
}
