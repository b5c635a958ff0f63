using System.Net;
using System.Text.RegularExpressions;

namespace Portal.Web.Tests.Security;

/// <summary>
/// docs/security-requirements.md H1/H2: every page and every error response carries the full header set and would grade A+
/// under the HTTP Observatory's header scoring; no page holds inline script or style.
/// </summary>
public sealed partial class HeaderTests(PortalHostFixture fixture) : IClassFixture<PortalHostFixture>
{
    // One portal serves the class: its tests share nothing a test changes.
    private readonly PortalTestHost _host = fixture.Portal;

    [Fact]
    public async Task EveryGetRoute_AnonymousAndAsEachAgent_HardenedAndGradedAPlus()
    {
        var browsers = new Dictionary<string, HttpClient>
        {
            ["anonymous"] = _host.NewClient(),
            ["tier3"] = await _host.SignInAsync(SecurityTestKit.Tier3),
            ["admin"] = await _host.SignInAsync(SecurityTestKit.Admin),
        };
        var paths = SecurityTestKit.Routes(_host).Where(r => r.Method == "GET").Select(r => r.SamplePath)
            .Concat(["/no-such-page", "/error/500", "/error/403"]).Distinct().ToList();
        Assert.Contains("/account/signin", paths);
        Assert.Contains("/console", paths);

        var checkedResponses = 0;
        foreach (var (who, browser) in browsers)
        {
            foreach (var path in paths)
            {
                var response = await SecurityTestKit.GetAsPublicHostAsync(browser, path);
                await AssertHardenedAsync(response, $"{who} GET {path}");
                checkedResponses++;
            }
        }

        Assert.Equal(browsers.Count * paths.Count, checkedResponses);
    }

    [Fact]
    public async Task ErrorResponses_404_403_400_HardenedAndGradedAPlus()
    {
        var tier3 = await _host.SignInAsync(SecurityTestKit.Tier3);

        var notFound = await SecurityTestKit.GetAsPublicHostAsync(tier3, "/no-such-page");
        var forbidden = await SecurityTestKit.GetAsPublicHostAsync(tier3, "/audit");
        var badRequest = await SecurityTestKit.SendAsPublicHostAsync(tier3, HttpMethod.Post, "/console/lookup", new FormUrlEncodedContent([new("login", "x")]));

        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badRequest.StatusCode);
        await AssertHardenedAsync(notFound, "404");
        await AssertHardenedAsync(forbidden, "403");
        await AssertHardenedAsync(badRequest, "400");
    }

    [Fact]
    public async Task Csp_NonceIsFreshOnEveryResponse()
    {
        var client = _host.NewClient();

        var first = Nonce(await SecurityTestKit.GetAsPublicHostAsync(client, "/account/signin"));
        var second = Nonce(await SecurityTestKit.GetAsPublicHostAsync(client, "/account/signin"));

        Assert.NotEqual(first, second);
        Assert.True(Convert.FromBase64String(first).Length >= 16, "A nonce must carry at least 128 bits.");
    }

    [Fact]
    public async Task PagesWithScripts_LoadThemFromFilesOnly()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(SecurityTestKit.Tier3));
        var pending = await agent.StartPushAsync(await agent.LookupAsync(SecurityTestKit.Alice));

        var page = await SecurityTestKit.GetAsPublicHostAsync(agent.Browser, pending);
        var html = await page.Content.ReadAsStringAsync();

        Assert.Contains("<script src=", html, StringComparison.Ordinal);
        await AssertHardenedAsync(page, "pending page");
    }

    [Fact]
    public void InlineScriptCheck_FindsInlineScriptStyleAndHandlers()
    {
        // The body check of AssertHardenedAsync must be able to fail: each of these is something it refuses.
        Assert.NotEmpty(InlineContent("<script>alert(1)</script>"));
        Assert.NotEmpty(InlineContent("<p style=\"color:red\">x</p>"));
        Assert.NotEmpty(InlineContent("<style>p{}</style>"));
        Assert.NotEmpty(InlineContent("<img src=x onerror=\"alert(1)\">"));
        Assert.NotEmpty(InlineContent("<a href=\"javascript:alert(1)\">x</a>"));
        Assert.Empty(InlineContent("<script src=\"/js/a.js\"></script><p data-style=\"x\">one</p>"));
    }

    /// <summary>The full header set of H1/H2 on one response, and no inline script or style in its body.</summary>
    internal static async Task AssertHardenedAsync(HttpResponseMessage response, string what)
    {
        var score = ObservatoryScore.Of(response);
        Assert.True(score.Score >= 100, $"{what}: Observatory score {score}");

        var csp = ObservatoryScore.Header(response, "Content-Security-Policy");
        Assert.True(csp is not null, $"{what}: no CSP");
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-eval", csp, StringComparison.Ordinal);
        var directives = ObservatoryScore.Directives(csp);
        Assert.Equal(["'none'"], directives["default-src"]);
        Assert.Contains("'self'", directives["script-src"]);
        Assert.Contains(directives["script-src"], s => s.StartsWith("'nonce-", StringComparison.Ordinal));
        Assert.Equal(["'none'"], directives["object-src"]);
        Assert.Equal(["'none'"], directives["base-uri"]);
        Assert.Equal(["'none'"], directives["frame-ancestors"]);
        Assert.Equal(["'self'"], directives["form-action"]);
        Assert.Equal(["'self'"], directives["style-src"]);

        var hsts = ObservatoryScore.Header(response, "Strict-Transport-Security");
        Assert.True(hsts is not null, $"{what}: no HSTS");
        var maxAge = long.Parse(HstsMaxAge().Match(hsts).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(maxAge >= 31536000, $"{what}: HSTS max-age {maxAge} is under a year");
        Assert.Contains("includeSubDomains", hsts, StringComparison.Ordinal);

        Assert.Equal("nosniff", ObservatoryScore.Header(response, "X-Content-Type-Options"));
        Assert.Equal("DENY", ObservatoryScore.Header(response, "X-Frame-Options"));
        Assert.Equal("no-referrer", ObservatoryScore.Header(response, "Referrer-Policy"));
        Assert.Equal("same-origin", ObservatoryScore.Header(response, "Cross-Origin-Opener-Policy"));
        var permissions = ObservatoryScore.Header(response, "Permissions-Policy");
        Assert.True(permissions is not null, $"{what}: no Permissions-Policy");
        Assert.Contains("camera=()", permissions, StringComparison.Ordinal);
        Assert.Contains("microphone=()", permissions, StringComparison.Ordinal);
        Assert.Contains("geolocation=()", permissions, StringComparison.Ordinal);
        Assert.True(response.Headers.CacheControl?.NoStore == true, $"{what}: no Cache-Control: no-store");
        Assert.Null(ObservatoryScore.Header(response, "Server"));
        Assert.Null(ObservatoryScore.Header(response, "Access-Control-Allow-Origin"));

        foreach (var cookie in SecurityTestKit.SetCookies(response))
        {
            var lower = cookie.ToLowerInvariant();
            Assert.True(lower.Contains("; secure", StringComparison.Ordinal) && lower.Contains("; httponly", StringComparison.Ordinal) && lower.Contains("; samesite=", StringComparison.Ordinal), $"{what}: cookie {cookie.Split('=')[0]}");
        }

        if (response.Content.Headers.ContentType?.MediaType == "text/html")
        {
            var inline = InlineContent(await response.Content.ReadAsStringAsync());
            Assert.True(inline.Count == 0, $"{what}: inline script or style: {string.Join(" | ", inline)}");
        }
    }

    internal static List<string> InlineContent(string html)
    {
        var found = new List<string>();
        found.AddRange(ScriptTag().Matches(html).Where(m => !m.Groups["attrs"].Value.Contains("src=", StringComparison.Ordinal) || m.Groups["body"].Value.Trim().Length > 0).Select(m => m.Value));
        found.AddRange(StyleTag().Matches(html).Select(m => m.Value));
        found.AddRange(StyleOrHandlerAttribute().Matches(html).Select(m => m.Value));
        if (html.Contains("javascript:", StringComparison.OrdinalIgnoreCase))
        {
            found.Add("javascript: URL");
        }

        return found;
    }

    private static string Nonce(HttpResponseMessage response)
    {
        var csp = ObservatoryScore.Header(response, "Content-Security-Policy")!;
        var nonce = ObservatoryScore.Directives(csp)["script-src"].Single(s => s.StartsWith("'nonce-", StringComparison.Ordinal));
        return nonce["'nonce-".Length..^1];
    }

    [GeneratedRegex("max-age=(\\d+)")]
    private static partial Regex HstsMaxAge();

    [GeneratedRegex("<script(?<attrs>[^>]*)>(?<body>.*?)</script>", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex ScriptTag();

    [GeneratedRegex("<style[\\s>]", RegexOptions.IgnoreCase)]
    private static partial Regex StyleTag();

    [GeneratedRegex("\\s(style|on[a-z]+)\\s*=", RegexOptions.IgnoreCase)]
    private static partial Regex StyleOrHandlerAttribute();
}
