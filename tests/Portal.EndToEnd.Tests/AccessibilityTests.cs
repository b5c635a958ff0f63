using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Portal.EndToEnd.Tests;

/// <summary>
/// Axe on every page an agent works in, as the browser renders it (styles and scripts applied): helpdesk
/// agents include people on screen readers and keyboards, and a serious barrier there stops a call.
/// </summary>
[Collection(ChromiumCollection.Name)]
public sealed class AccessibilityTests(ChromiumFixture chromium, PortalServer portal) : IClassFixture<PortalServer>
{
    private const string Alice = "alice.caller@demo.example";

    private readonly PortalServer _portal = portal;

    [Fact]
    public async Task Axe_EveryAgentPage_NoSeriousOrCriticalViolations()
    {
        var findings = new List<string>();
        var checkedPages = new List<string>();
        await using var agent = await AgentBrowser.OpenAsync(chromium, _portal);
        var page = agent.Page;

        async Task CheckAsync(AgentBrowser browser, string name)
        {
            checkedPages.Add(name);
            findings.AddRange((await browser.SeriousAccessibilityViolationsAsync()).Select(f => name + ": " + f));
        }

        await page.GotoAsync("/account/signin");
        await CheckAsync(agent, "sign-in");

        await agent.SignInAsync("Tier Three Agent");
        await agent.LookUpAsync(Alice);
        await CheckAsync(agent, "console with a caller");

        await agent.SendPushAsync();
        await CheckAsync(agent, "pending push");

        var push = Assert.Single(_portal.Emulator.State.PendingPushes(Alice));
        Assert.True(_portal.Emulator.State.AnswerPush(push.TransactionId, push.CorrectAnswer));
        await Expect(page).ToHaveURLAsync(new Regex("/verification/session/[^/]+$"));
        await Expect(page.Locator(".countdown .remaining")).Not.ToBeEmptyAsync();
        await CheckAsync(agent, "verified caller");

        var revoke = page.Locator("form[data-action='sessions_revoke']");
        await revoke.GetByRole(AriaRole.Checkbox).CheckAsync();
        await revoke.GetByRole(AriaRole.Button).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToBeVisibleAsync();
        Assert.Equal(1, _portal.Emulator.State.FindCaller(Alice)!.SessionsRevoked);
        await CheckAsync(agent, "action result");

        await using var auditor = await AgentBrowser.OpenAsync(chromium, _portal);
        await auditor.SignInAsync("Audit Reviewer", "/audit");
        await Expect(auditor.Page.Locator("tr[data-action='action.sessions_revoke']")).Not.ToHaveCountAsync(0);
        await CheckAsync(auditor, "audit");

        Assert.Equal(6, checkedPages.Count);
        Assert.True(findings.Count == 0, string.Join(Environment.NewLine, findings));
        agent.AssertPagesRanCleanly();
        auditor.AssertPagesRanCleanly();
    }
}
