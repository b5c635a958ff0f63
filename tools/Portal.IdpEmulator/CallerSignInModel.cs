namespace Portal.IdpEmulator;

/// <summary>Fixed ids of the demo Entra directory, so that settings and tests can name them.</summary>
public static class EntraDemo
{
    /// <summary>The demo directory (tenant) id.</summary>
    public const string TenantId = "5c7e3a1f-2b4d-4f6a-8e9c-0d1b2a3c4e5f";

    /// <summary>Security group object ids, as Entra puts them in the <c>groups</c> claim.</summary>
    public const string Tier1GroupId = "a1f0c3d2-1111-4a5b-9c8d-000000000001";

    public const string Tier2GroupId = "a1f0c3d2-2222-4a5b-9c8d-000000000002";

    public const string Tier3GroupId = "a1f0c3d2-3333-4a5b-9c8d-000000000003";

    public const string AuditorsGroupId = "a1f0c3d2-4444-4a5b-9c8d-000000000004";

    /// <summary>An app role value, as Entra puts it in the <c>roles</c> claim.</summary>
    public const string Tier3Role = "Helpdesk.Tier3";
}

/// <summary>An agent of the demo Entra directory offered by the Entra sign-in picker.</summary>
public sealed record EntraAgent(
    string ObjectId, string UserPrincipalName, string Name, IReadOnlyList<string> GroupIds, IReadOnlyList<string> Roles, IReadOnlyList<string> Amr);

/// <summary>
/// A test hook: the next ID token issued after a caller sign-in (either caller authority) carries these values
/// instead of the true ones, so that tests can prove the portal refuses a wrong subject, an old
/// <c>auth_time</c> or a missing MFA claim. Null leaves a claim as it is; the Omit flags drop it.
/// </summary>
public sealed record CallerTokenOverrides
{
    public string? Subject { get; init; }

    public IReadOnlyList<string>? Amr { get; init; }

    public IReadOnlyList<string>? Acrs { get; init; }

    public DateTimeOffset? AuthTime { get; init; }

    public bool OmitAmr { get; init; }

    public bool OmitAuthTime { get; init; }
}

/// <summary>An authorize request the caller sign-in received, so that tests can check what the portal asked for.</summary>
public sealed record CallerAuthorizeRequest(string Authority, IReadOnlyDictionary<string, string> Parameters);
