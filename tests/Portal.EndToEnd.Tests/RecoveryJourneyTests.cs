using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Portal.EndToEnd.Tests;

/// <summary>
/// The README's recovery demo in a real browser (docs/recovery.md): Alice lost her phone; the agent asks her manager,
/// Morgan, to approve; Morgan picks the number on their own phone page; the agent's page moves on by itself and issues
/// a temporary access code; the notice reaches Alice's address on file (the emulator's mailbox), and its "This wasn't
/// me" link signs her out everywhere and puts her under alarm, once. Console errors, CSP violations and axe findings fail it.
/// </summary>
[Collection(ChromiumCollection.Name)]
public sealed class RecoveryJourneyTests(ChromiumFixture chromium, PortalServer portal) : IClassFixture<PortalServer>
{
    private const string Alice = "alice.caller@demo.example";
    private const string Morgan = "morgan.lead@demo.example";

    [Fact]
    public async Task LostPhone_ManagerApprovesOnTheirPhone_AgentIssuesATemporaryAccessCode()
    {
        await using var agent = await AgentBrowser.OpenAsync(chromium, portal);
        var page = agent.Page;
        await agent.SignInAsync("Tier Three Agent");
        await agent.LookUpAsync(Alice);

        var recovery = page.Locator("[data-field='recovery']");
        await Expect(recovery).ToContainTextAsync("Recovery: the caller cannot use their factors");
        await Expect(recovery.Locator("[data-field='recovery-allows']")).ToContainTextAsync("Issue temporary access code");
        await agent.CheckPageAsync("console: recovery offered");
        await agent.ScreenshotAsync("recovery-console");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        await agent.ClickAsync(recovery.GetByRole(AriaRole.Button, new() { Name = "Ask the manager to approve" }));
        await Expect(page).ToHaveURLAsync(new Regex("/verification/pending/[^/]+$"));
        Assert.Empty(portal.Emulator.State.PendingPushes(Alice));
        var push = Assert.Single(portal.Emulator.State.PendingPushes(Morgan));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Manager approval for" })).ToBeVisibleAsync();
        await Expect(page.Locator("[data-field='manager-phone']")).ToContainTextAsync("work phone on file");
        await Expect(page.Locator("p.number")).ToHaveTextAsync(push.CorrectAnswer.ToString(CultureInfo.InvariantCulture));
        await Expect(page.Locator("[data-field='state']")).ToContainTextAsync("Waiting for the manager");
        await agent.CheckPageAsync("manager approval: waiting");
        await agent.ScreenshotAsync("recovery-manager-pending");

        // Morgan, called at the number on file, picks the number on their own phone.
        var phone = await agent.OpenPhoneAsync(Morgan);
        agent.CountClick();
        await phone.GetByRole(AriaRole.Button, new() { Name = push.CorrectAnswer.ToString(CultureInfo.InvariantCulture), Exact = true }).ClickAsync();
        await Expect(phone.GetByText("No sign-in request waiting.")).ToBeVisibleAsync();

        // Nobody touches the portal tab: its polling moves it to the verified caller.
        await Expect(page).ToHaveURLAsync(new Regex("/verification/session/[0-9a-f]+$"));
        await Expect(page.Locator("[data-field='method']")).ToHaveTextAsync("Manager approval (recovery)");
        var reset = page.Locator("form[data-action='password_reset']");
        await Expect(reset).ToHaveAttributeAsync("data-offered", "false");
        await Expect(reset.Locator("[data-field='why-not']")).ToContainTextAsync("a push with number matching");
        var tap = page.Locator("form[data-action='tap_issue']");
        await tap.GetByLabel("Ticket").FillAsync("INC-3001");
        await agent.ClickAsync(tap.GetByRole(AriaRole.Button, new() { Name = "Issue temporary access code" }));
        await Expect(page.Locator("[data-field='secret']")).Not.ToBeEmptyAsync();
        clock.Stop();
        JourneyMetrics.Record("Manager approval (recovery) to temporary access code", agent.Clicks, clock.Elapsed);
        Assert.Equal(1, portal.Emulator.State.FindCaller(Alice)!.TemporaryAccessCodesIssued);
        await Expect(page.Locator("[data-field='recovery-notice']")).ToContainTextAsync("address on file");
        await agent.CheckPageAsync("recovery: temporary access code issued");

        // Alice (or whoever really owns the account) reads the notice at her address on file, in the emulator's mailbox.
        var revokedBefore = portal.Emulator.State.FindCaller(Alice)!.SessionsRevoked;
        await using var mailbox = await AgentBrowser.OpenAsync(chromium, portal);
        var inbox = mailbox.Page;
        await inbox.GotoAsync(portal.Emulator.MailboxUrl.ToString());
        var mail = inbox.Locator("[data-field='mail']").Filter(new() { HasText = Alice });
        await Expect(mail).ToHaveCountAsync(1);
        await Expect(mail).ToContainTextAsync("temporary access code");
        await Expect(mail).Not.ToContainTextAsync(await page.Locator("[data-field='secret']").InnerTextAsync());
        await mailbox.ScreenshotAsync("recovery-mailbox");
        await mail.Locator("a[href*='/recovery/not-me/']").ClickAsync();

        await Expect(inbox.GetByRole(AriaRole.Heading, new() { Name = "This wasn't me" })).ToBeVisibleAsync();
        await mailbox.CheckPageAsync("recovery: this wasn't me");
        await mailbox.ScreenshotAsync("recovery-not-me");
        await inbox.GetByRole(AriaRole.Button, new() { NameRegex = new Regex("^This wasn't me") }).ClickAsync();
        await Expect(inbox.Locator("[data-field='not-me-result']")).ToHaveAttributeAsync("data-result", "done");
        await mailbox.CheckPageAsync("recovery: done");
        await mailbox.ScreenshotAsync("recovery-not-me-done");
        Assert.Equal(revokedBefore + 1, portal.Emulator.State.FindCaller(Alice)!.SessionsRevoked);

        // Back to the link: spent, no button, nothing done twice.
        await inbox.GoBackAsync();
        await Expect(inbox.Locator("[data-field='not-me-result']")).ToHaveAttributeAsync("data-result", "used");
        await Expect(inbox.GetByRole(AriaRole.Button, new() { NameRegex = new Regex("^This wasn't me") })).ToHaveCountAsync(0);
        Assert.Equal(revokedBefore + 1, portal.Emulator.State.FindCaller(Alice)!.SessionsRevoked);

        // The agent sees Alice under alarm at once: nothing more can be done on her account.
        await page.GotoAsync("/console");
        await agent.LookUpAsync(Alice);
        await Expect(page.Locator("[data-code='Alarm']")).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Ask the manager to approve" })).ToHaveCountAsync(0);

        agent.AssertPagesRanCleanly();
        mailbox.AssertPagesRanCleanly();
    }

    /// <summary>
    /// Manager approval in the demo Entra tenant (docs/recovery.md): Grace lost her phone; the agent asks her manager as
    /// Graph names him (Riley), whose one-time sign-in link goes to his address on file (the emulator's mailbox) and never
    /// to the agent's page; the agent reads Riley the code; Riley's page says who asks and for what, and his own strong
    /// sign-in verifies Grace; the agent's page moves on by itself and issues a Temporary Access Pass, never a password reset.
    /// </summary>
    [Fact]
    public async Task LostPhone_EntraManagerSignsInFromTheMailedLink_AgentIssuesATemporaryAccessPass()
    {
        const string grace = "grace.caller@entra.example";
        const string riley = "riley.director@entra.example";
        var passesBefore = portal.Emulator.State.FindEntraUser(grace)!.TemporaryAccessPassesIssued;
        await using var agent = await AgentBrowser.OpenAsync(chromium, portal);
        var page = agent.Page;
        await agent.SignInAsync("Entra Tier Three Agent", tenantName: PortalServer.EntraTenantName);
        await agent.LookUpAsync(grace);

        var manager = page.Locator("form[data-method='recovery.manager']");
        await Expect(manager).ToContainTextAsync("e-mails a one-time sign-in link to the caller's manager");
        await Expect(manager.Locator("[data-field='recovery-allows']")).ToContainTextAsync("Issue temporary access code");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await agent.ClickAsync(manager.GetByRole(AriaRole.Button, new() { Name = "Ask the manager to approve" }));

        await Expect(page).ToHaveURLAsync(new Regex("/verification/pending/[^/]+$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Manager approval for" })).ToBeVisibleAsync();
        await Expect(page.Locator("[data-field='manager-phone']")).ToContainTextAsync("+1 555 0100 141");
        var code = (await page.Locator("[data-field='manager-code']").InnerTextAsync()).Trim();
        Assert.Matches("^[A-Z2-9]{8}$", code);
        await Expect(page.Locator("a[href*='/stepup/']")).ToHaveCountAsync(0);
        Assert.DoesNotContain("/stepup/", await page.ContentAsync(), StringComparison.Ordinal);
        await Expect(page.Locator("[data-field='state']")).ToContainTextAsync("Waiting for the manager");
        await agent.CheckPageAsync("Entra manager approval: waiting");
        await agent.ScreenshotAsync("recovery-entra-manager-pending");

        // Riley, called at the number on file, opens the link in his own mailbox and types the code the agent reads.
        await using var mailbox = await CallerBrowser.OpenAsync(chromium, portal);
        var inbox = mailbox.Page;
        await inbox.GotoAsync(portal.Emulator.MailboxUrl.ToString());
        var mail = inbox.Locator("[data-field='mail']").Filter(new() { HasText = riley });
        await Expect(mail).ToHaveCountAsync(1);
        await Expect(mail).ToContainTextAsync("g***@e***.example");
        await Expect(mail).Not.ToContainTextAsync(code);
        Assert.Empty(portal.Emulator.State.Mailbox.To(grace));
        agent.CountClick();
        await mail.Locator("a[href*='/stepup/']").ClickAsync();
        await Expect(inbox.GetByRole(AriaRole.Heading, new() { Name = "Approve a recovery" })).ToBeVisibleAsync();
        await Expect(inbox.Locator("[data-field='manager-request-caller']")).ToHaveTextAsync("g***@e***.example");
        await Expect(inbox.Locator("[data-field='manager-request-actions']")).ToContainTextAsync("Issue temporary access code");
        await mailbox.Browser.CheckPageAsync("Entra manager: the request");
        await mailbox.Browser.ScreenshotAsync("recovery-entra-manager-request");
        await inbox.GetByLabel("Code from the agent").FillAsync(code);
        agent.CountClick();
        await inbox.GetByRole(AriaRole.Button, new() { Name = "Continue to sign in and approve" }).ClickAsync();
        await mailbox.SignInAtIdpAsync(portal, riley, portal.Emulator.State.CurrentEntraTotp(riley), agent.CountClick);
        await Expect(inbox.Locator("[data-field='stepup-result']")).ToHaveAttributeAsync("data-result", "verified");

        // Nobody touches the agent's tab: its polling moves it to the verified caller.
        await Expect(page).ToHaveURLAsync(new Regex("/verification/session/[0-9a-f]+$"));
        await Expect(page.Locator("[data-field='method']")).ToHaveTextAsync("Manager approval (recovery)");
        await Expect(page.Locator("form[data-action='password_reset']")).ToHaveAttributeAsync("data-offered", "false");
        var tap = page.Locator("form[data-action='tap_issue']");
        await tap.GetByLabel("Ticket").FillAsync("INC-3003");
        await agent.ClickAsync(tap.GetByRole(AriaRole.Button, new() { Name = "Issue temporary access code" }));
        await Expect(page.Locator("[data-field='secret']")).Not.ToBeEmptyAsync();
        clock.Stop();
        JourneyMetrics.Record("Manager approval (Entra, recovery) to Temporary Access Pass", agent.Clicks, clock.Elapsed);
        Assert.Equal(passesBefore + 1, portal.Emulator.State.FindEntraUser(grace)!.TemporaryAccessPassesIssued);
        await Expect(page.Locator("[data-field='recovery-notice']")).ToContainTextAsync("address on file");
        await agent.CheckPageAsync("Entra manager approval: Temporary Access Pass issued");

        agent.AssertPagesRanCleanly();
        mailbox.Browser.AssertPagesRanCleanly();
    }

    /// <summary>
    /// ID verification through Okta (docs/recovery.md): the caller goes through their organisation's identity
    /// verification at Okta (here, the emulator's phone page passes it), and the agent's page, asking Okta's System Log
    /// on its own, moves to the verified caller, who may be given a temporary access code and nothing stronger.
    /// </summary>
    [Fact]
    public async Task LostPhone_CallerPassesOktasIdVerification_AgentIssuesATemporaryAccessCode()
    {
        var login = portal.Emulator.State.AddCaller("ida.idv@demo.example", "ida.idv@demo.example", "Ida", "Idv", push: true).Login;
        await using var agent = await AgentBrowser.OpenAsync(chromium, portal);
        var page = agent.Page;
        await agent.SignInAsync("Tier Three Agent");
        await agent.LookUpAsync(login);

        var idv = page.Locator("form[data-method='recovery.idv']");
        await Expect(idv.Locator("[data-field='idv-allows']")).ToContainTextAsync("Issue temporary access code");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await agent.ClickAsync(idv.GetByRole(AriaRole.Button, new() { Name = "Start ID verification" }));
        await Expect(page).ToHaveURLAsync(new Regex("/verification/pending/[^/]+$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "ID verification for" })).ToBeVisibleAsync();
        await Expect(page.Locator("[data-field='idv-script']")).ToContainTextAsync("photo ID and a selfie");
        await Expect(page.Locator("[data-field='state']")).ToContainTextAsync("Waiting for Okta");
        await agent.CheckPageAsync("ID verification: waiting");
        await agent.ScreenshotAsync("recovery-idv-pending");

        // The caller, at Okta's sign-in page, goes through the vendor's check and passes it.
        var phone = await agent.OpenPhoneAsync(login);
        agent.CountClick();
        await phone.GetByRole(AriaRole.Button, new() { Name = "Verify my ID (passes)" }).ClickAsync();
        await Expect(phone.Locator("[data-field='idv-last']")).ToContainTextAsync("verified");

        // Nobody touches the portal tab: it asks Okta every ten seconds and moves to the verified caller.
        await Expect(page).ToHaveURLAsync(new Regex("/verification/session/[0-9a-f]+$"), new() { Timeout = 30_000 });
        await Expect(page.Locator("[data-field='method']")).ToHaveTextAsync("ID verification through Okta (recovery)");
        await Expect(page.Locator("form[data-action='password_reset']")).ToHaveAttributeAsync("data-offered", "false");
        await agent.CheckPageAsync("ID verification: verified");
        var tap = page.Locator("form[data-action='tap_issue']");
        await tap.GetByLabel("Ticket").FillAsync("INC-3003");
        await agent.ClickAsync(tap.GetByRole(AriaRole.Button, new() { Name = "Issue temporary access code" }));
        await Expect(page.Locator("[data-field='secret']")).Not.ToBeEmptyAsync();
        clock.Stop();
        JourneyMetrics.Record("ID verification (recovery) to a temporary access code", agent.Clicks, clock.Elapsed);
        Assert.Equal(1, portal.Emulator.State.FindCaller(login)!.TemporaryAccessCodesIssued);
        await Expect(page.Locator("[data-field='recovery-notice']")).ToContainTextAsync("address on file");
        await agent.CheckPageAsync("ID verification: code issued");
        await agent.ScreenshotAsync("recovery-idv-done");
        agent.AssertPagesRanCleanly();
    }

    /// <summary>
    /// Who answers the number on file says they never called: the report is asked twice (it raises the alarm, so a
    /// slip of the mouse must not), then the page says in the error colour that someone called in their name.
    /// </summary>
    [Fact]
    public async Task CallBack_WhoAnsweredNeverCalled_ReportAskedTwice_AlarmShownAsAnError()
    {
        var login = portal.Emulator.State.AddCaller("nell.notme@demo.example", "nell.notme@demo.example", "Nell", "Notme", push: true).Login;
        portal.Emulator.State.SetWorkPhone(login, "+1 555 0100 152");
        await using var agent = await AgentBrowser.OpenAsync(chromium, portal);
        var page = agent.Page;
        await agent.SignInAsync("Tier Three Agent");
        await agent.LookUpAsync(login);
        await agent.ClickAsync(page.Locator("form[data-method='recovery.callback']").GetByRole(AriaRole.Button, new() { Name = "Start a call-back" }));
        await Expect(page).ToHaveURLAsync(new Regex("/verification/pending/[^/]+$"));

        var report = page.GetByRole(AriaRole.Button, new() { Name = "Report: they did not call us" });
        await Expect(report).Not.ToBeVisibleAsync();
        await agent.ClickAsync(page.Locator("[data-field='callback-not-me'] summary"));
        await Expect(report).ToBeVisibleAsync();
        await agent.CheckPageAsync("call-back: not me asked");
        await agent.ScreenshotAsync("recovery-callback-not-me-asked");
        await agent.ClickAsync(report);

        await Expect(page.Locator("[data-field='state']")).ToContainTextAsync("someone called in their name");
        await Expect(page.Locator("[data-field='state']")).ToHaveClassAsync(new Regex(@"\berror\b"));
        await agent.CheckPageAsync("call-back: not me reported");
        await agent.ScreenshotAsync("recovery-callback-not-me");
        await page.GotoAsync("/console");
        await agent.LookUpAsync(login);
        await Expect(page.Locator("[data-code='Alarm']")).ToBeVisibleAsync();
        agent.AssertPagesRanCleanly();
    }

    /// <summary>
    /// The call-back (docs/recovery.md): the agent reads the code on the caller's call, calls the work phone on file,
    /// types the code who answered says back, and may sign the caller out everywhere (and nothing stronger); the notice
    /// reaches the caller's address on file.
    /// </summary>
    [Fact]
    public async Task LostPhone_CalledBackAtTheNumberOnFile_CodeSaidBack_AgentSignsTheCallerOutEverywhere()
    {
        var login = portal.Emulator.State.AddCaller("cole.callback@demo.example", "cole.callback@demo.example", "Cole", "Callback", push: true).Login;
        portal.Emulator.State.SetWorkPhone(login, "+1 555 0100 151");
        await using var agent = await AgentBrowser.OpenAsync(chromium, portal);
        var page = agent.Page;
        await agent.SignInAsync("Tier Three Agent");
        await agent.LookUpAsync(login);

        var callBack = page.Locator("form[data-method='recovery.callback']");
        await Expect(callBack.Locator("[data-field='callback-allows']")).ToContainTextAsync("Sign out everywhere");
        await Expect(callBack.Locator("[data-field='callback-allows']")).Not.ToContainTextAsync("temporary access code");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await agent.ClickAsync(callBack.GetByRole(AriaRole.Button, new() { Name = "Start a call-back" }));

        await Expect(page).ToHaveURLAsync(new Regex("/verification/pending/[^/]+$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Call-back to" })).ToBeVisibleAsync();
        var code = (await page.Locator("[data-field='callback-code']").InnerTextAsync()).Trim();
        Assert.Matches("^[0-9]{3} [0-9]{3}$", code);
        await Expect(page.Locator("[data-field='callback-phone']")).ToContainTextAsync("+1 555 0100 151");
        await Expect(page.Locator("[data-field='state']")).ToContainTextAsync("Waiting for the code");
        await agent.CheckPageAsync("call-back: waiting");
        await agent.ScreenshotAsync("recovery-callback-pending");

        // Reloaded, the page still shows the code (it lives in this browser only) and the number.
        await page.ReloadAsync();
        await Expect(page.Locator("[data-field='callback-code']")).ToHaveTextAsync(code);

        // Who answered the number on file says the code back; the agent types it.
        await page.GetByLabel("Ask who answers for the code, and type what they say").FillAsync(code);
        await agent.ClickAsync(page.GetByRole(AriaRole.Button, new() { Name = "Confirm the code" }));
        await Expect(page).ToHaveURLAsync(new Regex("/verification/session/[0-9a-f]+$"));
        await Expect(page.Locator("[data-field='method']")).ToHaveTextAsync("Call-back to the number on file (recovery, weaker)");
        await Expect(page.Locator("form[data-action='tap_issue']")).ToHaveAttributeAsync("data-offered", "false");
        await Expect(page.Locator("form[data-action='password_reset']")).ToHaveAttributeAsync("data-offered", "false");
        await agent.CheckPageAsync("call-back: verified, weakly");

        var revoke = page.Locator("form[data-action='sessions_revoke']");
        await revoke.GetByLabel("Ticket").FillAsync("INC-3002");
        await revoke.GetByRole(AriaRole.Checkbox).CheckAsync();
        await agent.ClickAsync(revoke.GetByRole(AriaRole.Button, new() { Name = "Sign out everywhere" }));
        await Expect(page.Locator("[data-outcome='succeeded']")).ToHaveTextAsync("Every session of the caller was ended.");
        clock.Stop();
        JourneyMetrics.Record("Call-back (recovery) to sign out everywhere", agent.Clicks, clock.Elapsed);
        Assert.Equal(1, portal.Emulator.State.FindCaller(login)!.SessionsRevoked);
        await Expect(page.Locator("[data-field='recovery-notice']")).ToContainTextAsync("address on file");
        await agent.CheckPageAsync("call-back: sessions ended");

        await using var mailbox = await AgentBrowser.OpenAsync(chromium, portal);
        await mailbox.Page.GotoAsync(portal.Emulator.MailboxUrl.ToString());
        await Expect(mailbox.Page.Locator("[data-field='mail']").Filter(new() { HasText = login })).ToHaveCountAsync(1);
        agent.AssertPagesRanCleanly();
        mailbox.AssertPagesRanCleanly();
    }
}
