using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Portal.EndToEnd.Tests.Production;

/// <summary>
/// The published Release build in Production, as Cloud Run runs it (<see cref="ProductionDeployment"/>): a real
/// agent journey in Chromium across two instances behind a TLS front, one instance killed mid-journey; spoofed
/// forwarded addresses at one and two hops; a foreign Host; and every line the instances wrote, read as Cloud
/// Logging reads it.
/// </summary>
[Collection(ChromiumCollection.Name)]
public sealed partial class ProductionModeTests(ChromiumFixture chromium, ProductionDeployment deployment) : IClassFixture<ProductionDeployment>
{
    private const string Alice = "alice.caller@demo.example";

    private static readonly HashSet<string> Severities = ["DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY"];

    [Fact]
    public async Task Journey_BehindTheTlsFront_TwoInstancesOneKilledMidJourney_SignInLookUpPushActionAudit()
    {
        await using var agent = await AgentBrowser.OpenAsync(chromium, deployment);
        var page = agent.Page;
        await agent.SignInAsync("Tier Three Agent", tenantName: ProductionDeployment.TenantName, workEmail: "tier3.agent@demo.example");
        Assert.StartsWith(deployment.BaseUrl.ToString(), page.Url, StringComparison.Ordinal);

        await agent.LookUpAsync(Alice);
        await agent.SendPushAsync();
        var pendingId = page.Url[(page.Url.LastIndexOf('/') + 1)..];
        var push = Assert.Single(deployment.Emulator.State.PendingPushes(Alice));
        var (first, second) = (deployment.Instances[0], deployment.Instances[1]);
        Assert.True(deployment.Front.ServedBy(first.Address) > 0 && deployment.Front.ServedBy(second.Address) > 0, "Both instances served the journey so far.");

        // Mid-journey, with the push on the caller's phone: one instance dies without a chance to clean up.
        deployment.Kill(first);
        var servedBySecond = deployment.Front.ServedBy(second.Address);

        var phone = await agent.OpenPhoneAsync(Alice);
        await phone.GetByRole(AriaRole.Button, new() { Name = push.CorrectAnswer.ToString(CultureInfo.InvariantCulture), Exact = true }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/verification/session/[^/]+$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Verified:" })).ToContainTextAsync("a***@d***.example");
        var verificationId = page.Url[(page.Url.LastIndexOf('/') + 1)..];

        var reset = page.Locator("form[data-action='password_reset']");
        await reset.GetByLabel("One-time reset link, shown once for you to copy (never read a link aloud)").CheckAsync();
        await reset.GetByLabel("Ticket").FillAsync("INC-2001");
        await reset.GetByRole(AriaRole.Button, new() { Name = "Reset password" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/actions/result/[0-9a-f]{32}$"));
        var secret = (await page.Locator("[data-field='secret']").InnerTextAsync()).Trim();
        Assert.False(string.IsNullOrWhiteSpace(secret), "The one-time reset link was not shown.");
        Assert.Equal(1, deployment.Emulator.State.FindCaller(Alice)!.PasswordResets);
        Assert.True(deployment.Front.ServedBy(second.Address) > servedBySecond, "The surviving instance carried the journey on.");
        agent.AssertPagesRanCleanly();

        // The auditor, on whichever instance is left, reads the action from the shared audit trail.
        await using var auditor = await AgentBrowser.OpenAsync(chromium, deployment);
        await auditor.SignInAsync("Audit Reviewer", "/audit", ProductionDeployment.TenantName, "auditor@demo.example");
        await Expect(auditor.Page.Locator("tr[data-action='action.password_reset']")).ToHaveCountAsync(1);
        await Expect(auditor.Page.Locator("tr[data-action='action.password_reset']")).ToContainTextAsync("INC-2001");
        auditor.AssertPagesRanCleanly();

        var cookies = (await agent.Context.CookiesAsync()).Concat(await auditor.Context.CookiesAsync()).Select(c => c.Value).Where(v => v.Length >= 16);
        // Session, verification and pending ids are secrets (docs/storage.md): none of them in a log line either.
        AssertLogsAreCloudLoggingEntries(mustNotContain: cookies.Concat([secret, Alice, "alice.caller", pendingId, verificationId]));
        Assert.True(pendingId.Length >= 16 && verificationId.Length >= 16, $"Ids read from the URLs: {pendingId}, {verificationId}");
        Assert.Contains(deployment.Instances.SelectMany(i => i.StandardOutput), l => l.Contains("logging.googleapis.com/trace", StringComparison.Ordinal) && l.Contains("Agent signed in", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SpoofedForwardedFor_RefusedByTheAllowList_AtOneHopAndAtTwo()
    {
        var cookie = await SignedInCookieHeaderAsync();
        var loadBalancer = await deployment.StartFrontAsync(hops: 2);
        var behindLoadBalancer = await deployment.StartInstanceAsync("behind-load-balancer", loadBalancer);

        foreach (var front in new[] { deployment.Front, loadBalancer })
        {
            // The agent's own network, through the front: the console.
            Assert.Equal(HttpStatusCode.OK, await ConsoleStatusAsync(front, ProductionDeployment.AllowedAddress, cookie, spoofed: null));

            // Another network claiming to be the allowed one: a forged left-hand entry is never read.
            Assert.Equal(HttpStatusCode.Forbidden, await ConsoleStatusAsync(front, ProductionDeployment.RefusedAddress, cookie, spoofed: ProductionDeployment.AllowedAddress.ToString()));
            Assert.Equal(HttpStatusCode.Forbidden, await ConsoleStatusAsync(front, ProductionDeployment.RefusedAddress, cookie, spoofed: $"{ProductionDeployment.AllowedAddress}, {ProductionDeployment.AllowedAddress}"));
        }

        deployment.Kill(behindLoadBalancer, loadBalancer);
        AssertLogsAreCloudLoggingEntries(mustNotContain: [cookie]);
    }

    [Fact]
    public async Task ForeignHost_RefusedAndNeverEchoed_PlainHttpRedirectedToThePublicOrigin()
    {
        using var client = new HttpClient(deployment.Authority.CreateHandler());
        using var foreign = new HttpRequestMessage(HttpMethod.Get, new Uri(deployment.BaseUrl, "account/signin"));
        foreign.Headers.Host = "evil.example";
        using var refused = await client.SendAsync(foreign);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.DoesNotContain("evil.example", await refused.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);

        using var own = await client.GetAsync(new Uri(deployment.BaseUrl, "account/signin"));
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);

        // An instance reached over plain http without the front's https (a misrouted request) is sent to the public origin.
        var instance = deployment.Instances.First(i => !i.HasExited);
        using var direct = instance.Traced(new HttpRequestMessage(HttpMethod.Get, new Uri(instance.Address, "account/signin")));
        direct.Headers.Host = deployment.BaseUrl.Authority;
        using var plain = await client.SendAsync(direct);
        Assert.True(plain.StatusCode is HttpStatusCode.RedirectKeepVerb or HttpStatusCode.PermanentRedirect or HttpStatusCode.Redirect or HttpStatusCode.MovedPermanently, $"Plain http answered {plain.StatusCode}.");
        Assert.Equal(new Uri(deployment.BaseUrl, "account/signin"), plain.Headers.Location);

        // The probes answer Cloud Run on the instance's own address, over plain http, whatever the Host.
        using var probe = await client.SendAsync(instance.Traced(new HttpRequestMessage(HttpMethod.Get, new Uri(instance.Address, "health/ready"))));
        Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
        AssertLogsAreCloudLoggingEntries(mustNotContain: ["evil.example"]);
    }

    [Fact]
    public void PublishedBuild_ShipsNoDevelopmentSettingsSymbolsEmulatorOrForeignNativeLibraries()
    {
        var files = Directory.EnumerateFiles(deployment.PublishedDirectory, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(deployment.PublishedDirectory, f)).ToList();

        Assert.Contains("Portal.Web.dll", files);
        Assert.Contains("appsettings.json", files);
        Assert.DoesNotContain("appsettings.Development.json", files);
        Assert.DoesNotContain(files, f => f.EndsWith(".pdb", StringComparison.Ordinal) || f.EndsWith(".xml", StringComparison.Ordinal));
        Assert.DoesNotContain(files, f => f.Contains("IdpEmulator", StringComparison.Ordinal));
        // Native libraries for the container's platform only (linux-x64, at the top level), not runtimes/<every RID>/.
        Assert.DoesNotContain(files, f => f.StartsWith("runtimes" + Path.DirectorySeparatorChar, StringComparison.Ordinal));
        Assert.Contains("libe_sqlite3.so", files);
    }

    /// <summary>
    /// Every line every instance wrote is one Cloud Logging structured entry: JSON with a known severity, a message and an
    /// RFC 3339 time; a line written during a request carries that request's trace, as the front sent it; nothing on
    /// stderr; and none of the deployment's secrets nor any of <paramref name="mustNotContain"/>.
    /// </summary>
    private void AssertLogsAreCloudLoggingEntries(IEnumerable<string> mustNotContain)
    {
        var forbidden = deployment.Secrets.Concat(mustNotContain).Where(s => !string.IsNullOrEmpty(s)).ToList();
        var traces = deployment.TraceIds.Select(id => $"projects/{deployment.ProjectId}/traces/{id}").ToHashSet(StringComparer.Ordinal);
        var traced = 0;
        foreach (var instance in deployment.Instances)
        {
            Assert.True(instance.StandardError.Count == 0, $"Instance {instance.Name} wrote to stderr: {string.Join(Environment.NewLine, instance.StandardError)}");
            var lines = instance.StandardOutput.ToList();
            Assert.NotEmpty(lines);
            foreach (var line in lines)
            {
                using var entry = JsonDocument.Parse(line);
                var root = entry.RootElement;
                Assert.True(root.TryGetProperty("severity", out var severity) && Severities.Contains(severity.GetString()!), "No known severity: " + line);
                Assert.True(root.TryGetProperty("message", out var message) && message.GetString()!.Length > 0, "No message: " + line);
                Assert.True(root.TryGetProperty("time", out var time) && Rfc3339().IsMatch(time.GetString()!), "No RFC 3339 time: " + line);
                // Outbound HTTP (the IdP, Firestore) is logged from Warning up only: at Information it was most of the volume.
                Assert.False(severity.GetString() is "DEBUG" or "INFO" && root.TryGetProperty("category", out var category)
                    && category.GetString()!.StartsWith("System.Net.Http", StringComparison.Ordinal), "Outbound request chatter: " + line);
                if (root.TryGetProperty("logging.googleapis.com/trace", out var trace))
                {
                    Assert.True(traces.Contains(trace.GetString()!), $"Instance {instance.Name} logged a trace no request of the deployment carried: {line}");
                    traced++;
                }

                foreach (var value in forbidden)
                {
                    Assert.False(line.Contains(value, StringComparison.OrdinalIgnoreCase), $"Instance {instance.Name} logged a secret or personal value: {line}");
                }
            }
        }

        Assert.True(traced > 0, "No log line carried the trace of the request it was written in.");
    }

    /// <summary>Signs an agent in with Chromium (from the allowed address) and returns its cookies as a Cookie header.</summary>
    private async Task<string> SignedInCookieHeaderAsync()
    {
        await using var agent = await AgentBrowser.OpenAsync(chromium, deployment);
        await agent.SignInAsync("Tier One Agent", tenantName: ProductionDeployment.TenantName, workEmail: "tier1.agent@demo.example");
        var cookies = await agent.Context.CookiesAsync([deployment.BaseUrl.ToString()]);
        return string.Join("; ", cookies.Select(c => $"{c.Name}={c.Value}"));
    }

    private async Task<HttpStatusCode> ConsoleStatusAsync(FrontProxy front, IPAddress from, string cookie, string? spoofed)
    {
        using var client = new HttpClient(deployment.Authority.CreateHandler(from));
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(front.PublicUrl, "console"));
        request.Headers.Add("Cookie", cookie);
        if (spoofed is not null)
        {
            request.Headers.Add("X-Forwarded-For", spoofed);
        }

        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")]
    private static partial Regex Rfc3339();
}
