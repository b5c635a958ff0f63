using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Portal.EndToEnd.Tests;

/// <summary>
/// The README's executive demo in a real browser (docs/tenancy.md, "Executive targets: two independent methods"): Vera
/// is in the tenant's executive group; the agent verifies her by push on her phone page, the verified page says a second,
/// independent method is needed and offers no action; "Verify by a second method" leads to her look-up again, without
/// the push; her TOTP code verifies her a second time, and an action goes through. Console errors, CSP violations and
/// axe findings fail it.
/// </summary>
[Collection(ChromiumCollection.Name)]
public sealed class ExecutiveJourneyTests(ChromiumFixture chromium, PortalServer portal) : IClassFixture<PortalServer>
{
    private const string Vera = "vera.exec@demo.example";

    [Fact]
    public async Task Executive_PushThenTotpInTheSameSession_OnlyThenAnActionGoesThrough()
    {
        await using var agent = await AgentBrowser.OpenAsync(chromium, portal);
        var page = agent.Page;
        await agent.SignInAsync("Tier Three Agent");
        await agent.LookUpAsync(Vera);
        await Expect(page.Locator("[data-field='executive']")).ToContainTextAsync("Executive: your organisation requires a second, independent method before any action.");
        await agent.CheckPageAsync("console: executive target");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        await agent.ClickAsync(page.GetByRole(AriaRole.Button, new() { Name = "Send push" }));
        await Expect(page).ToHaveURLAsync(new Regex("/verification/pending/[^/]+$"));
        var push = Assert.Single(portal.Emulator.State.PendingPushes(Vera));
        var phone = await agent.OpenPhoneAsync(Vera);
        agent.CountClick();
        await phone.GetByRole(AriaRole.Button, new() { Name = push.CorrectAnswer.ToString(CultureInfo.InvariantCulture), Exact = true }).ClickAsync();

        // Verified once: the page says what is needed and offers no action.
        await Expect(page).ToHaveURLAsync(new Regex("/verification/session/[0-9a-f]+$"));
        var executive = page.Locator("[data-field='executive']");
        await Expect(executive).ToContainTextAsync("Executive: your organisation requires a second, independent method before any action.");
        await Expect(page.Locator("form.action[data-offered='true']")).ToHaveCountAsync(0);
        await Expect(page.Locator("form.action").First.Locator("[data-field='second-method-needed']")).ToBeVisibleAsync();
        await agent.CheckPageAsync("session: second method needed");

        // The notice stands apart from the action cards below it (it once touched them).
        var gap = await executive.EvaluateAsync<double>("n => n.nextElementSibling.getBoundingClientRect().top - n.getBoundingClientRect().bottom");
        Assert.True(gap >= 12, $"The executive notice is {gap}px above what follows it: no gap before the action cards.");
        await agent.ScreenshotAsync("executive-second-method-needed");

        await agent.ClickAsync(executive.GetByRole(AriaRole.Button, new() { Name = "Verify by a second method" }));
        await Expect(page.Locator("[data-field='second-method']")).ToContainTextAsync("Verifying by a second method");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Send push" })).ToHaveCountAsync(0);
        await agent.CheckPageAsync("console: second method");

        var code = portal.Emulator.State.CurrentTotp(Vera);
        agent.CountClick();
        await page.Locator("form[action='/verification/totp'] input[name='code']").FillAsync(code);
        await agent.ClickAsync(page.GetByRole(AriaRole.Button, new() { Name = "Verify code" }));

        await Expect(page).ToHaveURLAsync(new Regex("/verification/session/[0-9a-f]+$"));
        await Expect(page.Locator("[data-field='prior-method']")).ToContainTextAsync("first verified by");
        await Expect(page.Locator("[data-field='executive']")).ToHaveCountAsync(0);
        var revoke = page.Locator("form[data-action='sessions_revoke']");
        await Expect(revoke).ToHaveAttributeAsync("data-offered", "true");
        await agent.CheckPageAsync("session: two methods");
        await agent.ScreenshotAsync("executive-two-methods");

        var revokedBefore = portal.Emulator.State.FindCaller(Vera)!.SessionsRevoked;
        agent.CountClick();
        await revoke.GetByRole(AriaRole.Checkbox).CheckAsync();
        await revoke.GetByLabel("Ticket").FillAsync("INC-7001");
        await agent.ClickAsync(revoke.GetByRole(AriaRole.Button, new() { Name = "Sign out everywhere" }));
        await Expect(page).ToHaveURLAsync(new Regex("/actions/result/[0-9a-f]{32}$"));
        clock.Stop();
        JourneyMetrics.Record("Executive: push, then TOTP, to sign out everywhere", agent.Clicks, clock.Elapsed);
        Assert.Equal(revokedBefore + 1, portal.Emulator.State.FindCaller(Vera)!.SessionsRevoked);
        await agent.CheckPageAsync("executive: action done");
        await agent.ScreenshotAsync("executive-action-done");
        agent.AssertPagesRanCleanly();
    }
}
