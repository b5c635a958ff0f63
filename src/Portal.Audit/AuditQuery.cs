namespace Portal.Audit;

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

/// <summary>A page of audit records, newest first, and the cursor for the next page.</summary>
public sealed record AuditPage(IReadOnlyList<AuditRecord> Records, string? NextCursor);
