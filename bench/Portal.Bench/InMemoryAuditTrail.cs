using System.Globalization;
using Portal.Audit;

namespace Portal.Bench;

/// <summary>
/// A read-only trail over records already in memory, paged exactly as the real trail pages (newest
/// first, at most <see cref="MaxPageSize"/> a page, an opaque cursor). It takes the store out of the
/// export benchmark, so what is measured is the exporter's own cost per record.
/// </summary>
internal sealed class InMemoryAuditTrail(AuditRecord[] records) : IAuditTrail
{
    /// <summary>The real trail's largest page (AuditTrail.MaxPageSize), which the exporter asks for.</summary>
    public const int MaxPageSize = 200;

    public Task<AuditPage> QueryAsync(string tenantId, AuditQuery query, CancellationToken cancellationToken = default)
    {
        var start = query.Cursor is null ? 0 : int.Parse(query.Cursor, NumberStyles.None, CultureInfo.InvariantCulture);
        var size = Math.Min(Math.Clamp(query.PageSize, 1, MaxPageSize), records.Length - start);
        var end = start + size;
        // A segment rather than a copy: the page costs the same few bytes whatever its size.
        var page = new ArraySegment<AuditRecord>(records, start, size);
        return Task.FromResult(new AuditPage(page, end < records.Length ? end.ToString(CultureInfo.InvariantCulture) : null));
    }

    public Task<AuditRecord> RecordAsync(AuditEntry entry, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("The export benchmark only reads.");

    public Task<AuditRecord?> RecordOnceAsync(AuditEntry entry, string occurrenceKey, DateTimeOffset occurredAt, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("The export benchmark only reads.");

    public Task<PendingAudit> BeginAsync(AuditEntry entry, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("The export benchmark only reads.");

    public Task CompleteAsync(PendingAudit pending, AuditOutcome outcome, string? reason, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("The export benchmark only reads.");
}
