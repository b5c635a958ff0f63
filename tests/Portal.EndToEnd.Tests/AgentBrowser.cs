using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Portal.EndToEnd.Tests;

/// <summary>
/// One agent's browser profile (its own cookies) with a first tab on the portal. Every console message
/// that reports a Content Security Policy violation, and every uncaught script error, is kept: a page whose
/// script or style the CSP blocks looks fine in a test that only reads the server's HTML.
/// </summary>
public sealed class AgentBrowser : IAsyncDisposable
{
    private static readonly string OutputFolder = Path.Combine(AppContext.BaseDirectory, "screenshots");

    private readonly ConcurrentQueue<string> _cspViolations = new();
    private readonly ConcurrentQueue<string> _scriptErrors = new();
    private readonly PortalServer _portal;

    private AgentBrowser(PortalServer portal, IBrowserContext context, IPage page)
    {
        _portal = portal;
        Context = context;
        Page = page;
    }

    public IBrowserContext Context { get; }

    public IPage Page { get; }

    public IReadOnlyCollection<string> CspViolations => _cspViolations;

    public IReadOnlyCollection<string> ScriptErrors => _scriptErrors;

    public static async Task<AgentBrowser> OpenAsync(ChromiumFixture chromium, PortalServer portal)
    {
        var context = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = portal.BaseUrl.ToString(),
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
            Locale = "en-GB",
        });
        context.SetDefaultTimeout(15_000);
        context.SetDefaultNavigationTimeout(15_000);
        var page = await context.NewPageAsync();
        var browser = new AgentBrowser(portal, context, page);
        context.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                browser._cspViolations.Enqueue($"{message.Location}: {message.Text}");
            }
        };
        context.Page += (_, opened) => opened.PageError += (_, error) => browser._scriptErrors.Enqueue(error);
        page.PageError += (_, error) => browser._scriptErrors.Enqueue(error);
        return browser;
    }

    /// <summary>Portal home → sign-in page → the organisation → the IdP's picker → back in the portal, signed in.</summary>
    public async Task SignInAsync(string agentName, string landingPath = "/console")
    {
        await Page.GotoAsync("/");
        await Expect(Page).ToHaveURLAsync(new Regex("/account/signin"));
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Sign in to the helpdesk portal" })).ToBeVisibleAsync();

        await Page.GetByRole(AriaRole.Link, new() { Name = PortalServer.TenantName }).ClickAsync();
        await Expect(Page).ToHaveURLAsync(new Regex("^" + Regex.Escape(_portal.Emulator.OktaIssuer + "/v1/authorize")));

        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in as " + agentName }).ClickAsync();
        await Expect(Page).ToHaveURLAsync(new Uri(_portal.BaseUrl, landingPath).ToString());
    }

    /// <summary>Types the caller's login into the console and waits for their profile.</summary>
    public async Task LookUpAsync(string login)
    {
        await Page.GetByLabel("Caller's login or e-mail").FillAsync(login);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Look up" }).ClickAsync();
        await Expect(Page.Locator("#caller-title")).ToBeVisibleAsync();
    }

    public async Task SendPushAsync()
    {
        await Page.GetByRole(AriaRole.Button, new() { Name = "Send push" }).ClickAsync();
        await Expect(Page).ToHaveURLAsync(new Regex("/verification/pending/[^/]+$"));
    }

    /// <summary>The caller's phone, in a second tab of the same browser (the emulator is another host: no cookies shared).</summary>
    public async Task<IPage> OpenPhoneAsync(string login)
    {
        var phone = await Context.NewPageAsync();
        await phone.GotoAsync(_portal.PhoneOf(login).ToString());
        return phone;
    }

    /// <summary>Axe on the page as it stands; the serious and critical findings, described for a failure message.</summary>
    public async Task<IReadOnlyList<string>> SeriousAccessibilityViolationsAsync(IPage? page = null)
    {
        var result = await (page ?? Page).RunAxe();
        return result.Violations
            .Where(v => v.Impact is "serious" or "critical")
            .Select(v => $"{Page.Url} {v.Impact} {v.Id}: {v.Help} at {string.Join(" | ", v.Nodes.Select(n => n.Target?.ToString()))}")
            .ToList();
    }

    /// <summary>For people reading a run: a picture of the page in the test output folder. Not asserted.</summary>
    public async Task ScreenshotAsync(string name)
    {
        Directory.CreateDirectory(OutputFolder);
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(OutputFolder, name + ".png"), FullPage = true });
    }

    /// <summary>Nothing the pages needed was blocked by the CSP and no script failed.</summary>
    public void AssertPagesRanCleanly()
    {
        Assert.True(_cspViolations.IsEmpty, "Content Security Policy violations: " + string.Join(Environment.NewLine, _cspViolations));
        Assert.True(_scriptErrors.IsEmpty, "Script errors: " + string.Join(Environment.NewLine, _scriptErrors));
    }

    public async ValueTask DisposeAsync() => await Context.DisposeAsync();
}
