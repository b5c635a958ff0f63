using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Portal.IdpEmulator.Tests;

public sealed partial class OidcTests
{
    private const string Redirect = "http://127.0.0.1:5099/signin-oidc";

    [Fact]
    public async Task Discovery_IssuerAndEndpoints_UnderOauth2Default()
    {
        await using var host = await TestEmulator.StartAsync();
        using var browser = TestEmulator.Browser(host);

        using var response = await browser.GetAsync("oauth2/default/.well-known/openid-configuration");

        var doc = await TestEmulator.ReadJson(response);
        Assert.Equal(host.OktaIssuer.ToString(), doc["issuer"]!.GetValue<string>());
        Assert.Equal(new Uri(host.BaseUrl, "oauth2/default").ToString(), host.OktaIssuer.ToString());
        Assert.False(host.OktaIssuer.ToString().EndsWith('/'));
        Assert.Equal(host.OktaIssuer + "/v1/authorize", doc["authorization_endpoint"]!.GetValue<string>());
        Assert.Equal(host.OktaIssuer + "/v1/token", doc["token_endpoint"]!.GetValue<string>());
        Assert.Equal(host.OktaIssuer + "/v1/keys", doc["jwks_uri"]!.GetValue<string>());
        Assert.Equal(host.OktaIssuer + "/v1/logout", doc["end_session_endpoint"]!.GetValue<string>());
        Assert.Equal(["S256"], doc["code_challenge_methods_supported"]!.AsArray().Select(v => v!.GetValue<string>()).ToArray());
    }

    [Fact]
    public async Task CodeFlow_PickerAndPkce_IdTokenValidatesWithExpectedClaims()
    {
        await using var host = await TestEmulator.StartAsync();
        using var browser = TestEmulator.Browser(host);
        var verifier = NewVerifier();

        var picker = await GetPicker(browser, Challenge(verifier), "tier2.agent@demo.example");
        Assert.Contains("Helpdesk Tier 2", picker, StringComparison.Ordinal);
        var agent = host.State.Agents.Single(a => a.Email == "tier2.agent@demo.example");
        var code = await PickAgent(browser, picker, agent.Subject);

        using var token = await Redeem(browser, code, verifier, basic: true);

        Assert.Equal(HttpStatusCode.OK, token.StatusCode);
        Assert.Equal("no-store", token.Headers.CacheControl?.ToString());
        var idToken = (await TestEmulator.ReadJson(token))["id_token"]!.GetValue<string>();
        using var keysResponse = await browser.GetAsync("oauth2/default/v1/keys");
        var keys = new JsonWebKeySet(await keysResponse.Content.ReadAsStringAsync());
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(idToken, new TokenValidationParameters
        {
            ValidIssuer = host.OktaIssuer.ToString(),
            ValidAudience = TestEmulator.ClientId,
            IssuerSigningKeys = keys.GetSigningKeys(),
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
        });
        Assert.True(result.IsValid, result.Exception?.Message);
        var jwt = (JsonWebToken)result.SecurityToken;
        Assert.Equal(agent.Subject, jwt.Subject);
        Assert.Equal("nonce-123", jwt.GetClaim("nonce").Value);
        Assert.Equal("tier2.agent@demo.example", jwt.GetClaim("email").Value);
        Assert.Equal("tier2.agent@demo.example", jwt.GetClaim("preferred_username").Value);
        Assert.Equal(["Helpdesk Tier 2"], jwt.Claims.Where(c => c.Type == "groups").Select(c => c.Value).ToArray());
        Assert.Equal(["pwd", "mfa"], jwt.Claims.Where(c => c.Type == "amr").Select(c => c.Value).ToArray());
        var payload = System.Text.Json.Nodes.JsonNode.Parse(Base64UrlEncoder.Decode(jwt.EncodedPayload))!;
        Assert.IsType<System.Text.Json.Nodes.JsonArray>(payload["groups"]);
        Assert.IsType<System.Text.Json.Nodes.JsonArray>(payload["amr"]);
        Assert.Equal(TestEmulator.ClientId, payload["aud"]!.GetValue<string>());
        Assert.Equal("Tier Two Agent", payload["name"]!.GetValue<string>());
        Assert.Equal("RS256", jwt.Alg);
        Assert.True(jwt.TryGetPayloadValue<long>("auth_time", out var authTime));
        Assert.True(jwt.TryGetPayloadValue<long>("exp", out var exp));
        Assert.True(jwt.TryGetPayloadValue<long>("iat", out var iat));
        Assert.Equal(3600, exp - iat);

        // The agent authenticated when they picked (the code was issued); the token is issued at redemption,
        // within the code's 60 s: auth_time never after iat, never more than a minute before it.
        Assert.InRange(authTime, iat - 60, iat);
    }

    [Fact]
    public async Task CodeFlow_NoMfaAgent_AmrHasOnlyPwd()
    {
        await using var host = await TestEmulator.StartAsync();
        using var browser = TestEmulator.Browser(host);
        var verifier = NewVerifier();
        var agent = host.State.Agents.Single(a => a.Email == "nomfa.agent@demo.example");
        var code = await PickAgent(browser, await GetPicker(browser, Challenge(verifier)), agent.Subject);

        using var token = await Redeem(browser, code, verifier, basic: false);

        var jwt = new JsonWebToken((await TestEmulator.ReadJson(token))["id_token"]!.GetValue<string>());
        Assert.Equal(["pwd"], jwt.Claims.Where(c => c.Type == "amr").Select(c => c.Value).ToArray());
    }

    [Fact]
    public async Task Token_WrongCodeVerifier_InvalidGrant()
    {
        await using var host = await TestEmulator.StartAsync();
        using var browser = TestEmulator.Browser(host);
        var code = await PickAgent(browser, await GetPicker(browser, Challenge(NewVerifier())), host.State.Agents[0].Subject);

        using var token = await Redeem(browser, code, NewVerifier(), basic: true);

        Assert.Equal(HttpStatusCode.BadRequest, token.StatusCode);
        Assert.Equal("invalid_grant", (await TestEmulator.ReadJson(token))["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task Token_CodeReused_InvalidGrant()
    {
        await using var host = await TestEmulator.StartAsync();
        using var browser = TestEmulator.Browser(host);
        var verifier = NewVerifier();
        var code = await PickAgent(browser, await GetPicker(browser, Challenge(verifier)), host.State.Agents[0].Subject);

        using var first = await Redeem(browser, code, verifier, basic: true);
        using var second = await Redeem(browser, code, verifier, basic: true);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, second.StatusCode);
        Assert.Equal("invalid_grant", (await TestEmulator.ReadJson(second))["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task Token_WrongClientSecret_InvalidClient()
    {
        await using var host = await TestEmulator.StartAsync();
        using var browser = TestEmulator.Browser(host);
        var verifier = NewVerifier();
        var code = await PickAgent(browser, await GetPicker(browser, Challenge(verifier)), host.State.Agents[0].Subject);

        using var token = await browser.PostAsync("oauth2/default/v1/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = Redirect,
            ["code_verifier"] = verifier,
            ["client_id"] = TestEmulator.ClientId,
            ["client_secret"] = "not-the-secret",
        }));

        Assert.Equal(HttpStatusCode.Unauthorized, token.StatusCode);
        Assert.Equal("invalid_client", (await TestEmulator.ReadJson(token))["error"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("https://evil.example/cb")]
    [InlineData("http://127.0.0.1.evil.example/cb")]
    [InlineData("javascript:alert(1)")]
    public async Task Authorize_NonLoopbackRedirect_ErrorPageNoRedirect(string redirect)
    {
        await using var host = await TestEmulator.StartAsync();
        using var browser = TestEmulator.Browser(host);

        using var response = await browser.GetAsync("oauth2/default/v1/authorize?" + Query(Challenge(NewVerifier()), redirect: redirect));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
    }

    [Fact]
    public async Task Authorize_WithoutPkce_RedirectsWithInvalidRequest()
    {
        await using var host = await TestEmulator.StartAsync();
        using var browser = TestEmulator.Browser(host);

        using var response = await browser.GetAsync("oauth2/default/v1/authorize?" + Query(challenge: null));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var query = QueryHelpers.ParseQuery(response.Headers.Location!.Query);
        Assert.Equal("invalid_request", query["error"].ToString());
        Assert.Equal("state-xyz", query["state"].ToString());
        Assert.False(query.ContainsKey("code"));
    }

    [Fact]
    public async Task Authorize_FormPost_ReturnsAutoFormToRedirectUri()
    {
        await using var host = await TestEmulator.StartAsync();
        using var browser = TestEmulator.Browser(host);
        var picker = await GetPicker(browser, Challenge(NewVerifier()), mode: "form_post");

        var fields = FormFields(picker, host.State.Agents[0].Subject);
        using var response = await browser.PostAsync("oauth2/default/v1/authorize", new FormUrlEncodedContent(fields));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = await response.Content.ReadAsStringAsync();
        Assert.Contains($"action=\"{Redirect}\"", page, StringComparison.Ordinal);
        Assert.Matches("name=\"code\" value=\"[A-Za-z0-9_-]{20,}\"", page);
        Assert.Contains("name=\"state\" value=\"state-xyz\"", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Authorize_HostileState_IsEncodedInPicker()
    {
        await using var host = await TestEmulator.StartAsync();
        using var browser = TestEmulator.Browser(host);

        var page = await GetPicker(browser, Challenge(NewVerifier()), state: "\"><script>alert(1)</script>");

        Assert.DoesNotContain("<script>", page, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logout_IdTokenHintRequired_LoopbackTargetFollowedOnlyWithValidHint()
    {
        await using var host = await TestEmulator.StartAsync();
        using var browser = TestEmulator.Browser(host);
        var verifier = NewVerifier();
        var picker = await GetPicker(browser, Challenge(verifier));
        var code = await PickAgent(browser, picker, host.State.Agents.Single(a => a.Email == "tier2.agent@demo.example").Subject);
        var idToken = (await TestEmulator.ReadJson(await Redeem(browser, code, verifier, basic: true)))["id_token"]!.GetValue<string>();
        var target = Uri.EscapeDataString("http://localhost:5099/signout-callback-oidc");

        using var noHint = await browser.GetAsync($"oauth2/default/v1/logout?post_logout_redirect_uri={target}&state=s1");
        using var forged = await browser.GetAsync($"oauth2/default/v1/logout?id_token_hint={idToken[..^4]}AAAA&post_logout_redirect_uri={target}");
        using var loopback = await browser.GetAsync($"oauth2/default/v1/logout?id_token_hint={idToken}&post_logout_redirect_uri={target}&state=s1");
        using var foreign = await browser.GetAsync($"oauth2/default/v1/logout?id_token_hint={idToken}&post_logout_redirect_uri=" + Uri.EscapeDataString("https://evil.example/"));

        Assert.Equal(HttpStatusCode.BadRequest, noHint.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, loopback.StatusCode);
        Assert.Equal("http://localhost:5099/signout-callback-oidc?state=s1", loopback.Headers.Location!.ToString());
        Assert.Equal(HttpStatusCode.OK, foreign.StatusCode);
        Assert.Equal(2, host.State.AgentLogouts);
    }

    [Fact]
    public async Task UserInfo_ThinIdTokenAgent_EmailAndGroupsOnlyAtUserInfo()
    {
        await using var host = await TestEmulator.StartAsync();
        using var browser = TestEmulator.Browser(host);
        var verifier = NewVerifier();
        var agent = host.State.Agents.Single(a => a.ClaimsInUserInfoOnly);
        var code = await PickAgent(browser, await GetPicker(browser, Challenge(verifier)), agent.Subject);
        var tokens = await TestEmulator.ReadJson(await Redeem(browser, code, verifier, basic: true));
        var idToken = new JsonWebToken(tokens["id_token"]!.GetValue<string>());

        using var request = new HttpRequestMessage(HttpMethod.Get, "oauth2/default/v1/userinfo");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens["access_token"]!.GetValue<string>());
        using var userInfo = await browser.SendAsync(request);
        using var anonymous = await browser.GetAsync("oauth2/default/v1/userinfo");

        Assert.False(idToken.TryGetClaim("email", out _));
        Assert.False(idToken.TryGetClaim("groups", out _));
        var claims = await TestEmulator.ReadJson(userInfo);
        Assert.Equal(agent.Subject, claims["sub"]!.GetValue<string>());
        Assert.Equal(agent.Email, claims["email"]!.GetValue<string>());
        Assert.Equal(agent.Groups, claims["groups"]!.AsArray().Select(g => g!.GetValue<string>()).ToArray());
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task Token_PrivateKeyJwt_AcceptedOnceRefusedForWrongAudienceWrongKeyOrReplay()
    {
        using var clientKey = RSA.Create(2048);
        using var otherKey = RSA.Create(2048);
        var options = new EmulatorOptions { OktaApiToken = TestEmulator.Token };
        options.Clients.Add(new EmulatorClient(TestEmulator.ClientId, TestEmulator.ClientSecret) { AssertionKey = new RsaSecurityKey(clientKey.ExportParameters(false)) });
        await using var host = await EmulatorHost.StartAsync(options);
        using var browser = TestEmulator.Browser(host);
        var tokenEndpoint = host.OktaIssuer + "/v1/token";
        var verifier = NewVerifier();
        var subject = host.State.Agents.Single(a => a.Email == "tier2.agent@demo.example").Subject;
        var code = await PickAgent(browser, await GetPicker(browser, Challenge(verifier)), subject);

        using var wrongAudience = await RedeemWithAssertion(browser, code, verifier, Assertion(clientKey, host.OktaIssuer.ToString()));
        using var wrongKey = await RedeemWithAssertion(browser, code, verifier, Assertion(otherKey, tokenEndpoint));
        var good = Assertion(clientKey, tokenEndpoint);
        using var accepted = await RedeemWithAssertion(browser, code, verifier, good);
        var verifier2 = NewVerifier();
        var code2 = await PickAgent(browser, await GetPicker(browser, Challenge(verifier2)), subject);
        using var replayed = await RedeemWithAssertion(browser, code2, verifier2, good);

        Assert.Equal(HttpStatusCode.Unauthorized, wrongAudience.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongKey.StatusCode);
        Assert.Equal("invalid_client", (await TestEmulator.ReadJson(wrongKey))["error"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, replayed.StatusCode);
        Assert.Contains("replay", (await TestEmulator.ReadJson(replayed))["error_description"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    private static string Assertion(RSA key, string audience)
    {
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = TestEmulator.ClientId,
            Audience = audience,
            Claims = new Dictionary<string, object> { ["sub"] = TestEmulator.ClientId, ["jti"] = Guid.NewGuid().ToString("N") },
            IssuedAt = now,
            Expires = now.AddMinutes(2),
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(key), SecurityAlgorithms.RsaSha256),
        });
    }

    private static Task<HttpResponseMessage> RedeemWithAssertion(HttpClient browser, string code, string verifier, string assertion) =>
        browser.PostAsync("oauth2/default/v1/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = Redirect,
            ["code_verifier"] = verifier,
            ["client_id"] = TestEmulator.ClientId,
            ["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ["client_assertion"] = assertion,
        }));

    private static string NewVerifier() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    private static string Challenge(string verifier) => Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));

    private static string Query(string? challenge, string? hint = null, string redirect = Redirect, string? mode = null, string state = "state-xyz")
    {
        var parameters = new Dictionary<string, string?>
        {
            ["client_id"] = TestEmulator.ClientId,
            ["redirect_uri"] = redirect,
            ["response_type"] = "code",
            ["scope"] = "openid profile email groups",
            ["state"] = state,
            ["nonce"] = "nonce-123",
            ["code_challenge"] = challenge,
            ["code_challenge_method"] = challenge is null ? null : "S256",
            ["login_hint"] = hint,
            ["response_mode"] = mode,
        };
        return string.Join("&", parameters.Where(p => p.Value is not null).Select(p => $"{p.Key}={Uri.EscapeDataString(p.Value!)}"));
    }

    private static async Task<string> GetPicker(HttpClient browser, string challenge, string? hint = null, string? mode = null, string state = "state-xyz")
    {
        using var response = await browser.GetAsync("oauth2/default/v1/authorize?" + Query(challenge, hint, mode: mode, state: state));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The hidden fields of the picker form for one agent, as a browser would submit them.</summary>
    private static Dictionary<string, string> FormFields(string picker, string subject)
    {
        var form = FormRegex().Matches(picker).Select(m => m.Value).Single(f => f.Contains($"value=\"{subject}\"", StringComparison.Ordinal));
        return HiddenRegex().Matches(form).ToDictionary(m => WebUtility.HtmlDecode(m.Groups[1].Value), m => WebUtility.HtmlDecode(m.Groups[2].Value));
    }

    private static async Task<string> PickAgent(HttpClient browser, string picker, string subject)
    {
        using var response = await browser.PostAsync("oauth2/default/v1/authorize", new FormUrlEncodedContent(FormFields(picker, subject)));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.StartsWith(Redirect + "?", location.ToString(), StringComparison.Ordinal);
        var query = QueryHelpers.ParseQuery(location.Query);
        Assert.Equal("state-xyz", query["state"].ToString());
        return query["code"].ToString();
    }

    private static async Task<HttpResponseMessage> Redeem(HttpClient browser, string code, string verifier, bool basic)
    {
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = Redirect,
            ["code_verifier"] = verifier,
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, "oauth2/default/v1/token");
        if (basic)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{TestEmulator.ClientId}:{TestEmulator.ClientSecret}")));
        }
        else
        {
            form["client_id"] = TestEmulator.ClientId;
            form["client_secret"] = TestEmulator.ClientSecret;
        }

        request.Content = new FormUrlEncodedContent(form);
        return await browser.SendAsync(request);
    }

    [GeneratedRegex("<form[^>]*>.*?</form>", RegexOptions.Singleline)]
    private static partial Regex FormRegex();

    [GeneratedRegex("<input type=\"hidden\" name=\"([^\"]*)\" value=\"([^\"]*)\">")]
    private static partial Regex HiddenRegex();
}
