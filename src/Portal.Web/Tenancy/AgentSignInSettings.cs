namespace Portal.Web.Tenancy;

public sealed class AgentSignInSettings
{
    /// <summary>Start-up checks of <c>AgentSignIn</c>, each failure naming its setting.</summary>
    internal static void Validate(TenantSettings t, string at, List<string> failures, Action<List<string>, string, string> checkUrl, Action<List<string>, string, string> checkSecret)
    {
        checkUrl(failures, $"{at}:AgentSignIn:Authority", t.AgentSignIn.Authority);
        if (string.IsNullOrWhiteSpace(t.AgentSignIn.ClientId))
        {
            failures.Add($"{at}:AgentSignIn:ClientId must be set.");
        }

        if (string.IsNullOrWhiteSpace(t.AgentSignIn.ClientAssertionKeySecret))
        {
            checkSecret(failures, $"{at}:AgentSignIn:ClientSecretSecret", t.AgentSignIn.ClientSecretSecret);
        }
        else
        {
            checkSecret(failures, $"{at}:AgentSignIn:ClientAssertionKeySecret", t.AgentSignIn.ClientAssertionKeySecret);
        }

        if (t.AgentSignIn.Scopes.Count > 0 && (!t.AgentSignIn.Scopes.Contains("openid", StringComparer.Ordinal) || t.AgentSignIn.Scopes.Any(s => string.IsNullOrWhiteSpace(s) || s.Any(c => c is ' ' or '"' or '\\' || char.IsControl(c)))))
        {
            failures.Add($"{at}:AgentSignIn:Scopes must include openid and hold single scope tokens.");
        }
        if (t.AgentSignIn.RequiredAmr.Concat(t.AgentSignIn.RequiredAcrs).Any(string.IsNullOrWhiteSpace))
        {
            failures.Add($"{at}:AgentSignIn:RequiredAmr and RequiredAcrs must not hold empty values (agent MFA is required).");
        }
    }

    /// <summary>The OIDC issuer agents sign in with (e.g. https://acme.okta.com/oauth2/default).</summary>
    public string Authority { get; set; } = "";

    public string ClientId { get; set; } = "";

    /// <summary>Reference to the client secret (<c>env:NAME</c> or <c>file:/path</c>); not needed with <see cref="ClientAssertionKeySecret"/>.</summary>
    public string ClientSecretSecret { get; set; } = "";

    /// <summary>
    /// Reference to a PEM RSA private key (2048 bits or more): the portal authenticates to the token endpoint with
    /// <c>private_key_jwt</c> (RFC 7523) instead of a client secret.
    /// </summary>
    public string ClientAssertionKeySecret { get; set; } = "";

    /// <summary>The <c>kid</c> the OP knows <see cref="ClientAssertionKeySecret"/>'s public key by (optional).</summary>
    public string? ClientAssertionKeyId { get; set; }

    /// <summary>
    /// The scopes to request; empty means <c>openid profile email</c>, plus <c>groups</c> where the authority's
    /// discovery document lists it in <c>scopes_supported</c>.
    /// </summary>
    public List<string> Scopes { get; set; } = [];

    /// <summary>An agent's token must carry one of these <c>amr</c> values (agent MFA, docs/security-requirements.md S1).</summary>
    public List<string> RequiredAmr { get; set; } = [];

    /// <summary>
    /// Or one of these Conditional Access authentication-context values in <c>acrs</c>: Entra's v2.0 ID
    /// tokens carry no <c>amr</c>, so an Entra tenant proves agent MFA with an authentication context
    /// whose Conditional Access policy requires it.
    /// </summary>
    public List<string> RequiredAcrs { get; set; } = [];

    /// <summary>
    /// The <c>amr</c> values accepted: ["mfa"] unless configured. (A list property with a default would have
    /// configured values appended to the default rather than replace it.)
    /// </summary>
    public IReadOnlyList<string> EffectiveRequiredAmr => RequiredAmr.Count == 0 && RequiredAcrs.Count == 0 ? ["mfa"] : RequiredAmr;
}
