using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Portal.EndToEnd.Tests;

/// <summary>
/// The caller's own browser for a step-up: another browser profile (no portal cookies of the agent), which opens
/// the link the agent sent, types the code read out and signs in at the caller's IdP (the emulator's sign-in page).
/// </summary>
public sealed class CallerBrowser : IAsyncDisposable
{
    private readonly AgentBrowser _console;

    private CallerBrowser(AgentBrowser console) => _console = console;

    public IPage Page => _console.Page;

    public AgentBrowser Browser => _console;

    public static async Task<CallerBrowser> OpenAsync(ChromiumFixture chromium, IPortalSite portal) =>
        new(await AgentBrowser.OpenAsync(chromium, portal));

    /// <summary>Opens the link and types the code; returns when the portal has answered the code.</summary>
    public async Task EnterCodeAsync(string link, string code, Action? countClick = null)
    {
        await Page.GotoAsync(link);
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Confirm it is you" })).ToBeVisibleAsync();
        await Page.GetByLabel("Code from the agent").FillAsync(code);
        countClick?.Invoke();
        await Page.GetByRole(AriaRole.Button, new() { Name = "Continue to sign in" }).ClickAsync();
    }

    /// <summary>At the IdP's sign-in page (reached by the portal's own GET navigation): user name, password, code.</summary>
    public async Task SignInAtIdpAsync(PortalServer portal, string username, string otp, Action? countClick = null)
    {
        await Expect(Page).ToHaveURLAsync(new Regex("^" + Regex.Escape(portal.Emulator.BaseUrl.ToString())));
        await Page.GetByLabel("User name").FillAsync(username);
        await Page.GetByLabel("Password").FillAsync("demo-password");
        await Page.GetByLabel("Code from the authenticator app").FillAsync(otp);
        countClick?.Invoke();
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await Expect(Page).ToHaveURLAsync(new Regex("^" + Regex.Escape(portal.BaseUrl.ToString()) + "stepup/callback"));
    }

    public async ValueTask DisposeAsync() => await _console.DisposeAsync();
}
