using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Portal.Audit;
using Portal.Storage;
using Portal.Web.Tests.Security;

namespace Portal.Web.Tests;

/// <summary>
/// A verification start that fails for the portal's own reasons (the audit store down after the attempt was reserved)
/// costs the caller nothing: the reserved attempt is given back (docs/architecture.md, "Verification methods"). Else an
/// audit outage during a busy morning could put callers into cool-downs, or up to the failure limit, with nothing sent.
/// </summary>
public sealed class StartFailureTests : IAsyncLifetime
{
    private readonly FailingStarts _failing = new();
    private readonly PortalTestHost _host;

    public StartFailureTests()
    {
        _host = new PortalTestHost
        {
            ConfigureServices = services =>
            {
                var original = services.Last(d => d.ServiceType == typeof(IAuditTrail));
                services.Remove(original);
                services.AddSingleton<IAuditTrail>(sp => new FailingAudit((IAuditTrail)ActivatorUtilities.CreateInstance(sp, original.ImplementationType!), _failing));
            },
        };
    }

    public Task InitializeAsync() => _host.InitializeAsync();

    public Task DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task AuditDownAfterTheReservation_TotpStartFails_TheAttemptIsGivenBack()
    {
        var agent = new ConsoleDriver(_host, await _host.SignInAsync(SecurityTestKit.Tier3));
        var page = await agent.LookupAsync(SecurityTestKit.Bob);
        _failing.Action = "verification.totp";

        for (var i = 0; i < 6; i++)
        {
            // A new code each time: a code presented once is spent (V3), whatever became of its check.
            _host.Clock.Advance(TimeSpan.FromSeconds(30));
            var failed = await agent.VerifyByTotpAsync(page, _host.Emulator.State.CurrentTotp(SecurityTestKit.Bob));
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        }

        var counters = await CountersAsync();
        Assert.Equal(0, (int?)counters["failuresInRow"] ?? 0);
        Assert.Equal(0, (int?)counters["totalFailures"] ?? 0);
        Assert.Null((string?)counters["cooldownUntil"]);

        // Six failed starts put nobody in a cool-down: once the audit is back, the caller is verified at once.
        _failing.Action = null;
        _host.Clock.Advance(TimeSpan.FromSeconds(30));
        var verified = await agent.VerifyByTotpAsync(page, _host.Emulator.State.CurrentTotp(SecurityTestKit.Bob));
        Assert.Equal(HttpStatusCode.Redirect, verified.StatusCode);
    }

    private async Task<JsonObject> CountersAsync()
    {
        var collection = CollectionPath.ForTenant(PortalTestHost.TenantId, "callerCounters");
        var all = new List<StoredDocument>();
        await foreach (var doc in _host.Store.QueryAsync(new DocumentQuery(collection)))
        {
            all.Add(doc);
        }

        return Assert.Single(all).Data;
    }

    private sealed class FailingStarts
    {
        public volatile string? Action;
    }

    /// <summary>The portal's audit trail, whose pending records for <see cref="FailingStarts.Action"/> cannot be written.</summary>
    private sealed class FailingAudit(IAuditTrail inner, FailingStarts failing) : IAuditTrail
    {
        public Task<AuditRecord> RecordAsync(AuditEntry entry, CancellationToken cancellationToken = default) => inner.RecordAsync(entry, cancellationToken);

        public Task<AuditRecord?> RecordOnceAsync(AuditEntry entry, string occurrenceKey, DateTimeOffset occurredAt, CancellationToken cancellationToken = default) =>
            inner.RecordOnceAsync(entry, occurrenceKey, occurredAt, cancellationToken);

        public Task<PendingAudit> BeginAsync(AuditEntry entry, CancellationToken cancellationToken = default) =>
            entry.Action == failing.Action ? throw new AuditUnavailableException("The audit store is down.") : inner.BeginAsync(entry, cancellationToken);

        public Task CompleteAsync(PendingAudit pending, AuditOutcome outcome, string? reason, CancellationToken cancellationToken = default) =>
            inner.CompleteAsync(pending, outcome, reason, cancellationToken);

        public Task<AuditPage> QueryAsync(string tenantId, AuditQuery query, CancellationToken cancellationToken = default) => inner.QueryAsync(tenantId, query, cancellationToken);
    }
}
