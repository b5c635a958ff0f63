using Microsoft.Playwright;

namespace Portal.EndToEnd.Tests;

/// <summary>
/// One headless Chromium for the whole run: the distribution's own build, never a downloaded one (the
/// tests run where only loopback is reachable, and a browser fetched at test time is an unreviewed binary).
/// </summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    public const string ExecutablePath = "/usr/bin/chromium";

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("Chromium did not start.");

    public async Task InitializeAsync()
    {
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        if (!File.Exists(ExecutablePath))
        {
            // A missing browser must fail the run, not skip it: a skipped end-to-end suite looks green.
            throw new InvalidOperationException(
                $"Chromium is not installed at {ExecutablePath}. Install the distribution's package (apt-get install -y chromium); these tests never download a browser.");
        }

        // The portal's push page polls every two seconds; 15 s leaves room for a slow machine without hiding a hang.
        Assertions.SetDefaultExpectTimeout(15_000);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        });
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class ChromiumCollection : ICollectionFixture<ChromiumFixture>
{
    public const string Name = "Chromium";
}
