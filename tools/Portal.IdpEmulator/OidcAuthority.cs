using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Portal.IdpEmulator;

/// <summary>
/// Where an authority lives and what it says about itself. Paths are relative to the emulator's base URL; an Entra-like
/// authority has one issuer per directory, named by <c>{tenant}</c> in its paths (a GUID in the routes).
/// </summary>
internal sealed record OidcAuthoritySettings
{
    public const string TenantToken = "{tenant}";

    public required string IssuerPath { get; init; }

    public required string AuthorizePath { get; init; }

    public required string TokenPath { get; init; }

    public required string KeysPath { get; init; }

    /// <summary>False where another endpoint shares the token path and hands the authorization-code grant over (Entra's, with Graph's client credentials).</summary>
    public bool MapsTokenEndpoint { get; init; } = true;

    /// <summary>More endpoints the discovery document names after <c>jwks_uri</c> (name, path), served by the sign-in.</summary>
    public IReadOnlyList<(string Name, string Path)> ExtraEndpoints { get; init; } = [];

    public required IReadOnlyList<string> SubjectTypes { get; init; }

    public required IReadOnlyList<string> Scopes { get; init; }

    public required IReadOnlyList<string> Claims { get; init; }

    public bool ClaimsParameterSupported { get; init; }

    /// <summary>RFC 7523 client authentication (<c>private_key_jwt</c>) for clients with an <see cref="EmulatorClient.AssertionKey"/>.</summary>
    public bool AcceptsClientAssertions { get; init; }

    /// <summary>The ID token's <c>jti</c> starts with this (Okta's default authorization server writes "ID.").</summary>
    public string IdTokenIdPrefix { get; init; } = "";

    public bool IdTokenHasNotBefore { get; init; }

    /// <summary>
    /// Set: the access token is a JWT for this audience, with the sign-in's access-token claims and the requested scopes.
    /// Null: an opaque access token for <c>openid</c> only (the portal uses the ID token alone).
    /// </summary>
    public string? AccessTokenAudience { get; init; }

    /// <summary>The form fields of an authorize request that its sign-in page carries back to the authority.</summary>
    public IReadOnlyList<string> CarriedParameters { get; init; } =
        ["client_id", "redirect_uri", "response_type", "response_mode", "scope", "state", "nonce", "code_challenge", "code_challenge_method"];

    /// <summary>An Okta authorization server at <paramref name="prefix"/> (<c>oauth2/default</c>): <c>/v1/authorize</c>, <c>/v1/token</c>, <c>/v1/keys</c>.</summary>
    public static OidcAuthoritySettings Okta(string prefix, IReadOnlyList<string> subjectTypes, IReadOnlyList<string> scopes, IReadOnlyList<string> claims) =>
        At(prefix, prefix + "/v1/authorize", prefix + "/v1/token", prefix + "/v1/keys", subjectTypes, scopes, claims);

    /// <summary>The Microsoft identity platform's v2.0 endpoints of a directory.</summary>
    public static OidcAuthoritySettings Entra(IReadOnlyList<string> subjectTypes, IReadOnlyList<string> scopes, IReadOnlyList<string> claims) =>
        At(TenantToken + "/v2.0", TenantToken + "/oauth2/v2.0/authorize", TenantToken + "/oauth2/v2.0/token", TenantToken + "/discovery/v2.0/keys", subjectTypes, scopes, claims);

    private static OidcAuthoritySettings At(
        string issuer, string authorize, string token, string keys, IReadOnlyList<string> subjectTypes, IReadOnlyList<string> scopes, IReadOnlyList<string> claims) =>
        new() { IssuerPath = issuer, AuthorizePath = authorize, TokenPath = token, KeysPath = keys, SubjectTypes = subjectTypes, Scopes = scopes, Claims = claims };
}

/// <summary>An authorize request that passed the authority's checks, for its sign-in page.</summary>
/// <param name="Parameters">The request's parameters (the query, or the form the page posted back).</param>
/// <param name="Tenant">The directory of an Entra-like authority; null for an Okta-like one.</param>
/// <param name="Issuer">The issuer the request was made to.</param>
/// <param name="FormAction">The path the sign-in page posts to.</param>
/// <param name="HiddenFields">The carried parameters, as hidden inputs for that form.</param>
internal sealed record AuthorizeRequest(Dictionary<string, string> Parameters, string? Tenant, string Issuer, string FormAction, string HiddenFields)
{
    public string ClientId => Parameters["client_id"];
}

/// <summary>What a sign-in page made of a submitted form: the claims of the tokens, or a page to answer with instead.</summary>
internal sealed record SignInOutcome(IResult? Page, Dictionary<string, object>? IdTokenClaims, Dictionary<string, object>? AccessTokenClaims)
{
    public static SignInOutcome Answer(IResult page) => new(page, null, null);

    public static SignInOutcome SignedIn(Dictionary<string, object> idTokenClaims, Dictionary<string, object>? accessTokenClaims = null) =>
        new(null, idTokenClaims, accessTokenClaims);
}

/// <summary>Who may sign in at an authority, and how: its page and the check of what the page posts back.</summary>
internal interface IOidcSignIn
{
    /// <summary>The clients registered with the authority.</summary>
    IEnumerable<EmulatorClient> Clients { get; }

    IResult Show(AuthorizeRequest request);

    /// <summary>The claims include <c>sub</c> and <c>auth_time</c>; the authority adds <c>jti</c> and <c>nonce</c>.</summary>
    SignInOutcome Submit(AuthorizeRequest request);
}

/// <summary>
/// One OIDC authority shaped like the IdPs the portal signs in with: code flow only, PKCE S256 required, loopback redirect
/// URIs only, single-use codes, RS256 ID tokens signed by the authority's own key (published at its JWKS). What differs
/// between authorities (paths, issuer, discovery, who signs in and the claims) comes from its
/// <see cref="OidcAuthoritySettings"/> and its <see cref="IOidcSignIn"/>.
/// </summary>
internal sealed class OidcAuthority : IDisposable
{
    private const string AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    private static readonly TimeSpan CodeLifetime = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan TokenLifetime = TimeSpan.FromHours(1);

    private readonly EmulatorState _state;
    private readonly EmulatorContext _context;
    private readonly OidcAuthoritySettings _settings;
    private readonly IOidcSignIn _signIn;
    private readonly RSA _rsa = RSA.Create(2048);
    private readonly ConcurrentDictionary<string, IssuedCode> _codes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _assertionIds = new(StringComparer.Ordinal);

    public OidcAuthority(EmulatorState state, EmulatorContext context, OidcAuthoritySettings settings, IOidcSignIn signIn)
    {
        _state = state;
        _context = context;
        _settings = settings;
        _signIn = signIn;
        SigningKey = new RsaSecurityKey(_rsa) { KeyId = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(12)) };
    }

    /// <summary>The key that signs this authority's tokens, for endpoints of its own that check them (userinfo, logout).</summary>
    public RsaSecurityKey SigningKey { get; }

    public void Dispose() => _rsa.Dispose();

    /// <summary>Only loopback http(s) redirect targets, so that the emulator can never be used to send a code off the machine.</summary>
    internal static bool IsLoopbackRedirect(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && string.IsNullOrEmpty(uri.UserInfo)
        && string.IsNullOrEmpty(uri.Fragment)
        && (uri.Host == "localhost" || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip)));

    public string Issuer(string? tenant = null) => Url(_settings.IssuerPath, tenant);

    public void Map(WebApplication app)
    {
        app.MapGet(Route(_settings.IssuerPath + "/.well-known/openid-configuration"), (HttpContext http) => Discovery(TenantOf(http)));
        app.MapGet(Route(_settings.KeysPath), Keys);
        app.MapGet(Route(_settings.AuthorizePath), (HttpContext http) =>
            Authorize(http.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString()), TenantOf(http)));
        app.MapPost(Route(_settings.AuthorizePath), async (HttpContext http) =>
        {
            var form = await http.Request.ReadFormAsync(http.RequestAborted);
            return Submit(form.ToDictionary(f => f.Key, f => f.Value.ToString()), TenantOf(http));
        });
        if (_settings.MapsTokenEndpoint)
        {
            app.MapPost(Route(_settings.TokenPath), async (HttpContext http) =>
            {
                var form = http.Request.HasFormContentType ? await http.Request.ReadFormAsync(http.RequestAborted) : null;
                return Token(http, TenantOf(http), form?.ToDictionary(f => f.Key, f => f.Value.ToString()) ?? []);
            });
        }
    }

    /// <summary>The authorization-code grant at the token endpoint of <paramref name="tenant"/> (null for an Okta-like authority).</summary>
    public IResult Token(HttpContext http, string? tenant, Dictionary<string, string> form)
    {
        http.Response.Headers.CacheControl = "no-store";
        http.Response.Headers.Pragma = "no-cache";
        var client = AuthenticateClient(http.Request.Headers.Authorization.ToString(), form, tenant, out var refusal);
        if (client is null)
        {
            return TokenError(401, "invalid_client", refusal ?? "Client authentication failed.");
        }

        if (form.GetValueOrDefault("grant_type") != "authorization_code")
        {
            return TokenError(400, "unsupported_grant_type", "Only authorization_code is supported.");
        }

        // Removed before any other check: a code is spent by its first redemption attempt, right or wrong.
        if (!_codes.TryRemove(form.GetValueOrDefault("code") ?? "", out var issued))
        {
            return TokenError(400, "invalid_grant", "The authorization code is invalid or has been used.");
        }

        var now = _state.Now;
        if (now >= issued.ExpiresAt || issued.Issuer != Issuer(tenant) || issued.ClientId != client.ClientId || issued.RedirectUri != form.GetValueOrDefault("redirect_uri"))
        {
            return TokenError(400, "invalid_grant", "The authorization code is invalid, expired, or was issued to another client or redirect_uri.");
        }

        var verifier = form.GetValueOrDefault("code_verifier") ?? "";
        var computed = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        if (verifier.Length is < 43 or > 128 || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(computed), Encoding.ASCII.GetBytes(issued.CodeChallenge)))
        {
            return TokenError(400, "invalid_grant", "PKCE verification failed.");
        }

        var claims = new Dictionary<string, object>(issued.Claims)
        {
            ["jti"] = _settings.IdTokenIdPrefix + Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16)),
        };
        if (!string.IsNullOrEmpty(issued.Nonce))
        {
            claims["nonce"] = issued.Nonce;
        }

        var idToken = Sign(issued.Issuer, client.ClientId, now, claims, _settings.IdTokenHasNotBefore);
        string accessToken;
        string scope;
        if (_settings.AccessTokenAudience is { } audience)
        {
            accessToken = Sign(issued.Issuer, audience, now, new Dictionary<string, object>(issued.AccessTokenClaims ?? [])
            {
                ["cid"] = client.ClientId,
                ["scp"] = issued.Scope.Split(' ', StringSplitOptions.RemoveEmptyEntries),
                ["jti"] = "AT." + Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16)),
            }, notBefore: false);
            scope = issued.Scope;
        }
        else
        {
            accessToken = "emulator-at." + Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(24));
            scope = "openid";
        }

        return Results.Text(new JsonObject
        {
            ["token_type"] = "Bearer",
            ["expires_in"] = (int)TokenLifetime.TotalSeconds,
            ["access_token"] = accessToken,
            ["scope"] = scope,
            ["id_token"] = idToken,
        }.ToJsonString(), "application/json", Encoding.UTF8);
    }

    private string Url(string path, string? tenant) => new Uri(_context.BaseUrl, path.Replace(OidcAuthoritySettings.TenantToken, tenant, StringComparison.Ordinal)).ToString();

    private static string Route(string path) => "/" + path.Replace(OidcAuthoritySettings.TenantToken, "{tenant:guid}", StringComparison.Ordinal);

    private string? TenantOf(HttpContext http) =>
        _settings.IssuerPath.Contains(OidcAuthoritySettings.TenantToken, StringComparison.Ordinal) ? http.Request.RouteValues["tenant"] as string : null;

    private IResult Discovery(string? tenant)
    {
        var document = new JsonObject
        {
            ["issuer"] = Issuer(tenant),
            ["authorization_endpoint"] = Url(_settings.AuthorizePath, tenant),
            ["token_endpoint"] = Url(_settings.TokenPath, tenant),
            ["jwks_uri"] = Url(_settings.KeysPath, tenant),
        };
        foreach (var (name, path) in _settings.ExtraEndpoints)
        {
            document[name] = Url(path, tenant);
        }

        document["response_types_supported"] = Array("code");
        document["response_modes_supported"] = Array("query", "form_post");
        document["grant_types_supported"] = Array("authorization_code");
        document["subject_types_supported"] = Array([.. _settings.SubjectTypes]);
        document["scopes_supported"] = Array([.. _settings.Scopes]);
        if (_settings.AcceptsClientAssertions)
        {
            document["token_endpoint_auth_methods_supported"] = Array("client_secret_basic", "client_secret_post", "private_key_jwt");
            document["token_endpoint_auth_signing_alg_values_supported"] = Array("RS256");
        }
        else
        {
            document["token_endpoint_auth_methods_supported"] = Array("client_secret_basic", "client_secret_post");
        }

        document["id_token_signing_alg_values_supported"] = Array("RS256");
        document["code_challenge_methods_supported"] = Array("S256");
        if (_settings.ClaimsParameterSupported)
        {
            document["claims_parameter_supported"] = true;
        }

        document["claims_supported"] = Array([.. _settings.Claims]);
        return Results.Text(document.ToJsonString(), "application/json", Encoding.UTF8);
    }

    private IResult Keys()
    {
        var parameters = _rsa.ExportParameters(false);
        var jwk = new JsonObject
        {
            ["kty"] = "RSA",
            ["use"] = "sig",
            ["alg"] = "RS256",
            ["kid"] = SigningKey.KeyId,
            ["n"] = Base64UrlEncoder.Encode(parameters.Modulus),
            ["e"] = Base64UrlEncoder.Encode(parameters.Exponent),
        };
        return Results.Text(new JsonObject { ["keys"] = new JsonArray(jwk) }.ToJsonString(), "application/json", Encoding.UTF8);
    }

    private IResult Authorize(Dictionary<string, string> query, string? tenant) =>
        CheckRequest(query) ?? _signIn.Show(RequestFor(query, tenant));

    private IResult Submit(Dictionary<string, string> form, string? tenant)
    {
        // The page's fields come back from the browser: everything is checked again, nothing trusted.
        if (CheckRequest(form) is { } refusal)
        {
            return refusal;
        }

        var outcome = _signIn.Submit(RequestFor(form, tenant));
        if (outcome.Page is { } page)
        {
            return page;
        }

        var code = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        _codes[code] = new IssuedCode(
            Issuer(tenant), form["client_id"], form["redirect_uri"], form["code_challenge"], form.GetValueOrDefault("nonce"),
            form.GetValueOrDefault("scope") ?? "openid", outcome.IdTokenClaims!, outcome.AccessTokenClaims, _state.Now + CodeLifetime);
        return Respond(form, new Dictionary<string, string?> { ["code"] = code, ["state"] = form.GetValueOrDefault("state") });
    }

    private AuthorizeRequest RequestFor(Dictionary<string, string> parameters, string? tenant)
    {
        var hidden = new StringBuilder();
        foreach (var name in _settings.CarriedParameters)
        {
            if (parameters.TryGetValue(name, out var value))
            {
                hidden.Append(Html.Hidden(name, value));
            }
        }

        return new AuthorizeRequest(parameters, tenant, Issuer(tenant), "/" + _settings.AuthorizePath.Replace(OidcAuthoritySettings.TenantToken, tenant, StringComparison.Ordinal), hidden.ToString());
    }

    private IResult? CheckRequest(Dictionary<string, string> request)
    {
        // Client and redirect target are checked before anything is sent to the redirect target:
        // an unregistered client or a foreign URL gets an error page, never a redirect (open redirector).
        request.TryGetValue("client_id", out var clientId);
        if (!_signIn.Clients.Any(c => c.ClientId == clientId))
        {
            return Html.Result(Html.Page("Sign-in error", "<h1>Unknown client</h1><p>The client_id is not registered with the emulator.</p>"), 400);
        }

        if (!request.TryGetValue("redirect_uri", out var redirect) || !IsLoopbackRedirect(redirect))
        {
            return Html.Result(Html.Page("Sign-in error", "<h1>Invalid redirect_uri</h1><p>The emulator only redirects to loopback http(s) addresses.</p>"), 400);
        }

        if (request.GetValueOrDefault("response_mode") is not (null or "" or "query" or "form_post"))
        {
            request.Remove("response_mode");
            return Respond(request, ErrorParameters(request, "invalid_request", "response_mode must be query or form_post."));
        }

        if (request.GetValueOrDefault("response_type") != "code")
        {
            return Respond(request, ErrorParameters(request, "unsupported_response_type", "Only response_type=code is supported."));
        }

        if (!(request.GetValueOrDefault("scope") ?? "").Split(' ').Contains("openid"))
        {
            return Respond(request, ErrorParameters(request, "invalid_scope", "The openid scope is required."));
        }

        // PKCE is mandatory: without it a code intercepted on the way back could be redeemed by anyone holding the secret.
        var challenge = request.GetValueOrDefault("code_challenge");
        if (string.IsNullOrEmpty(challenge) || request.GetValueOrDefault("code_challenge_method") != "S256" || challenge.Length is < 43 or > 128)
        {
            return Respond(request, ErrorParameters(request, "invalid_request", "PKCE with code_challenge_method=S256 is required."));
        }

        return null;
    }

    private static Dictionary<string, string?> ErrorParameters(Dictionary<string, string> request, string error, string description) =>
        new() { ["error"] = error, ["error_description"] = description, ["state"] = request.GetValueOrDefault("state") };

    private static IResult Respond(Dictionary<string, string> request, Dictionary<string, string?> parameters)
    {
        var redirect = request["redirect_uri"];
        var present = parameters.Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value);
        if (request.GetValueOrDefault("response_mode") == "form_post")
        {
            var body = new StringBuilder("<h1>Returning to the application</h1>");
            body.Append("<form method=\"post\" action=\"").Append(Html.E(redirect)).Append("\">");
            foreach (var (name, value) in present)
            {
                body.Append(Html.Hidden(name, value));
            }

            body.Append("<button type=\"submit\">Continue</button></form>");
            return Html.Result(Html.Page("Returning to the application", body.ToString()));
        }

        return Results.Redirect(QueryHelpers.AddQueryString(redirect, present));
    }

    /// <summary>
    /// The client of a token request: HTTP Basic (RFC 6749 2.3.1), the form's <c>client_secret</c>, or (where the
    /// authority accepts them) a client assertion. Null when it does not authenticate; <paramref name="refusal"/> then
    /// says why when an assertion was refused.
    /// </summary>
    private EmulatorClient? AuthenticateClient(string authorization, Dictionary<string, string> form, string? tenant, out string? refusal)
    {
        refusal = null;
        string? clientId;
        string? secret = null;
        if (authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            (clientId, secret) = BasicCredentials(authorization);
        }
        else if (_settings.AcceptsClientAssertions && form.GetValueOrDefault("client_assertion_type") == AssertionType)
        {
            (clientId, refusal) = CheckAssertion(form.GetValueOrDefault("client_assertion"), form.GetValueOrDefault("client_id"), tenant);
            return refusal is null ? _signIn.Clients.FirstOrDefault(c => c.ClientId == clientId) : null;
        }
        else
        {
            clientId = form.GetValueOrDefault("client_id");
            secret = form.GetValueOrDefault("client_secret");
        }

        var client = _signIn.Clients.FirstOrDefault(c => c.ClientId == clientId);
        return client is not null && secret is not null
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(client.ClientSecret), Encoding.UTF8.GetBytes(secret))
            ? client
            : null;
    }

    private static (string? ClientId, string? Secret) BasicCredentials(string authorization)
    {
        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[6..].Trim()));
            var colon = decoded.IndexOf(':', StringComparison.Ordinal);

            // RFC 6749 2.3.1: both parts are form-url-encoded before being joined.
            return colon > 0 ? (WebUtility.UrlDecode(decoded[..colon]), WebUtility.UrlDecode(decoded[(colon + 1)..])) : (null, null);
        }
        catch (FormatException)
        {
            return (null, null);
        }
    }

    /// <summary>
    /// RFC 7523 client authentication: an RS256 JWT from the client (iss = sub = client_id), for this token endpoint,
    /// not expired, its <c>jti</c> never seen before, signed by the key registered for the client.
    /// </summary>
    private (string? ClientId, string? Error) CheckAssertion(string? assertion, string? formClientId, string? tenant)
    {
        var handler = new JsonWebTokenHandler();
        if (string.IsNullOrEmpty(assertion) || !handler.CanReadToken(assertion))
        {
            return (null, "The client_assertion is missing or not a JWT.");
        }

        var unverified = handler.ReadJsonWebToken(assertion);
        var client = _signIn.Clients.FirstOrDefault(c => c.ClientId == unverified.Issuer && c.AssertionKey is not null);
        if (client is null || (formClientId is { Length: > 0 } && formClientId != client.ClientId))
        {
            return (null, "The client_assertion names no client registered for private_key_jwt.");
        }

        var result = handler.ValidateTokenAsync(assertion, new TokenValidationParameters
        {
            ValidIssuer = client.ClientId,
            ValidAudience = Url(_settings.TokenPath, tenant),
            IssuerSigningKey = client.AssertionKey,
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
            RequireExpirationTime = true,
            ClockSkew = TimeSpan.Zero,
            LifetimeValidator = (notBefore, expires, _, _) => expires is { } e && _state.Now < e && (notBefore is null || notBefore <= _state.Now.UtcDateTime.AddSeconds(5)),
        }).GetAwaiter().GetResult();
        if (!result.IsValid)
        {
            return (null, "The client_assertion is invalid: " + result.Exception?.GetType().Name);
        }

        var token = (JsonWebToken)result.SecurityToken;
        if (token.Subject != client.ClientId || string.IsNullOrEmpty(token.Id))
        {
            return (null, "The client_assertion must have sub = client_id and a jti.");
        }

        // A jti is remembered until its assertion expires: a replayed assertion is refused.
        foreach (var spent in _assertionIds.Where(p => p.Value < _state.Now).Select(p => p.Key).ToList())
        {
            _assertionIds.TryRemove(spent, out _);
        }

        return _assertionIds.TryAdd(client.ClientId + "/" + token.Id, new DateTimeOffset(token.ValidTo, TimeSpan.Zero))
            ? (client.ClientId, null)
            : (null, "The client_assertion was already used (jti replay).");
    }

    private string Sign(string issuer, string audience, DateTimeOffset now, Dictionary<string, object> claims, bool notBefore) =>
        new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = notBefore ? now.UtcDateTime : null,
            Expires = (now + TokenLifetime).UtcDateTime,
            Claims = claims,
            TokenType = "JWT",
            SigningCredentials = new SigningCredentials(SigningKey, SecurityAlgorithms.RsaSha256),
        });

    private static IResult TokenError(int status, string error, string description) =>
        Results.Text(new JsonObject { ["error"] = error, ["error_description"] = description }.ToJsonString(), "application/json", Encoding.UTF8, status);

    internal static JsonArray Array(params string[] values) => new([.. values.Select(v => (JsonNode)v)]);

    private sealed record IssuedCode(
        string Issuer, string ClientId, string RedirectUri, string CodeChallenge, string? Nonce, string Scope,
        Dictionary<string, object> Claims, Dictionary<string, object>? AccessTokenClaims, DateTimeOffset ExpiresAt);
}
