namespace Portal.Audit;

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

/// <summary>How long a tenant's audit records are kept (bounded; default 30 days).</summary>
public interface IAuditRetention
{
    TimeSpan For(string tenantId);
}
