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

    /// <summary>The widths every page is checked at: a phone held upright, a laptop, a desktop.</summary>
    public static readonly int[] Widths = [390, 1280, 1440];

    /// <summary>WCAG 2.0, 2.1 and 2.2, levels A and AA: the rule sets axe tags them with.</summary>
    private static readonly List<string> WcagTags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

    private readonly ConcurrentQueue<string> _cspViolations = new();
    private readonly ConcurrentQueue<string> _scriptErrors = new();
    private readonly ConcurrentQueue<string> _consoleErrors = new();
    private readonly ConcurrentDictionary<string, int> _pagesWithErrorStatus = new(StringComparer.Ordinal);
    private readonly List<string> _accessibility = [];
    private readonly IPortalSite _portal;

    private AgentBrowser(IPortalSite portal, IBrowserContext context, IPage page)
    {
        _portal = portal;
        Context = context;
        Page = page;
    }

    public IBrowserContext Context { get; }

    public IPage Page { get; }

    public IReadOnlyCollection<string> CspViolations => _cspViolations;

    public IReadOnlyCollection<string> ScriptErrors => _scriptErrors;

    public static async Task<AgentBrowser> OpenAsync(ChromiumFixture chromium, IPortalSite portal)
    {
        var context = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = portal.BaseUrl.ToString(),
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
            Locale = "en-GB",

            // Only a portal served with the tests' own certificate authority (the production-mode run): its
            // certificate is checked by the portal's and the tests' HTTP clients, not by this browser profile.
            IgnoreHTTPSErrors = portal.ServedWithTestCertificate,
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
            else if (message.Type == "error" || message.Text.Contains("Permissions-Policy", StringComparison.OrdinalIgnoreCase))
            {
                // Any error the browser reports, and the warnings about policy features it does not know.
                browser._consoleErrors.Enqueue($"{message.Location}: {message.Text}");
            }
        };
        context.Response += (_, response) =>
        {
            // A page answered with an error status on purpose (a refused step-up, a spent link) is what the user
            // should see; Chromium still logs "Failed to load resource" for it. Only those documents are excused.
            if (response.Status >= 400 && response.Request.ResourceType == "document")
            {
                browser._pagesWithErrorStatus[response.Url] = response.Status;
            }
        };
        context.Page += (_, opened) => opened.PageError += (_, error) => browser._scriptErrors.Enqueue(error);
        page.PageError += (_, error) => browser._scriptErrors.Enqueue(error);
        return browser;
    }

    /// <summary>
    /// Portal home → sign-in page → the organisation → the IdP's picker → back in the portal, signed in. The
    /// organisation is the demo list's link, or, with <paramref name="workEmail"/>, found by the agent's e-mail as
    /// outside Development (where no list of organisations is shown).
    /// </summary>
    public async Task SignInAsync(string agentName, string? landingPath = "/console", string tenantName = PortalServer.TenantName, string? workEmail = null)
    {
        await Page.GotoAsync("/");
        await Expect(Page).ToHaveURLAsync(new Regex("/account/signin"));
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Sign in to the helpdesk portal" })).ToBeVisibleAsync();

        if (workEmail is null)
        {
            await Page.GetByRole(AriaRole.Link, new() { Name = tenantName }).ClickAsync();
        }
        else
        {
            await Expect(Page.GetByRole(AriaRole.Link, new() { Name = tenantName })).ToHaveCountAsync(0);
            await Page.GetByLabel("Your work e-mail, or your organisation's name").FillAsync(workEmail);
            await Page.GetByRole(AriaRole.Button, new() { Name = "Find my organisation" }).ClickAsync();
            await Expect(Page.GetByText("Your organisation:")).ToContainTextAsync(tenantName);
            await Page.GetByRole(AriaRole.Link, new() { Name = "Continue to sign in" }).ClickAsync();
        }

        await Expect(Page).ToHaveURLAsync(new Regex("^" + Regex.Escape(_portal.EmulatorBaseUrl.ToString())));

        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in as " + agentName }).ClickAsync();
        if (landingPath is null)
        {
            await Expect(Page).ToHaveURLAsync(new Regex("^" + Regex.Escape(_portal.BaseUrl.ToString())));
        }
        else
        {
            await Expect(Page).ToHaveURLAsync(new Uri(_portal.BaseUrl, landingPath).ToString());
        }
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

    /// <summary>A click the journey counts (agent's or caller's): the measure of how much work a verification is.</summary>
    public int Clicks { get; private set; }

    /// <summary>Counts a click made elsewhere (the caller's browser or phone) in this journey.</summary>
    public void CountClick() => Clicks++;

    public async Task ClickAsync(ILocator target)
    {
        Clicks++;
        await target.ClickAsync();
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

    /// <summary>
    /// Axe (WCAG 2.2 AA) on the page as it stands at each of <see cref="Widths"/>; every violation, of any impact, is
    /// kept for <see cref="AssertPagesRanCleanly"/>. Returns how many pages were checked so far.
    /// </summary>
    public async Task<int> CheckPageAsync(string name, IPage? page = null)
    {
        page ??= Page;
        var original = page.ViewportSize;
        foreach (var width in Widths)
        {
            await page.SetViewportSizeAsync(width, width < 800 ? 844 : 900);
            var result = await page.RunAxe(new Deque.AxeCore.Commons.AxeRunOptions
            {
                RunOnly = new Deque.AxeCore.Commons.RunOnlyOptions { Type = "tag", Values = WcagTags },
            });
            lock (_accessibility)
            {
                _accessibility.AddRange(result.Violations.Select(v =>
                    $"{name} at {width}px ({page.Url}): {v.Impact} {v.Id}: {v.Help} at {string.Join(" | ", v.Nodes.Select(n => n.Target?.ToString()))}"));
            }
        }

        await page.SetViewportSizeAsync(original?.Width ?? 1280, original?.Height ?? 900);
        lock (_accessibility)
        {
            CheckedPages++;
        }

        return CheckedPages;
    }

    /// <summary>How many page states <see cref="CheckPageAsync"/> ran axe on.</summary>
    public int CheckedPages { get; private set; }

    /// <summary>
    /// For people reading a run: a picture of the page at 1280 px in the test output folder, and in
    /// <c>PORTAL_SCREENSHOTS_DIR</c> when set (tools/screenshots.sh regenerates the README's pictures so). Not asserted.
    /// </summary>
    public async Task ScreenshotAsync(string name)
    {
        await Page.SetViewportSizeAsync(1280, 800);
        Directory.CreateDirectory(OutputFolder);
        var path = Path.Combine(OutputFolder, name + ".png");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        if (Environment.GetEnvironmentVariable("PORTAL_SCREENSHOTS_DIR") is { Length: > 0 } published)
        {
            Directory.CreateDirectory(published);
            File.Copy(path, Path.Combine(published, name + ".png"), overwrite: true);
        }
    }

    /// <summary>Nothing the pages needed was blocked by the CSP, no script failed, the console stayed clean and axe found nothing.</summary>
    public void AssertPagesRanCleanly()
    {
        Assert.True(_cspViolations.IsEmpty, "Content Security Policy violations: " + string.Join(Environment.NewLine, _cspViolations));
        Assert.True(_scriptErrors.IsEmpty, "Script errors: " + string.Join(Environment.NewLine, _scriptErrors));
        var consoleErrors = _consoleErrors.Where(e => !(e.Contains("Failed to load resource", StringComparison.Ordinal)
            && _pagesWithErrorStatus.Keys.Any(url => e.StartsWith(url + ":", StringComparison.Ordinal)))).ToList();
        Assert.True(consoleErrors.Count == 0, "Console errors: " + string.Join(Environment.NewLine, consoleErrors));
        lock (_accessibility)
        {
            Assert.True(_accessibility.Count == 0, "Accessibility (WCAG 2.2 AA) violations: " + Environment.NewLine + string.Join(Environment.NewLine, _accessibility));
        }
    }

    public async ValueTask DisposeAsync() => await Context.DisposeAsync();
}
