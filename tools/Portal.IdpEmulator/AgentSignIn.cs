using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Portal.IdpEmulator;

/// <summary>
/// Agent sign-in at an authority shaped like an Okta custom authorization server (<c>/oauth2/default</c>): the "login" is
/// a picker of demo agents; the ID token carries their e-mail and groups (or, for agents that have them there only, the
/// userinfo endpoint does); a signed access token for userinfo; RP-initiated logout. Clients may authenticate with
/// <c>private_key_jwt</c>.
/// </summary>
internal sealed class AgentSignIn : IOidcSignIn, IDisposable
{
    private const string Prefix = "oauth2/default";
    private const string AccessTokenAudience = "api://default";

    private readonly EmulatorState _state;
    private readonly EmulatorContext _context;

    public AgentSignIn(EmulatorState state, EmulatorContext context)
    {
        _state = state;
        _context = context;
        Authority = new OidcAuthority(state, context, OidcAuthoritySettings.Okta(
            Prefix,
            subjectTypes: ["public"],
            scopes: ["openid", "profile", "email", "groups"],
            claims: ["iss", "aud", "sub", "iat", "exp", "auth_time", "nonce", "email", "preferred_username", "name", "groups", "amr"]) with
        {
            ExtraEndpoints = [("end_session_endpoint", Prefix + "/v1/logout"), ("userinfo_endpoint", Prefix + "/v1/userinfo")],
            AcceptsClientAssertions = true,
            IdTokenIdPrefix = "ID.",
            AccessTokenAudience = AccessTokenAudience,
        }, this);
    }

    public OidcAuthority Authority { get; }

    public IEnumerable<EmulatorClient> Clients => _context.Options.Clients;

    private string Issuer => Authority.Issuer();

    public void Dispose() => Authority.Dispose();

    public void Map(WebApplication app)
    {
        Authority.Map(app);
        app.MapGet("/" + Prefix + "/v1/logout", (HttpContext http) => Logout(http.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString())));
        app.MapMethods("/" + Prefix + "/v1/userinfo", ["GET", "POST"], (HttpContext http) => UserInfo(http.Request.Headers.Authorization.ToString()));
    }

    public IResult Show(AuthorizeRequest request)
    {
        request.Parameters.TryGetValue("login_hint", out var hint);
        var agents = _state.Agents
            .OrderByDescending(a => string.Equals(a.Email, hint, StringComparison.OrdinalIgnoreCase))
            .ToList();
        var body = new StringBuilder();
        body.Append("<h1>Emulated Okta sign-in</h1><p class=\"muted\">Pick the demo agent to sign in as.</p><ul>");
        foreach (var agent in agents)
        {
            var preselected = string.Equals(agent.Email, hint, StringComparison.OrdinalIgnoreCase);
            body.Append("<li class=\"card").Append(preselected ? " preselected" : "").Append("\">");
            body.Append("<form method=\"post\" action=\"").Append(Html.E(request.FormAction)).Append("\">");
            body.Append(request.HiddenFields);
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

    public SignInOutcome Submit(AuthorizeRequest request)
    {
        var agent = _state.Agents.FirstOrDefault(a => request.Parameters.TryGetValue("agent", out var sub) && a.Subject == sub);
        if (agent is null)
        {
            return SignInOutcome.Answer(Html.Result(Html.Page("Sign-in error", "<h1>Unknown agent</h1>"), 400));
        }

        var claims = new Dictionary<string, object>
        {
            ["sub"] = agent.Subject,
            ["auth_time"] = _state.Now.ToUnixTimeSeconds(),
            ["name"] = agent.Name,
            ["amr"] = agent.Amr.ToArray(),
            ["ver"] = 1,
        };
        if (!agent.ClaimsInUserInfoOnly)
        {
            claims["email"] = agent.Email;
            claims["preferred_username"] = agent.Email;
            claims["groups"] = agent.Groups.ToArray();
        }

        return SignInOutcome.SignedIn(claims, new Dictionary<string, object> { ["sub"] = agent.Email, ["uid"] = agent.Subject });
    }

    /// <summary>The standard claims of the agent the access token was issued for; groups only with the groups scope.</summary>
    private IResult UserInfo(string authorization)
    {
        const string Scheme = "Bearer ";
        var handler = new JsonWebTokenHandler();
        var result = authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase)
            ? handler.ValidateTokenAsync(authorization[Scheme.Length..].Trim(), new TokenValidationParameters
            {
                ValidIssuer = Issuer,
                ValidAudience = AccessTokenAudience,
                IssuerSigningKey = Authority.SigningKey,
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
            body["groups"] = OidcAuthority.Array([.. agent.Groups]);
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
            ValidIssuer = Issuer,
            ValidAudiences = Clients.Select(c => c.ClientId),
            IssuerSigningKey = Authority.SigningKey,
            ValidateLifetime = false,
        }).GetAwaiter().GetResult().IsValid;
        if (!valid)
        {
            return Html.Result(Html.Page("Sign-out error", "<h1>Invalid id_token_hint</h1><p>The logout request must carry an ID token this provider issued.</p>"), 400);
        }

        _state.CountAgentLogout();
        var target = query.GetValueOrDefault("post_logout_redirect_uri");
        if (OidcAuthority.IsLoopbackRedirect(target))
        {
            var state = query.GetValueOrDefault("state");
            return Results.Redirect(state is null ? target! : QueryHelpers.AddQueryString(target!, "state", state));
        }

        return Html.Result(Html.Page("Signed out", "<h1>Signed out</h1><p>You are signed out of the emulated IdP.</p>"));
    }
}
