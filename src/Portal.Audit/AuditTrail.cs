using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Portal.Storage;

namespace Portal.Audit;

/// <summary>
/// The audit trail over the document store, one collection per tenant (<c>tenants/{id}/audit</c>).
/// Every raw fact of an <see cref="AuditEntry"/> is hashed, masked or truncated here, so no caller can
/// store one by mistake; every storage failure becomes <see cref="AuditUnavailableException"/>, so the
/// caller refuses the step rather than acting unaudited.
/// </summary>
internal sealed class AuditTrail(IDocumentStore store, ICallerPseudonymizer pseudonyms, IAuditRetention retention, TimeProvider clock) : IAuditTrail
{
    public const int MaxPageSize = 200;
    private const int MaxTextLength = 200;
    private const string CollectionName = "audit";

    public async Task<AuditRecord> RecordAsync(AuditEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.Outcome == AuditOutcome.Pending)
        {
            throw new ArgumentException("A finished record needs an outcome; use BeginAsync for a pending one.", nameof(entry));
        }

        return await WriteAsync(entry, cancellationToken);
    }

    public async Task<AuditRecord?> RecordOnceAsync(AuditEntry entry, string occurrenceKey, DateTimeOffset occurredAt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentException.ThrowIfNullOrEmpty(occurrenceKey);
        if (entry.Outcome == AuditOutcome.Pending)
        {
            throw new ArgumentException("A finished record needs an outcome.", nameof(entry));
        }

        // Time-ordered like every id, and the same for the same occurrence: the key is keyed-hashed, never stored.
        var at = occurredAt.ToUniversalTime();
        var record = ToRecord(entry, at) with
        {
            Id = at.UtcTicks.ToString("D19", CultureInfo.InvariantCulture) + "-" + pseudonyms.HashValue(entry.TenantId, "audit-occurrence", occurrenceKey)[..16],
        };
        var created = await GuardAsync(() => store.CreateAsync(new DocumentKey(Collection(entry.TenantId), record.Id), DocumentJson.ToDocument(record), record.ExpireAt, cancellationToken), cancellationToken);
        return created ? record : null;
    }

    public async Task<PendingAudit> BeginAsync(AuditEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var record = await WriteAsync(entry with { Outcome = AuditOutcome.Pending }, cancellationToken);
        return new PendingAudit(record.TenantId, record.Id);
    }

    public async Task CompleteAsync(PendingAudit pending, AuditOutcome outcome, string? reason, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pending);
        if (outcome == AuditOutcome.Pending)
        {
            throw new ArgumentException("A record is completed with a final outcome.", nameof(outcome));
        }

        var key = new DocumentKey(Collection(pending.TenantId), pending.RecordId);
        var completedAt = clock.GetUtcNow();
        await GuardAsync(() => store.UpdateAsync(key, current =>
        {
            if (current is null)
            {
                return DocumentMutation<bool>.Keep(false);
            }

            var record = DocumentJson.FromDocument<AuditRecord>(current.Data);
            // Append-only: only a pending record is ever changed, and only once.
            if (record.Outcome != AuditOutcome.Pending)
            {
                return DocumentMutation<bool>.Keep(false);
            }

            var completed = record with { Outcome = outcome, Reason = Text(reason) ?? record.Reason, CompletedAt = completedAt };
            return DocumentMutation<bool>.Write(DocumentJson.ToDocument(completed), current.ExpireAt, true);
        }, cancellationToken), cancellationToken);
    }

    public async Task<AuditPage> QueryAsync(string tenantId, AuditQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var pageSize = Math.Clamp(query.PageSize, 1, MaxPageSize);
        var filters = new List<FieldFilter>();
        if (query.From is { } from)
        {
            filters.Add(new("at", FilterOperator.GreaterThanOrEqual, from));
        }

        if (query.To is { } to)
        {
            filters.Add(new("at", FilterOperator.LessThanOrEqual, to));
        }

        if (!string.IsNullOrEmpty(query.Action))
        {
            filters.Add(new("action", FilterOperator.Equal, query.Action));
        }

        if (query.Outcome is { } outcome)
        {
            filters.Add(new("outcome", FilterOperator.Equal, JsonNamingPolicy.CamelCase.ConvertName(outcome.ToString())));
        }

        if (!string.IsNullOrEmpty(query.AgentSubjectId))
        {
            filters.Add(new("agent.subjectId", FilterOperator.Equal, query.AgentSubjectId));
        }

        if (!string.IsNullOrEmpty(query.CallerIdHash))
        {
            filters.Add(new("caller.idHash", FilterOperator.Equal, query.CallerIdHash));
        }

        var documentQuery = new DocumentQuery(Collection(tenantId))
        {
            Filters = filters,
            OrderBy = new FieldOrder("at", Descending: true),
            // One more than a page tells whether there is a next page without an empty last one.
            Limit = pageSize + 1,
            StartAfter = query.Cursor is null ? null : DecodeCursor(query.Cursor),
        };

        var records = await GuardAsync(async () =>
        {
            var found = new List<AuditRecord>();
            await foreach (var document in store.QueryAsync(documentQuery, cancellationToken))
            {
                found.Add(DocumentJson.FromDocument<AuditRecord>(document.Data));
            }

            return found;
        }, cancellationToken);

        if (records.Count <= pageSize)
        {
            return new AuditPage(records, null);
        }

        records.RemoveRange(pageSize, records.Count - pageSize);
        return new AuditPage(records, EncodeCursor(records[^1]));
    }

    internal static string EncodeCursor(AuditRecord last) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(DocumentJson.FormatTimestamp(last.At) + "|" + last.Id));

    internal static QueryCursor DecodeCursor(string cursor)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
            var separator = text.IndexOf('|', StringComparison.Ordinal);
            var at = DateTimeOffset.ParseExact(text[..separator], DocumentJson.TimestampFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
            var id = text[(separator + 1)..];
            _ = new DocumentKey(new CollectionPath("audit"), id);
            return new QueryCursor(at, id);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            throw new ArgumentException("The audit cursor is not valid.", nameof(cursor), ex);
        }
    }

    private async Task<AuditRecord> WriteAsync(AuditEntry entry, CancellationToken cancellationToken)
    {
        var collection = Collection(entry.TenantId);
        var record = ToRecord(entry, clock.GetUtcNow());
        var document = DocumentJson.ToDocument(record);
        var created = await GuardAsync(() => store.CreateAsync(new DocumentKey(collection, record.Id), document, record.ExpireAt, cancellationToken), cancellationToken);
        if (!created)
        {
            // Ids carry 64 random bits: a collision is a fault of the store, and the record must not be lost silently.
            throw new AuditUnavailableException("The audit record could not be written: its id was already taken.");
        }

        return record;
    }

    private AuditRecord ToRecord(AuditEntry entry, DateTimeOffset at)
    {
        var days = Math.Clamp(retention.For(entry.TenantId).TotalDays, AuditOptions.MinRetentionDays, AuditOptions.MaxRetentionDays);
        var hasCaller = !string.IsNullOrEmpty(entry.CallerId) || !string.IsNullOrEmpty(entry.CallerLogin) || !string.IsNullOrEmpty(entry.CallerIdHash);
        return new AuditRecord
        {
            Id = NewId(at),
            TenantId = entry.TenantId,
            At = at,
            Action = Text(entry.Action) ?? "unknown",
            Outcome = entry.Outcome,
            Reason = Text(entry.Reason),
            Agent = new AuditAgent(Text(entry.AgentSubjectId) ?? "", PiiMask.Email(entry.AgentLogin)),
            Caller = hasCaller
                ? new AuditCaller(string.IsNullOrEmpty(entry.CallerId) ? Pseudonym(entry.CallerIdHash) : pseudonyms.HashCallerId(entry.TenantId, entry.CallerId), PiiMask.Email(entry.CallerLogin))
                : null,
            Method = Text(entry.Method),
            TicketRef = TicketRef.Sanitise(entry.TicketRef),
            RequestId = Text(entry.RequestId),
            TraceId = Text(entry.TraceId),
            ClientNet = ClientNetwork.Truncate(entry.ClientAddress),
            UaFamily = string.IsNullOrWhiteSpace(entry.UserAgent) ? null : UserAgentFamily.Of(entry.UserAgent),
            ExpireAt = at.AddDays(days),
        };
    }

    /// <summary>A pseudonym given as such: 64 lowercase hex digits, or nothing.</summary>
    private static string Pseudonym(string? idHash) =>
        idHash is { Length: 64 } && idHash.All(char.IsAsciiHexDigitLower) ? idHash : "";

    /// <summary>Time-ordered (fixed-width UTC ticks) so ids sort as records do, plus random bits so two records in one tick never collide.</summary>
    internal static string NewId(DateTimeOffset at) =>
        at.UtcTicks.ToString("D19", CultureInfo.InvariantCulture) + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    /// <summary>The shape <see cref="NewId"/> produces: 19 digits, a dash, 16 lowercase hex digits.</summary>
    internal static bool IsWellFormedId(string? id) =>
        id is { Length: 36 } && id[19] == '-' && id.AsSpan(0, 19).IndexOfAnyExceptInRange('0', '9') < 0 && id[20..].All(char.IsAsciiHexDigitLower);

    private static CollectionPath Collection(string tenantId) => CollectionPath.ForTenant(tenantId, CollectionName);

    private static string? Text(string? value) =>
        string.IsNullOrEmpty(value) ? null : value.Length <= MaxTextLength ? value : value[..MaxTextLength];

    private static async Task<T> GuardAsync<T>(Func<Task<T>> operation, CancellationToken cancellationToken)
    {
        try
        {
            return await operation();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is not AuditUnavailableException)
        {
            // Fail closed: whatever went wrong below, the caller learns only that the trail is unavailable.
            throw new AuditUnavailableException("The audit store is unavailable.", ex);
        }
    }
}
