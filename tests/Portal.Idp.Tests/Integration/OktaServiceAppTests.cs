using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Portal.Idp.Okta;
using Portal.IdpEmulator;

namespace Portal.Idp.Tests.Integration;

/// <summary>
/// The adapter as an Okta OAuth 2.0 API service app against the emulator's org authorization server over real
/// HTTP: <c>private_key_jwt</c> client assertions, DPoP-bound tokens with the nonce round trip, scopes per operation.
/// </summary>
public sealed class OktaServiceAppTests : IAsyncLifetime
{
    private const string DpopApp = "0oa-service-dpop";
    private const string BearerApp = "0oa-service-bearer";
    private const string ReadOnlyApp = "0oa-service-readonly";

    private readonly RSA _key = RSA.Create(2048);
    private readonly RSA _otherKey = RSA.Create(2048);
    private readonly List<string> _manage = ["okta.users.read", "okta.users.manage"];
    private EmulatorHost? _emulator;
    private ServiceProvider? _services;

    private EmulatorHost Emulator => _emulator!;

    public async Task InitializeAsync()
    {
        var options = new EmulatorOptions { OktaApiToken = "unused-ssws-token" };
        var publicKey = RSA.Create();
        publicKey.ImportParameters(_key.ExportParameters(false));
        options.OktaServiceApps.Add(new EmulatorServiceApp(DpopApp, publicKey, _manage) { KeyId = "key-1" });
        options.OktaServiceApps.Add(new EmulatorServiceApp(BearerApp, publicKey, _manage) { RequireDpop = false });
        options.OktaServiceApps.Add(new EmulatorServiceApp(ReadOnlyApp, publicKey, ["okta.users.read"]));
        _emulator = await EmulatorHost.StartAsync(options);
        _services = new ServiceCollection().AddLogging().AddPortalIdp().BuildServiceProvider();
    }

    public async Task DisposeAsync()
    {
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }

        if (_emulator is not null)
        {
            await _emulator.DisposeAsync();
        }

        _key.Dispose();
        _otherKey.Dispose();
    }

    [Fact]
    public async Task DpopApp_FindsAndResetsACaller_AfterOktasNonceRoundTrip()
    {
        var caller = NewCaller();
        var directory = DirectoryFor(new OktaServiceApp(DpopApp, _manage, "key-1", UseDpop: true));

        var found = await directory.FindCallerAsync(caller.Login);
        var reset = await directory.ResetPasswordAsync(caller.Id, PasswordResetKind.OneTimeLink);
        var again = await directory.GetCallerAsync(caller.Id);

        Assert.True(found.IsSuccess, found.Error?.AgentMessage);
        Assert.Equal(caller.Id, found.Value.Id);
        Assert.True(reset.IsSuccess, reset.Error?.AgentMessage);
        Assert.True(again.IsSuccess, again.Error?.AgentMessage);
        Assert.Equal(1, caller.PasswordResets);
    }

    [Fact]
    public async Task BearerApp_WithoutDpop_Works()
    {
        var caller = NewCaller();
        var directory = DirectoryFor(new OktaServiceApp(BearerApp, _manage, UseDpop: false));

        var revoked = await directory.RevokeSessionsAsync(caller.Id);

        Assert.True(revoked.IsSuccess, revoked.Error?.AgentMessage);
    }

    [Fact]
    public async Task AssertionSignedWithAnotherKey_RefusedAsInvalidClient_NothingDone()
    {
        var caller = NewCaller();
        var directory = DirectoryFor(new OktaServiceApp(DpopApp, _manage, "key-1", UseDpop: true), _otherKey);

        var reset = await directory.ResetPasswordAsync(caller.Id, PasswordResetKind.OneTimeLink);

        Assert.False(reset.IsSuccess);
        Assert.Equal(IdpErrorKind.Unauthorized, reset.Error.Kind);
        Assert.Equal("invalid_client", reset.Error.Code);
        Assert.Contains(DpopApp, reset.Error.AgentMessage, StringComparison.Ordinal);
        Assert.Equal(0, caller.PasswordResets);
    }

    [Fact]
    public async Task OperationOutsideTheGrantedScopes_RefusedNamingTheMissingScope()
    {
        var caller = NewCaller();
        var directory = DirectoryFor(new OktaServiceApp(ReadOnlyApp, ["okta.users.read"], UseDpop: true));

        var found = await directory.GetCallerAsync(caller.Id);
        var reset = await directory.ResetPasswordAsync(caller.Id, PasswordResetKind.OneTimeLink);

        Assert.True(found.IsSuccess, found.Error?.AgentMessage);
        Assert.False(reset.IsSuccess);
        Assert.Equal(IdpErrorKind.AccessDenied, reset.Error.Kind);
        Assert.Equal("missing_scope", reset.Error.Code);
        Assert.Contains("okta.users.manage", reset.Error.AgentMessage, StringComparison.Ordinal);
        Assert.Equal(0, caller.PasswordResets);
    }

    [Fact]
    public async Task ScopesAskedForButNotGranted_TokenRefusedNamingThem()
    {
        var directory = DirectoryFor(new OktaServiceApp(ReadOnlyApp, _manage, UseDpop: true));

        var found = await directory.FindCallerAsync("alice.caller@demo.example");

        Assert.False(found.IsSuccess);
        Assert.Equal("invalid_scope", found.Error.Code);
        Assert.Contains("okta.users.manage", found.Error.AgentMessage, StringComparison.Ordinal);
    }

    public static TheoryData<string> BadAssertions => new() { "audience", "expired", "too-long", "replayed", "issuer" };

    /// <summary>The emulator's token endpoint refuses what Okta's refuses (RFC 7523 and Okta's rules for private_key_jwt).</summary>
    [Theory]
    [MemberData(nameof(BadAssertions))]
    public async Task TokenEndpoint_RefusesAWrongClientAssertion(string what)
    {
        var endpoint = new Uri(Emulator.BaseUrl, "oauth2/v1/token");
        var now = DateTimeOffset.UtcNow;
        var claims = new JsonObject
        {
            ["iss"] = BearerApp,
            ["sub"] = BearerApp,
            ["aud"] = what == "audience" ? new Uri(Emulator.BaseUrl, "oauth2/default/v1/token").ToString() : endpoint.ToString(),
            ["iat"] = now.ToUnixTimeSeconds(),
            ["exp"] = (what switch { "expired" => now.AddMinutes(-1), "too-long" => now.AddHours(2), _ => now.AddMinutes(5) }).ToUnixTimeSeconds(),
            ["jti"] = Jws.NewId(),
        };
        if (what == "issuer")
        {
            claims["iss"] = "0oa-someone-else";
        }

        var assertion = Jws.Sign(new JsonObject { ["alg"] = "RS256" }, claims, _key);
        using var http = new HttpClient();
        if (what == "replayed")
        {
            using var first = await RequestTokenAsync(http, endpoint, assertion);
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        using var refused = await RequestTokenAsync(http, endpoint, assertion);

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        using var body = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
        Assert.Equal("invalid_client", body.RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task TokenEndpoint_DpopProofWithoutNonce_AnsweredWithUseDpopNonceAndANonce()
    {
        var registration = _services!.GetRequiredService<OktaServiceAppTokens>()
            .Register("nonce-test", Emulator.BaseUrl, new OktaServiceApp(DpopApp, _manage, "key-1", UseDpop: true), _key.ExportRSAPrivateKeyPem());
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, registration.TokenEndpoint)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials",
                ["scope"] = "okta.users.read",
                ["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ["client_assertion"] = registration.ClientAssertion(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5)),
            }),
        };
        request.Headers.Add("DPoP", registration.Proof(HttpMethod.Post, registration.TokenEndpoint, null, nonce: null, DateTimeOffset.UtcNow));

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("use_dpop_nonce", body.RootElement.GetProperty("error").GetString());
        Assert.False(string.IsNullOrEmpty(Assert.Single(response.Headers.GetValues("DPoP-Nonce"))));
    }

    /// <summary>The portal's and the emulator's scope per operation are each Okta's, as its Management API spec lists them.</summary>
    [Fact]
    public void ScopePerOperation_OnBothSides_IsTheOneOktasSpecLists()
    {
        using var spec = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "specs", "okta-management-subset.json")));
        var checkedOperations = 0;
        foreach (var path in spec.RootElement.GetProperty("paths").EnumerateObject().Where(p => p.Name.StartsWith("/api/v1/", StringComparison.Ordinal)))
        {
            foreach (var operation in path.Value.EnumerateObject().Where(o => o.Value.ValueKind == JsonValueKind.Object && o.Value.TryGetProperty("security", out _)))
            {
                var expected = operation.Value.GetProperty("security").EnumerateArray()
                    .SelectMany(s => s.TryGetProperty("oauth2", out var scopes) ? scopes.EnumerateArray().Select(x => x.GetString()!) : []).Single();
                var concrete = System.Text.RegularExpressions.Regex.Replace(path.Name, "{[^}]+}", "00u1");
                var method = operation.Name.ToUpperInvariant();

                Assert.True(expected == OktaScopes.For(new HttpMethod(method), concrete), $"portal: {method} {path.Name} needs {expected}, not {OktaScopes.For(new HttpMethod(method), concrete)}");
                Assert.True(expected == OktaServiceApps.RequiredScope(method, concrete), $"emulator: {method} {path.Name} needs {expected}, not {OktaServiceApps.RequiredScope(method, concrete)}");
                checkedOperations++;
            }
        }

        Assert.True(checkedOperations >= 15, $"Only {checkedOperations} operations checked.");
    }

    private static Task<HttpResponseMessage> RequestTokenAsync(HttpClient http, Uri endpoint, string assertion) =>
        http.PostAsync(endpoint, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["scope"] = "okta.users.read",
            ["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ["client_assertion"] = assertion,
        }));

    private ICallerDirectory DirectoryFor(OktaServiceApp app, RSA? signingKey = null) =>
        _services!.GetRequiredService<ICallerDirectoryFactory>().Create(
            new IdpConnection("tenant-" + Guid.NewGuid().ToString("N")[..8], IdpKind.Okta, Emulator.BaseUrl, (signingKey ?? _key).ExportPkcs8PrivateKeyPem())
            {
                Okta = new OktaConnectionSettings { ServiceApp = app },
            });

    private DemoCaller NewCaller()
    {
        var login = $"s{Guid.NewGuid():N}@demo.example";
        return Emulator.State.AddCaller(login, login, "Service", "Caller");
    }
}
