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

/// <summary>
/// Raw facts about a step, as the web layer knows them. <see cref="IAuditTrail"/> masks, hashes and
/// truncates them before anything is stored, so that no caller of the trail can forget to.
/// </summary>
public sealed record AuditEntry
{
    public required string TenantId { get; init; }

    public required string Action { get; init; }

    public required AuditOutcome Outcome { get; init; }

    public string? Reason { get; init; }

    public required string AgentSubjectId { get; init; }

    /// <summary>The agent's login (e-mail); stored masked.</summary>
    public required string AgentLogin { get; init; }

    /// <summary>The caller's IdP id; stored as an HMAC.</summary>
    public string? CallerId { get; init; }

    /// <summary>The caller's login; stored masked.</summary>
    public string? CallerLogin { get; init; }

    /// <summary>
    /// The caller's pseudonym, for a writer that holds only that (an approval decision names the caller by the
    /// request's pseudonym): stored when <see cref="CallerId"/> is not given and it has the pseudonym's form (64
    /// lowercase hex digits), so that nothing else can be smuggled in under its name. Puts the record on the caller's
    /// timeline.
    /// </summary>
    public string? CallerIdHash { get; init; }

    public string? Method { get; init; }

    public string? TicketRef { get; init; }

    public string? RequestId { get; init; }

    public string? TraceId { get; init; }

    /// <summary>The full client address; stored truncated to its network.</summary>
    public string? ClientAddress { get; init; }

    /// <summary>The full User-Agent header; stored as its family.</summary>
    public string? UserAgent { get; init; }
}

/// <summary>A record written before an IdP call, to be completed after it.</summary>
public sealed record PendingAudit(string TenantId, string RecordId);

/// <summary>The audit store could not be written: the step that needed it must not happen (fail closed).</summary>
public sealed class AuditUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A page of audit records, newest first, and the cursor for the next page.</summary>
public sealed record AuditPage(IReadOnlyList<AuditRecord> Records, string? NextCursor);

/// <summary>A tenant-scoped audit query.</summary>
public sealed record AuditQuery
{
    public DateTimeOffset? From { get; init; }

    public DateTimeOffset? To { get; init; }

    public string? Action { get; init; }

    public AuditOutcome? Outcome { get; init; }

    public string? AgentSubjectId { get; init; }

    public string? CallerIdHash { get; init; }

    public int PageSize { get; init; } = 50;

    public string? Cursor { get; init; }
}

/// <summary>
/// The audit trail. Every sensitive step goes through it; a sensitive IdP action calls
/// <see cref="BeginAsync"/> before the IdP and <see cref="CompleteAsync"/> after (docs/security-requirements.md D3).
/// Records are append-only: the only update is the completion of a pending record.
/// </summary>
public interface IAuditTrail
{
    /// <summary>Writes a finished record. Throws <see cref="AuditUnavailableException"/> when the store cannot be written.</summary>
    Task<AuditRecord> RecordAsync(AuditEntry entry, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes a finished record of something that happened elsewhere, once: <paramref name="occurrenceKey"/> (e.g. the
    /// IdP's id of a log event) decides the record's id, so a second write of the same occurrence, by this instance or
    /// another, writes nothing and returns null. The record is dated <paramref name="occurredAt"/>, not now.
    /// Throws <see cref="AuditUnavailableException"/> when the store cannot be written.
    /// </summary>
    Task<AuditRecord?> RecordOnceAsync(AuditEntry entry, string occurrenceKey, DateTimeOffset occurredAt, CancellationToken cancellationToken = default);

    /// <summary>Writes a pending record before an IdP call. Throws <see cref="AuditUnavailableException"/> when it cannot: the call must not be made.</summary>
    Task<PendingAudit> BeginAsync(AuditEntry entry, CancellationToken cancellationToken = default);

    /// <summary>Completes a pending record with the outcome of the IdP call. A record that is not pending is left as it is.</summary>
    Task CompleteAsync(PendingAudit pending, AuditOutcome outcome, string? reason, CancellationToken cancellationToken = default);

    /// <summary>Reads one tenant's records, newest first.</summary>
    Task<AuditPage> QueryAsync(string tenantId, AuditQuery query, CancellationToken cancellationToken = default);
}

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

/// <summary>How long a tenant's audit records are kept (bounded; default 30 days).</summary>
public interface IAuditRetention
{
    TimeSpan For(string tenantId);
}
