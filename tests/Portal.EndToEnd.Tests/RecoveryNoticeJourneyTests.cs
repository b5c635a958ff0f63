using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Portal.Idp;
using Portal.Web.Agents;
using Portal.Web.Platform;
using Portal.Web.Tenancy;
using Portal.Web.Verification;
using Portal.Web.Verification.Actions;
using Portal.Web.Verification.Recovery;
using static Microsoft.Playwright.Assertions;

namespace Portal.EndToEnd.Tests;

/// <summary>
/// A recovery notice in Chromium (docs/recovery.md, "Recovery notices"): the caller reads it in the emulator's mailbox,
/// presses "This wasn't me", confirms on the portal's page and reads the result; no console error, no CSP violation.
/// The recovery method is not built yet: the notice is sent as <see cref="ActionService"/> sends it after an action
/// through <c>recovery.manager</c>.
/// </summary>
[Collection(ChromiumCollection.Name)]
public sealed class RecoveryNoticeJourneyTests(ChromiumFixture chromium, PortalServer portal) : IClassFixture<PortalServer>
{
    [Fact]
    public async Task Caller_OpensTheNoticeInTheMailbox_ThisWasntMe_Confirms_SignedOutEverywhere()
    {
        var caller = portal.Emulator.State.AddCaller("rita.recovered@demo.example", "rita.recovered@demo.example", "Rita", "Recovered");
        var revokedBefore = caller.SessionsRevoked;
        await SendNoticeAsync(caller);
        await using var browser = await AgentBrowser.OpenAsync(chromium, portal);
        var page = browser.Page;

        await page.GotoAsync(portal.Emulator.MailboxUrl.ToString());
        var mail = page.Locator("[data-field='mail']").Filter(new() { HasText = caller.Email });
        await Expect(mail).ToHaveCountAsync(1);
        await Expect(mail.GetByRole(AriaRole.Heading)).ToContainTextAsync("your account was recovered by the help desk");
        await mail.Locator("a[href*='/recovery/not-me/']").ClickAsync();

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "This wasn't me" })).ToBeVisibleAsync();
        await Expect(page.GetByText(PortalServer.TenantName).First).ToBeVisibleAsync();
        await browser.CheckPageAsync("recovery: this wasn't me");
        await page.GetByRole(AriaRole.Button, new() { NameRegex = new Regex("^This wasn't me") }).ClickAsync();

        await Expect(page.Locator("[data-field='not-me-result']")).ToHaveAttributeAsync("data-result", "done");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Done" })).ToBeVisibleAsync();
        await browser.CheckPageAsync("recovery: done");
        Assert.Equal(revokedBefore + 1, caller.SessionsRevoked);

        // Back to the link: spent (the page is never cached), no button, nothing done twice.
        await page.GoBackAsync();
        await Expect(page.Locator("[data-field='not-me-result']")).ToHaveAttributeAsync("data-result", "used");
        await Expect(page.GetByRole(AriaRole.Button, new() { NameRegex = new Regex("^This wasn't me") })).ToHaveCountAsync(0);
        Assert.Equal(revokedBefore + 1, caller.SessionsRevoked);

        browser.AssertPagesRanCleanly();
    }

    /// <summary>The notice after an unlock through <c>recovery.manager</c>, as <see cref="ActionService"/> asks for it.</summary>
    private async Task SendNoticeAsync(Portal.IdpEmulator.DemoCaller caller)
    {
        using var scope = portal.Services.CreateScope();
        var services = scope.ServiceProvider;
        var tenant = services.GetRequiredService<ITenantCatalog>().Find(PortalServer.TenantId)!;
        var agent = new AgentContext(tenant.Id, "journey-session", "journey-agent", "t***@d***.example", ["Tier 3"]);
        var now = DateTimeOffset.UtcNow;
        var session = new VerificationSession
        {
            Id = VerificationId.New().Value,
            TenantId = tenant.Id,
            AgentSessionId = agent.SessionId,
            AgentSubject = agent.Subject,
            CallerIdHash = services.GetRequiredService<Portal.Audit.ICallerPseudonymizer>().HashCallerId(tenant.Id, caller.Id),
            CallerMaskedLogin = "r***@d***.example",
            CallerRefProtected = services.GetRequiredService<CallerReferences>().AtRest(tenant.Id, caller.Id),
            Method = VerificationMethods.RecoveryManager,
            VerifiedAt = now,
            ExpiresAt = now.AddMinutes(10),
        };
        var origin = new RequestContext("journey", null, "127.0.0.1", "journey", portal.BaseUrl);
        var notice = await services.GetRequiredService<IRecoveryNotices>().AfterActionAsync(
            new AgentRequest(agent, tenant, origin), CallerAction.Unlock, session, caller.Id, new ActionOutcome(true, "The account was unlocked."), CancellationToken.None);
        Assert.True(notice?.Sent, notice?.Message);
    }
}
