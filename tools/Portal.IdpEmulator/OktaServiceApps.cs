using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Portal.IdpEmulator;

/// <summary>
/// Okta's org authorization server for API service apps (<c>POST /oauth2/v1/token</c>, client credentials with a
/// <c>private_key_jwt</c> client assertion, optional DPoP with Okta's nonce round trip), and the access-token side
/// of the Management API: which token a request carries, whether its DPoP proof holds, and whether its scopes
/// cover the operation (Okta's scope per operation, from its Management API spec).
/// </summary>
internal sealed class OktaServiceApps(EmulatorState state, EmulatorContext context)
{
    private const string AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    private static readonly TimeSpan TokenLifetime = TimeSpan.FromHours(1);
    private static readonly TimeSpan ProofWindow = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<string, IssuedToken> _tokens = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _usedIds = new(StringComparer.Ordinal);
    private readonly string _nonce = NewValue();

    /// <summary>Okta's scope for an <c>/api/v1</c> operation (the spec's <c>oauth2</c> security entry).</summary>
    public static string RequiredScope(string method, string path)
    {
        var rest = path.Split('?', 2)[0].Trim('/').Split('/').Skip(2).ToArray(); // after "api/v1"
        return rest switch
        {
            ["authenticators", ..] => "okta.authenticators.read",
            ["users", _, "roles"] or ["groups", _, "roles"] => "okta.roles.read",
            ["logs", ..] => "okta.logs.read",
            _ when method == "GET" => "okta.users.read",
            _ => "okta.users.manage",
        };
    }

    public void Map(WebApplication app) => app.MapPost("/oauth2/v1/token", (Func<HttpContext, Task<IResult>>)TokenAsync);

    /// <summary>
    /// The answer to an access token on an <c>/api/v1</c> request: null when it may proceed, else Okta's 401 or 403.
    /// </summary>
    public (int Status, JsonObject Body, string Challenge)? Check(HttpContext http, string scheme, string token)
    {
        var now = state.Now;
        if (!_tokens.TryGetValue(token, out var issued) || issued.ExpiresAt <= now)
        {
            return Unauthorized(scheme, "invalid_token", "The access token is invalid.");
        }

        if (issued.Thumbprint is not null)
        {
            if (scheme != "DPoP")
            {
                return Unauthorized("DPoP", "invalid_token", "The access token is DPoP-bound: send it with the DPoP scheme and a proof.");
            }

            var proof = VerifyProof(http.Request.Headers["DPoP"].ToString(), http.Request.Method, RequestUrl(http), token, requireNonce: false);
            if (proof.Error is not null || proof.Thumbprint != issued.Thumbprint)
            {
                return Unauthorized("DPoP", "invalid_dpop_proof", proof.Error ?? "The DPoP proof was signed with another key than the token's.");
            }
        }
        else if (scheme != "Bearer")
        {
            return Unauthorized("Bearer", "invalid_token", "The access token is a Bearer token.");
        }

        var scope = RequiredScope(http.Request.Method, http.Request.Path.Value ?? "");
        if (!issued.Scopes.Contains(scope))
        {
            return (403, new JsonObject
            {
                ["errorCode"] = "E0000006",
                ["errorSummary"] = "You do not have permission to perform the requested action",
                ["errorLink"] = "E0000006",
                ["errorId"] = "oae" + NewValue()[..19],
                ["errorCauses"] = new JsonArray(),
            }, $"{(issued.Thumbprint is null ? "Bearer" : "DPoP")} error=\"insufficient_scope\", error_description=\"The access token provided does not contain the required scopes.\"");
        }

        return null;
    }

    /// <summary>The service app a live access token was issued to (null for an unknown or expired token).</summary>
    public EmulatorServiceApp? AppFor(string token) =>
        _tokens.TryGetValue(token, out var issued) && issued.ExpiresAt > state.Now
            ? context.Options.OktaServiceApps.FirstOrDefault(a => a.ClientId == issued.ClientId)
            : null;

    private static (int, JsonObject, string) Unauthorized(string scheme, string error, string description) =>
        (401, new JsonObject
        {
            ["errorCode"] = "E0000011",
            ["errorSummary"] = "Invalid token provided",
            ["errorLink"] = "E0000011",
            ["errorId"] = "oae" + NewValue()[..19],
            ["errorCauses"] = new JsonArray(),
        }, $"{scheme} error=\"{error}\", error_description=\"{description}\"");

    private async Task<IResult> TokenAsync(HttpContext http)
    {
        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        if (form["grant_type"] != "client_credentials")
        {
            return TokenError(400, "unsupported_grant_type", "The grant type is not supported by the authorization server.");
        }

        if (form["client_assertion_type"] != AssertionType || string.IsNullOrEmpty(form["client_assertion"]))
        {
            return TokenError(401, "invalid_client", "Client authentication failed: a client assertion (private_key_jwt) is required.");
        }

        var endpoint = context.BaseFor(http.Request) + "oauth2/v1/token";
        var (app, assertionError) = VerifyAssertion(form["client_assertion"].ToString(), endpoint);
        if (app is null)
        {
            return TokenError(401, "invalid_client", assertionError!);
        }

        var requested = form["scope"].ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (requested.Length == 0)
        {
            return TokenError(400, "invalid_scope", "The authorization server requires a scope for the client credentials grant.");
        }

        var refused = requested.Where(s => !app.GrantedScopes.Contains(s)).ToList();
        if (refused.Count > 0)
        {
            return TokenError(400, "invalid_scope", "The following scopes are not allowed: " + string.Join(", ", refused));
        }

        string? thumbprint = null;
        var proofHeader = http.Request.Headers["DPoP"].ToString();
        if (app.RequireDpop || proofHeader.Length > 0)
        {
            if (proofHeader.Length == 0)
            {
                return TokenError(400, "invalid_dpop_proof", "The DPoP proof JWT header is missing.");
            }

            var proof = VerifyProof(proofHeader, "POST", endpoint, accessToken: null, requireNonce: true);
            if (proof.NonceMissing)
            {
                http.Response.Headers["DPoP-Nonce"] = _nonce;
                return TokenError(400, "use_dpop_nonce", "Authorization server requires nonce in DPoP proof.");
            }

            if (proof.Error is not null)
            {
                return TokenError(400, "invalid_dpop_proof", proof.Error);
            }

            thumbprint = proof.Thumbprint;
        }

        var token = NewValue() + NewValue();
        _tokens[token] = new IssuedToken(app.ClientId, [.. requested], thumbprint, state.Now + TokenLifetime);
        return Results.Json(new JsonObject
        {
            ["token_type"] = thumbprint is null ? "Bearer" : "DPoP",
            ["expires_in"] = (int)TokenLifetime.TotalSeconds,
            ["access_token"] = token,
            ["scope"] = string.Join(' ', requested),
        });
    }

    private (EmulatorServiceApp? App, string? Error) VerifyAssertion(string assertion, string endpoint)
    {
        if (!TryParse(assertion, out var header, out var payload, out var input, out var signature))
        {
            return (null, "The client_assertion is not a JWT.");
        }

        var clientId = payload["iss"]?.GetValue<string>();
        var app = context.Options.OktaServiceApps.FirstOrDefault(a => a.ClientId == clientId);
        if (app is null || payload["sub"]?.GetValue<string>() != clientId)
        {
            return (null, "The client_assertion iss and sub must be the client id of a service app.");
        }

        if (header["alg"]?.GetValue<string>() != "RS256"
            || !app.PublicKey.VerifyData(Encoding.ASCII.GetBytes(input), signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
        {
            return (null, "The client_assertion signature is invalid.");
        }

        if (app.KeyId is not null && header["kid"]?.GetValue<string>() != app.KeyId)
        {
            return (null, "The client_assertion kid does not match a key of the client.");
        }

        if (payload["aud"]?.GetValue<string>() != endpoint)
        {
            return (null, "The audience claim for client_assertion must be the endpoint invoked for the request.");
        }

        var now = state.Now.ToUnixTimeSeconds();
        var exp = payload["exp"]?.GetValue<long>() ?? 0;
        var iat = payload["iat"]?.GetValue<long>() ?? now;
        if (exp <= now || exp - iat > 3600)
        {
            return (null, "The client_assertion token is expired, or lives longer than an hour.");
        }

        var jti = payload["jti"]?.GetValue<string>();
        if (string.IsNullOrEmpty(jti) || !Spend("assertion:" + clientId + ":" + jti, DateTimeOffset.FromUnixTimeSeconds(exp)))
        {
            return (null, "The client_assertion token has already been used (jti).");
        }

        return (app, null);
    }

    private (string? Thumbprint, string? Error, bool NonceMissing) VerifyProof(string proof, string method, string url, string? accessToken, bool requireNonce)
    {
        if (!TryParse(proof, out var header, out var payload, out var input, out var signature)
            || header["typ"]?.GetValue<string>() != "dpop+jwt" || header["jwk"] is not JsonObject jwk)
        {
            return (null, "The DPoP proof is not a dpop+jwt with a jwk header.", false);
        }

        if (header["alg"]?.GetValue<string>() != "ES256" || jwk["kty"]?.GetValue<string>() != "EC" || jwk["crv"]?.GetValue<string>() != "P-256")
        {
            return (null, "The DPoP proof's algorithm is not supported here (ES256 with a P-256 key).", false);
        }

        using var key = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = Base64Url.DecodeFromChars(jwk["x"]!.GetValue<string>()), Y = Base64Url.DecodeFromChars(jwk["y"]!.GetValue<string>()) },
        });
        if (!key.VerifyData(Encoding.ASCII.GetBytes(input), signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
        {
            return (null, "The DPoP proof signature is invalid.", false);
        }

        if (payload["htm"]?.GetValue<string>() != method || payload["htu"]?.GetValue<string>() != url)
        {
            return (null, "The DPoP proof's htm or htu does not match the request.", false);
        }

        var iat = DateTimeOffset.FromUnixTimeSeconds(payload["iat"]?.GetValue<long>() ?? 0);
        if ((iat - state.Now).Duration() > ProofWindow)
        {
            return (null, "The DPoP proof was issued too long ago or in the future.", false);
        }

        if (accessToken is not null && payload["ath"]?.GetValue<string>() != Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken))))
        {
            return (null, "The DPoP proof's ath does not match the access token.", false);
        }

        if (requireNonce && payload["nonce"]?.GetValue<string>() != _nonce)
        {
            return (null, null, true);
        }

        var jti = payload["jti"]?.GetValue<string>();
        if (string.IsNullOrEmpty(jti) || !Spend("proof:" + jti, iat + ProofWindow))
        {
            return (null, "The DPoP proof's jti has already been used.", false);
        }

        // RFC 7638 thumbprint of the EC key: the members in lexicographic order, no spaces.
        var canonical = $"{{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"{jwk["x"]}\",\"y\":\"{jwk["y"]}\"}}";
        return (Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(canonical))), null, false);
    }

    /// <summary>Remembers a jti until it could no longer be accepted anyway; false when it was already spent.</summary>
    private bool Spend(string id, DateTimeOffset until)
    {
        foreach (var spent in _usedIds.Where(p => p.Value < state.Now).Select(p => p.Key).ToList())
        {
            _usedIds.TryRemove(spent, out _);
        }

        return _usedIds.TryAdd(id, until);
    }

    private static string RequestUrl(HttpContext http) => $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}{http.Request.Path}";

    private static IResult TokenError(int status, string error, string description) =>
        Results.Json(new JsonObject { ["error"] = error, ["error_description"] = description }, statusCode: status);

    private static bool TryParse(string jwt, out JsonObject header, out JsonObject payload, out string input, out byte[] signature)
    {
        header = payload = new JsonObject();
        input = "";
        signature = [];
        var parts = jwt.Split('.');
        if (parts.Length != 3)
        {
            return false;
        }

        try
        {
            header = (JsonObject)JsonNode.Parse(Base64Url.DecodeFromChars(parts[0]))!;
            payload = (JsonObject)JsonNode.Parse(Base64Url.DecodeFromChars(parts[1]))!;
            signature = Base64Url.DecodeFromChars(parts[2]);
            input = parts[0] + "." + parts[1];
            return true;
        }
        catch (Exception ex) when (ex is FormatException or System.Text.Json.JsonException or InvalidCastException)
        {
            return false;
        }
    }

    private static string NewValue() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(24));

    private sealed record IssuedToken(string ClientId, HashSet<string> Scopes, string? Thumbprint, DateTimeOffset ExpiresAt);
}
