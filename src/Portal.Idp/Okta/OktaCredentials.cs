using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace Portal.Idp.Okta;

/// <summary>
/// How the portal proves itself to one Okta org on each Management API request: an SSWS API token, or an OAuth 2.0
/// service app's access token (docs/configuration.md, "Okta: API token or OAuth service app").
/// </summary>
internal abstract class OktaCredential
{
    /// <summary>Adds the credential to the request; an error when no access token could be had.</summary>
    public abstract Task<IdpError?> AuthorizeAsync(HttpRequestMessage request, CancellationToken cancellationToken);

    /// <summary>
    /// After a 401: true when sending the request again can succeed (the access token expired or was revoked, or the
    /// resource server asks for a DPoP nonce). Nothing happened at Okta on a 401, so a write may be sent again.
    /// </summary>
    public virtual bool PrepareRetry(HttpResponseMessage response) => false;
}

/// <summary>An SSWS API token: the rights of the administrator who created it.</summary>
internal sealed class SswsCredential(string token) : OktaCredential
{
    public override Task<IdpError?> AuthorizeAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        // Attached per request (not as a default header) so that it goes only where the adapter sends it.
        request.Headers.Authorization = new AuthenticationHeaderValue("SSWS", token);
        return Task.FromResult<IdpError?>(null);
    }
}

/// <summary>
/// An Okta API service app: client credentials at the org authorization server (<c>/oauth2/v1/token</c>) with a
/// <c>private_key_jwt</c> client assertion, the scopes <see cref="OktaScopes"/> names, and, when the app requires
/// it, DPoP-bound tokens (RFC 9449) with the nonce round trip Okta asks for. The token is shared by every request
/// of the instance (<see cref="OktaServiceAppTokens"/>) until shortly before it expires.
/// </summary>
internal sealed class OktaServiceAppCredential(OktaServiceAppTokens tokens, OktaServiceAppTokens.Registration app) : OktaCredential
{
    public override async Task<IdpError?> AuthorizeAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var token = await tokens.GetAsync(app, cancellationToken);
        if (!token.IsSuccess)
        {
            return token.Error;
        }

        var (value, dpop) = token.Value;
        if (dpop)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("DPoP", value);
            request.Headers.Add("DPoP", app.Proof(request.Method, request.RequestUri!, value, app.ResourceNonce, tokens.Now));
        }
        else
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", value);
        }

        return null;
    }

    public override bool PrepareRetry(HttpResponseMessage response)
    {
        var challenge = string.Join(", ", response.Headers.WwwAuthenticate.Select(h => h.ToString()));
        if (challenge.Contains("use_dpop_nonce", StringComparison.Ordinal) && response.Headers.TryGetValues("DPoP-Nonce", out var nonces))
        {
            app.ResourceNonce = nonces.FirstOrDefault();
            return true;
        }

        OktaServiceAppTokens.Forget(app);
        return true;
    }
}

/// <summary>The OAuth scopes of the Okta operations the portal calls, as Okta's Management API spec lists them.</summary>
internal static class OktaScopes
{
    public const string UsersRead = "okta.users.read";
    public const string UsersManage = "okta.users.manage";
    public const string AuthenticatorsRead = "okta.authenticators.read";
    public const string RolesRead = "okta.roles.read";
    public const string LogsRead = "okta.logs.read";

    /// <summary>The scope an <c>/api/v1</c> request needs: reads of users (and their factors, groups, push transactions), writes to users, authenticators, roles, the System Log.</summary>
    public static string For(HttpMethod method, string path)
    {
        var segments = path.Split('?', 2)[0].Trim('/').Split('/');
        var rest = segments.SkipWhile(s => s != "v1").Skip(1).ToArray();
        if (rest.Length > 0 && rest[0] == "authenticators")
        {
            return AuthenticatorsRead;
        }

        if (rest.Length > 0 && rest[0] == "logs")
        {
            return LogsRead;
        }

        if (rest.Length >= 3 && rest[^1] == "roles")
        {
            return RolesRead;
        }

        return method == HttpMethod.Get ? UsersRead : UsersManage;
    }
}

/// <summary>
/// Access tokens of Okta service apps, one per tenant connection, shared by every request of the instance: fetched
/// once (one request at a time per app), kept until a minute before they expire, dropped on a 401. The DPoP key is
/// the instance's own and never leaves it; the client assertion key is the tenant's secret.
/// </summary>
internal sealed class OktaServiceAppTokens(IHttpClientFactory httpClientFactory, TimeProvider time, ILogger<OktaServiceAppTokens> logger)
{
    private static readonly TimeSpan RefreshBefore = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan AssertionLifetime = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<string, Registration> _apps = new(StringComparer.Ordinal);

    public DateTimeOffset Now => time.GetUtcNow();

    /// <summary>The one registration of a tenant's service app on this instance (same key, same cache, same DPoP key).</summary>
    public Registration Register(string tenantId, Uri baseUrl, OktaServiceApp app, string privateKeyPem)
    {
        var key = string.Join('\n', tenantId, baseUrl, app.ClientId, app.KeyId, string.Join(' ', app.Scopes), app.UseDpop, Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(privateKeyPem))));
        return _apps.GetOrAdd(key, _ => new Registration(tenantId, new Uri(baseUrl, "oauth2/v1/token"), app, Jws.ImportRsa(privateKeyPem, tenantId)));
    }

    public static void Forget(Registration app) => app.Token = null;

    public async Task<IdpResult<(string Value, bool Dpop)>> GetAsync(Registration app, CancellationToken cancellationToken)
    {
        if (app.Token is { } current && current.ExpiresAt - RefreshBefore > time.GetUtcNow())
        {
            return IdpResult<(string, bool)>.Success((current.Value, current.Dpop));
        }

        await app.Gate.WaitAsync(cancellationToken);
        try
        {
            if (app.Token is { } fresh && fresh.ExpiresAt - RefreshBefore > time.GetUtcNow())
            {
                return IdpResult<(string, bool)>.Success((fresh.Value, fresh.Dpop));
            }

            var result = await RequestAsync(app, cancellationToken);
            if (!result.IsSuccess)
            {
                return result.Error;
            }

            app.Token = result.Value;
            return IdpResult<(string, bool)>.Success((result.Value.Value, result.Value.Dpop));
        }
        finally
        {
            app.Gate.Release();
        }
    }

    private async Task<IdpResult<AccessToken>> RequestAsync(Registration app, CancellationToken cancellationToken)
    {
        var http = httpClientFactory.CreateClient(OktaCallerDirectoryFactory.HttpClientName);
        for (var attempt = 0; attempt < 2; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, app.TokenEndpoint)
            {
                Content = new FormUrlEncodedContent(new Dictionary<string, string>
                {
                    ["grant_type"] = "client_credentials",
                    ["scope"] = string.Join(' ', app.App.Scopes),
                    ["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ["client_assertion"] = app.ClientAssertion(time.GetUtcNow(), AssertionLifetime),
                }),
            };
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            if (app.App.UseDpop)
            {
                request.Headers.Add("DPoP", app.Proof(HttpMethod.Post, app.TokenEndpoint, null, app.TokenNonce, time.GetUtcNow()));
            }

            HttpResponseMessage response;
            string body;
            try
            {
                response = await http.SendAsync(request, cancellationToken);
                body = await response.Content.ReadAsStringAsync(cancellationToken);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && OktaErrorMapper.FromException(ex, isRead: true) is { } failure)
            {
                OktaLog.NoAnswer(logger, "service_app_token", failure.Code);
                return failure;
            }

            using (response)
            {
                var (error, description, token) = Read(body);
                if (response.IsSuccessStatusCode && token is not null)
                {
                    OktaLog.Answered(logger, "service_app_token", (int)response.StatusCode);
                    return IdpResult<AccessToken>.Success(token);
                }

                OktaLog.Failed(logger, "service_app_token", (int)response.StatusCode, OktaErrorMapper.SafeCode(error) ?? "none", "none");
                if (error == "use_dpop_nonce" && attempt == 0 && response.Headers.TryGetValues("DPoP-Nonce", out var nonces))
                {
                    app.TokenNonce = nonces.FirstOrDefault();
                    continue;
                }

                return TokenError((int)response.StatusCode, error, description, app);
            }
        }

        return new IdpError(IdpErrorKind.Unauthorized, "use_dpop_nonce", "Okta kept asking the portal's service app for a new DPoP nonce: try again.");
    }

    private (string? Error, string? Description, AccessToken? Token) Read(string body)
    {
        try
        {
            var json = JsonNode.Parse(body) as JsonObject;
            if (json?["access_token"]?.GetValue<string>() is { Length: > 0 } value)
            {
                var type = json["token_type"]?.GetValue<string>() ?? "Bearer";
                var seconds = json["expires_in"]?.GetValue<int>() ?? 300;
                return (null, null, new AccessToken(value, string.Equals(type, "DPoP", StringComparison.OrdinalIgnoreCase), time.GetUtcNow().AddSeconds(seconds)));
            }

            return (json?["error"]?.GetValue<string>(), json?["error_description"]?.GetValue<string>(), null);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            return (null, null, null);
        }
    }

    private static IdpError TokenError(int status, string? error, string? description, Registration app)
    {
        // Okta's own description is shown only for the codes whose descriptions carry nothing but configuration
        // (it never holds a token); it helps the tenant admin fix the app.
        var detail = string.IsNullOrWhiteSpace(description) ? "" : " Okta says: " + (description.Length > 200 ? description[..200] : description);
        return error switch
        {
            "invalid_scope" => new IdpError(IdpErrorKind.AccessDenied, "invalid_scope",
                $"The portal's Okta service app {app.App.ClientId} was refused the scopes {string.Join(", ", app.App.Scopes)}: grant them to the app in Okta (Okta API Scopes tab).{detail}"),
            "invalid_client" => new IdpError(IdpErrorKind.Unauthorized, "invalid_client",
                $"Okta refused the portal's service app {app.App.ClientId} (client id, key or key id): ask your administrator to check the tenant's Okta settings.{detail}"),
            "invalid_dpop_proof" => new IdpError(IdpErrorKind.Unauthorized, "invalid_dpop_proof",
                $"Okta refused the DPoP proof of the portal's service app {app.App.ClientId}: check whether the app requires DPoP (Idp:Okta:ServiceApp:Dpop).{detail}"),
            "unauthorized_client" => new IdpError(IdpErrorKind.Unauthorized, "unauthorized_client",
                $"Okta's app {app.App.ClientId} may not use the client credentials grant: it must be an API service app.{detail}"),
            _ => status >= 500
                ? new IdpError(IdpErrorKind.Unavailable, "token_unavailable", "Okta's token endpoint did not answer; nothing was changed. Try again in a minute.")
                : new IdpError(IdpErrorKind.Unauthorized, OktaErrorMapper.SafeCode(error) ?? "token_refused", OktaErrorMapper.UnauthorizedMessage),
        };
    }

    internal sealed record AccessToken(string Value, bool Dpop, DateTimeOffset ExpiresAt);

    /// <summary>One tenant's service app on this instance: its keys, its current token and the nonces Okta gave.</summary>
    internal sealed class Registration(string tenantId, Uri tokenEndpoint, OktaServiceApp app, RSA assertionKey)
    {
        private readonly ECDsa _dpopKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        public string TenantId { get; } = tenantId;

        public Uri TokenEndpoint { get; } = tokenEndpoint;

        public OktaServiceApp App { get; } = app;

        public SemaphoreSlim Gate { get; } = new(1, 1);

        public AccessToken? Token { get; set; }

        public string? TokenNonce { get; set; }

        public string? ResourceNonce { get; set; }

        /// <summary>RFC 7523 client assertion: iss = sub = client id, aud = the token endpoint, a short life and a fresh jti.</summary>
        public string ClientAssertion(DateTimeOffset now, TimeSpan lifetime)
        {
            var header = new JsonObject { ["alg"] = "RS256", ["typ"] = "JWT" };
            if (!string.IsNullOrEmpty(App.KeyId))
            {
                header["kid"] = App.KeyId;
            }

            return Jws.Sign(header, new JsonObject
            {
                ["iss"] = App.ClientId,
                ["sub"] = App.ClientId,
                ["aud"] = TokenEndpoint.ToString(),
                ["iat"] = now.ToUnixTimeSeconds(),
                ["exp"] = (now + lifetime).ToUnixTimeSeconds(),
                ["jti"] = Jws.NewId(),
            }, assertionKey);
        }

        /// <summary>RFC 9449 proof: the method, the URL without query, and for a resource request the token's hash.</summary>
        public string Proof(HttpMethod method, Uri target, string? accessToken, string? nonce, DateTimeOffset now)
        {
            var payload = new JsonObject
            {
                ["htm"] = method.Method,
                ["htu"] = target.GetLeftPart(UriPartial.Path),
                ["iat"] = now.ToUnixTimeSeconds(),
                ["jti"] = Jws.NewId(),
            };
            if (accessToken is not null)
            {
                payload["ath"] = Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken)));
            }

            if (nonce is not null)
            {
                payload["nonce"] = nonce;
            }

            return Jws.Sign(new JsonObject { ["typ"] = "dpop+jwt", ["alg"] = "ES256", ["jwk"] = Jws.PublicJwk(_dpopKey) }, payload, _dpopKey);
        }
    }
}

/// <summary>Compact JWS for the two tokens the portal signs itself (client assertion, DPoP proof).</summary>
internal static class Jws
{
    public static string NewId() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(18));

    public static string Sign(JsonObject header, JsonObject payload, AsymmetricAlgorithm key)
    {
        var input = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload.ToJsonString()));
        var data = Encoding.ASCII.GetBytes(input);
        var signature = key switch
        {
            RSA rsa => rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            ECDsa ec => ec.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
            _ => throw new ArgumentException("RSA or ECDSA keys only.", nameof(key)),
        };
        return input + "." + Base64Url.EncodeToString(signature);
    }

    public static JsonObject PublicJwk(ECDsa key)
    {
        var p = key.ExportParameters(includePrivateParameters: false);
        return new JsonObject { ["kty"] = "EC", ["crv"] = "P-256", ["x"] = Base64Url.EncodeToString(p.Q.X), ["y"] = Base64Url.EncodeToString(p.Q.Y) };
    }

    /// <summary>The service app's private key from its PEM (PKCS#8 or PKCS#1); the message names the tenant, never the key.</summary>
    public static RSA ImportRsa(string pem, string tenantId)
    {
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
        }
        catch (ArgumentException)
        {
            rsa.Dispose();
            throw new ArgumentException($"The Okta service app key of tenant {tenantId} (Idp:ApiTokenSecret) is not a PEM RSA private key.");
        }

        if (rsa.KeySize < 2048)
        {
            rsa.Dispose();
            throw new ArgumentException($"The Okta service app key of tenant {tenantId} (Idp:ApiTokenSecret) is {rsa.KeySize} bits: Okta needs at least 2048.");
        }

        return rsa;
    }
}
