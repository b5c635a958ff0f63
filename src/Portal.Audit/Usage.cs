using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Portal.Storage;

namespace Portal.Audit;

/// <summary>
/// One tenant's billing usage for one calendar month (UTC), stored at <c>tenants/{t}/usage/{yyyy-MM}</c>.
/// It counts; it names no one: unique callers are counted by a keyed hash kept in separate documents.
/// </summary>
public sealed record UsageMonth
{
    public required string TenantId { get; init; }

    /// <summary>The month, <c>yyyy-MM</c>.</summary>
    public required string Month { get; init; }

    /// <summary>Verifications by method (e.g. <c>okta.push</c>) and outcome (e.g. <c>succeeded</c>).</summary>
    public Dictionary<string, Dictionary<string, long>> Verifications { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Actions by type (e.g. <c>password_reset</c>) and outcome.</summary>
    public Dictionary<string, Dictionary<string, long>> Actions { get; init; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Account actions done outside the portal, by kind (e.g. <c>password_reset</c>), as reconciliation found them in the
    /// IdP's log that month (docs/audit.md). Not billed: not part of <see cref="TotalActions"/>.
    /// </summary>
    public Dictionary<string, long> OutsideActions { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Verifications per day of the month (<c>01</c>…<c>31</c>), every outcome.</summary>
    public Dictionary<string, long> VerificationsPerDay { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Distinct callers with at least one successful verification this month.</summary>
    public long UniqueVerifiedCallers { get; init; }

    public DateTimeOffset? UpdatedAt { get; init; }

    public long TotalVerifications => Verifications.Values.Sum(o => o.Values.Sum());

    public long TotalActions => Actions.Values.Sum(o => o.Values.Sum());
}

/// <summary>
/// Records billable events as they complete. Metering never stands in the way of the helpdesk: a failure
/// to count is logged and swallowed, the verification or action it describes has already happened.
/// </summary>
public interface IUsageMeter
{
    /// <summary>Counts a verification; a successful one also counts its caller once per month (by keyed hash, never the id).</summary>
    Task RecordVerificationAsync(string tenantId, string method, AuditOutcome outcome, string? callerId, CancellationToken cancellationToken = default);

    /// <summary>Counts an action on a caller's account (e.g. <c>password_reset</c>).</summary>
    Task RecordActionAsync(string tenantId, string action, AuditOutcome outcome, CancellationToken cancellationToken = default);

    /// <summary>Counts an account action done outside the portal, in the month it happened (not billed).</summary>
    Task RecordOutsideActionAsync(string tenantId, string kind, DateTimeOffset happenedAt, CancellationToken cancellationToken = default);
}

/// <summary>Reads a tenant's usage for the usage page and billing.</summary>
public interface IUsageReport
{
    /// <summary>The month's usage; an empty one when nothing was recorded (or it has expired).</summary>
    Task<UsageMonth> GetMonthAsync(string tenantId, int year, int month, CancellationToken cancellationToken = default);
}

internal sealed partial class UsageMeter(IDocumentStore store, ICallerPseudonymizer pseudonyms, TimeProvider clock, ILogger<UsageMeter> logger) : IUsageMeter, IUsageReport
{
    /// <summary>Billing records are kept three years after the month they bill (docs/security-requirements.md D4).</summary>
    public const int RetentionYears = 3;

    internal const string UsageCollection = "usage";
    internal const string CallersCollection = "usageCallers";

    // Pseudonyms for billing are keyed apart from the audit trail's, so three years of usage cannot be
    // joined to audit records by caller once the audit has expired.
    internal const string CallerPurpose = "usage-caller";

    public async Task RecordVerificationAsync(string tenantId, string method, AuditOutcome outcome, string? callerId, CancellationToken cancellationToken = default)
    {
        try
        {
            var now = clock.GetUtcNow();
            var month = MonthKey(now);
            var expireAt = ExpiryOf(now);
            var newCaller = false;
            if (outcome == AuditOutcome.Succeeded && !string.IsNullOrEmpty(callerId))
            {
                var hash = pseudonyms.HashValue(tenantId, CallerPurpose, callerId);
                var marker = new DocumentKey(CollectionPath.ForTenant(tenantId, CallersCollection), month + "-" + hash);

                // CreateAsync succeeds for exactly one request per caller and month, on any instance: the count is exact.
                newCaller = await store.CreateAsync(marker, new() { ["month"] = month, ["callerHash"] = hash }, expireAt, cancellationToken);
            }

            var methodKey = Key(method);
            var outcomeKey = OutcomeKey(outcome);
            var day = now.UtcDateTime.Day.ToString("D2", CultureInfo.InvariantCulture);
            await UpdateMonthAsync(tenantId, now, u =>
            {
                Increment(u.Verifications, methodKey, outcomeKey);
                u.VerificationsPerDay[day] = u.VerificationsPerDay.GetValueOrDefault(day) + 1;
                return newCaller ? u with { UniqueVerifiedCallers = u.UniqueVerifiedCallers + 1 } : u;
            }, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            MeteringFailed(logger, tenantId, "verification", ex.GetType().Name);
        }
    }

    public async Task RecordActionAsync(string tenantId, string action, AuditOutcome outcome, CancellationToken cancellationToken = default)
    {
        try
        {
            var actionKey = Key(action);
            var outcomeKey = OutcomeKey(outcome);
            await UpdateMonthAsync(tenantId, clock.GetUtcNow(), u =>
            {
                Increment(u.Actions, actionKey, outcomeKey);
                return u;
            }, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            MeteringFailed(logger, tenantId, "action", ex.GetType().Name);
        }
    }

    public async Task RecordOutsideActionAsync(string tenantId, string kind, DateTimeOffset happenedAt, CancellationToken cancellationToken = default)
    {
        try
        {
            var kindKey = Key(kind);
            await UpdateMonthAsync(tenantId, happenedAt, u =>
            {
                u.OutsideActions[kindKey] = u.OutsideActions.GetValueOrDefault(kindKey) + 1;
                return u;
            }, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            MeteringFailed(logger, tenantId, "outside action", ex.GetType().Name);
        }
    }

    public async Task<UsageMonth> GetMonthAsync(string tenantId, int year, int month, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenantId);
        var key = MonthKey(year, month);
        var document = await store.GetAsync(new DocumentKey(CollectionPath.ForTenant(tenantId, UsageCollection), key), cancellationToken);
        return document is null ? new UsageMonth { TenantId = tenantId, Month = key } : DocumentJson.FromDocument<UsageMonth>(document.Data);
    }

    internal static string MonthKey(DateTimeOffset at) => MonthKey(at.UtcDateTime.Year, at.UtcDateTime.Month);

    internal static string MonthKey(int year, int month) =>
        new DateTime(year, month, 1, 0, 0, 0, DateTimeKind.Utc).ToString("yyyy-MM", CultureInfo.InvariantCulture);

    /// <summary>Three years after the end of the month, so every record of a month lives at least three years.</summary>
    internal static DateTimeOffset ExpiryOf(DateTimeOffset at)
    {
        var utc = at.UtcDateTime;
        return new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(1).AddYears(RetentionYears);
    }

    /// <summary>Changes the usage of the month <paramref name="at"/> falls in.</summary>
    private async Task UpdateMonthAsync(string tenantId, DateTimeOffset at, Func<UsageMonth, UsageMonth> change, CancellationToken cancellationToken)
    {
        var month = MonthKey(at);
        var key = new DocumentKey(CollectionPath.ForTenant(tenantId, UsageCollection), month);
        var expireAt = ExpiryOf(at);
        var now = clock.GetUtcNow();
        await store.UpdateAsync(key, current =>
        {
            // Read afresh on every attempt: the store may retry this on contention.
            var usage = current is null
                ? new UsageMonth { TenantId = tenantId, Month = month }
                : DocumentJson.FromDocument<UsageMonth>(current.Data);
            var changed = change(usage) with { UpdatedAt = now };
            return DocumentMutation<bool>.Write(DocumentJson.ToDocument(changed), expireAt, true);
        }, cancellationToken);
    }

    private static void Increment(Dictionary<string, Dictionary<string, long>> counters, string key, string outcome)
    {
        if (!counters.TryGetValue(key, out var byOutcome))
        {
            byOutcome = new Dictionary<string, long>(StringComparer.Ordinal);
            counters[key] = byOutcome;
        }

        byOutcome[outcome] = byOutcome.GetValueOrDefault(outcome) + 1;
    }

    private static string OutcomeKey(AuditOutcome outcome) => JsonNamingPolicy.CamelCase.ConvertName(outcome.ToString());

    // Keys come from the portal's own constants; anything else is folded into one bucket so that no
    // value can grow the document without bound or smuggle text into billing.
    private static string Key(string? value) => value is not null && KeyPattern().IsMatch(value) ? value : "other";

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex KeyPattern();

    [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "A {Kind} of tenant {TenantId} could not be metered ({ErrorType}); billing undercounts it")]
    private static partial void MeteringFailed(ILogger logger, string tenantId, string kind, string errorType);
}
