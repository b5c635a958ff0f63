using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Portal.Web.Tenancy;
using static Microsoft.Playwright.Assertions;

namespace Portal.EndToEnd.Tests;

/// <summary>
/// The agent's journeys in a real browser: the portal's own scripts poll, count down and move the page on,
/// under the portal's real CSP, while the caller answers on the emulator's phone page in another tab.
/// One portal for the class; a test that puts a caller under alarm uses a caller of its own.
/// </summary>
[Collection(ChromiumCollection.Name)]
public sealed class AgentJourneyTests(ChromiumFixture chromium, PortalServer portal) : IClassFixture<PortalServer>
{
    private const string Alice = "alice.caller@demo.example";
    private const string Bob = "bob.caller@demo.example";
    private const string Tier3 = "Tier Three Agent";

    private readonly PortalServer _portal = portal;

    [Fact]
    public async Task Journey_PushApprovedOnPhoneThenOneTimeLink_PageVerifiesByItselfAndShowsSecret()
    {
        await using var agent = await AgentBrowser.OpenAsync(chromium, _portal);
        var page = agent.Page;
        await agent.SignInAsync(Tier3);

        await agent.LookUpAsync(Alice);
        await Expect(page.Locator("#caller-title")).ToHaveTextAsync("Caller: Alice Caller");
        await Expect(page.Locator("[data-field=title]")).ToHaveTextAsync("Payroll Specialist");
        await Expect(page.Locator("[data-field=manager]")).ToHaveTextAsync("Morgan Lead");
        await Expect(page.Locator("[data-field=agent-name]")).ToHaveTextAsync("Tier Three Agent");
        await agent.ScreenshotAsync("console");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        await agent.ClickAsync(page.GetByRole(AriaRole.Button, new() { Name = "Send push" }));
        await Expect(page).ToHaveURLAsync(new Regex("/verification/pending/[^/]+$"));
        var push = Assert.Single(_portal.Emulator.State.PendingPushes(Alice));
        var number = page.Locator("p.number");
        await Expect(number).ToHaveTextAsync(push.CorrectAnswer.ToString(CultureInfo.InvariantCulture));
        var fontSize = await number.EvaluateAsync<string>("e => getComputedStyle(e).fontSize");
        Assert.True(double.Parse(fontSize.Replace("px", "", StringComparison.Ordinal), CultureInfo.InvariantCulture) >= 48, $"The number to read out is {fontSize}: too small to read at a glance.");
        await Expect(page.Locator("[data-field='state']")).ToContainTextAsync("Waiting for the caller");
        await Expect(page.Locator(".countdown .remaining")).ToHaveTextAsync(new Regex(@"^\(\d+:\d{2} left\)$"));
        await agent.ScreenshotAsync("pending-push");

        var phone = await agent.OpenPhoneAsync(Alice);
        agent.CountClick();
        await phone.GetByRole(AriaRole.Button, new() { Name = push.CorrectAnswer.ToString(CultureInfo.InvariantCulture), Exact = true }).ClickAsync();
        await Expect(phone.GetByText("No sign-in request waiting.")).ToBeVisibleAsync();

        // Nobody touches the portal tab: its polling script alone must bring the agent to the verified caller.
        await Expect(page).ToHaveURLAsync(new Regex("/verification/session/[^/]+$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Verified:" })).ToContainTextAsync("a***@d***.example");
        await Expect(page.Locator(".countdown .remaining")).ToHaveTextAsync(new Regex(@"^\(\d+:\d{2} left\)$"));
        await agent.ScreenshotAsync("verified");

        var reset = page.Locator("form[data-action='password_reset']");
        agent.CountClick();
        await reset.GetByLabel("One-time reset link, shown once for you to copy (never read a link aloud)").CheckAsync();
        await reset.GetByLabel("Ticket").FillAsync("INC-1042");
        await agent.ClickAsync(reset.GetByRole(AriaRole.Button, new() { Name = "Reset password" }));

        await Expect(page).ToHaveURLAsync(new Regex("/actions/result/[0-9a-f]{32}$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Reset password" })).ToBeVisibleAsync();
        var secret = await page.Locator("[data-field='secret']").InnerTextAsync();
        Assert.False(string.IsNullOrWhiteSpace(secret), "The one-time reset link was not shown.");
        clock.Stop();
        JourneyMetrics.Record("Push (Okta Verify) to password reset", agent.Clicks, clock.Elapsed);
        Assert.Equal(1, _portal.Emulator.State.FindCaller(Alice)!.PasswordResets);

        // Sign-out ends the IdP's session too: the browser must reach the IdP's end-session endpoint and come back,
        // which a redirect of the sign-out form's POST could not do under CSP form-action 'self'.
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex(@"/account/signin\?signedout=1$"));
        agent.AssertPagesRanCleanly();
    }

    [Fact]
    public async Task Push_WrongNumberTappedOnPhone_PageShowsRejectedByItself()
    {
        var login = _portal.Emulator.State.AddCaller("wanda.wrong@demo.example", "wanda.wrong@demo.example", "Wanda", "Wrong", push: true).Login;
        await using var agent = await AgentBrowser.OpenAsync(chromium, _portal);
        var page = agent.Page;
        await agent.SignInAsync(Tier3);
        await agent.LookUpAsync(login);
        await agent.SendPushAsync();
        var push = Assert.Single(_portal.Emulator.State.PendingPushes(login));
        var wrong = push.Choices.First(c => c != push.CorrectAnswer);

        var phone = await agent.OpenPhoneAsync(login);
        await phone.GetByRole(AriaRole.Button, new() { Name = wrong.ToString(CultureInfo.InvariantCulture), Exact = true }).ClickAsync();

        await Expect(page.Locator("[data-field='state']")).ToContainTextAsync("Rejected. Do not act on this account");
        // The script reloads the page: the server's own rendering of the refusal offers no way on, only back.
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Back to the console" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Continue" })).ToHaveCountAsync(0);
        Assert.Matches("/verification/pending/[^/]+$", page.Url);
        Assert.Equal(0, _portal.Emulator.State.FindCaller(login)!.PasswordResets);
        await agent.CheckPageAsync("push rejected");
        agent.AssertPagesRanCleanly();
    }

    [Fact]
    public async Task Push_CallerTapsNotMe_PageShowsRejectedAndWhatToSay()
    {
        var login = _portal.Emulator.State.AddCaller("nate.notme@demo.example", "nate.notme@demo.example", "Nate", "Notme", push: true).Login;
        await using var agent = await AgentBrowser.OpenAsync(chromium, _portal);
        var page = agent.Page;
        await agent.SignInAsync(Tier3);
        await agent.LookUpAsync(login);
        await agent.SendPushAsync();

        var phone = await agent.OpenPhoneAsync(login);
        await phone.GetByRole(AriaRole.Button, new() { Name = "Not me" }).ClickAsync();

        await Expect(page.Locator("[data-field='state']")).ToContainTextAsync("Rejected. Do not act on this account");
        await Expect(page.Locator("[data-field='state']")).ToContainTextAsync("Say:");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Back to the console" })).ToBeVisibleAsync();
        await Expect(page.Locator("[data-field='escalation']")).ToHaveTextAsync(CallScriptSettings.DefaultEscalation);
        agent.AssertPagesRanCleanly();
    }

    [Fact]
    public async Task Totp_CodeReadFromPhone_VerifiedWithRunningCountdown()
    {
        await using var agent = await AgentBrowser.OpenAsync(chromium, _portal);
        var page = agent.Page;
        await agent.SignInAsync(Tier3);
        await agent.LookUpAsync(Bob);
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Send push" })).ToHaveCountAsync(0);

        // The caller reads the code off their authenticator; the agent types it.
        var phone = await agent.OpenPhoneAsync(Bob);
        var code = (await phone.Locator(".code").First.InnerTextAsync()).Trim();
        Assert.Matches("^[0-9]{6}$", code);
        await page.GetByLabel("Code", new() { Exact = true }).FillAsync(code);
        await page.GetByRole(AriaRole.Button, new() { Name = "Verify code" }).ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex("/verification/session/[^/]+$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Verified:" })).ToContainTextAsync("b***@d***.example");
        var remaining = page.Locator(".countdown .remaining");
        await Expect(remaining).ToHaveTextAsync(new Regex(@"^\((9|10):\d{2} left\)$"));
        var first = await remaining.InnerTextAsync();

        // The countdown runs in the page: the time left changes without a reload.
        await Expect(remaining).Not.ToHaveTextAsync(first);
        await Expect(remaining).ToHaveTextAsync(new Regex(@"^\(\d+:\d{2} left\)$"));
        agent.AssertPagesRanCleanly();
    }

    [Fact]
    public async Task Csp_InlineScriptAddedToPortalPage_BlockedAndReported()
    {
        await using var agent = await AgentBrowser.OpenAsync(chromium, _portal);
        var page = agent.Page;
        await agent.SignInAsync(Tier3);

        // What an injected <script> would do: the policy must stop it, and the run must see that it did.
        await page.EvaluateAsync("() => { const s = document.createElement('script'); s.textContent = 'window.inlineRan = true;'; document.head.appendChild(s); }");

        Assert.Null(await page.EvaluateAsync<bool?>("() => window.inlineRan ?? null"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Look up a caller" })).ToBeVisibleAsync();
        var violations = await PollAsync(() => agent.CspViolations.Count > 0);
        Assert.True(violations, "The blocked inline script was not reported as a CSP violation.");
        Assert.Contains(agent.CspViolations, v => v.Contains("script-src", StringComparison.Ordinal));
    }

    private static async Task<bool> PollAsync(Func<bool> condition)
    {
        // Console events arrive asynchronously from the browser; wait for one without a fixed sleep's guess.
        for (var i = 0; i < 50 && !condition(); i++)
        {
            await Task.Delay(100);
        }

        return condition();
    }
}
