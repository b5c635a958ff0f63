using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Portal.Web.Agents;
using Portal.Web.Platform;

namespace Portal.Web.Tests.Core;

/// <summary>
/// The browser handover's read-once (docs/security-decisions.md, "Post/Redirect/Get without storing a secret"): what a
/// POST kept for its page is shown on the first GET and gone on the next, in a browser that follows the responses' cookies.
/// </summary>
public sealed class BrowserHandoverTests
{
    private const string Purpose = "test-shown";
    private const string Page = "/test/page";

    private static readonly AgentContext Agent = new("acme", "0123456789abcdef0123456789abcdef", "agent-sub-1", "a***@h***.example", []);
    private static readonly AgentContext OtherSession = Agent with { SessionId = "fedcba9876543210fedcba9876543210" };

    private readonly BrowserHandover _handover = new(new EphemeralDataProtectionProvider(), Options.Create(new WebOptions { RequireHttps = false }), TimeProvider.System);
    private readonly Browser _browser = new();

    [Fact]
    public void Take_ShowsTheValueOnce_AndTheResponseRemovesItFromTheBrowser()
    {
        Kept("the secret");

        var first = _browser.Get(http => _handover.Take<Shown>(http.Request, http.Response, Purpose, Agent, Page));
        Assert.Equal("the secret", first.Value?.Text);
        var removal = Assert.Single(first.SetCookies);
        Assert.Equal("portal-" + Purpose, removal.Name.Value);
        Assert.Equal(Page, removal.Path.Value);
        Assert.True(removal.Expires < DateTimeOffset.UtcNow, "Take must answer with the cookie already expired");

        var second = _browser.Get(http => _handover.Take<Shown>(http.Request, http.Response, Purpose, Agent, Page));
        Assert.Null(second.Value);
        Assert.Empty(second.SetCookies);
    }

    [Fact]
    public void Take_ForAnotherSessionOrPage_ReadsNothing_AndLeavesTheBrowserAsItIs()
    {
        Kept("the secret");

        var otherSession = _browser.Get(http => _handover.Take<Shown>(http.Request, http.Response, Purpose, OtherSession, Page));
        var otherPage = _browser.Get(http => _handover.Take<Shown>(http.Request, http.Response, Purpose, Agent, "/test/other"));
        Assert.Null(otherSession.Value);
        Assert.Null(otherPage.Value);
        Assert.Empty(otherSession.SetCookies);
        Assert.Empty(otherPage.SetCookies);

        Assert.Equal("the secret", _browser.Get(http => _handover.Take<Shown>(http.Request, http.Response, Purpose, Agent, Page)).Value?.Text);
    }

    [Fact]
    public void Read_LeavesTheValueForTheNextRequest()
    {
        Kept("the secret");

        var first = _browser.Get(http => _handover.Read<Shown>(http.Request, Purpose, Agent, Page));
        Assert.Empty(first.SetCookies);
        Assert.Equal("the secret", _browser.Get(http => _handover.Read<Shown>(http.Request, Purpose, Agent, Page)).Value?.Text);
    }

    private void Kept(string text) =>
        _browser.Get(http =>
        {
            _handover.Keep(http.Response, Purpose, Agent, Page, new Shown(text), DateTimeOffset.UtcNow.AddMinutes(5));
            return (Shown?)null;
        });

    private sealed record Shown(string Text);

    /// <summary>Just enough of a browser: sends the cookies it holds, and keeps or drops what each response sets.</summary>
    private sealed class Browser
    {
        private readonly Dictionary<string, string> _cookies = new(StringComparer.Ordinal);

        public (T? Value, IList<SetCookieHeaderValue> SetCookies) Get<T>(Func<HttpContext, T?> handle)
            where T : class
        {
            var http = new DefaultHttpContext();
            http.Request.Headers.Cookie = string.Join("; ", _cookies.Select(c => c.Key + "=" + c.Value));
            var value = handle(http);
            var setCookies = SetCookieHeaderValue.ParseList(http.Response.Headers.SetCookie.OfType<string>().ToList());
            foreach (var cookie in setCookies)
            {
                if (cookie.Expires < DateTimeOffset.UtcNow || cookie.MaxAge <= TimeSpan.Zero)
                {
                    _cookies.Remove(cookie.Name.Value!);
                }
                else
                {
                    _cookies[cookie.Name.Value!] = cookie.Value.Value!;
                }
            }

            return (value, setCookies);
        }
    }
}
