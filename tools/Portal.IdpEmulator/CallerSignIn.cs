using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;

namespace Portal.IdpEmulator;

/// <summary>
/// Sign-in at the two authorities where callers sign in for the portal's step-up: an Okta-like one
/// (<c>/oauth2/callers</c>, <c>sub</c> = the Okta user id), and an Entra-like one (<c>/{tenantId}/v2.0</c>,
/// <c>oid</c>/<c>tid</c>/pairwise <c>sub</c>) that also signs in Entra agents (a picker, for the agent client).
/// The caller's form asks for a password and the code of their authenticator app: the right code gives <c>amr</c>
/// ["pwd","mfa","otp"], no code gives ["pwd"] (an IdP whose policy did not demand MFA), so that the portal's checks
/// meet both.
/// </summary>
internal sealed class CallerSignIn : IOidcSignIn, IDisposable
{
    private readonly EmulatorState _state;
    private readonly EmulatorContext _context;
    private readonly IdpSide _side;

    private CallerSignIn(EmulatorState state, EmulatorContext context, IdpSide side)
    {
        _state = state;
        _context = context;
        _side = side;
        string[] claims = ["iss", "aud", "sub", "oid", "tid", "iat", "exp", "auth_time", "nonce", "amr", "acrs", "groups", "roles"];
        var settings = side == IdpSide.Okta
            ? OidcAuthoritySettings.Okta("oauth2/callers", ["pairwise", "public"], ["openid", "profile", "email"], claims)
            : OidcAuthoritySettings.Entra(["pairwise", "public"], ["openid", "profile", "email"], claims) with { MapsTokenEndpoint = false };
        Authority = new OidcAuthority(state, context, settings with
        {
            ClaimsParameterSupported = true,
            IdTokenHasNotBefore = true,
            CarriedParameters = [.. settings.CarriedParameters, "prompt", "max_age", "claims"],
        }, this);
    }

    public OidcAuthority Authority { get; }

    public IEnumerable<EmulatorClient> Clients =>
        _side == IdpSide.Okta ? _context.Options.StepUpClients : _context.Options.StepUpClients.Concat(_context.Options.EntraAgentClients);

    /// <summary>Callers of the Okta org (<c>/oauth2/callers</c>).</summary>
    public static CallerSignIn Okta(EmulatorState state, EmulatorContext context) => new(state, context, IdpSide.Okta);

    /// <summary>Callers and agents of Entra directories (<c>/{tenantId}/v2.0</c>); its token endpoint is Graph's (<see cref="GraphApi"/>).</summary>
    public static CallerSignIn Entra(EmulatorState state, EmulatorContext context) => new(state, context, IdpSide.Entra);

    public void Dispose() => Authority.Dispose();

    public IResult Show(AuthorizeRequest request)
    {
        _state.RecordCallerAuthorize(new CallerAuthorizeRequest(request.Issuer, request.Parameters));
        return IsAgentClient(request.ClientId) ? AgentPicker(request) : CallerForm(request, null);
    }

    public SignInOutcome Submit(AuthorizeRequest request)
    {
        var form = request.Parameters;
        var now = _state.Now;
        Dictionary<string, object> claims;
        if (IsAgentClient(request.ClientId))
        {
            var agent = _state.EntraAgents.FirstOrDefault(a => form.TryGetValue("agent", out var oid) && a.ObjectId == oid);
            if (agent is null)
            {
                return SignInOutcome.Answer(Html.Result(Html.Page("Sign-in error", "<h1>Unknown agent</h1>"), 400));
            }

            claims = EntraSubject(agent.ObjectId, request.Tenant!, request.ClientId);
            claims["preferred_username"] = agent.UserPrincipalName;
            claims["email"] = agent.UserPrincipalName;
            claims["name"] = agent.Name;
            claims["amr"] = agent.Amr.ToArray();
            if (agent.Amr.Contains("mfa") && RequestedAcrs(form.GetValueOrDefault("claims")) is { Length: > 0 } agentAcrs)
            {
                // As for callers: an authentication context is granted only to a sign-in that did MFA.
                claims["acrs"] = agentAcrs;
            }

            if (agent.GroupIds.Count > 0)
            {
                claims["groups"] = agent.GroupIds.ToArray();
            }

            if (agent.Roles.Count > 0)
            {
                claims["roles"] = agent.Roles.ToArray();
            }
        }
        else
        {
            var username = form.GetValueOrDefault("username")?.Trim() ?? "";
            var password = form.GetValueOrDefault("password") ?? "";
            var otp = form.GetValueOrDefault("otp")?.Trim() ?? "";
            string? subjectId = null;
            var check = TotpCheck.Invalid;
            if (_side == IdpSide.Okta && _state.FindCaller(username) is { } caller)
            {
                subjectId = caller.Id;
                var factor = caller.Factors.FirstOrDefault(f => f.FactorType == EmulatorState.TotpType && f.Status == "ACTIVE" && f.Secret is not null);
                check = otp.Length == 0 || factor is null ? TotpCheck.Invalid : _state.VerifyTotp(factor, otp);
            }
            else if (_side == IdpSide.Entra && _state.FindEntraUser(username) is { } user)
            {
                subjectId = user.Id;
                check = otp.Length == 0 ? TotpCheck.Invalid : _state.VerifyEntraTotp(user, otp);
            }

            if (subjectId is null || password.Length == 0 || (otp.Length > 0 && check != TotpCheck.Success))
            {
                return SignInOutcome.Answer(CallerForm(request, "The user name, password or code is not right."));
            }

            claims = _side == IdpSide.Okta ? new Dictionary<string, object> { ["sub"] = subjectId } : EntraSubject(subjectId, request.Tenant!, request.ClientId);

            // Without a code the sign-in is password-only: a tenant whose IdP policy does not demand MFA.
            var mfa = otp.Length > 0;
            claims["amr"] = mfa ? new[] { "pwd", "mfa", "otp" } : new[] { "pwd" };
            if (mfa && RequestedAcrs(form.GetValueOrDefault("claims")) is { Length: > 0 } acrs)
            {
                // A Conditional Access authentication context is satisfied only by a sign-in that did MFA.
                claims["acrs"] = acrs;
            }
        }

        // prompt=login and max_age=0 are honoured by always showing the form: the authentication is now.
        claims["auth_time"] = now.ToUnixTimeSeconds();
        if (!IsAgentClient(request.ClientId) && _state.TakeCallerOverrides() is { } overrides)
        {
            Apply(claims, overrides, _side);
        }

        return SignInOutcome.SignedIn(claims);
    }

    private static void Apply(Dictionary<string, object> claims, CallerTokenOverrides overrides, IdpSide side)
    {
        if (overrides.Subject is not null)
        {
            claims[side == IdpSide.Okta ? "sub" : "oid"] = overrides.Subject;
        }

        if (overrides.Amr is not null)
        {
            claims["amr"] = overrides.Amr.ToArray();
        }

        if (overrides.Acrs is not null)
        {
            claims["acrs"] = overrides.Acrs.ToArray();
        }

        if (overrides.AuthTime is { } authTime)
        {
            claims["auth_time"] = authTime.ToUnixTimeSeconds();
        }

        if (overrides.OmitAmr)
        {
            claims.Remove("amr");
        }

        if (overrides.OmitAuthTime)
        {
            claims.Remove("auth_time");
        }
    }

    private static Dictionary<string, object> EntraSubject(string objectId, string tenant, string clientId) => new()
    {
        // Entra's sub is pairwise (per app); the stable id of the user across apps is oid.
        ["sub"] = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(objectId + "/" + clientId))),
        ["oid"] = objectId,
        ["tid"] = tenant,
        ["ver"] = "2.0",
    };

    /// <summary>The <c>acrs</c> values the request's <c>claims</c> parameter asks for ({"id_token":{"acrs":{"essential":true,"value(s)":…}}}).</summary>
    private static string[] RequestedAcrs(string? claimsParameter)
    {
        if (string.IsNullOrEmpty(claimsParameter))
        {
            return [];
        }

        try
        {
            var acrs = JsonNode.Parse(claimsParameter)?["id_token"]?["acrs"];
            if (acrs?["values"] is JsonArray values)
            {
                return [.. values.Select(v => v?.GetValue<string>()).OfType<string>()];
            }

            return acrs?["value"]?.GetValue<string>() is { } one ? [one] : [];
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or InvalidOperationException)
        {
            return [];
        }
    }

    private bool IsAgentClient(string clientId) =>
        _side == IdpSide.Entra && _context.Options.EntraAgentClients.Any(c => c.ClientId == clientId);

    private IResult AgentPicker(AuthorizeRequest request)
    {
        var body = new StringBuilder("<h1>Emulated Microsoft Entra sign-in</h1><p class=\"muted\">Pick the demo agent to sign in as.</p><ul>");
        foreach (var agent in _state.EntraAgents)
        {
            body.Append("<li class=\"card\"><form method=\"post\" action=\"").Append(Html.E(request.FormAction)).Append("\">");
            body.Append(request.HiddenFields);
            body.Append(Html.Hidden("agent", agent.ObjectId));
            body.Append("<button type=\"submit\">Sign in as ").Append(Html.E(agent.Name)).Append("</button>");
            body.Append("<div>").Append(Html.E(agent.UserPrincipalName)).Append("</div>");
            body.Append("<div class=\"muted\">Groups: ").Append(Html.E(string.Join(", ", agent.GroupIds)))
                .Append(" · roles: ").Append(Html.E(string.Join(", ", agent.Roles)))
                .Append(" · amr: ").Append(Html.E(string.Join(", ", agent.Amr))).Append("</div>");
            body.Append("</form></li>");
        }

        body.Append("</ul>");
        return Html.Result(Html.Page("Emulated Entra sign-in", body.ToString()));
    }

    private IResult CallerForm(AuthorizeRequest request, string? error)
    {
        var title = _side == IdpSide.Okta ? "Emulated Okta sign-in" : "Emulated Microsoft Entra sign-in";
        var body = new StringBuilder();
        body.Append("<h1>").Append(Html.E(title)).Append("</h1>");
        body.Append("<p class=\"muted\">Sign in with your own account. The code is on your phone's authenticator app (the caller's phone page).</p>");
        if (error is not null)
        {
            body.Append("<p class=\"card\" role=\"alert\">").Append(Html.E(error)).Append("</p>");
        }

        body.Append("<form method=\"post\" action=\"").Append(Html.E(request.FormAction)).Append("\" class=\"card\">");
        body.Append(request.HiddenFields);
        body.Append("<p><label for=\"username\">User name</label><br><input id=\"username\" name=\"username\" autocomplete=\"username\" required></p>");
        body.Append("<p><label for=\"password\">Password (any, in the demo)</label><br><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required></p>");
        body.Append("<p><label for=\"otp\">Code from the authenticator app</label><br><input id=\"otp\" name=\"otp\" inputmode=\"numeric\" autocomplete=\"one-time-code\"></p>");
        body.Append("<p class=\"muted\">Leave the code empty to sign in with the password only (as an IdP that does not demand MFA would).</p>");
        body.Append("<button type=\"submit\">Sign in</button></form>");
        return Html.Result(Html.Page(title, body.ToString()), error is null ? 200 : 400);
    }
}
