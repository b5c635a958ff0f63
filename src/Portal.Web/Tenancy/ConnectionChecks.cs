using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Portal.Idp;
using Portal.Web.Platform;

namespace Portal.Web.Tenancy;

/// <summary>
/// The last onboarding check ("Test connection") of each tenant's IdP connection, in memory on this instance.
/// Not stored: the report is a fact about the IdP and the credential that every instance finds for itself at start-up
/// (and again every <see cref="ConnectionCheckAtStartup.RecheckInterval"/>) with a few harmless reads, it holds no
/// setting a tenant admin made, and keeping it in memory needs no collection, retention or index
/// (docs/configuration.md, "Testing the connection").
/// </summary>
public sealed class TenantConnectionReports
{
    private readonly ConcurrentDictionary<string, IdpCapabilityReport> _reports = new(StringComparer.Ordinal);

    /// <summary>The tenant's last report on this instance; null before its first check.</summary>
    public IdpCapabilityReport? Latest(string tenantId) => _reports.GetValueOrDefault(tenantId);

    public void Set(string tenantId, IdpCapabilityReport report) => _reports[tenantId] = report;

    /// <summary>
    /// Why the console does not offer an action needing <paramref name="operation"/>: the last report proved it
    /// unavailable. Null when it is offered (available, unknown, or no report yet: the IdP decides when the action is used).
    /// </summary>
    public string? WhyUnavailable(string tenantId, IdpOperation operation) =>
        Latest(tenantId)?.For(operation) is { State: CapabilityState.Unavailable } capability
            ? capability.Reason ?? "The tenant's IdP connection cannot do this."
            : null;

    /// <summary>
    /// One line for logs and the audit: the credential's state and which operations are unavailable or unknown, by
    /// name. No host, no secret, nothing the IdP said about a person.
    /// </summary>
    public static string Summary(IdpCapabilityReport report)
    {
        static string Names(IdpCapabilityReport r, CapabilityState state) =>
            string.Join(',', r.Operations.Where(o => o.State == state).Select(o => Snake(o.Operation))) is { Length: > 0 } names ? names : "none";

        return $"credentials={report.Credentials.ToString().ToLowerInvariant()}; unavailable={Names(report, CapabilityState.Unavailable)}; unknown={Names(report, CapabilityState.Unknown)}";
    }

    /// <summary>The operation as the admin console names it.</summary>
    public static string InWords(IdpOperation operation) => operation switch
    {
        IdpOperation.ReadUsers => "Find and read callers",
        IdpOperation.VerifyFactors => "Verify callers (push, code)",
        IdpOperation.ReadRoles => "Recognise privileged callers (admin roles)",
        IdpOperation.ResetPassword => "Reset passwords",
        IdpOperation.RevokeSessions => "Sign callers out everywhere",
        IdpOperation.Unlock => "Unlock accounts",
        IdpOperation.ResetFactors => "Reset MFA",
        IdpOperation.IssueTemporaryAccess => "Issue a temporary access code or pass",
        IdpOperation.ReadAuditLog => "Read the IdP's audit log (actions outside the portal)",
        _ => operation.ToString(),
    };

    public static string Snake(IdpOperation operation) => operation switch
    {
        IdpOperation.ReadUsers => "read_users",
        IdpOperation.VerifyFactors => "verify_factors",
        IdpOperation.ReadRoles => "read_roles",
        IdpOperation.ResetPassword => "reset_password",
        IdpOperation.RevokeSessions => "revoke_sessions",
        IdpOperation.Unlock => "unlock",
        IdpOperation.ResetFactors => "reset_factors",
        IdpOperation.IssueTemporaryAccess => "issue_temporary_access",
        IdpOperation.ReadAuditLog => "read_audit_log",
        _ => operation.ToString(),
    };
}

/// <summary>Runs one tenant's onboarding check and keeps its report. Never throws for an IdP that is down.</summary>
public sealed partial class ConnectionCheckRunner(TenantDirectories directories, TenantSecrets secrets, TenantConnectionReports reports, TimeProvider clock, ILogger<ConnectionCheckRunner> logger)
{
    /// <summary>The whole check is abandoned after this: an IdP that hangs is reported as unknown.</summary>
    internal static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public async Task<IdpCapabilityReport> RunAsync(TenantSettings tenant, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenant);

        // A check tests the credential as it is now: one rotated a minute ago is read again, not taken from memory.
        secrets.Forget(tenant);
        IdpCapabilityReport report;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            report = directories.For(tenant) is IIdpCapabilityCheck check
                ? await check.CheckAsync(timeout.Token)
                : IdpCapabilityReport.NotChecked(tenant.Idp.Kind, clock.GetUtcNow());
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            report = Unknown(tenant, "The identity provider did not finish answering the check within a minute.");
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            // A setting the adapter refuses (the message names the setting, never a secret value).
            LogSettingsRefused(logger, tenant.Id, ex.GetType().Name);
            report = new IdpCapabilityReport(tenant.Idp.Kind, clock.GetUtcNow(), null,
                [new CapabilityCheck(IdpCapabilityReport.CredentialsCheck, CapabilityState.Unavailable, "The tenant's IdP settings could not be used; see the start-up log.")],
                [.. Enum.GetValues<IdpOperation>().Select(o => new OperationCapability(o, CapabilityState.Unavailable, "The tenant's IdP settings could not be used."))]);
        }

        reports.Set(tenant.Id, report);
        return report;
    }

    private IdpCapabilityReport Unknown(TenantSettings tenant, string why) =>
        new(tenant.Idp.Kind, clock.GetUtcNow(), null,
            [new CapabilityCheck(IdpCapabilityReport.CredentialsCheck, CapabilityState.Unknown, why)],
            [.. Enum.GetValues<IdpOperation>().Select(o => new OperationCapability(o, CapabilityState.Unknown, why))]);

    [LoggerMessage(EventId = PortalEvents.ConnectionCheckSettingsRefused, Level = LogLevel.Warning, Message = "The connection check of tenant {TenantId} could not use its IdP settings ({ErrorType})")]
    private static partial void LogSettingsRefused(ILogger logger, string tenantId, string errorType);
}

/// <summary>
/// After the host has started (never before: start-up does not wait for an IdP), checks every tenant's connection in
/// the background and logs one line per tenant: Information, or Warning when the credential was refused. Repeats every
/// <see cref="RecheckInterval"/> so that a fix made at the IdP reaches every instance, logging again only on a change.
/// </summary>
internal sealed partial class ConnectionCheckAtStartup(
    IHostApplicationLifetime lifetime,
    ITenantCatalog tenants,
    ConnectionCheckRunner runner,
    IOptions<TenancyOptions> options,
    ILogger<ConnectionCheckAtStartup> logger) : BackgroundService
{
    internal static readonly TimeSpan RecheckInterval = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.ConnectionCheckAtStartup)
        {
            return;
        }

        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
        {
            try
            {
                await started.Task;
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        var last = new Dictionary<string, string>(StringComparer.Ordinal);
        while (!stoppingToken.IsCancellationRequested)
        {
            foreach (var tenant in tenants.All)
            {
                try
                {
                    var report = await runner.RunAsync(tenant, stoppingToken);
                    var summary = TenantConnectionReports.Summary(report);
                    if (last.GetValueOrDefault(tenant.Id) != summary)
                    {
                        last[tenant.Id] = summary;
                        var kind = report.Kind == IdpKind.Entra ? "Entra" : "Okta";
                        if (report.Credentials == CapabilityState.Unavailable)
                        {
                            LogCredentialsRefused(logger, tenant.Id, kind, summary);
                        }
                        else
                        {
                            LogChecked(logger, tenant.Id, kind, summary);
                        }
                    }
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
            }

            try
            {
                await Task.Delay(RecheckInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(EventId = PortalEvents.ConnectionChecked, Level = LogLevel.Information, Message = "Connection check of tenant {TenantId} ({Kind}): {Summary}")]
    private static partial void LogChecked(ILogger logger, string tenantId, string kind, string summary);

    [LoggerMessage(EventId = PortalEvents.ConnectionCredentialsRefused, Level = LogLevel.Warning, Message = "Connection check of tenant {TenantId} ({Kind}): the IdP refused the portal's credential; {Summary}")]
    private static partial void LogCredentialsRefused(ILogger logger, string tenantId, string kind, string summary);
}
