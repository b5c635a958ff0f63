using Portal.Idp;

namespace Portal.Web.Tenancy;

/// <summary>
/// A tenant's step-up sign-in (section <c>Portal:Tenants:N:StepUp</c>): the OIDC app the caller signs in to with
/// fresh MFA (<c>oidc.stepup</c>). Empty <see cref="Authority"/> = not offered. The supported method for Entra,
/// a fallback for Okta.
/// </summary>
public sealed class StepUpSettings
{
    /// <summary>The issuer callers sign in at (Entra: <c>https://login.microsoftonline.com/{tenantId}/v2.0</c>).</summary>
    public string Authority { get; set; } = "";

    public string ClientId { get; set; } = "";

    /// <summary>Reference to the client secret (<c>env:NAME</c> or <c>file:/path</c>).</summary>
    public string ClientSecretSecret { get; set; } = "";

    /// <summary>The token's <c>amr</c> must hold one of these; empty (with no <see cref="RequiredAcrs"/>) means ["mfa"].</summary>
    public List<string> RequiredAmr { get; set; } = [];

    /// <summary>
    /// Conditional Access authentication context ids (e.g. <c>c1</c>) the sign-in must satisfy; asked for through the
    /// <c>claims</c> parameter and accepted in the token's <c>acrs</c>. Entra's v2.0 ID tokens carry no <c>amr</c>,
    /// so an Entra tenant sets this.
    /// </summary>
    public List<string> RequiredAcrs { get; set; } = [];

    /// <summary>The claim that names the caller: <c>sub</c> (Okta) or <c>oid</c> (Entra, whose <c>sub</c> is per app). Empty = by IdP kind.</summary>
    public string SubjectClaim { get; set; } = "";

    public bool IsConfigured => !string.IsNullOrWhiteSpace(Authority);

    public IReadOnlyList<string> EffectiveRequiredAmr => RequiredAmr.Count == 0 && RequiredAcrs.Count == 0 ? ["mfa"] : RequiredAmr;

    public string EffectiveSubjectClaim(IdpKind kind) =>
        !string.IsNullOrWhiteSpace(SubjectClaim) ? SubjectClaim : kind == IdpKind.Entra ? "oid" : "sub";

    internal static void Validate(TenantSettings tenant, string at, List<string> failures, Action<List<string>, string, string> checkUrl, Action<List<string>, string, string> checkSecret)
    {
        var s = tenant.StepUp;
        if (!s.IsConfigured)
        {
            return;
        }

        checkUrl(failures, $"{at}:StepUp:Authority", s.Authority);
        if (string.IsNullOrWhiteSpace(s.ClientId))
        {
            failures.Add($"{at}:StepUp:ClientId must be set.");
        }

        checkSecret(failures, $"{at}:StepUp:ClientSecretSecret", s.ClientSecretSecret);
        if (s.SubjectClaim is not ("" or "sub" or "oid"))
        {
            failures.Add($"{at}:StepUp:SubjectClaim must be 'sub' or 'oid'.");
        }

        if (tenant.Idp.Kind == IdpKind.Entra && s.SubjectClaim == "sub")
        {
            // Entra's sub is pairwise per application: it never equals the object id the directory returns.
            failures.Add($"{at}:StepUp:SubjectClaim must be 'oid' for an Entra tenant.");
        }

        if (s.RequiredAmr.Concat(s.RequiredAcrs).Any(string.IsNullOrWhiteSpace))
        {
            failures.Add($"{at}:StepUp:RequiredAmr and RequiredAcrs must not hold empty values.");
        }
    }
}
