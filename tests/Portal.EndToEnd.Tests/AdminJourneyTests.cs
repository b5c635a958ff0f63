using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Portal.Audit;
using static Microsoft.Playwright.Assertions;

namespace Portal.EndToEnd.Tests;

/// <summary>
/// The tenant admin's journey through the admin console in Chromium: a group mapping made and edited, the policy
/// page, a webhook destination refused in words, the IP allow-list (a list that would lock the admin out refused,
/// one with their address saved, then emptied again), an API key shown once, the usage page, and the IdP
/// connection test with its result per check and per operation. A portal of its own: the changes are the tenant's.
/// </summary>
[Collection(ChromiumCollection.Name)]
public sealed class AdminJourneyTests(ChromiumFixture chromium, PortalServer portal) : IClassFixture<PortalServer>
{
    private const string NightShift = "Helpdesk Night Shift";

    [Fact]
    public async Task Admin_TiersPolicyWebhookAllowListApiKeyUsageConnection_EachSavedOrRefusedInWords()
    {
        await using var admin = await AgentBrowser.OpenAsync(chromium, portal);
        var page = admin.Page;
        await admin.SignInAsync("Portal Admin", landingPath: null);
        var result = page.Locator("[data-field='result']");

        // Tiers: a new group mapped to Tier 2, then the mapping edited to Tier 3.
        await page.GotoAsync("/admin/tiers");
        await admin.CheckPageAsync("admin: tiers");
        var mappings = page.Locator("table tbody tr").Filter(new() { Has = page.GetByRole(AriaRole.Cell, new() { Name = NightShift, Exact = true }) });
        await Expect(mappings).ToHaveCountAsync(0);
        await MapAsync(page, NightShift, "Tier 2");
        await Expect(result).ToHaveClassAsync("ok");
        await Expect(mappings).ToHaveCountAsync(1);
        await Expect(mappings.GetByRole(AriaRole.Cell).Nth(1)).ToHaveTextAsync("Tier 2");
        await MapAsync(page, NightShift, "Tier 3");
        await Expect(result).ToHaveClassAsync("ok");
        await Expect(mappings).ToHaveCountAsync(1);
        await Expect(mappings.GetByRole(AriaRole.Cell).Nth(1)).ToHaveTextAsync("Tier 3");
        await admin.CheckPageAsync("admin: group mapping edited");

        // Saved by Post/Redirect/Get: the page is a GET of /admin/tiers; F5 saves nothing again and the "saved" note is gone.
        await Expect(page).ToHaveURLAsync(new Regex("/admin/tiers$"));
        var changesBefore = await ChangeCountAsync();
        await page.ReloadAsync();
        await Expect(result).ToHaveCountAsync(0);
        await Expect(mappings.GetByRole(AriaRole.Cell).Nth(1)).ToHaveTextAsync("Tier 3");
        Assert.Equal(changesBefore, await ChangeCountAsync());

        // The tier x permission grid: a permission given to Tier 2 in its column, saved, kept; then taken back.
        var tapForTier2 = page.GetByRole(AriaRole.Checkbox, new() { Name = "Tier 2: Issue temporary access codes" });
        await Expect(tapForTier2).Not.ToBeCheckedAsync();
        await tapForTier2.CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save Tier 2" }).ClickAsync();
        await Expect(result).ToHaveClassAsync("ok");
        await Expect(tapForTier2).ToBeCheckedAsync();
        await admin.CheckPageAsync("admin: tier grid saved");
        await tapForTier2.UncheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save Tier 2" }).ClickAsync();
        await Expect(result).ToHaveClassAsync("ok");
        await Expect(tapForTier2).Not.ToBeCheckedAsync();

        // Deleting a tier first says what goes with it (the group just mapped to Tier 3); nothing is deleted here.
        var tier3 = page.Locator("[data-tier='Tier 3']");
        await tier3.GetByText("Delete Tier 3…").ClickAsync();
        await Expect(tier3.Locator("[data-field='delete-impact']")).ToContainTextAsync(NightShift);
        await Expect(tier3.GetByRole(AriaRole.Button, new() { Name = "Delete Tier 3 for good" })).ToBeVisibleAsync();
        await admin.CheckPageAsync("admin: delete a tier, what goes with it");
        await admin.ScreenshotAsync("tiers");

        // Policy, and the webhook: a cloud-internal destination is refused with a message that says why, and not saved.
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Administration" }).GetByRole(AriaRole.Link, new() { Name = "Verification and action policy" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/admin/policy$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Alert webhook" })).ToBeVisibleAsync();
        await Expect(page.Locator("[data-field='webhook-url']")).ToHaveTextAsync("none");
        await admin.CheckPageAsync("admin: policy");
        await page.GetByLabel("HTTPS URL").FillAsync("https://169.254.169.254/latest/meta-data");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save webhook" }).ClickAsync();
        await Expect(result).ToHaveClassAsync("error");
        await Expect(result).ToContainTextAsync("The alert webhook must point at a public internet address");
        await Expect(page.Locator("[data-field='webhook-url']")).ToHaveTextAsync("none");
        await admin.CheckPageAsync("admin: webhook refused");

        // IP allow-list: the admin's own address is shown; a list without it is refused, one with it saved, then emptied.
        await page.GotoAsync("/admin/ip-allowlist");
        var own = (await page.Locator("[data-field='current-address']").InnerTextAsync()).Trim();
        Assert.True(System.Net.IPAddress.TryParse(own, out var address) && System.Net.IPAddress.IsLoopback(address), $"The admin's address shown is '{own}'.");
        await admin.CheckPageAsync("admin: IP allow-list");
        var networks = page.GetByLabel("Networks in CIDR notation, one per line (IPv4 or IPv6)");
        var save = page.GetByRole(AriaRole.Button, new() { Name = "Save allow-list" });
        await networks.FillAsync("203.0.113.0/24");
        await save.ClickAsync();
        await Expect(result).ToHaveClassAsync("error");
        await Expect(result).ToContainTextAsync("saving it would lock you out");
        await admin.CheckPageAsync("admin: IP allow-list refused");
        var ownNetwork = own + (address!.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? "/32" : "/128");
        await networks.FillAsync("203.0.113.0/24\n" + ownNetwork);
        await save.ClickAsync();
        await Expect(result).ToHaveClassAsync("ok");
        await Expect(networks).ToHaveValueAsync("203.0.113.0/24\n" + ownNetwork);
        await Expect(page.GetByText("(allowed)")).ToBeVisibleAsync();
        await networks.FillAsync("");
        await save.ClickAsync();
        await Expect(result).ToHaveClassAsync("ok");
        await Expect(networks).ToHaveValueAsync("");

        // API keys: created, shown once; the list then shows its last characters only.
        await page.GotoAsync("/admin/api-keys");
        await admin.CheckPageAsync("admin: API keys");
        await page.GetByLabel("Name").FillAsync("SIEM e2e");
        await Expect(page.GetByRole(AriaRole.Radio, new() { Name = "Read the audit" })).ToBeCheckedAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Create key" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "API key created: SIEM e2e" })).ToBeVisibleAsync();
        var key = (await page.Locator("[data-field='api-key']").InnerTextAsync()).Trim();
        Assert.Matches("^portal_ak_[A-Za-z0-9_-]{43}$", key);
        await admin.CheckPageAsync("admin: API key shown once");
        await page.ReloadAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "API key no longer shown" })).ToBeVisibleAsync();
        Assert.DoesNotContain(key, await page.ContentAsync(), StringComparison.Ordinal);
        await admin.CheckPageAsync("admin: API key page after F5");
        await page.GetByRole(AriaRole.Link, new() { Name = "Back to the keys" }).ClickAsync();
        var row = page.Locator("table.keys tbody tr").Filter(new() { HasText = "SIEM e2e" });
        await Expect(row).ToHaveCountAsync(1);
        await Expect(row).ToContainTextAsync("…" + key[^4..]);
        await Expect(row).ToContainTextAsync("active");
        await Expect(row.Locator("[data-field='key-scope']")).ToHaveTextAsync("audit:read");
        Assert.DoesNotContain(key, await page.ContentAsync(), StringComparison.Ordinal);

        // A key for the security team's tools: the admin picks what it may do, and the list says so.
        await page.GetByLabel("Name").FillAsync("SOAR e2e");
        await page.GetByRole(AriaRole.Radio, new() { Name = "Switch heightened-threat mode on or off" }).CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Create key" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "API key created: SOAR e2e" })).ToBeVisibleAsync();
        await Expect(page.Locator("[data-field='api-key-scope']")).ToHaveTextAsync("heightened:write");
        await admin.CheckPageAsync("admin: SOAR API key shown once");
        await page.GetByRole(AriaRole.Link, new() { Name = "Back to the keys" }).ClickAsync();
        var soar = page.Locator("table.keys tbody tr").Filter(new() { HasText = "SOAR e2e" });
        await Expect(soar.Locator("[data-field='key-scope']")).ToHaveTextAsync("heightened:write");
        await admin.CheckPageAsync("admin: API keys with their scopes");

        // Usage: this month's counts, as numbers.
        await page.GotoAsync("/usage");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Usage:" })).ToBeVisibleAsync();
        foreach (var field in new[] { "verifications", "actions", "unique-callers" })
        {
            await Expect(page.Locator($"[data-field='{field}']")).ToHaveTextAsync(new Regex(@"^\d+$"));
        }

        await admin.CheckPageAsync("admin: usage");

        // The IdP connection, reached from the main menu (a new admin could not find it): tested now, each check and
        // each operation with its state.
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Main" }).GetByRole(AriaRole.Link, new() { Name = "IdP connection" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "IdP connection (Okta)" })).ToBeVisibleAsync();
        await admin.CheckPageAsync("admin: connection");
        await page.GetByRole(AriaRole.Button, new() { Name = "Test connection" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/admin/connection$")); // Post/Redirect/Get: F5 runs no second test
        var report = page.GetByRole(AriaRole.Status).Filter(new() { Has = page.GetByRole(AriaRole.Heading, new() { Name = "Result" }) });
        await Expect(report.Locator("[data-field='credentials']")).ToHaveAttributeAsync("data-state", "Available");
        var checks = report.Locator("tr[data-check]");
        await Expect(checks).Not.ToHaveCountAsync(0);
        await Expect(report.Locator("tr[data-check='engine']")).ToHaveCountAsync(1);
        foreach (var operation in new[] { "ReadUsers", "VerifyFactors", "ResetPassword", "RevokeSessions", "Unlock", "ResetFactors" })
        {
            var line = report.Locator($"tr[data-operation='{operation}']");
            await Expect(line).ToHaveCountAsync(1);
            await Expect(line).ToHaveAttributeAsync("data-state", new Regex("^(Available|Unavailable|Unknown)$"));
            await Expect(line.GetByRole(AriaRole.Cell).Nth(1)).ToHaveTextAsync(new Regex("^(Available|Unavailable|Unknown)$"));
        }

        // Reads were made, so reading callers is known to work; an SSWS token's actions cannot be tried without changing
        // an account, so they are unknown, and the page says why.
        await Expect(report.Locator("tr[data-operation='ReadUsers']")).ToHaveAttributeAsync("data-state", "Available");
        var reset = report.Locator("tr[data-operation='ResetPassword']");
        await Expect(reset).ToHaveAttributeAsync("data-state", "Unknown");
        await Expect(reset.GetByRole(AriaRole.Cell).Nth(2)).ToContainTextAsync("Okta decides when the action is used");
        await admin.CheckPageAsync("admin: connection tested");

        admin.AssertPagesRanCleanly();
    }

    /// <summary>
    /// The recovery page (docs/recovery.md, "Turning recovery on in the console"): the call-back turned off, then refused
    /// in words while heightened-threat mode is on (the box the admin ticked stays ticked), then turned on; an agent's
    /// console follows each change for a caller with no factor at all. An executive group named twice is refused in words.
    /// </summary>
    [Fact]
    public async Task Admin_RecoverySwitchSaved_ARefusedOneShownInWords_TheAgentsConsoleFollows()
    {
        var login = portal.Emulator.State.AddCaller("quinn.lostphone@demo.example", "quinn.lostphone@demo.example", "Quinn", "Lostphone", "ACTIVE", []).Login;
        portal.Emulator.State.SetWorkPhone(login, "+1 555 0100 161");
        await using var admin = await AgentBrowser.OpenAsync(chromium, portal);
        var page = admin.Page;
        await admin.SignInAsync("Portal Admin", landingPath: null);
        await using var agent = await AgentBrowser.OpenAsync(chromium, portal);
        await agent.SignInAsync("Tier Three Agent");
        var callBackOffered = agent.Page.Locator("form[data-method='recovery.callback']").GetByRole(AriaRole.Button, new() { Name = "Start a call-back" });
        var result = page.Locator("[data-field='result']");

        await page.GotoAsync("/admin/policy");
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Administration" }).GetByRole(AriaRole.Link, new() { Name = "Recovery and executive targets" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/admin/recovery$"));
        await Expect(page.Locator("[data-field='relay'] [data-state='configured']")).ToBeVisibleAsync();
        await Expect(page.GetByText("never in the console: it holds a secret")).ToBeVisibleAsync();
        await admin.CheckPageAsync("admin: recovery");
        var callBack = page.GetByLabel("Call-back to the work phone on file");
        var save = page.GetByRole(AriaRole.Button, new() { Name = "Save recovery methods" });
        await Expect(callBack).ToBeCheckedAsync();

        // Off: saved, with its before and after; the agent's console no longer offers it.
        await callBack.UncheckAsync();
        await save.ClickAsync();
        await Expect(result).ToHaveClassAsync("ok");
        await Expect(page.Locator("[data-field='result'] + table")).ToContainTextAsync("recovery.callBack");
        await Expect(callBack).Not.ToBeCheckedAsync();
        await admin.CheckPageAsync("admin: recovery saved");
        await agent.LookUpAsync(login);
        await Expect(callBackOffered).ToHaveCountAsync(0);

        // While heightened-threat mode is on, turning it on is refused in words, and the ticked box stays ticked.
        await page.GotoAsync("/admin/policy");
        await page.GetByRole(AriaRole.Button, new() { Name = "Switch heightened-threat mode on" }).ClickAsync();
        await Expect(result).ToHaveClassAsync("ok");
        await page.GotoAsync("/admin/recovery");
        await Expect(page.Locator("[data-field='recovery-heightened']")).ToBeVisibleAsync();
        await callBack.CheckAsync();
        await save.ClickAsync();
        await Expect(result).ToHaveClassAsync("error");
        await Expect(result).ToContainTextAsync("Heightened-threat mode is on: it refuses the call-back");
        await Expect(result).ToContainTextAsync("Switch heightened-threat mode off first");
        await Expect(callBack).ToBeCheckedAsync();
        await admin.CheckPageAsync("admin: recovery refused");
        await admin.ScreenshotAsync("admin-recovery-refused");

        // The mode off, the call-back turned on: the agent's console offers it to the caller who has no factor.
        await page.GotoAsync("/admin/policy");
        await page.GetByRole(AriaRole.Button, new() { Name = "Switch heightened-threat mode off" }).ClickAsync();
        await Expect(result).ToHaveClassAsync("ok");
        await page.GotoAsync("/admin/recovery");
        await callBack.CheckAsync();
        await save.ClickAsync();
        await Expect(result).ToHaveClassAsync("ok");
        await Expect(callBack).ToBeCheckedAsync();
        await agent.LookUpAsync(login);
        await Expect(callBackOffered).ToBeVisibleAsync();
        await agent.CheckPageAsync("console: call-back offered again");

        // Executive groups: a name given twice is refused in words, and what was typed stays in the box.
        var groups = page.GetByLabel("One group per line");
        await groups.FillAsync("Executives\nBoard\nboard");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save executive groups" }).ClickAsync();
        await Expect(result).ToHaveClassAsync("error");
        await Expect(result).ToContainTextAsync("Executive groups names 'Board' more than once");
        await Expect(groups).ToHaveValueAsync("Executives\nBoard\nboard");
        await groups.FillAsync("Executives\nBoard");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save executive groups" }).ClickAsync();
        await Expect(result).ToHaveClassAsync("ok");
        await Expect(groups).ToHaveValueAsync("Executives\nBoard");
        await admin.CheckPageAsync("admin: executive groups saved");
        await admin.ScreenshotAsync("admin-recovery");

        admin.AssertPagesRanCleanly();
        agent.AssertPagesRanCleanly();
    }

    private static async Task MapAsync(IPage page, string group, string tier)
    {
        await page.GetByLabel("IdP group name (or Entra group object id)").FillAsync(group);
        await page.GetByLabel("Tier", new() { Exact = true }).SelectOptionAsync(tier);
        await page.GetByRole(AriaRole.Button, new() { Name = "Map group" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/admin/tiers$"));
    }

    private async Task<int> ChangeCountAsync() =>
        (await portal.Services.GetRequiredService<IAuditTrail>().QueryAsync(PortalServer.TenantId, new AuditQuery { Action = "admin.groups.map", PageSize = 50 })).Records.Count;
}
