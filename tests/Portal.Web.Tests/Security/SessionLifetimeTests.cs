using System.Net;
using Portal.Web.Platform;

namespace Portal.Web.Tests.Security;

/// <summary>
/// docs/security-requirements.md S2/S3 on the portal's clock (a FakeTimeProvider): 30 minutes idle, 12 hours absolute, a new
/// session on every sign-in, sign-out ends it on the server so a copied cookie is worthless afterwards.
/// </summary>
public sealed class SessionLifetimeTests : IAsyncLifetime
{
    private readonly PortalTestHost _host = new();

    public Task InitializeAsync() => _host.InitializeAsync();

    public Task DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task Session_IdleOver30Minutes_SignedOut()
    {
        var agent = await _host.SignInAsync(SecurityTestKit.Tier3);
        Assert.Equal(HttpStatusCode.OK, (await agent.GetAsync("/console")).StatusCode);

        _host.Clock.Advance(TimeSpan.FromMinutes(30) + TimeSpan.FromSeconds(1));

        Assert.True(SecurityTestKit.IsSignInChallenge(await agent.GetAsync("/console")));
    }

    [Fact]
    public async Task Session_IdleJustUnder30Minutes_StillSignedIn()
    {
        var agent = await _host.SignInAsync(SecurityTestKit.Tier3);

        _host.Clock.Advance(TimeSpan.FromMinutes(29));

        Assert.Equal(HttpStatusCode.OK, (await agent.GetAsync("/console")).StatusCode);
    }

    [Fact]
    public async Task Session_ActiveEvery20Minutes_EndsAfter12HoursAbsolute()
    {
        var agent = await _host.SignInAsync(SecurityTestKit.Tier3);
        var elapsed = TimeSpan.Zero;
        while (elapsed + TimeSpan.FromMinutes(20) < TimeSpan.FromHours(12))
        {
            _host.Clock.Advance(TimeSpan.FromMinutes(20));
            elapsed += TimeSpan.FromMinutes(20);
            Assert.Equal(HttpStatusCode.OK, (await agent.GetAsync("/console")).StatusCode);
        }

        _host.Clock.Advance(TimeSpan.FromHours(12) - elapsed + TimeSpan.FromSeconds(1));

        Assert.True(SecurityTestKit.IsSignInChallenge(await agent.GetAsync("/console")));
    }

    [Fact]
    public async Task SignOut_CopiedCookieReplayedAfterwards_Refused()
    {
        var (agent, callback) = await SecurityTestKit.SignInCapturingAsync(_host, SecurityTestKit.Tier3);
        var cookie = SecurityTestKit.CookiePair(callback, "__Host-portal");
        Assert.NotNull(cookie);
        var stolen = SecurityTestKit.BrowserWithCookie(_host, cookie);
        Assert.Equal(HttpStatusCode.OK, (await stolen.GetAsync("/console")).StatusCode);

        var signOut = await PortalTestHost.PostFormAsync(agent, "/account/signout", await SecurityTestKit.TokenAsync(agent));

        Assert.Equal(HttpStatusCode.OK, signOut.StatusCode);
        Assert.True(SecurityTestKit.IsSignInChallenge(await stolen.GetAsync("/console")));
        Assert.Equal(0, await SecurityTestKit.CountAsync(_host, "agentSessions"));
    }

    [Fact]
    public async Task SignIn_AgainInTheSameBrowser_StartsANewSessionAndCookie()
    {
        var (browser, first) = await SecurityTestKit.SignInCapturingAsync(_host, SecurityTestKit.Tier3);
        var (_, second) = await SecurityTestKit.SignInCapturingAsync(_host, SecurityTestKit.Tier3, browser);

        var firstCookie = SecurityTestKit.CookiePair(first, "__Host-portal");
        var secondCookie = SecurityTestKit.CookiePair(second, "__Host-portal");

        Assert.NotNull(firstCookie);
        Assert.NotNull(secondCookie);
        Assert.NotEqual(firstCookie, secondCookie);
        Assert.Equal(2, await SecurityTestKit.CountAsync(_host, "agentSessions"));
    }

    /// <summary>
    /// Review F12: three sessions per agent by default. A fourth sign-in ends that agent's least recently used
    /// session (not the first signed in), audited as a sign-out for the cap; another agent's session is untouched.
    /// </summary>
    [Fact]
    public async Task FourthSignIn_EndsTheLeastRecentlyUsedSessionOfThatAgentOnly()
    {
        var other = await _host.SignInAsync(SecurityTestKit.Tier2);
        var first = await _host.SignInAsync(SecurityTestKit.Tier3);
        _host.Clock.Advance(TimeSpan.FromMinutes(2));
        var second = await _host.SignInAsync(SecurityTestKit.Tier3);
        _host.Clock.Advance(TimeSpan.FromMinutes(2));
        var third = await _host.SignInAsync(SecurityTestKit.Tier3);
        _host.Clock.Advance(TimeSpan.FromMinutes(2));
        // The first session is used again: the second is now the one least recently used.
        Assert.Equal(HttpStatusCode.OK, (await first.GetAsync("/console")).StatusCode);
        _host.Clock.Advance(TimeSpan.FromMinutes(2));
        Assert.DoesNotContain(await SecurityTestKit.AuditAsync(_host), d => (string?)d["reason"] == "session_cap");

        var fourth = await _host.SignInAsync(SecurityTestKit.Tier3);

        Assert.True(SecurityTestKit.IsSignInChallenge(await second.GetAsync("/console")));
        foreach (var live in new[] { first, third, fourth, other })
        {
            Assert.Equal(HttpStatusCode.OK, (await live.GetAsync("/console")).StatusCode);
        }

        // The capped session's document stays, marked, until it would have idled out: it says why, and it is refused.
        Assert.Equal(5, await SecurityTestKit.CountAsync(_host, "agentSessions"));
        var capped = Assert.Single(await SecurityTestKit.AuditAsync(_host), d => (string?)d["reason"] == "session_cap");
        Assert.Equal("agent.signout", (string?)capped["action"]);
    }

    [Fact]
    public async Task SessionEndedByTheCap_TheSignInPageSaysWhyOnce_ASignOutOrAnIdleSessionIsNotToldSo()
    {
        var first = await _host.SignInAsync(SecurityTestKit.Tier3);
        _host.Clock.Advance(TimeSpan.FromMinutes(2));
        foreach (var _ in Enumerable.Range(0, WebOptions.DefaultMaxSessionsPerAgent))
        {
            await _host.SignInAsync(SecurityTestKit.Tier3);
        }

        Assert.True(SecurityTestKit.IsSignInChallenge(await first.GetAsync("/console")));
        var told = await (await first.GetAsync("/account/signin")).Content.ReadAsStringAsync();
        Assert.Contains("You were signed out here because you signed in elsewhere: an agent may have at most 3 sessions at once", told, StringComparison.Ordinal);
        Assert.DoesNotContain("You are signed out.", told, StringComparison.Ordinal);

        // Said once; a session that idled out is not told it was displaced.
        Assert.DoesNotContain("signed in elsewhere", await (await first.GetAsync("/account/signin")).Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var idle = await _host.SignInAsync(SecurityTestKit.Tier2);
        _host.Clock.Advance(TimeSpan.FromMinutes(31));
        Assert.True(SecurityTestKit.IsSignInChallenge(await idle.GetAsync("/console")));
        Assert.DoesNotContain("signed in elsewhere", await (await idle.GetAsync("/account/signin")).Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SessionCookie_HostPrefixedSecureHttpOnlySameSiteLaxWithoutPii()
    {
        var (_, callback) = await SecurityTestKit.SignInCapturingAsync(_host, SecurityTestKit.Tier3);

        var cookie = Assert.Single(SecurityTestKit.SetCookies(callback), c => c.StartsWith("__Host-portal=", StringComparison.Ordinal));
        var attributes = cookie.Split(';').Skip(1).Select(a => a.Trim().ToLowerInvariant()).ToList();

        Assert.Contains("secure", attributes);
        Assert.Contains("httponly", attributes);
        Assert.Contains("samesite=lax", attributes);
        Assert.Contains("path=/", attributes);
        Assert.DoesNotContain(attributes, a => a.StartsWith("domain=", StringComparison.Ordinal));
        var value = Uri.UnescapeDataString(cookie.Split(';')[0]);
        Assert.DoesNotContain("tier3", value, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("demo.example", value, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task AntiforgeryCookie_HostPrefixedSecureHttpOnlySameSiteStrict()
    {
        var response = await _host.NewClient().GetAsync("/account/signin");

        var cookie = Assert.Single(SecurityTestKit.SetCookies(response), c => c.StartsWith("__Host-portal-af=", StringComparison.Ordinal));
        var attributes = cookie.Split(';').Skip(1).Select(a => a.Trim().ToLowerInvariant()).ToList();

        Assert.Contains("secure", attributes);
        Assert.Contains("httponly", attributes);
        Assert.Contains("samesite=strict", attributes);
        Assert.Contains("path=/", attributes);
    }

    [Fact]
    public async Task Idle_ExpiredSession_EndsItsVerificationsToo()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(SecurityTestKit.Tier3));
        var session = await agent.VerifyByPushAsync(SecurityTestKit.Alice);

        // Idle past 30 minutes: the verification (10 minutes) is gone with the agent session.
        _host.Clock.Advance(TimeSpan.FromMinutes(31));
        var page = await agent.Browser.GetAsync(session);

        Assert.True(SecurityTestKit.IsSignInChallenge(page));
        Assert.Equal(0, _host.Emulator.State.FindCaller(SecurityTestKit.Alice)!.SessionsRevoked);
    }
}
