namespace Portal.Web.Tenancy;

public sealed class AgentSignInSettings
{
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
