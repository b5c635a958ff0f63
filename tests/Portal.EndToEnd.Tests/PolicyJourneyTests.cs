using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Portal.EndToEnd.Tests;

/// <summary>
/// The tenant admin changes the action policy in the browser, and the agent's pages follow it: an action the
/// policy refuses for the method the caller was verified with is not offered, and the page says why. TOTP codes
/// right, wrong and reused. A portal of its own: the policy it sets would change other classes' journeys.
/// </summary>
[Collection(ChromiumCollection.Name)]
public sealed class PolicyJourneyTests(ChromiumFixture chromium, PortalServer portal) : IClassFixture<PortalServer>
{
    [Fact]
    public async Task Policy_AdminMakesTotpInsufficientForReset_TotpSessionDoesNotOfferResetAndSaysWhy()
    {
        await using var admin = await AgentBrowser.OpenAsync(chromium, portal);
        await admin.SignInAsync("Portal Admin", landingPath: null);
        await admin.Page.GotoAsync("/admin/policy");
        await admin.CheckPageAsync("admin: policy");
        var reset = admin.Page.Locator("form[action='/admin/policy/actions']").Filter(new() { Has = admin.Page.Locator("input[value='password_reset']") });
        await reset.GetByLabel("Authenticator code").UncheckAsync();
        await reset.GetByRole(AriaRole.Button, new() { Name = "Save for Reset password" }).ClickAsync();
        await Expect(admin.Page.Locator("[data-field='result']")).ToHaveClassAsync("ok");
        await admin.CheckPageAsync("admin: policy saved");
        admin.AssertPagesRanCleanly();

        var login = portal.Emulator.State.AddCaller("tom.totp@demo.example", "tom.totp@demo.example", "Tom", "Totp").Login;
        await using var agent = await AgentBrowser.OpenAsync(chromium, portal);
        var page = agent.Page;
        await agent.SignInAsync("Tier Three Agent");
        await agent.LookUpAsync(login);
        await page.GetByLabel("Code", new() { Exact = true }).FillAsync(portal.Emulator.State.CurrentTotp(login));
        await page.GetByRole(AriaRole.Button, new() { Name = "Verify code" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/verification/session/[0-9a-f]+$"));
        await Expect(page.Locator("[data-field='method']")).ToHaveTextAsync("Authenticator code");

        var resetForm = page.Locator("form[data-action='password_reset']");
        await Expect(resetForm).ToHaveAttributeAsync("data-offered", "false");
        await Expect(resetForm.GetByRole(AriaRole.Button)).ToBeDisabledAsync();
        await Expect(resetForm.Locator("[data-field='why-not']")).ToContainTextAsync("Your organisation accepts a push with number matching or a step-up sign-in");

        // What the policy still allows for a code stays offered.
        await Expect(page.Locator("form[data-action='sessions_revoke']")).ToHaveAttributeAsync("data-offered", "true");
        await agent.CheckPageAsync("verified by code, reset not offered");
        agent.AssertPagesRanCleanly();
    }

    [Fact]
    public async Task Totp_WrongCodeThenReusedCode_BothRefusedInWords()
    {
        var login = portal.Emulator.State.AddCaller("rita.reuse@demo.example", "rita.reuse@demo.example", "Rita", "Reuse").Login;
        await using var agent = await AgentBrowser.OpenAsync(chromium, portal);
        var page = agent.Page;
        await agent.SignInAsync("Tier Three Agent");
        await agent.LookUpAsync(login);

        var right = portal.Emulator.State.CurrentTotp(login);
        var wrong = right == "000000" ? "111111" : "000000";
        await page.GetByLabel("Code", new() { Exact = true }).FillAsync(wrong);
        await page.GetByRole(AriaRole.Button, new() { Name = "Verify code" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("The code is not right");
        await agent.CheckPageAsync("code refused: wrong");

        await page.GotoAsync("/console");
        await agent.LookUpAsync(login);
        await page.GetByLabel("Code", new() { Exact = true }).FillAsync(right);
        await page.GetByRole(AriaRole.Button, new() { Name = "Verify code" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/verification/session/[0-9a-f]+$"));

        await page.GotoAsync("/console");
        await agent.LookUpAsync(login);
        await page.GetByLabel("Code", new() { Exact = true }).FillAsync(right);
        await page.GetByRole(AriaRole.Button, new() { Name = "Verify code" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("That code was already used");
        agent.AssertPagesRanCleanly();
    }
}
