namespace Portal.Audit;

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
