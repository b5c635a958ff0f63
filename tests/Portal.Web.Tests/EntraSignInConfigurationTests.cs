using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Microsoft.IdentityModel.Validators;
using Portal.IdpEmulator;

namespace Portal.Web.Tests;

/// <summary>
/// The Entra agent sign-in's configuration, and why it runs on the plain OpenIdConnect handler against the emulator:
/// Microsoft.Identity.Web installs <see cref="AadIssuerValidator"/>, which fetches the authority's metadata itself,
/// over HTTPS only, whatever <c>RequireHttpsMetadata</c> says. These tests drive that validator with the emulator's
/// real Entra tokens, as far as it goes.
/// </summary>
public sealed class EntraSignInConfigurationTests(StepUpTestHost host) : IClassFixture<StepUpTestHost>
{
    // One portal serves the class: its tests only read it.
    private readonly StepUpTestHost _host = host;

    [Fact]
    public void AgentSignIn_EntraTenant_CodeFlowWithPkceAgainstTheTenantIssuerWithoutGroupsScope()
    {
        var options = _host.Factory.Services.GetRequiredService<IOptionsMonitor<OpenIdConnectOptions>>().Get("oidc-" + StepUpTestHost.EntraTenant);

        Assert.Equal(_host.Emulator.EntraIssuer().ToString(), options.Authority);
        Assert.Equal(_host.Emulator.EntraIssuer().ToString(), options.TokenValidationParameters.ValidIssuer);
        Assert.Equal("code", options.ResponseType);
        Assert.True(options.UsePkce);
        Assert.DoesNotContain("groups", options.Scope);
        Assert.Contains("openid", options.Scope);
    }

    [Fact]
    public async Task AadIssuerValidator_PlainHttpAuthority_RefusesBecauseItsOwnMetadataFetchNeedsHttps()
    {
        var token = await EntraAgentTokenAsync();
        var authority = _host.Emulator.EntraIssuer().ToString();
        var validator = AadIssuerValidator.GetAadIssuerValidator(authority);

        var error = Assert.Throws<SecurityTokenInvalidIssuerException>(() => validator.Validate(token.Issuer, token, new TokenValidationParameters()));

        Assert.Contains("IDX40001", error.Message, StringComparison.Ordinal);
        Assert.Contains("IDX20108", error.InnerException?.ToString() ?? "", StringComparison.Ordinal);
    }

    [Fact]
    public async Task AadIssuerValidator_TenantIssuerConfigured_AcceptsEmulatorTokenAndRefusesAnotherTenant()
    {
        var token = await EntraAgentTokenAsync();
        var issuer = _host.Emulator.EntraIssuer().ToString();
        var validator = AadIssuerValidator.GetAadIssuerValidator(issuer);
        var parameters = new TokenValidationParameters { ValidIssuer = issuer };

        Assert.Equal(issuer, validator.Validate(token.Issuer, token, parameters));
        Assert.Equal(EntraDemo.TenantId, token.GetClaim("tid").Value);

        var otherIssuer = _host.Emulator.EntraIssuer("0f0e0d0c-0b0a-4909-8807-060504030201").ToString();
        var forged = new JsonWebToken(new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = otherIssuer,
            Claims = new Dictionary<string, object> { ["tid"] = "0f0e0d0c-0b0a-4909-8807-060504030201" },
        }));
        Assert.ThrowsAny<SecurityTokenInvalidIssuerException>(() => validator.Validate(forged.Issuer, forged, parameters));
    }

    /// <summary>An ID token from the emulator's Entra authority, through the real code flow with the portal's agent client.</summary>
    private async Task<JsonWebToken> EntraAgentTokenAsync()
    {
        var client = _host.NewClient();
        var challenge = await client.GetAsync($"/account/signin/{StepUpTestHost.EntraTenant}");
        var authorize = challenge.Headers.Location!;
        var query = QueryHelpers.ParseQuery(authorize.Query).ToDictionary(p => p.Key, p => p.Value.ToString());

        // Same client and redirect as the portal, but our own PKCE pair, so that this test can redeem the code.
        var verifier = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        query["code_challenge"] = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        query["agent"] = _host.Emulator.State.EntraAgents.First(a => a.Amr.Contains("mfa")).ObjectId;
        using var idp = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        var picked = await idp.PostAsync(new Uri(authorize.GetLeftPart(UriPartial.Path)), new FormUrlEncodedContent(query));
        Assert.Equal(HttpStatusCode.Redirect, picked.StatusCode);
        var code = QueryHelpers.ParseQuery(picked.Headers.Location!.Query)["code"].ToString();
        var response = await idp.PostAsync(new Uri(_host.Emulator.BaseUrl, EntraDemo.TenantId + "/oauth2/v2.0/token"), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = query["redirect_uri"],
            ["code_verifier"] = verifier,
            ["client_id"] = query["client_id"],
            ["client_secret"] = _host.EntraAgentSecret,
        }));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        return new JsonWebToken(json["id_token"]!.GetValue<string>());
    }
}
