using System.Net;
using Microsoft.AspNetCore.WebUtilities;

namespace Portal.Web.Tests.Security;

/// <summary>No URL or form field chooses where the portal sends a browser: every redirect target is fixed and local.</summary>
public sealed class OpenRedirectTests(PortalHostFixture fixture) : IClassFixture<PortalHostFixture>
{
    private const string Evil = "evil.example";
    // One portal serves the class: its tests share nothing a test changes.
    private readonly PortalTestHost _host = fixture.Portal;

    [Theory]
    [InlineData("https://evil.example/")]
    [InlineData("//evil.example")]
    [InlineData("/\\evil.example")]
    [InlineData("https:evil.example")]
    public async Task SignIn_StartedWithAHostileReturnUrl_LandsOnTheConsoleHome(string returnUrl)
    {
        var client = _host.NewClient();
        var escaped = Uri.EscapeDataString(returnUrl);
        var page = await client.GetAsync($"/account/signin?ReturnUrl={escaped}&returnUrl={escaped}");
        var challenge = await client.GetAsync($"/account/signin/{PortalTestHost.TenantId}?ReturnUrl={escaped}&returnUrl={escaped}&redirect_uri={escaped}");
        var authorize = challenge.Headers.Location!;
        var form = QueryHelpers.ParseQuery(authorize.Query).ToDictionary(p => p.Key, p => p.Value.ToString());
        form["agent"] = _host.Emulator.State.Agents.Single(a => a.Email == SecurityTestKit.Tier3).Subject;
        using var idp = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        var picked = await idp.PostAsync(new Uri(authorize.GetLeftPart(UriPartial.Path)), new FormUrlEncodedContent(form));
        var callback = await client.GetAsync(picked.Headers.Location!.PathAndQuery);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.DoesNotContain(Evil, await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(Evil, Uri.UnescapeDataString(authorize.Query), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, callback.StatusCode);
        Assert.Equal("/", callback.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task SignOut_WithAReturnUrlField_GoesToTheSignInPage()
    {
        var agent = await _host.SignInAsync(SecurityTestKit.Tier3);

        var response = await PortalTestHost.PostFormAsync(agent, "/account/signout?ReturnUrl=https%3A%2F%2Fevil.example", await SecurityTestKit.TokenAsync(agent), ("ReturnUrl", "https://evil.example"), ("returnUrl", "//evil.example"));

        // The agent goes on to the IdP's end-session endpoint only (a same-origin page, no redirect), and from there back
        // to the portal's own signed-out callback: the posted return addresses appear nowhere.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(response.Headers.Location);
        var page = System.Net.WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        Assert.Contains("data-field=\"signout-continue\"", page, StringComparison.Ordinal);
        Assert.Contains("/v1/logout?", page, StringComparison.Ordinal);
        Assert.DoesNotContain("evil.example", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignInChallenge_ReturnUrlIsALocalPath()
    {
        var response = await _host.NewClient().GetAsync("/console?x=1");

        Assert.True(SecurityTestKit.IsSignInChallenge(response));
        var location = response.Headers.Location!;
        Assert.Equal("localhost", location.IsAbsoluteUri ? location.Host : "localhost");
        var returnUrl = QueryHelpers.ParseQuery(location.IsAbsoluteUri ? location.Query : location.OriginalString[location.OriginalString.IndexOf('?', StringComparison.Ordinal)..])["ReturnUrl"].ToString();
        Assert.StartsWith("/", returnUrl, StringComparison.Ordinal);
        Assert.False(returnUrl.StartsWith("//", StringComparison.Ordinal) || returnUrl.StartsWith("/\\", StringComparison.Ordinal));
    }
}
