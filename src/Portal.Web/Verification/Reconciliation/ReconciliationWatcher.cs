using System.Security.Cryptography;
using Portal.Audit;
using Portal.Idp;
using Portal.Web.Platform;
using Portal.Web.Tenancy;

namespace Portal.Web.Verification.Reconciliation;

/// <summary>What one reading of a tenant's log did.</summary>
public sealed record ReconciliationRun(int Recorded, int ByPortal, int Repeated, string? ErrorCode)
{
    /// <summary>Another instance holds the tenant's lease: nothing was read.</summary>
    public static readonly ReconciliationRun LeasedElsewhere = new(0, 0, 0, null);
}

/// <summary>
/// Reads each tenant's IdP log for helpdesk actions done outside the portal and records each one in the audit, once,
/// raising the tenant's alarm for the kinds its settings name (docs/audit.md, "Outside the portal"). One instance at a
/// time reads a tenant (a lease in the store); the cursor moves on only after a page has been recorded, and each
/// record's id comes from the IdP's event id, so a crash or a lost lease re-reads without recording anything twice.
/// </summary>
public sealed partial class ReconciliationWatcher(
    ITenantCatalog tenants,
    TenantDirectories directories,
    ReconciliationStore states,
    IAuditTrail audit,
    ICallerPseudonymizer pseudonyms,
    IAlertNotifier alerts,
    IUsageMeter usage,
    Microsoft.Extensions.Options.IOptions<TenancyOptions> options,
    TimeProvider clock,
    ILogger<ReconciliationWatcher> logger) : BackgroundService
{
    /// <summary>The action names of the records, e.g. <c>outside.password_reset</c>.</summary>
    public const string ActionPrefix = "outside.";

    /// <summary>Where an outside action was read, in the record's method field (it was never verified).</summary>
    public const string OktaSource = "okta.system_log";

    public const string EntraSource = "entra.directory_audit";

    /// <summary>The alarm's type on the webhook.</summary>
    public const string AlertType = "outside.action";

    /// <summary>How far before an outside action a verification of the same user by the same admin counts as "verified in the portal".</summary>
    internal static readonly TimeSpan VerificationWindow = TimeSpan.FromMinutes(30);

    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(5);
    private const int MaxPagesPerRun = 20;

    private readonly string _instance = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
    private readonly Dictionary<string, DateTimeOffset> _due = new(StringComparer.Ordinal);

    // The events this instance has already recorded or found recorded, by tenant and IdP event id: a re-read (Entra's
    // overlap on every turn, a cursor put back) skips them without asking the store again. Memory only; the records'
    // ids stay what keeps each action once.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, DateTimeOffset> _seen = new(StringComparer.Ordinal);
    private const int MaxSeen = 20_000;

    public static string ActionOf(AccountActionKind kind) => ActionPrefix + Snake(kind);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.ReconciliationInBackground)
        {
            return;
        }

        using var timer = new PeriodicTimer(Tick, clock);
        do
        {
            foreach (var tenant in tenants.All.Where(t => t.Reconciliation.Enabled))
            {
                var now = clock.GetUtcNow();
                if (_due.TryGetValue(tenant.Id, out var due) && now < due)
                {
                    continue;
                }

                _due[tenant.Id] = now.AddSeconds(tenant.Reconciliation.PollSeconds);
                try
                {
                    await RunOnceAsync(tenant, stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // The store or the audit could not be written: nothing moved on; the next turn reads the same events.
                    RunFailed(logger, tenant.Id, ex.GetType().Name);
                }
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Reads the tenant's log from its cursor until caught up (or a page limit), unless another instance holds the lease.</summary>
    public async Task<ReconciliationRun> RunOnceAsync(TenantSettings tenant, CancellationToken cancellationToken)
    {
        var started = clock.GetUtcNow();
        var state = await states.TryLeaseAsync(tenant.Id, _instance, started, started + Lease, cancellationToken);
        if (state is null)
        {
            return ReconciliationRun.LeasedElsewhere;
        }

        var directory = directories.For(tenant);
        var since = started.AddMinutes(-tenant.Reconciliation.LookbackMinutes);

        // Turned off and on again (not even tried for longer than the look-back): start from the look-back window, not from
        // where the reading stopped, which would raise an alarm for every action of the pause at once. An IdP outage is
        // not a pause (each failed try is dated): the reading goes on from its cursor, so nothing of the outage is lost.
        var lastTry = state.LastReadAt > state.LastErrorAt || state.LastErrorAt is null ? state.LastReadAt : state.LastErrorAt;
        var cursor = lastTry is { } tried && tried < since ? null : state.Cursor;
        try
        {
            return await ReadPagesAsync(tenant, directory, cursor, since, cancellationToken);
        }
        finally
        {
            // Given up on every path (a lost lease is not ours to give up: the holder's id no longer matches).
            await states.ReleaseAsync(tenant.Id, _instance, CancellationToken.None);
        }
    }

    private async Task<ReconciliationRun> ReadPagesAsync(TenantSettings tenant, ICallerDirectory directory, string? cursor, DateTimeOffset since, CancellationToken cancellationToken)
    {
        int recorded = 0, byPortal = 0, repeated = 0;
        for (var pages = 0; pages < MaxPagesPerRun; pages++)
        {
            var page = await directory.ReadAccountActionsAsync(cursor, since, cancellationToken);
            if (!page.IsSuccess)
            {
                var error = page.Error!;
                ReadFailed(logger, tenant.Id, error.Kind.ToString(), error.Code);
                await states.FailedAsync(tenant.Id, _instance, error, clock.GetUtcNow(), cancellationToken);
                return new ReconciliationRun(recorded, byPortal, repeated, error.Code);
            }

            var pageRecorded = 0;
            foreach (var action in page.Value.Events)
            {
                var key = tenant.Id + "\n" + OccurrenceKey(tenant, action);
                if (action.ByPortal)
                {
                    byPortal++;
                }
                else if (!_seen.ContainsKey(key) && await RecordAsync(tenant, action, cancellationToken))
                {
                    pageRecorded++;
                    Seen(key, action.At);
                }
                else
                {
                    repeated++;
                    Seen(key, action.At);
                }
            }

            recorded += pageRecorded;
            cursor = page.Value.Cursor;
            var newest = page.Value.Events.Count == 0 ? (DateTimeOffset?)null : page.Value.Events.Max(e => e.At);
            var now = clock.GetUtcNow();
            if (!await states.AdvanceAsync(tenant.Id, _instance, cursor, newest, pageRecorded, now, now + Lease, cancellationToken))
            {
                LeaseLost(logger, tenant.Id);
                return new ReconciliationRun(recorded, byPortal, repeated, null);
            }

            if (page.Value.CaughtUp)
            {
                break;
            }
        }

        if (recorded > 0)
        {
            Recorded(logger, tenant.Id, recorded);
        }

        return new ReconciliationRun(recorded, byPortal, repeated, null);
    }

    /// <summary>Records one outside action (false when an earlier read already did) and raises the alarm for it.</summary>
    private async Task<bool> RecordAsync(TenantSettings tenant, AccountActionEvent action, CancellationToken cancellationToken)
    {
        var alarmed = tenant.Reconciliation.Alarms(action.Kind);
        var verified = await VerifiedInPortalAsync(tenant.Id, action, cancellationToken);
        var entry = new AuditEntry
        {
            TenantId = tenant.Id,
            Action = ActionOf(action.Kind),
            Outcome = alarmed ? AuditOutcome.Alarm : AuditOutcome.Succeeded,
            Reason = verified ? "portal_verification_found" : "no_portal_verification",
            AgentSubjectId = (action.ActorIsApplication ? "app:" : "") + action.ActorId,
            AgentLogin = action.ActorLogin ?? "",
            CallerId = action.TargetId,
            CallerLogin = action.TargetLogin,
            // Where the IdP saw the request come from, truncated to its network by the trail like every record's.
            ClientAddress = action.ActorAddress,
            Method = tenant.Idp.Kind == IdpKind.Entra ? EntraSource : OktaSource,
        };
        var record = await audit.RecordOnceAsync(entry, OccurrenceKey(tenant, action), action.At, cancellationToken);
        if (record is null)
        {
            return false;
        }

        await usage.RecordOutsideActionAsync(tenant.Id, Snake(action.Kind), action.At, cancellationToken);
        if (alarmed)
        {
            alerts.Raise(new AlertEvent
            {
                Id = record.Id,
                TenantId = tenant.Id,
                Type = AlertType,
                Reason = Snake(action.Kind),
                At = action.At,
                CallerIdHash = record.Caller?.IdHash,
                CallerMaskedLogin = record.Caller?.MaskedLogin,
                AgentSubject = record.Agent.SubjectId,
                AgentMaskedLogin = record.Agent.MaskedLogin,
            });
        }

        return true;
    }

    private static string OccurrenceKey(TenantSettings tenant, AccountActionEvent action) => tenant.Idp.Kind + ":" + action.EventId;

    /// <summary>Remembers an event; past the bound, the oldest half is forgotten (they are long behind every cursor).</summary>
    private void Seen(string key, DateTimeOffset at)
    {
        _seen[key] = at;
        if (_seen.Count > MaxSeen)
        {
            var cut = _seen.Values.Order().ElementAt(_seen.Count / 2);
            foreach (var old in _seen.Where(e => e.Value < cut).Select(e => e.Key).ToList())
            {
                _seen.TryRemove(old, out _);
            }
        }
    }

    /// <summary>
    /// Whether the portal verified this user for this admin shortly before: the admin signs in to the portal with the
    /// same IdP account the log names (Okta <c>sub</c>, Entra <c>oid</c>), so an outside action the admin took after
    /// verifying the caller in the portal says so. An action by an application never was.
    /// </summary>
    private async Task<bool> VerifiedInPortalAsync(string tenantId, AccountActionEvent action, CancellationToken cancellationToken)
    {
        if (action.ActorIsApplication)
        {
            return false;
        }

        var page = await audit.QueryAsync(tenantId, new AuditQuery
        {
            CallerIdHash = pseudonyms.HashCallerId(tenantId, action.TargetId),
            From = action.At - VerificationWindow,
            // A second past it: the IdP's time is rounded (Okta keeps milliseconds), the portal's is not.
            To = action.At.AddSeconds(1),
            PageSize = AuditTrailPageSize,
        }, cancellationToken);
        return page.Records.Any(r => r.Agent.SubjectId == action.ActorId && r.Outcome == AuditOutcome.Succeeded && VerifiedActions.Contains(r.Action));
    }

    /// <summary>
    /// The records that say a caller WAS verified: a result, never a start (a push sent is "succeeded" as soon as it is on
    /// the phone, whatever the caller then answers).
    /// </summary>
    internal static readonly IReadOnlySet<string> VerifiedActions = new HashSet<string>(StringComparer.Ordinal)
    {
        "verification.push.result", "verification.totp", "verification.stepup.result", "verification.entrapush.result",
    };

    private const int AuditTrailPageSize = 200;

    internal static string Snake(AccountActionKind kind) => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(kind.ToString());

    [LoggerMessage(EventId = PortalEvents.ReconciliationRecorded, Level = LogLevel.Information, Message = "Reconciliation of tenant {TenantId} recorded {Count} actions done outside the portal")]
    private static partial void Recorded(ILogger logger, string tenantId, int count);

    [LoggerMessage(EventId = PortalEvents.ReconciliationReadFailed, Level = LogLevel.Warning, Message = "Reconciliation of tenant {TenantId} could not read the IdP log ({Kind}, {Code})")]
    private static partial void ReadFailed(ILogger logger, string tenantId, string kind, string code);

    [LoggerMessage(EventId = PortalEvents.ReconciliationLeaseLost, Level = LogLevel.Warning, Message = "Reconciliation of tenant {TenantId} lost its lease to another instance; that one goes on from the stored cursor")]
    private static partial void LeaseLost(ILogger logger, string tenantId);

    [LoggerMessage(EventId = PortalEvents.ReconciliationRunFailed, Level = LogLevel.Error, Message = "Reconciliation of tenant {TenantId} failed ({ErrorType}); the next turn reads the same events again")]
    private static partial void RunFailed(ILogger logger, string tenantId, string errorType);
}
