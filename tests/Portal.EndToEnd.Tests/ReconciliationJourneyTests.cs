using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Portal.EndToEnd.Tests;

/// <summary>
/// The README's "reset outside the portal" in Chromium: an IdP administrator resets a caller's password at the IdP's own
/// console (the emulator's admin page), the portal reads it from Okta's System Log in the background, and the auditor
/// finds it on the audit page marked "Outside the portal"; an agent who looks the caller up is warned; the tenant admin
/// sees the reading and the count.
/// </summary>
[Collection(ChromiumCollection.Name)]
public sealed class ReconciliationJourneyTests(ChromiumFixture chromium, PortalServer portal) : IClassFixture<PortalServer>
{
    [Fact]
    public async Task AdminResetsAtTheIdpConsole_AuditorSeesItOutsideThePortal_AdminSeesTheReadingAndTheCount()
    {
        var login = portal.Emulator.State.AddCaller("rita.outside@demo.example", "rita.outside@demo.example", "Rita", "Outside").Login;

        // The IdP's console, as an attacker who talked an administrator into it would have them use it.
        await using (var idpAdmin = await AgentBrowser.OpenAsync(chromium, portal))
        {
            var console = idpAdmin.Page;
            await console.GotoAsync(new Uri(portal.EmulatorBaseUrl, "admin").ToString());
            var rita = console.Locator("li.card").Filter(new() { HasText = login });
            await rita.GetByRole(AriaRole.Combobox).SelectOptionAsync("ResetPassword");
            await rita.GetByRole(AriaRole.Button, new() { Name = "Do it as an IdP administrator" }).ClickAsync();
            await Expect(console.GetByText(new Regex("^Done: Reset password"))).ToBeVisibleAsync();
        }

        await using var auditor = await AgentBrowser.OpenAsync(chromium, portal);
        var page = auditor.Page;
        await auditor.SignInAsync("Audit Reviewer", "/audit");
        var row = page.Locator("table.audit tbody tr[data-action='outside.password_reset']").Filter(new() { HasText = "r***@d***.example" });

        // The portal reads the log every ten seconds (the demo's Reconciliation:PollSeconds): the auditor reloads.
        for (var attempt = 0; attempt < 30 && await row.CountAsync() == 0; attempt++)
        {
            await Task.Delay(1000);
            await page.GotoAsync("/audit?action=outside.password_reset");
        }

        await Expect(row).ToHaveCountAsync(1);
        await Expect(row.Locator("[data-field='outside']")).ToHaveTextAsync("Outside the portal");
        await Expect(row).ToHaveAttributeAsync("data-outcome", "Alarm");
        await Expect(row).ToContainTextAsync("no verification of this user by this person in the portal");
        Assert.DoesNotContain(login, await page.ContentAsync(), StringComparison.OrdinalIgnoreCase);
        await auditor.CheckPageAsync("audit, an action outside the portal");
        await auditor.ScreenshotAsync("audit-outside-the-portal");
        auditor.AssertPagesRanCleanly();

        // An agent who looks the caller up is told before acting on an account changed elsewhere.
        await using (var agent = await AgentBrowser.OpenAsync(chromium, portal))
        {
            await agent.SignInAsync("Tier Three Agent");
            await agent.LookUpAsync(login);
            var warning = agent.Page.Locator("[data-field='outside-actions']");
            await Expect(warning).ToContainTextAsync("Changed outside the portal.");
            await Expect(warning.Locator("li[data-action='outside.password_reset']")).ToHaveCountAsync(1);
            await agent.CheckPageAsync("console, a caller changed outside the portal");
            await agent.ScreenshotAsync("console-changed-outside-the-portal");
            agent.AssertPagesRanCleanly();
        }

        await using var admin = await AgentBrowser.OpenAsync(chromium, portal);
        await admin.SignInAsync("Portal Admin", landingPath: null);
        await admin.Page.GotoAsync("/admin/connection");
        var reading = admin.Page.Locator("[data-section='reconciliation']");
        await Expect(reading.Locator("[data-field='reconciliation']")).ToHaveAttributeAsync("data-state", "reading");
        await Expect(reading.Locator("[data-field='reconciliation-error']")).ToHaveTextAsync("none");
        await admin.CheckPageAsync("connection, with the reading of the IdP log");
        await admin.Page.GotoAsync("/usage");
        await Expect(admin.Page.Locator("tr[data-outside='password_reset']")).ToBeVisibleAsync();
        await admin.CheckPageAsync("usage, with actions outside the portal");
        admin.AssertPagesRanCleanly();
    }
}
