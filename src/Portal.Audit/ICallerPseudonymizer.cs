namespace Portal.Audit;

/// <summary>
/// Stable, non-reversible pseudonyms for callers: HMAC-SHA256 with a per-tenant key derived from the
/// portal's pseudonymisation secret. The same caller gets the same pseudonym within a tenant and an
/// unrelated one in another tenant.
/// </summary>
public interface ICallerPseudonymizer
{
    /// <summary>The pseudonym of a caller's IdP id within a tenant (lowercase hex).</summary>
    string HashCallerId(string tenantId, string callerId);

    /// <summary>A keyed hash for any other value that must be matched but not kept (e.g. a used TOTP code).</summary>
    string HashValue(string tenantId, string purpose, string value);
}
