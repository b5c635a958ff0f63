using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Portal.EndToEnd.Tests;

/// <summary>
/// Step-up sign-in in Chromium, both sides: the agent's page, and the caller's own browser that opens the link,
/// types the code and signs in at their IdP. The code form's answer must get the caller to the IdP under the
/// portal's CSP (form-action 'self'): a redirect to the IdP answered to the form post is refused by the browser.
/// Each test has its own caller, so one test's failures never limit another's.
/// </summary>
[Collection(ChromiumCollection.Name)]
public sealed class StepUpJourneyTests(ChromiumFixture chromium, PortalServer portal, ITestOutputHelper output) : IClassFixture<PortalServer>
{
    private const string Tier3 = "Tier Three Agent";

    [Fact]
    public async Task StepUp_OktaCallerSignsInWithMfa_AgentPageMovesOnAndTapIssued()
    {
        var login = portal.Emulator.State.AddCaller("sue.stepup@demo.example", "sue.stepup@demo.example", "Sue", "Stepup").Login;
        await using var agent = await AgentBrowser.OpenAsync(chromium, portal);
        await using var caller = await CallerBrowser.OpenAsync(chromium, portal);
        var page = agent.Page;
        await agent.SignInAsync(Tier3);
        await agent.LookUpAsync(login);

        var clock = Stopwatch.StartNew();
        await agent.ClickAsync(page.GetByRole(AriaRole.Button, new() { Name = "Start step-up" }));
        await Expect(page).ToHaveURLAsync(new Regex("/verification/pending/[0-9a-f]+$"));
        var (link, code) = await ReadLinkAndCodeAsync(page);
        await agent.CheckPageAsync("step-up started");

        await caller.EnterCodeAsync(link, code, agent.CountClick);
        await caller.SignInAtIdpAsync(portal, login, portal.Emulator.State.CurrentTotp(login), agent.CountClick);
        await Expect(caller.Page.Locator("[data-field='stepup-result']")).ToHaveAttributeAsync("data-result", "verified");
        await caller.Browser.CheckPageAsync("caller: done");

        // Nobody touches the agent's tab: its polling moves it to the verified caller.
        await Expect(page).ToHaveURLAsync(new Regex("/verification/session/[0-9a-f]+$"));
        await Expect(page.Locator("[data-field='method']")).ToHaveTextAsync("Step-up sign-in");
        var tap = page.Locator("form[data-action='tap_issue']");
        await tap.GetByLabel("Ticket").FillAsync("INC-2001");
        await agent.ClickAsync(tap.GetByRole(AriaRole.Button, new() { Name = "Issue temporary access code" }));
        await Expect(page.Locator("[data-field='secret']")).Not.ToBeEmptyAsync();
        clock.Stop();
        await agent.CheckPageAsync("temporary access code issued");
        output.WriteLine($"step-up → TAP: {agent.Clicks} clicks, {clock.Elapsed.TotalSeconds:0.0} s");
        JourneyMetrics.Record("Step-up (Okta) to temporary access code", agent.Clicks, clock.Elapsed);

        agent.AssertPagesRanCleanly();
        caller.Browser.AssertPagesRanCleanly();
    }

    [Fact]
    public async Task StepUp_EntraCallerSignsInWithMfa_AgentPageMovesOnAndTemporaryAccessPassShownOnce()
    {
        const string grace = "grace.caller@entra.example";
        var user = portal.Emulator.State.FindEntraUser(grace)!;
        var passesBefore = user.TemporaryAccessPassesIssued;
        await using var agent = await AgentBrowser.OpenAsync(chromium, portal);
        await using var caller = await CallerBrowser.OpenAsync(chromium, portal);
        var page = agent.Page;
        await agent.SignInAsync("Entra Tier Three Agent", tenantName: PortalServer.EntraTenantName);
        await agent.LookUpAsync(grace);
        await Expect(page.Locator("#caller-title")).ToHaveTextAsync("Caller: Grace Caller");

        var clock = Stopwatch.StartNew();
        await agent.ClickAsync(page.GetByRole(AriaRole.Button, new() { Name = "Start step-up" }));
        await Expect(page).ToHaveURLAsync(new Regex("/verification/pending/[0-9a-f]+$"));
        var (link, code) = await ReadLinkAndCodeAsync(page);
        await agent.CheckPageAsync("Entra step-up started");

        // The caller, in a browser of their own, signs in at their Entra tenant with their authenticator's code.
        await caller.EnterCodeAsync(link, code, agent.CountClick);
        await caller.SignInAtIdpAsync(portal, grace, portal.Emulator.State.CurrentEntraTotp(grace), agent.CountClick);
        await Expect(caller.Page.Locator("[data-field='stepup-result']")).ToHaveAttributeAsync("data-result", "verified");
        await caller.Browser.CheckPageAsync("Entra caller: done");

        // Nobody touches the agent's tab: its polling moves it to the verified caller.
        await Expect(page).ToHaveURLAsync(new Regex("/verification/session/[0-9a-f]+$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Verified:" })).ToContainTextAsync("g***@e***.example");
        await Expect(page.Locator("[data-field='method']")).ToHaveTextAsync("Step-up sign-in");
        await agent.CheckPageAsync("Entra caller verified");

        var tap = page.Locator("form[data-action='tap_issue']");
        await Expect(tap).ToHaveAttributeAsync("data-offered", "true");
        await tap.GetByLabel("Ticket").FillAsync("INC-6001");
        await agent.ClickAsync(tap.GetByRole(AriaRole.Button, new() { Name = "Issue temporary access code" }));
        await Expect(page).ToHaveURLAsync(new Regex("/actions/result/[0-9a-f]{32}$"));
        await Expect(page.GetByText("Temporary access code, shown once")).ToBeVisibleAsync();
        var pass = (await page.Locator("[data-field='secret']").InnerTextAsync()).Trim();
        clock.Stop();
        Assert.True(pass.Length >= 8, $"The Temporary Access Pass shown is '{pass}'.");
        await Expect(page.Locator(".secret .countdown")).ToContainTextAsync(new Regex(@"^\s*Works until \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC"));
        await Expect(page.Locator(".secret .countdown .remaining")).Not.ToBeEmptyAsync();
        Assert.Equal(passesBefore + 1, user.TemporaryAccessPassesIssued);
        await agent.CheckPageAsync("Entra Temporary Access Pass issued");
        output.WriteLine($"Entra step-up → TAP: {agent.Clicks} clicks, {clock.Elapsed.TotalSeconds:0.0} s");
        JourneyMetrics.Record("Step-up (Entra) to Temporary Access Pass", agent.Clicks, clock.Elapsed);

        // Shown once: F5 neither issues a second pass nor shows this one again.
        await page.ReloadAsync();
        await Expect(page.Locator("[data-field='secret']")).ToHaveCountAsync(0);
        await Expect(page.GetByText(pass)).ToHaveCountAsync(0);
        Assert.Equal(passesBefore + 1, user.TemporaryAccessPassesIssued);

        agent.AssertPagesRanCleanly();
        caller.Browser.AssertPagesRanCleanly();
    }

    [Fact]
    public async Task StepUp_CallerSignsInWithoutMfa_AgentHearsWhyAndKeepsLinkAndCode()
    {
        var login = portal.Emulator.State.AddCaller("nora.nomfa@demo.example", "nora.nomfa@demo.example", "Nora", "Nomfa").Login;
        await using var agent = await AgentBrowser.OpenAsync(chromium, portal);
        await using var caller = await CallerBrowser.OpenAsync(chromium, portal);
        var page = agent.Page;
        await agent.SignInAsync(Tier3);
        await agent.LookUpAsync(login);
        await page.GetByRole(AriaRole.Button, new() { Name = "Start step-up" }).ClickAsync();
        var (link, code) = await ReadLinkAndCodeAsync(page);

        await caller.EnterCodeAsync(link, code);
        await caller.SignInAtIdpAsync(portal, login, otp: "");
        await Expect(caller.Page.Locator("[data-field='stepup-result']")).ToHaveAttributeAsync("data-result", "failed");

        // The agent's page says so by itself, in words, with what to say next.
        await Expect(page.Locator("[data-field='state']")).ToContainTextAsync("signed in without a second factor");
        await Expect(page.Locator("[data-field='state']")).ToContainTextAsync("Say:");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Back to the console" })).ToBeVisibleAsync();
        await Expect(page.Locator("[data-field='stepup-code']")).ToHaveTextAsync(code);
        await agent.CheckPageAsync("step-up refused: no MFA");
        agent.AssertPagesRanCleanly();
        caller.Browser.AssertPagesRanCleanly();
    }

    [Fact]
    public async Task StepUp_CallerTypesWrongCode_AgentSeesTheTryAndCheckNowKeepsLinkAndCode()
    {
        var login = portal.Emulator.State.AddCaller("walt.wrong@demo.example", "walt.wrong@demo.example", "Walt", "Wrong").Login;
        await using var agent = await AgentBrowser.OpenAsync(chromium, portal);
        await using var caller = await CallerBrowser.OpenAsync(chromium, portal);
        var page = agent.Page;
        await agent.SignInAsync(Tier3);
        await agent.LookUpAsync(login);
        await page.GetByRole(AriaRole.Button, new() { Name = "Start step-up" }).ClickAsync();
        var (link, code) = await ReadLinkAndCodeAsync(page);

        await caller.EnterCodeAsync(link, "WRONGCDE");
        await Expect(caller.Page.GetByRole(AriaRole.Alert)).ToContainTextAsync("That code is not right");
        await caller.Browser.CheckPageAsync("caller: wrong code");

        await Expect(page.Locator("[data-field='progress']")).ToContainTextAsync("wrong code (1 of 5 tries)");

        // "Check now" (the page without its script) is a Post/Redirect/Get: the link and code are still there to resend.
        await page.GetByRole(AriaRole.Button, new() { Name = "Check now" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/verification/pending/[0-9a-f]+$"));
        Assert.Equal(link, (await ReadLinkAndCodeAsync(page)).Link);
        await Expect(page.Locator("[data-field='stepup-code']")).ToHaveTextAsync(code);
        await page.ReloadAsync();
        await Expect(page.Locator("[data-field='stepup-code']")).ToHaveTextAsync(code);
        await Expect(page.Locator("[data-field='progress']")).ToContainTextAsync("wrong code (1 of 5 tries)");
        await agent.CheckPageAsync("step-up: wrong code typed");

        // The right code still works on the same link.
        await caller.EnterCodeAsync(link, code);
        await caller.SignInAtIdpAsync(portal, login, portal.Emulator.State.CurrentTotp(login));
        await Expect(page).ToHaveURLAsync(new Regex("/verification/session/[0-9a-f]+$"));
        agent.AssertPagesRanCleanly();
        caller.Browser.AssertPagesRanCleanly();
    }

    [Fact]
    public async Task StepUp_LinkOpenedAfterItExpired_CallerToldAndAgentPageSaysTimedOut()
    {
        var login = portal.Emulator.State.AddCaller("eli.expired@demo.example", "eli.expired@demo.example", "Eli", "Expired").Login;
        await using var agent = await AgentBrowser.OpenAsync(chromium, portal);
        await using var caller = await CallerBrowser.OpenAsync(chromium, portal);
        var page = agent.Page;
        await agent.SignInAsync(Tier3);
        await agent.LookUpAsync(login);
        await page.GetByRole(AriaRole.Button, new() { Name = "Start step-up" }).ClickAsync();
        var (link, _) = await ReadLinkAndCodeAsync(page);

        // Eleven minutes later for the portal and the emulator, then back: the ID tokens other tests redeem are
        // checked against the machine's clock, which cannot be moved.
        portal.Clock.Advance(TimeSpan.FromMinutes(11));
        try
        {
            await caller.Page.GotoAsync(link);
            await Expect(caller.Page.Locator("[data-field='stepup-result']")).ToHaveAttributeAsync("data-result", "failed");
            await Expect(page.Locator("[data-field='state']")).ToContainTextAsync("Timed out: the link expired");
            await agent.CheckPageAsync("step-up timed out");
        }
        finally
        {
            portal.Clock.Advance(TimeSpan.FromMinutes(-11));
        }

        agent.AssertPagesRanCleanly();
        caller.Browser.AssertPagesRanCleanly();
    }

    internal static async Task<(string Link, string Code)> ReadLinkAndCodeAsync(IPage page)
    {
        var link = (await page.Locator("[data-field='stepup-link']").InnerTextAsync()).Trim();
        var code = (await page.Locator("[data-field='stepup-code']").InnerTextAsync()).Trim();
        Assert.Matches("/stepup/[A-Za-z0-9_-]{43}$", link);
        Assert.Matches("^[A-Z2-9]{8}$", code);
        return (link, code);
    }
}
