namespace Portal.Audit;

/// <summary>The outcome of an audited step.</summary>
public enum AuditOutcome
{
    /// <summary>Written before an IdP call; completed after it. A record left pending means the outcome is unknown.</summary>
    Pending,
    Succeeded,
    Failed,
    Denied,

    /// <summary>A security event: a rejected push, a "not me", a replayed code.</summary>
    Alarm,

    /// <summary>Part of an action happened and part did not (an MFA reset that left methods); the reason says which.</summary>
    Partial,
}

/// <summary>Who acted: the agent, by IdP subject and masked login.</summary>
public sealed record AuditAgent(string SubjectId, string MaskedLogin);

/// <summary>On whom: the caller, by HMAC'd id and masked login only.</summary>
public sealed record AuditCaller(string IdHash, string MaskedLogin);

/// <summary>
/// One audit record as stored under <c>tenants/{tenantId}/audit</c>. It holds no raw identity data:
/// ids are HMAC'd, logins masked, the client address truncated to its network (IPv4 /24, IPv6 /48),
/// the user agent reduced to its family.
/// </summary>
public sealed record AuditRecord
{
    public required string Id { get; init; }

    public required string TenantId { get; init; }

    public required DateTimeOffset At { get; init; }

    /// <summary>What happened, e.g. <c>verification.push.start</c>, <c>action.password_reset</c>, <c>access.denied</c>.</summary>
    public required string Action { get; init; }

    public required AuditOutcome Outcome { get; init; }

    /// <summary>A short machine-readable reason (e.g. <c>wrong_number</c>, <c>idp_unavailable</c>, an IdP error code).</summary>
    public string? Reason { get; init; }

    public required AuditAgent Agent { get; init; }

    public AuditCaller? Caller { get; init; }

    /// <summary>The verification method, e.g. <c>okta.push</c>.</summary>
    public string? Method { get; init; }

    /// <summary>The helpdesk ticket the agent named, reduced to safe characters.</summary>
    public string? TicketRef { get; init; }

    public string? RequestId { get; init; }

    public string? TraceId { get; init; }

    /// <summary>The client network: IPv4 /24 or IPv6 /48, never the full address.</summary>
    public string? ClientNet { get; init; }

    public string? UaFamily { get; init; }

    /// <summary>When a pending record was completed.</summary>
    public DateTimeOffset? CompletedAt { get; init; }

    public required DateTimeOffset ExpireAt { get; init; }
}
