using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Portal.EndToEnd.Tests;

/// <summary>A portal whose agents may hold one session each (<c>Portal:Web:MaxSessionsPerAgent</c>), so that two browsers show the cap.</summary>
public sealed class OneSessionPerAgentServer() : PortalServer(new Dictionary<string, string?> { ["Portal:Web:MaxSessionsPerAgent"] = "1" });

/// <summary>
/// The session cap as an agent meets it (docs/security-model.md, "Session cap"): the same agent signs in in two
/// browsers; the window whose session the cap ended says, in words, why it is on the sign-in page, and says nothing
/// of the other session. Console errors, CSP violations and axe findings fail it.
/// </summary>
[Collection(ChromiumCollection.Name)]
public sealed class SessionCapJourneyTests(ChromiumFixture chromium, OneSessionPerAgentServer portal) : IClassFixture<OneSessionPerAgentServer>
{
    private const string Tier3 = "Tier Three Agent";
    private const string Told = "You were signed out here because you signed in elsewhere: an agent may have at most 1 session at once";

    [Fact]
    public async Task SameAgentInTwoBrowsers_TheOlderWindowIsToldWhyItWasSignedOut_OnceAndNothingOfTheOther()
    {
        await using var desk = await AgentBrowser.OpenAsync(chromium, portal);
        await using var laptop = await AgentBrowser.OpenAsync(chromium, portal);
        await desk.SignInAsync(Tier3);
        await Expect(desk.Page.GetByLabel("Caller's login or e-mail")).ToBeVisibleAsync();

        await laptop.SignInAsync(Tier3);

        // The desk's next step (here a look-up) finds its session gone: the sign-in page says why.
        await desk.Page.GetByLabel("Caller's login or e-mail").FillAsync("bob.caller@demo.example");
        await desk.Page.GetByRole(AriaRole.Button, new() { Name = "Look up" }).ClickAsync();
        await Expect(desk.Page).ToHaveURLAsync(new Regex("/account/signin"));
        var message = desk.Page.Locator("p.notice[role='status']");
        await Expect(message).ToContainTextAsync(Told);
        await Expect(message).ToContainTextAsync("If you did not sign in elsewhere, tell your security team.");
        var text = await message.InnerTextAsync();
        Assert.DoesNotMatch(new Regex(@"\d{1,3}\.\d{1,3}\.\d{1,3}|\d{1,2}:\d{2}|localhost|Chrom", RegexOptions.IgnoreCase), text);
        await desk.CheckPageAsync("sign-in: signed out by the session cap");
        await desk.ScreenshotAsync("signed-out-by-session-cap");

        // Said once: the page reloaded is the plain sign-in page.
        await desk.Page.ReloadAsync();
        await Expect(desk.Page.GetByRole(AriaRole.Heading, new() { Name = "Sign in to the helpdesk portal" })).ToBeVisibleAsync();
        await Expect(desk.Page.GetByText("signed in elsewhere")).ToHaveCountAsync(0);

        // The laptop is still signed in; signing in again at the desk ends the laptop's session, which is told so in turn.
        await laptop.Page.ReloadAsync();
        await Expect(laptop.Page).ToHaveURLAsync(new Uri(portal.BaseUrl, "/console").ToString());
        await desk.SignInAsync(Tier3);
        await laptop.Page.ReloadAsync();
        await Expect(laptop.Page).ToHaveURLAsync(new Regex("/account/signin"));
        await Expect(laptop.Page.Locator("p.notice[role='status']")).ToContainTextAsync(Told);

        desk.AssertPagesRanCleanly();
        laptop.AssertPagesRanCleanly();
    }
}
