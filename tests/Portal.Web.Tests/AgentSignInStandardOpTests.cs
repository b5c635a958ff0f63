using System.Net;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using Portal.Web.Agents;
using Portal.Web.Tenancy;

namespace Portal.Web.Tests;

/// <summary>
/// Agent sign-in against a standard OP (the emulator's Okta-like authorization server) with what real OPs do and
/// the portal used to ignore: claims only at userinfo, scopes from discovery, RP-initiated logout, private_key_jwt
/// client authentication (this whole class signs in with it: there is no client secret), and challenge errors.
/// </summary>
public sealed class AgentSignInStandardOpTests : IAsyncLifetime
{
    private readonly RSA _clientKey = RSA.Create(2048);
    private PortalTestHost _host = null!;

    public async Task InitializeAsync()
    {
        var pemFile = Path.Combine(Path.GetTempPath(), "portal-client-key-" + Guid.NewGuid().ToString("N") + ".pem");
        await File.WriteAllTextAsync(pemFile, _clientKey.ExportPkcs8PrivateKeyPem());
        _host = new PortalTestHost { ClientAssertionKey = new RsaSecurityKey(RSA.Create(_clientKey.ExportParameters(false))), WithSecondTenant = true };
        _host.Settings["Portal:Tenants:0:AgentSignIn:ClientSecretSecret"] = "";
        _host.Settings["Portal:Tenants:0:AgentSignIn:ClientAssertionKeySecret"] = "file:" + pemFile;
        // The second organisation's authority does not answer: its sign-in fails when it starts.
        _host.Settings["Portal:Tenants:1:AgentSignIn:Authority"] = "http://127.0.0.1:9/oauth2/default";
        await _host.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _clientKey.Dispose();
    }

    [Fact]
    public async Task SignIn_PrivateKeyJwtAndDiscoveryScopes_GroupsAskedBecauseTheOpListsIt()
    {
        var client = _host.NewClient();
        var challenge = await client.GetAsync($"/account/signin/{PortalTestHost.TenantId}");

        Assert.Equal("openid profile email groups", QueryHelpers.ParseQuery(challenge.Headers.Location!.Query)["scope"].ToString());
        var signedIn = await _host.SignInCallbackAsync(PortalTestHost.TenantId, "tier3.agent@demo.example", _host.NewClient());
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal("/", signedIn.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task SignIn_EmailAndGroupsOnlyAtUserInfo_TierAndLoginFromUserInfo()
    {
        var agent = await _host.SignInAsync("userinfo.agent@demo.example");

        var console = await agent.GetStringAsync("/console");

        Assert.Contains("Tier 3", console, StringComparison.Ordinal);

        // The login came from userinfo: the session and the sign-in record keep it masked (the header names the agent
        // from the IdP's Users API instead).
        var signIn = Assert.Single(await Security.SecurityTestKit.AuditAsync(_host), d => (string?)d["action"] == "agent.signin" && string.Equals((string?)d["outcome"], "succeeded", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(Portal.Audit.PiiMask.Email("userinfo.agent@demo.example"), (string?)signIn["agent"]?["maskedLogin"]);
        Assert.Contains(">UserInfo Agent<", console, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignOut_RpInitiatedLogoutWithHint_NextSignInGoesThroughTheIdpAgain()
    {
        var agent = await _host.SignInAsync("tier3.agent@demo.example");
        var token = PortalTestHost.FormToken(await agent.GetStringAsync("/console"));

        var signOut = await PortalTestHost.PostFormAsync(agent, "/account/signout", token);

        // A same-origin page takes the browser to the IdP by GET (a redirect of the form's POST would meet CSP form-action).
        Assert.Equal(HttpStatusCode.OK, signOut.StatusCode);
        Assert.Null(signOut.Headers.Location);
        var page = await signOut.Content.ReadAsStringAsync();
        var link = Regex.Match(page, "href=\"([^\"]+)\" data-field=\"signout-continue\"");
        Assert.True(link.Success, "the signing-out page links to the IdP's end-session endpoint");
        var logout = new Uri(WebUtility.HtmlDecode(link.Groups[1].Value));
        Assert.Contains($"<meta http-equiv=\"refresh\" content=\"0;url={link.Groups[1].Value}\"", page, StringComparison.Ordinal);
        Assert.StartsWith(_host.Emulator.OktaIssuer + "/v1/logout", logout.ToString(), StringComparison.Ordinal);
        var query = QueryHelpers.ParseQuery(logout.Query);
        Assert.False(string.IsNullOrEmpty(query["id_token_hint"]));
        Assert.Equal($"https://localhost/signout-callback-oidc/{PortalTestHost.TenantId}", query["post_logout_redirect_uri"].ToString());

        using var browserAtIdp = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        var back = await browserAtIdp.GetAsync(logout);
        Assert.Equal(HttpStatusCode.Redirect, back.StatusCode);
        Assert.Equal(1, _host.Emulator.State.AgentLogouts);
        var landed = await agent.GetAsync(back.Headers.Location!.PathAndQuery);
        Assert.Equal("/account/signin?signedout=1", landed.Headers.Location?.OriginalString);

        // Signed out here and at the IdP: the console is closed and "Sign in" goes to the IdP's sign-in again.
        Assert.Equal(HttpStatusCode.Redirect, (await agent.GetAsync("/console")).StatusCode);
        var again = await agent.GetAsync($"/account/signin/{PortalTestHost.TenantId}");
        Assert.StartsWith(_host.Emulator.OktaIssuer + "/v1/authorize", again.Headers.Location!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignIn_AuthorityUnreachableAtChallenge_SignInFailurePageNot500()
    {
        var client = _host.NewClient();

        var challenge = await client.GetAsync($"/account/signin/{PortalTestHost.SecondTenantId}");

        Assert.Equal(HttpStatusCode.Redirect, challenge.StatusCode);
        Assert.Equal("/account/signin?failed=2", challenge.Headers.Location?.OriginalString);
        var page = WebUtility.HtmlDecode(await client.GetStringAsync(challenge.Headers.Location!.OriginalString));
        Assert.Contains("Sign-in could not start", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignIn_OpAnswersAnErrorAtCallback_SignInFailurePage()
    {
        var client = _host.NewClient();
        var challenge = await client.GetAsync($"/account/signin/{PortalTestHost.TenantId}");
        var state = QueryHelpers.ParseQuery(challenge.Headers.Location!.Query)["state"].ToString();

        var callback = await client.GetAsync($"/signin-oidc/{PortalTestHost.TenantId}?error=access_denied&error_description=denied&state={Uri.EscapeDataString(state)}");

        Assert.Equal(HttpStatusCode.Redirect, callback.StatusCode);
        Assert.Equal("/account/signin?failed=1", callback.Headers.Location?.OriginalString);
    }

    [Theory]
    [InlineData(new[] { "openid", "profile", "email", "groups" }, new string[0], "openid profile email groups")]
    [InlineData(new[] { "openid", "profile", "email" }, new string[0], "openid profile email")]
    [InlineData(new[] { "openid", "profile", "email", "groups" }, new[] { "openid", "email" }, "openid email")]
    public async Task Scopes_GroupsOnlyWhereDiscoveryListsIt_ConfiguredListWins(string[] supported, string[] configured, string expected)
    {
        var discovery = new OpenIdConnectConfiguration();
        foreach (var scope in supported)
        {
            discovery.ScopesSupported.Add(scope);
        }

        var options = new OpenIdConnectOptions { ConfigurationManager = new StaticConfigurationManager<OpenIdConnectConfiguration>(discovery) };
        var settings = new AgentSignInSettings { Scopes = [.. configured] };

        Assert.Equal(expected, await AgentSignIn.ScopesAsync(options, settings, CancellationToken.None));
    }
}
