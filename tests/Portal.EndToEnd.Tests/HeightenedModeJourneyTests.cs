using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Portal.EndToEnd.Tests;

/// <summary>
/// The tenant admin switches heightened-threat mode on in the browser (docs/tenancy.md); an agent then reads the banner on
/// every page, and the console offers no authenticator code for a caller who has one, saying why, while the push stays; a code
/// posted all the same is refused.
/// A portal of its own: the mode is tenant-wide and would change other classes' journeys.
/// </summary>
[Collection(ChromiumCollection.Name)]
public sealed class HeightenedModeJourneyTests(ChromiumFixture chromium, PortalServer portal) : IClassFixture<PortalServer>
{
    [Fact]
    public async Task Admin_SwitchesHeightenedModeOn_AgentSeesTheBanner_AndIsNotOfferedACode()
    {
        await using var admin = await AgentBrowser.OpenAsync(chromium, portal);
        await admin.SignInAsync("Portal Admin", landingPath: null);
        await admin.Page.GotoAsync("/admin/policy");
        var section = admin.Page.Locator("[data-field='heightened-mode']");
        await Expect(section.Locator("[data-state]")).ToHaveAttributeAsync("data-state", "off");
        await section.GetByLabel("Reason").SelectOptionAsync("active_attack");
        await section.GetByRole(AriaRole.Button, new() { Name = "Switch heightened-threat mode on" }).ClickAsync();
        await Expect(admin.Page.Locator("[data-field='result']")).ToHaveClassAsync("ok");
        await Expect(section.Locator("[data-state]")).ToHaveAttributeAsync("data-state", "on");
        await Expect(admin.Page.Locator("[data-field='heightened-banner']")).ToContainTextAsync("Heightened-threat mode is on");
        await admin.CheckPageAsync("admin: heightened mode on");
        admin.AssertPagesRanCleanly();

        var login = portal.Emulator.State.AddCaller("hana.heightened@demo.example", "hana.heightened@demo.example", "Hana", "Heightened", push: true).Login;
        await using var agent = await AgentBrowser.OpenAsync(chromium, portal);
        var page = agent.Page;
        await agent.SignInAsync("Tier Three Agent");
        var banner = page.Locator("[data-field='heightened-banner']");
        await Expect(banner).ToContainTextAsync("Heightened-threat mode is on");
        await Expect(banner).ToContainTextAsync("every action needs a second agent's approval");
        await Expect(banner.Locator("time")).ToHaveCountAsync(1);

        await agent.LookUpAsync(login);
        await Expect(page.Locator("[data-field='heightened-withheld']")).ToContainTextAsync("authenticator codes");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Verify code" })).ToHaveCountAsync(0);
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Send push" })).ToBeVisibleAsync();
        await agent.CheckPageAsync("console: heightened mode, no code offered");

        // A code posted all the same (the push form's caller, the TOTP factor, the right code) is refused, in words.
        var totpFactor = portal.Emulator.State.FindCaller(login)!.Factors.First(f => f.FactorType == "token:software:totp").Id;
        await page.EvaluateAsync(
            """
            ([factorId, code]) => {
                const form = document.querySelector("form[action='/verification/push']").cloneNode(true);
                form.setAttribute("action", "/verification/totp");
                form.querySelector("input[name='factorId']").value = factorId;
                const input = document.createElement("input");
                input.type = "hidden";
                input.name = "code";
                input.value = code;
                form.appendChild(input);
                document.body.appendChild(form);
                form.submit();
            }
            """,
            new[] { totpFactor, portal.Emulator.State.CurrentTotp(login) });
        await Expect(page.Locator("[data-code='heightened_mode']")).ToContainTextAsync("Heightened-threat mode is on in your organisation");
        await Expect(banner).ToBeVisibleAsync();

        await page.GotoAsync("/approvals");
        await Expect(banner).ToBeVisibleAsync();
        agent.AssertPagesRanCleanly();
    }
}
