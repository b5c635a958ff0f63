using System.Net;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Portal.Web.Tests.Security;

/// <summary>An unexpected failure shows a status and a request id: never exception text, types or stack traces.</summary>
public sealed class ErrorPageTests(PortalHostFixture fixture) : IClassFixture<PortalHostFixture>
{
    /// <summary>Text an exception carries that must never reach a browser.</summary>
    internal const string SecretExceptionText = "Connection to db-7.internal:5432 failed for user portal_rw";

    // One portal serves the class; a test reads only the log lines written while it ran.
    private readonly PortalTestHost _host = fixture.Portal;

    [Fact]
    public async Task UnhandledException_Returns500PageWithRequestIdAndNoExceptionText()
    {
        using var client = ThrowingPortal(_host).CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, BaseAddress = new Uri("https://localhost") });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/account/signin");
        request.Headers.Add(ThrowOnRequestFilter.Header, "1");
        request.Headers.Host = SecurityTestKit.PublicHost;

        var response = await client.SendAsync(request);
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Matches("request id <span class=\"mono\">[0-9a-f]{32}</span>", html);
        Assert.DoesNotContain(SecretExceptionText, html, StringComparison.Ordinal);
        Assert.DoesNotContain("db-7", html, StringComparison.Ordinal);
        Assert.DoesNotContain(nameof(InvalidOperationException), html, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", html, StringComparison.Ordinal);
        Assert.DoesNotContain(".cs:line", html, StringComparison.Ordinal);
        await HeaderTests.AssertHardenedAsync(response, "500");
    }

    [Fact]
    public async Task UnhandledException_SameRequestIdInPageAndInLog()
    {
        var linesBefore = _host.LogLines.Count;
        using var client = ThrowingPortal(_host).CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, BaseAddress = new Uri("https://localhost") });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/account/signin");
        request.Headers.Add(ThrowOnRequestFilter.Header, "1");

        var html = await (await client.SendAsync(request)).Content.ReadAsStringAsync();
        var requestId = System.Text.RegularExpressions.Regex.Match(html, "<span class=\"mono\">([0-9a-f]{32})</span>").Groups[1].Value;

        // The operator can find the failure the agent reports: the exception is logged, the browser gets the id.
        Assert.NotEmpty(requestId);
        Assert.Contains(_host.LogLines.Skip(linesBefore), l => l.Contains(SecretExceptionText, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("/no-such-page")]
    [InlineData("/verification/pending/0123456789abcdef0123456789abcdef")]
    public async Task NotFound_ShowsStatusAndRequestId(string path)
    {
        var agent = await _host.SignInAsync(SecurityTestKit.Tier3);

        var response = await agent.GetAsync(path);
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("Not found", html, StringComparison.Ordinal);
        Assert.Matches("request id <span class=\"mono\">[0-9a-f]{32}</span>", html);
    }

    [Fact]
    public async Task UnknownPath_Anonymous_SentToSignInWithoutRevealingWhetherItExists()
    {
        var unknown = await _host.NewClient().GetAsync("/no-such-page");
        var known = await _host.NewClient().GetAsync("/audit");

        Assert.True(SecurityTestKit.IsSignInChallenge(unknown));
        Assert.True(SecurityTestKit.IsSignInChallenge(known));
    }

    /// <summary>The same portal (same store, settings, clock) with one extra MVC filter that throws on demand.</summary>
    internal static WebApplicationFactory<Program> ThrowingPortal(PortalTestHost host) =>
        host.Factory.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.Configure<MvcOptions>(o => o.Filters.Add(new ThrowOnRequestFilter()))));

    private sealed class ThrowOnRequestFilter : IActionFilter
    {
        public const string Header = "X-Test-Throw";

        public void OnActionExecuting(ActionExecutingContext context)
        {
            // Not on the error page itself: the handler would then have nothing to show.
            if (context.HttpContext.Request.Headers.ContainsKey(Header) && !context.HttpContext.Request.Path.StartsWithSegments("/error"))
            {
                throw new InvalidOperationException(SecretExceptionText);
            }
        }

        public void OnActionExecuted(ActionExecutedContext context)
        {
        }
    }
}
