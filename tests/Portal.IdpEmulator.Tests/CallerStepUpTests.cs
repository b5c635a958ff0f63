using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Portal.IdpEmulator.Tests;

/// <summary>The caller sign-in authorities the portal's step-up uses, and the Entra-like agent sign-in.</summary>
public sealed partial class CallerStepUpTests
{
    private const string Redirect = "http://127.0.0.1:5099/stepup/callback";
    private const string StepUpClient = "stepup-test";
    private const string StepUpSecret = "stepup-secret-for-tests";
    private const string EntraAgentClient = "entra-agent-test";
    private const string EntraAgentSecret = "entra-agent-secret";
    private const string Alice = "alice.caller@demo.example";
    private const string Grace = "grace.caller@entra.example";

    [Fact]
    public async Task OktaCallerSignIn_RightTotp_TokenHasCallerSubjectMfaAndFreshAuthTime()
    {
        await using var host = await StartAsync();
        using var browser = TestEmulator.Browser(host);
        var verifier = NewVerifier();

        var code = await SignInAsync(browser, "oauth2/callers/v1/authorize", Authorize(verifier, "n-1"), Alice, host.State.CurrentTotp(Alice));
        var token = await RedeemAsync(host, browser, "oauth2/callers/v1/token", code, verifier, host.CallerIssuer.ToString(), "oauth2/callers/v1/keys");

        Assert.Equal(TestEmulator.IdOf(host, Alice), token.Subject);
        Assert.Equal(["pwd", "mfa", "otp"], token.Claims.Where(c => c.Type == "amr").Select(c => c.Value));
        Assert.Equal("n-1", token.GetClaim("nonce").Value);
        var authTime = long.Parse(token.GetClaim("auth_time").Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - authTime, -5, 30);
        var recorded = Assert.Single(host.State.CallerAuthorizeRequests);
        Assert.Equal("login", recorded.Parameters["prompt"]);
        Assert.Equal("0", recorded.Parameters["max_age"]);
    }

    [Fact]
    public async Task OktaCallerSignIn_NoCode_PasswordOnlyAmr()
    {
        await using var host = await StartAsync();
        using var browser = TestEmulator.Browser(host);
        var verifier = NewVerifier();

        var code = await SignInAsync(browser, "oauth2/callers/v1/authorize", Authorize(verifier, "n"), Alice, "");
        var token = await RedeemAsync(host, browser, "oauth2/callers/v1/token", code, verifier, host.CallerIssuer.ToString(), "oauth2/callers/v1/keys");

        Assert.Equal(["pwd"], token.Claims.Where(c => c.Type == "amr").Select(c => c.Value));
    }

    [Fact]
    public async Task OktaCallerSignIn_WrongCode_FormShownAgainAndNoCode()
    {
        await using var host = await StartAsync();
        using var browser = TestEmulator.Browser(host);
        var right = host.State.CurrentTotp(Alice);
        var wrong = right == "000000" ? "111111" : "000000";

        var page = await (await browser.GetAsync("oauth2/callers/v1/authorize" + Authorize(NewVerifier(), "n"))).Content.ReadAsStringAsync();
        using var response = await browser.PostAsync("oauth2/callers/v1/authorize", new FormUrlEncodedContent(FormOf(page, Alice, wrong)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("not right", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OktaCallerSignIn_Overrides_NextTokenCarriesThem()
    {
        await using var host = await StartAsync();
        using var browser = TestEmulator.Browser(host);
        var verifier = NewVerifier();
        var old = DateTimeOffset.UtcNow.AddHours(-2);
        host.State.NextCallerSignIn(new CallerTokenOverrides { Subject = "00uSomeoneElse", AuthTime = old, OmitAmr = true });

        var code = await SignInAsync(browser, "oauth2/callers/v1/authorize", Authorize(verifier, "n"), Alice, host.State.CurrentTotp(Alice));
        var token = await RedeemAsync(host, browser, "oauth2/callers/v1/token", code, verifier, host.CallerIssuer.ToString(), "oauth2/callers/v1/keys");

        Assert.Equal("00uSomeoneElse", token.Subject);
        Assert.Equal(old.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), token.GetClaim("auth_time").Value);
        Assert.DoesNotContain(token.Claims, c => c.Type == "amr");
    }

    [Fact]
    public async Task CallerSignIn_UnknownClient_ErrorPageNotRedirect()
    {
        await using var host = await StartAsync();
        using var browser = TestEmulator.Browser(host);

        using var response = await browser.GetAsync("oauth2/callers/v1/authorize" + Authorize(NewVerifier(), "n").Replace(StepUpClient, "nobody", StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
    }

    [Fact]
    public async Task EntraCallerSignIn_RightCodeWithAcrsRequest_TokenHasOidTidAndAcrs()
    {
        await using var host = await StartAsync();
        using var browser = TestEmulator.Browser(host);
        var verifier = NewVerifier();
        var claims = "{\"id_token\":{\"acrs\":{\"essential\":true,\"value\":\"c1\"}}}";
        var root = EntraDemo.TenantId + "/";

        using var discovery = await browser.GetAsync(root + "v2.0/.well-known/openid-configuration");
        var doc = await TestEmulator.ReadJson(discovery);
        Assert.Equal(host.EntraIssuer().ToString(), doc["issuer"]!.GetValue<string>());
        Assert.Equal(new Uri(host.BaseUrl, root + "oauth2/v2.0/token").ToString(), doc["token_endpoint"]!.GetValue<string>());

        var code = await SignInAsync(browser, root + "oauth2/v2.0/authorize", Authorize(verifier, "n-2") + "&claims=" + Uri.EscapeDataString(claims), Grace, host.State.CurrentEntraTotp(Grace));
        var token = await RedeemAsync(host, browser, root + "oauth2/v2.0/token", code, verifier, host.EntraIssuer().ToString(), root + "discovery/v2.0/keys");

        var grace = host.State.FindEntraUser(Grace)!;
        Assert.Equal(grace.Id, token.GetClaim("oid").Value);
        Assert.Equal(EntraDemo.TenantId, token.GetClaim("tid").Value);
        Assert.NotEqual(grace.Id, token.Subject);
        Assert.Equal("c1", token.GetClaim("acrs").Value);
        Assert.Contains(token.Claims, c => c.Type == "amr" && c.Value == "mfa");
    }

    [Fact]
    public async Task EntraCallerSignIn_NoCode_NoAcrsAndNoMfa()
    {
        await using var host = await StartAsync();
        using var browser = TestEmulator.Browser(host);
        var verifier = NewVerifier();
        var root = EntraDemo.TenantId + "/";
        var claims = "{\"id_token\":{\"acrs\":{\"essential\":true,\"value\":\"c1\"}}}";

        var code = await SignInAsync(browser, root + "oauth2/v2.0/authorize", Authorize(verifier, "n") + "&claims=" + Uri.EscapeDataString(claims), Grace, "");
        var token = await RedeemAsync(host, browser, root + "oauth2/v2.0/token", code, verifier, host.EntraIssuer().ToString(), root + "discovery/v2.0/keys");

        Assert.DoesNotContain(token.Claims, c => c.Type == "acrs");
        Assert.DoesNotContain(token.Claims, c => c.Type == "amr" && c.Value == "mfa");
    }

    [Fact]
    public async Task EntraAgentSignIn_Picker_TokenHasGroupIdsRolesAndAmr()
    {
        await using var host = await StartAsync();
        using var browser = TestEmulator.Browser(host);
        var verifier = NewVerifier();
        var root = EntraDemo.TenantId + "/";
        var query = Authorize(verifier, "n").Replace(StepUpClient, EntraAgentClient, StringComparison.Ordinal);

        var picker = await (await browser.GetAsync(root + "oauth2/v2.0/authorize" + query)).Content.ReadAsStringAsync();
        Assert.Contains("Entra App-Role Agent", picker, StringComparison.Ordinal);
        var agent = host.State.EntraAgents.Single(a => a.Roles.Contains(EntraDemo.Tier3Role));
        var fields = HiddenFields(picker).Where(f => f.Key != "agent").Append(new("agent", agent.ObjectId));
        using var picked = await browser.PostAsync(root + "oauth2/v2.0/authorize", new FormUrlEncodedContent(fields));
        Assert.Equal(HttpStatusCode.Redirect, picked.StatusCode);
        var code = QueryHelpers.ParseQuery(picked.Headers.Location!.Query)["code"].ToString();

        var token = await RedeemAsync(host, browser, root + "oauth2/v2.0/token", code, verifier, host.EntraIssuer().ToString(), root + "discovery/v2.0/keys", EntraAgentClient, EntraAgentSecret);

        Assert.Equal(agent.ObjectId, token.GetClaim("oid").Value);
        Assert.Equal(EntraDemo.Tier3Role, token.GetClaim("roles").Value);
        Assert.Contains(token.Claims, c => c.Type == "amr" && c.Value == "mfa");
        var groupAgent = host.State.EntraAgents.Single(a => a.GroupIds.Contains(EntraDemo.Tier3GroupId) && a.Amr.Contains("mfa"));
        Assert.True(Guid.TryParse(groupAgent.GroupIds[0], out _));
    }

    [Fact]
    public async Task EntraTokenEndpoint_ClientCredentialsStillServed()
    {
        var options = new EmulatorOptions { OktaApiToken = TestEmulator.Token };
        options.GraphClients.Add(new EmulatorClient("graph-app", "graph-secret"));
        await using var host = await EmulatorHost.StartAsync(options);
        using var browser = TestEmulator.Browser(host);

        using var response = await browser.PostAsync(EntraDemo.TenantId + "/oauth2/v2.0/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = "graph-app",
            ["client_secret"] = "graph-secret",
            ["scope"] = "https://graph.microsoft.com/.default",
        }));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task PhonePage_EntraUser_ShowsCurrentAuthenticatorCode()
    {
        await using var host = await StartAsync();
        using var browser = TestEmulator.Browser(host);

        var page = await (await browser.GetAsync("phone/" + Uri.EscapeDataString(Grace))).Content.ReadAsStringAsync();
        var index = await (await browser.GetAsync("phone")).Content.ReadAsStringAsync();

        Assert.Contains(host.State.CurrentEntraTotp(Grace), page, StringComparison.Ordinal);
        Assert.Contains(Grace, index, StringComparison.Ordinal);
    }

    private static Task<EmulatorHost> StartAsync()
    {
        var options = new EmulatorOptions { OktaApiToken = TestEmulator.Token };
        options.StepUpClients.Add(new EmulatorClient(StepUpClient, StepUpSecret));
        options.EntraAgentClients.Add(new EmulatorClient(EntraAgentClient, EntraAgentSecret));
        return EmulatorHost.StartAsync(options);
    }

    private static string Authorize(string verifier, string nonce) =>
        QueryHelpers.AddQueryString("", new Dictionary<string, string?>
        {
            ["client_id"] = StepUpClient,
            ["redirect_uri"] = Redirect,
            ["response_type"] = "code",
            ["scope"] = "openid",
            ["state"] = "s-1",
            ["nonce"] = nonce,
            ["prompt"] = "login",
            ["max_age"] = "0",
            ["code_challenge"] = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))),
            ["code_challenge_method"] = "S256",
        });

    private static async Task<string> SignInAsync(HttpClient browser, string path, string query, string username, string otp)
    {
        using var form = await browser.GetAsync(path + query);
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);
        var page = await form.Content.ReadAsStringAsync();
        Assert.Contains("name=\"otp\"", page, StringComparison.Ordinal);
        using var submitted = await browser.PostAsync(path, new FormUrlEncodedContent(FormOf(page, username, otp)));
        Assert.Equal(HttpStatusCode.Redirect, submitted.StatusCode);
        var location = submitted.Headers.Location!;
        Assert.StartsWith(Redirect, location.ToString(), StringComparison.Ordinal);
        var parameters = QueryHelpers.ParseQuery(location.Query);
        Assert.Equal("s-1", parameters["state"].ToString());
        return parameters["code"].ToString();
    }

    private static IEnumerable<KeyValuePair<string, string>> FormOf(string page, string username, string otp) =>
        HiddenFields(page).Concat([new("username", username), new("password", "any-password"), new("otp", otp)]);

    private static async Task<JsonWebToken> RedeemAsync(
        EmulatorHost host, HttpClient browser, string tokenPath, string code, string verifier, string issuer, string keysPath, string clientId = StepUpClient, string secret = StepUpSecret)
    {
        using var response = await browser.PostAsync(tokenPath, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = Redirect,
            ["code_verifier"] = verifier,
            ["client_id"] = clientId,
            ["client_secret"] = secret,
        }));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var idToken = (await TestEmulator.ReadJson(response))["id_token"]!.GetValue<string>();
        using var keys = await browser.GetAsync(keysPath);
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(idToken, new TokenValidationParameters
        {
            ValidIssuer = issuer,
            ValidAudience = clientId,
            IssuerSigningKeys = new JsonWebKeySet(await keys.Content.ReadAsStringAsync()).GetSigningKeys(),
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
        });
        Assert.True(result.IsValid, result.Exception?.Message);
        _ = host;
        return (JsonWebToken)result.SecurityToken;
    }

    private static List<KeyValuePair<string, string>> HiddenFields(string page) =>
        [.. HiddenPattern().Matches(page).Select(m => new KeyValuePair<string, string>(WebUtility.HtmlDecode(m.Groups[1].Value), WebUtility.HtmlDecode(m.Groups[2].Value)))
            .DistinctBy(p => p.Key)];

    private static string NewVerifier() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    [GeneratedRegex("<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]*)\">")]
    private static partial Regex HiddenPattern();
}
