using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Portal.IdpEmulator;

/// <summary>
/// An OIDC provider for agent sign-in shaped like an Okta custom authorization server: code flow only,
/// PKCE S256 required, single-use codes, RS256 ID tokens. The "login" is a picker of demo agents.
/// </summary>
internal sealed class OidcProvider : IDisposable
{
    private const string Prefix = "/oauth2/default";
    private static readonly TimeSpan CodeLifetime = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan TokenLifetime = TimeSpan.FromHours(1);
    private static readonly string[] AuthorizeParameters =
        ["client_id", "redirect_uri", "response_type", "response_mode", "scope", "state", "nonce", "code_challenge", "code_challenge_method"];

    private readonly EmulatorState _state;
    private readonly EmulatorContext _context;
    private readonly RSA _rsa = RSA.Create(2048);
    private readonly RsaSecurityKey _key;
    private readonly ConcurrentDictionary<string, IssuedCode> _codes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _assertionIds = new(StringComparer.Ordinal);
    private const string AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

    public OidcProvider(EmulatorState state, EmulatorContext context)
    {
        _state = state;
        _context = context;
        _key = new RsaSecurityKey(_rsa) { KeyId = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(12)) };
    }

    public void Dispose() => _rsa.Dispose();

    public void Map(WebApplication app)
    {
        app.MapGet(Prefix + "/.well-known/openid-configuration", Discovery);
        app.MapGet(Prefix + "/v1/keys", Keys);
        app.MapGet(Prefix + "/v1/authorize", (HttpContext http) => Authorize(http.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString())));
        app.MapPost(Prefix + "/v1/authorize", async (HttpContext http) =>
        {
            var form = await http.Request.ReadFormAsync(http.RequestAborted);
            return Pick(form.ToDictionary(f => f.Key, f => f.Value.ToString()));
        });
        app.MapPost(Prefix + "/v1/token", async (HttpContext http) =>
        {
            var form = http.Request.HasFormContentType ? await http.Request.ReadFormAsync(http.RequestAborted) : null;
            http.Response.Headers.CacheControl = "no-store";
            http.Response.Headers.Pragma = "no-cache";
            return Token(http.Request.Headers.Authorization.ToString(), form?.ToDictionary(f => f.Key, f => f.Value.ToString()) ?? []);
        });
        app.MapGet(Prefix + "/v1/logout", (HttpContext http) => Logout(http.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString())));
        app.MapMethods(Prefix + "/v1/userinfo", ["GET", "POST"], (HttpContext http) => UserInfo(http.Request.Headers.Authorization.ToString()));
    }

    /// <summary>Only loopback http(s) redirect targets, so that the emulator can never be used to send a code off the machine.</summary>
    internal static bool IsLoopbackRedirect(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && string.IsNullOrEmpty(uri.UserInfo)
        && string.IsNullOrEmpty(uri.Fragment)
        && (uri.Host == "localhost" || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip)));

    private IResult Discovery()
    {
        var issuer = _context.Issuer;
        return Results.Text(new JsonObject
        {
            ["issuer"] = issuer,
            ["authorization_endpoint"] = issuer + "/v1/authorize",
            ["token_endpoint"] = issuer + "/v1/token",
            ["jwks_uri"] = issuer + "/v1/keys",
            ["end_session_endpoint"] = issuer + "/v1/logout",
            ["userinfo_endpoint"] = issuer + "/v1/userinfo",
            ["response_types_supported"] = Array("code"),
            ["response_modes_supported"] = Array("query", "form_post"),
            ["grant_types_supported"] = Array("authorization_code"),
            ["subject_types_supported"] = Array("public"),
            ["scopes_supported"] = Array("openid", "profile", "email", "groups"),
            ["token_endpoint_auth_methods_supported"] = Array("client_secret_basic", "client_secret_post", "private_key_jwt"),
            ["token_endpoint_auth_signing_alg_values_supported"] = Array("RS256"),
            ["id_token_signing_alg_values_supported"] = Array("RS256"),
            ["code_challenge_methods_supported"] = Array("S256"),
            ["claims_supported"] = Array("iss", "aud", "sub", "iat", "exp", "auth_time", "nonce", "email", "preferred_username", "name", "groups", "amr"),
        }.ToJsonString(), "application/json", Encoding.UTF8);
    }

    private IResult Keys()
    {
        var parameters = _rsa.ExportParameters(false);
        var jwk = new JsonObject
        {
            ["kty"] = "RSA",
            ["use"] = "sig",
            ["alg"] = "RS256",
            ["kid"] = _key.KeyId,
            ["n"] = Base64UrlEncoder.Encode(parameters.Modulus),
            ["e"] = Base64UrlEncoder.Encode(parameters.Exponent),
        };
        return Results.Text(new JsonObject { ["keys"] = new JsonArray(jwk) }.ToJsonString(), "application/json", Encoding.UTF8);
    }

    private IResult Authorize(Dictionary<string, string> query)
    {
        if (CheckRequest(query) is { } refusal)
        {
            return refusal;
        }

        query.TryGetValue("login_hint", out var hint);
        var agents = _state.Agents
            .OrderByDescending(a => string.Equals(a.Email, hint, StringComparison.OrdinalIgnoreCase))
            .ToList();
        var body = new StringBuilder();
        body.Append("<h1>Emulated Okta sign-in</h1><p class=\"muted\">Pick the demo agent to sign in as.</p><ul>");
        foreach (var agent in agents)
        {
            var preselected = string.Equals(agent.Email, hint, StringComparison.OrdinalIgnoreCase);
            body.Append("<li class=\"card").Append(preselected ? " preselected" : "").Append("\">");
            body.Append("<form method=\"post\" action=\"").Append(Html.E(Prefix + "/v1/authorize")).Append("\">");
            foreach (var name in AuthorizeParameters)
            {
                if (query.TryGetValue(name, out var value))
                {
                    body.Append(Html.Hidden(name, value));
                }
            }

            body.Append(Html.Hidden("agent", agent.Subject));
            body.Append("<button type=\"submit\"").Append(preselected ? " autofocus" : "").Append('>')
                .Append("Sign in as ").Append(Html.E(agent.Name)).Append("</button>");
            body.Append("<div>").Append(Html.E(agent.Email)).Append("</div>");
            body.Append("<div class=\"muted\">Groups: ").Append(Html.E(string.Join(", ", agent.Groups)))
                .Append(" · amr: ").Append(Html.E(string.Join(", ", agent.Amr))).Append("</div>");
            body.Append("</form></li>");
        }

        body.Append("</ul>");
        return Html.Result(Html.Page("Emulated Okta sign-in", body.ToString()));
    }

    private IResult Pick(Dictionary<string, string> form)
    {
        // The picker's fields come back from the browser: everything is checked again, nothing trusted.
        if (CheckRequest(form) is { } refusal)
        {
            return refusal;
        }

        var agent = _state.Agents.FirstOrDefault(a => form.TryGetValue("agent", out var sub) && a.Subject == sub);
        if (agent is null)
        {
            return Html.Result(Html.Page("Sign-in error", "<h1>Unknown agent</h1>"), 400);
        }

        var code = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        var now = _state.Now;
        _codes[code] = new IssuedCode(
            form["client_id"], form["redirect_uri"], form["code_challenge"], form.GetValueOrDefault("nonce"),
            form.GetValueOrDefault("scope") ?? "openid", agent, now, now + CodeLifetime);
        return Respond(form, new Dictionary<string, string?> { ["code"] = code, ["state"] = form.GetValueOrDefault("state") });
    }

    private IResult? CheckRequest(Dictionary<string, string> request)
    {
        // Client and redirect target are checked before anything is sent to the redirect target:
        // an unregistered client or a foreign URL gets an error page, never a redirect (open redirector).
        request.TryGetValue("client_id", out var clientId);
        if (!_context.Options.Clients.Any(c => c.ClientId == clientId))
        {
            return Html.Result(Html.Page("Sign-in error", "<h1>Unknown client</h1><p>The client_id is not registered with the emulator.</p>"), 400);
        }

        if (!request.TryGetValue("redirect_uri", out var redirect) || !IsLoopbackRedirect(redirect))
        {
            return Html.Result(Html.Page("Sign-in error", "<h1>Invalid redirect_uri</h1><p>The emulator only redirects to loopback http(s) addresses.</p>"), 400);
        }

        var mode = request.GetValueOrDefault("response_mode");
        if (mode is not (null or "" or "query" or "form_post"))
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
        if (string.IsNullOrEmpty(challenge) || request.GetValueOrDefault("code_challenge_method") != "S256" || challenge.Length < 43 || challenge.Length > 128)
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
            var body = new StringBuilder();
            body.Append("<h1>Returning to the application</h1>");
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

    private IResult Token(string authorization, Dictionary<string, string> form)
    {
        string? clientId = null;
        string? secret = null;
        if (authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[6..].Trim()));
                var colon = decoded.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0)
                {
                    // RFC 6749 2.3.1: both parts are form-url-encoded before being joined.
                    clientId = WebUtility.UrlDecode(decoded[..colon]);
                    secret = WebUtility.UrlDecode(decoded[(colon + 1)..]);
                }
            }
            catch (FormatException)
            {
                clientId = null;
            }
        }
        else if (form.GetValueOrDefault("client_assertion_type") == AssertionType)
        {
            var assertion = CheckAssertion(form.GetValueOrDefault("client_assertion"), form.GetValueOrDefault("client_id"));
            if (assertion.Error is { } why)
            {
                return TokenError(401, "invalid_client", why);
            }

            clientId = assertion.ClientId;
        }
        else
        {
            clientId = form.GetValueOrDefault("client_id");
            secret = form.GetValueOrDefault("client_secret");
        }

        var client = _context.Options.Clients.FirstOrDefault(c => c.ClientId == clientId);
        var authenticated = client is not null && (secret is null
            ? form.GetValueOrDefault("client_assertion_type") == AssertionType
            : CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(client.ClientSecret), Encoding.UTF8.GetBytes(secret)));
        if (!authenticated || client is null)
        {
            return TokenError(401, "invalid_client", "Client authentication failed.");
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
        if (now >= issued.ExpiresAt || issued.ClientId != client.ClientId || issued.RedirectUri != form.GetValueOrDefault("redirect_uri"))
        {
            return TokenError(400, "invalid_grant", "The authorization code is invalid, expired, or was issued to another client or redirect_uri.");
        }

        var verifier = form.GetValueOrDefault("code_verifier") ?? "";
        var computed = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        if (verifier.Length < 43 || verifier.Length > 128 || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(computed), Encoding.ASCII.GetBytes(issued.CodeChallenge)))
        {
            return TokenError(400, "invalid_grant", "PKCE verification failed.");
        }

        var agent = issued.Agent;
        var claims = new Dictionary<string, object>
        {
            ["sub"] = agent.Subject,
            ["auth_time"] = issued.AuthTime.ToUnixTimeSeconds(),
            ["name"] = agent.Name,
            ["amr"] = agent.Amr.ToArray(),
            ["ver"] = 1,
            ["jti"] = "ID." + Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16)),
        };
        if (!agent.ClaimsInUserInfoOnly)
        {
            claims["email"] = agent.Email;
            claims["preferred_username"] = agent.Email;
            claims["groups"] = agent.Groups.ToArray();
        }
        if (!string.IsNullOrEmpty(issued.Nonce))
        {
            claims["nonce"] = issued.Nonce;
        }

        var idToken = Sign(client.ClientId, now, claims, "JWT");
        var accessToken = Sign("api://default", now, new Dictionary<string, object>
        {
            ["sub"] = agent.Email,
            ["uid"] = agent.Subject,
            ["cid"] = client.ClientId,
            ["scp"] = issued.Scope.Split(' ', StringSplitOptions.RemoveEmptyEntries),
            ["jti"] = "AT." + Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16)),
        }, "JWT");
        return Results.Text(new JsonObject
        {
            ["token_type"] = "Bearer",
            ["expires_in"] = (int)TokenLifetime.TotalSeconds,
            ["access_token"] = accessToken,
            ["scope"] = issued.Scope,
            ["id_token"] = idToken,
        }.ToJsonString(), "application/json", Encoding.UTF8);
    }

    private string Sign(string audience, DateTimeOffset now, Dictionary<string, object> claims, string type)
    {
        var handler = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };
        return handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = _context.Issuer,
            Audience = audience,
            IssuedAt = now.UtcDateTime,
            Expires = (now + TokenLifetime).UtcDateTime,
            Claims = claims,
            TokenType = type,
            SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.RsaSha256),
        });
    }

    private static IResult TokenError(int status, string error, string description) =>
        Results.Text(new JsonObject { ["error"] = error, ["error_description"] = description }.ToJsonString(), "application/json", Encoding.UTF8, status);

    /// <summary>
    /// RFC 7523 client authentication: an RS256 JWT from the client (iss = sub = client_id), for this token endpoint,
    /// not expired, its <c>jti</c> never seen before, signed by the key registered for the client.
    /// </summary>
    private (string? ClientId, string? Error) CheckAssertion(string? assertion, string? formClientId)
    {
        var handler = new JsonWebTokenHandler();
        if (string.IsNullOrEmpty(assertion) || !handler.CanReadToken(assertion))
        {
            return (null, "The client_assertion is missing or not a JWT.");
        }

        var unverified = handler.ReadJsonWebToken(assertion);
        var client = _context.Options.Clients.FirstOrDefault(c => c.ClientId == unverified.Issuer && c.AssertionKey is not null);
        if (client is null || (formClientId is { Length: > 0 } && formClientId != client.ClientId))
        {
            return (null, "The client_assertion names no client registered for private_key_jwt.");
        }

        var result = handler.ValidateTokenAsync(assertion, new TokenValidationParameters
        {
            ValidIssuer = client.ClientId,
            ValidAudience = _context.Issuer + "/v1/token",
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

    /// <summary>The standard claims of the agent the access token was issued for; groups only with the groups scope.</summary>
    private IResult UserInfo(string authorization)
    {
        const string Scheme = "Bearer ";
        var handler = new JsonWebTokenHandler();
        var result = authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase)
            ? handler.ValidateTokenAsync(authorization[Scheme.Length..].Trim(), new TokenValidationParameters
            {
                ValidIssuer = _context.Issuer,
                ValidAudience = "api://default",
                IssuerSigningKey = _key,
                LifetimeValidator = (_, expires, _, _) => expires is { } e && _state.Now < e,
            }).GetAwaiter().GetResult()
            : null;
        var agent = result is { IsValid: true }
            ? _state.Agents.FirstOrDefault(a => a.Subject == ((JsonWebToken)result.SecurityToken).GetPayloadValue<string>("uid"))
            : null;
        if (agent is null)
        {
            return Results.Text(new JsonObject { ["error"] = "invalid_token", ["error_description"] = "The access token is invalid." }.ToJsonString(), "application/json", Encoding.UTF8, 401);
        }

        var scopes = ((JsonWebToken)result!.SecurityToken).Claims.Where(c => c.Type == "scp").Select(c => c.Value).ToHashSet(StringComparer.Ordinal);
        var body = new JsonObject { ["sub"] = agent.Subject, ["name"] = agent.Name };
        if (scopes.Contains("email"))
        {
            body["email"] = agent.Email;
            body["preferred_username"] = agent.Email;
        }

        if (scopes.Contains("groups"))
        {
            body["groups"] = Array([.. agent.Groups]);
        }

        return Results.Text(body.ToJsonString(), "application/json", Encoding.UTF8);
    }

    /// <summary>
    /// RP-initiated logout (Okta's <c>/v1/logout</c>): <c>id_token_hint</c> must be an ID token this OP issued (an
    /// expired one is accepted, as Okta does); only then is <c>post_logout_redirect_uri</c> followed.
    /// </summary>
    [SuppressMessage("Security", "CA5404:Do not disable token validation checks", Justification = "Okta accepts an expired id_token_hint at logout; issuer, audience and signature are still checked.")]
    private IResult Logout(Dictionary<string, string> query)
    {
        var hint = query.GetValueOrDefault("id_token_hint");
        var valid = hint is { Length: > 0 } && new JsonWebTokenHandler().ValidateTokenAsync(hint, new TokenValidationParameters
        {
            ValidIssuer = _context.Issuer,
            ValidAudiences = _context.Options.Clients.Select(c => c.ClientId),
            IssuerSigningKey = _key,
            ValidateLifetime = false,
        }).GetAwaiter().GetResult().IsValid;
        if (!valid)
        {
            return Html.Result(Html.Page("Sign-out error", "<h1>Invalid id_token_hint</h1><p>The logout request must carry an ID token this provider issued.</p>"), 400);
        }

        _state.CountAgentLogout();
        var target = query.GetValueOrDefault("post_logout_redirect_uri");
        if (IsLoopbackRedirect(target))
        {
            var state = query.GetValueOrDefault("state");
            return Results.Redirect(state is null ? target! : QueryHelpers.AddQueryString(target!, "state", state));
        }

        return Html.Result(Html.Page("Signed out", "<h1>Signed out</h1><p>You are signed out of the emulated IdP.</p>"));
    }

    private static JsonArray Array(params string[] values) => new([.. values.Select(v => (JsonNode)v)]);

    private sealed record IssuedCode(
        string ClientId, string RedirectUri, string CodeChallenge, string? Nonce, string Scope, DemoAgent Agent, DateTimeOffset AuthTime, DateTimeOffset ExpiresAt);
}
