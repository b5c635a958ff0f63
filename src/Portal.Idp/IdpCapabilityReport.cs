namespace Portal.Idp;

/// <summary>
/// What the portal asks of an IdP, by kind of call rather than by IdP API, so that the console can say which
/// of a tenant's actions its credential can really perform (the onboarding check, "Test connection").
/// </summary>
public enum IdpOperation
{
    /// <summary>Find and read callers (Okta <c>okta.users.read</c>; Graph <c>User.Read.All</c>).</summary>
    ReadUsers,

    /// <summary>Challenge a caller's factor: push or TOTP (Okta <c>okta.users.manage</c>).</summary>
    VerifyFactors,

    /// <summary>Read admin roles, to recognise a privileged target (Okta <c>okta.roles.read</c>).</summary>
    ReadRoles,

    ResetPassword,
    RevokeSessions,
    Unlock,
    ResetFactors,

    /// <summary>Okta temporary access code / Entra Temporary Access Pass.</summary>
    IssueTemporaryAccess,

    /// <summary>
    /// Read the IdP's own audit log, for reconciliation (Okta <c>okta.logs.read</c>; Graph <c>AuditLog.Read.All</c>).
    /// Checked only for a tenant whose reconciliation is on (<see cref="IdpConnection.ReadsAuditLog"/>).
    /// </summary>
    ReadAuditLog,
}

/// <summary>Whether one check of the onboarding report passed.</summary>
public enum CapabilityState
{
    /// <summary>Proved: a harmless read succeeded, or the granted scopes/permissions include what is needed.</summary>
    Available,

    /// <summary>Proved missing: the IdP refused, or the credential does not carry what is needed.</summary>
    Unavailable,

    /// <summary>Could not be told (the IdP did not answer, or the check is not implemented for this IdP).</summary>
    Unknown,
}

/// <summary>
/// One line of the onboarding report. <see cref="Name"/> is a stable token (e.g. <c>credentials</c>,
/// <c>canonical_host</c>, <c>scope:okta.users.read</c>, <c>tac</c>); <see cref="Detail"/> is a sentence for a
/// tenant administrator. Neither carries a secret, a token or a person's data: the report is audited.
/// </summary>
public sealed record CapabilityCheck(string Name, CapabilityState State, string Detail);

/// <summary>Whether the credential can perform one <see cref="IdpOperation"/>, and if not, why (for the console).</summary>
public sealed record OperationCapability(IdpOperation Operation, CapabilityState State, string? Reason);

/// <summary>
/// The result of the onboarding check of one tenant's IdP connection: the org's canonical address, whether the
/// credential works, what it may do, and (for Okta) whether temporary access codes are available. Filled by
/// each IdP adapter; the console offers only the actions whose operations are <see cref="CapabilityState.Available"/>
/// or <see cref="CapabilityState.Unknown"/> (an unknown is not hidden: the IdP's answer decides at the time).
/// </summary>
public sealed record IdpCapabilityReport(
    IdpKind Kind,
    DateTimeOffset CheckedAt,
    Uri? CanonicalBaseUrl,
    IReadOnlyList<CapabilityCheck> Checks,
    IReadOnlyList<OperationCapability> Operations)
{
    /// <summary>Whether the credential was accepted at all.</summary>
    public CapabilityState Credentials => Checks.FirstOrDefault(c => c.Name == CredentialsCheck)?.State ?? CapabilityState.Unknown;

    public const string CredentialsCheck = "credentials";
    public const string CanonicalHostCheck = "canonical_host";

    /// <summary>The state of one operation; <see cref="CapabilityState.Unknown"/> when the report does not say.</summary>
    public OperationCapability For(IdpOperation operation) =>
        Operations.FirstOrDefault(o => o.Operation == operation) ?? new OperationCapability(operation, CapabilityState.Unknown, "not checked");

    /// <summary>A report for an adapter that has no onboarding check (yet): everything unknown, nothing hidden.</summary>
    public static IdpCapabilityReport NotChecked(IdpKind kind, DateTimeOffset at) =>
        new(kind, at, null, [new CapabilityCheck(CredentialsCheck, CapabilityState.Unknown, "This identity provider has no connection check.")], []);
}

/// <summary>Runs the onboarding check of one tenant's connection. Implemented by the IdP adapters.</summary>
public interface IIdpCapabilityCheck
{
    /// <summary>Never throws for an IdP that is down or refuses: the report says so.</summary>
    Task<IdpCapabilityReport> CheckAsync(CancellationToken cancellationToken = default);
}
