using System.Collections.Frozen;
using Microsoft.Extensions.Options;
using Portal.Storage;
using Portal.Web.Platform;

namespace Portal.Web.Tenancy;

/// <summary>Settings of the tenant catalog (section <c>Portal:Tenancy</c>).</summary>
public sealed class TenancyOptions
{
    public const string Section = "Portal:Tenancy";

    /// <summary>
    /// How often each instance re-reads the tenants' documents. An admin's change is served at once by the
    /// instance that made it and by every other instance within this interval.
    /// </summary>
    public int RefreshSeconds { get; set; } = 5;

    /// <summary>
    /// How long start-up keeps retrying an unreachable store (with backoff) before it fails naming the storage
    /// settings. Within Cloud Run's startup-probe window: Direct VPC egress can take a while at instance start.
    /// </summary>
    public int StartupStoreTimeoutSeconds { get; set; } = 90;

    /// <summary>
    /// Whether each instance checks every tenant's IdP connection in the background once it has started, then hourly
    /// (docs/configuration.md, "Testing the connection"). The tests turn it off where they count IdP requests.
    /// </summary>
    public bool ConnectionCheckAtStartup { get; set; } = true;

    /// <summary>
    /// Whether each instance reads the IdP logs of the tenants whose reconciliation is on, in the background
    /// (docs/audit.md, "Outside the portal"). The tests turn it off where they drive each reading themselves.
    /// </summary>
    public bool ReconciliationInBackground { get; set; } = true;
}

/// <summary>
/// The tenants as they are now: each configured tenant with its stored policy (<c>tenants/{id}</c>) laid
/// over it. Reads are synchronous and served from an in-memory snapshot; the store is the source of truth
/// and the snapshot only a cache, refreshed every <see cref="TenancyOptions.RefreshSeconds"/> and at once
/// after a write on this instance.
/// </summary>
public sealed class TenantCatalog : ITenantCatalog
{
    public static readonly CollectionPath Collection = new("tenants");

    private readonly IReadOnlyList<TenantSettings> _configured;
    private readonly IDocumentStore _store;
    private readonly Lock _gate = new();
    private Snapshot _snapshot;

    public TenantCatalog(IOptions<TenantCatalogOptions> options, IDocumentStore store)
    {
        _configured = options.Value.Tenants;
        _store = store;

        // Until the first read of the store, configuration alone; no request is served before it (StartupGate), so
        // the configured tenants' policies are built there, off the start-up path.
        _snapshot = new Snapshot([], _configured);
    }

    public IReadOnlyList<TenantSettings> All => _snapshot.All;

    public TenantSettings? Find(string tenantId) => tenantId is null ? null : _snapshot.ById.GetValueOrDefault(tenantId);

    public TenantSettings? FindByEmailDomain(string domain) =>
        _snapshot.All.FirstOrDefault(t => t.EmailDomains.Any(d => string.Equals(d, domain, StringComparison.OrdinalIgnoreCase)));

    /// <summary>The position of a tenant in the settings (for messages that name a setting).</summary>
    public int IndexOf(string tenantId) => _configured.ToList().FindIndex(t => t.Id == tenantId);

    /// <summary>The configured (not overlaid) settings of a tenant, or null.</summary>
    public TenantSettings? Configured(string tenantId) => _configured.FirstOrDefault(t => t.Id == tenantId);

    public static DocumentKey KeyOf(string tenantId) => new(Collection, tenantId);

    /// <summary>
    /// Creates the document of every configured tenant that has none yet, and reconciles the settings that
    /// changed since they last seeded it with what the console changed (<see cref="TenantSeedReconciliation"/>).
    /// </summary>
    public async Task<List<TenantSeedReconciliation.Outcome>> SeedAsync(CancellationToken cancellationToken)
    {
        var outcomes = new List<TenantSeedReconciliation.Outcome>();
        foreach (var tenant in _configured)
        {
            var seed = TenantSeedReconciliation.Seed(tenant);
            if (await _store.CreateAsync(KeyOf(tenant.Id), DocumentJson.ToDocument(seed), null, cancellationToken))
            {
                continue;
            }

            outcomes.AddRange(await _store.UpdateAsync(KeyOf(tenant.Id), current =>
            {
                if (current is null || !TryRead(current, out var stored))
                {
                    return DocumentMutation<List<TenantSeedReconciliation.Outcome>>.Keep([]);
                }

                var (updated, found) = TenantSeedReconciliation.Reconcile(tenant.Id, stored, seed);
                return updated is null
                    ? DocumentMutation<List<TenantSeedReconciliation.Outcome>>.Keep(found)
                    : DocumentMutation<List<TenantSeedReconciliation.Outcome>>.Write(DocumentJson.ToDocument(updated), null, found);
            }, cancellationToken));
        }

        return outcomes;
    }

    /// <summary>Re-reads every tenant's document; a tenant whose document is missing or unreadable keeps what it had.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var policies = new Dictionary<string, TenantPolicy>(StringComparer.Ordinal);
        foreach (var tenant in _configured)
        {
            var document = await _store.GetAsync(KeyOf(tenant.Id), cancellationToken);
            if (document is not null && TryRead(document, out var policy))
            {
                policies[tenant.Id] = policy.WithMissingSectionsFrom(tenant);
            }
        }

        lock (_gate)
        {
            var merged = new Dictionary<string, TenantPolicy>(_snapshot.Policies, StringComparer.Ordinal);
            foreach (var tenant in _configured)
            {
                // A tenant whose document is missing or unreadable at the first read serves its configured policy.
                if (!merged.ContainsKey(tenant.Id) && !policies.ContainsKey(tenant.Id))
                {
                    merged[tenant.Id] = TenantPolicy.From(tenant);
                }
            }

            foreach (var (id, policy) in policies)
            {
                // A refresh that read an older revision than a local write already applied must not undo it.
                if (!merged.TryGetValue(id, out var known) || policy.Revision >= known.Revision)
                {
                    merged[id] = policy;
                }
            }

            _snapshot = Build(merged);
        }
    }

    /// <summary>Serves a tenant's policy written by this instance at once, without waiting for the next refresh.</summary>
    public void Apply(string tenantId, TenantPolicy policy)
    {
        lock (_gate)
        {
            var merged = new Dictionary<string, TenantPolicy>(_snapshot.Policies, StringComparer.Ordinal) { [tenantId] = policy };
            _snapshot = Build(merged);
        }
    }

    /// <summary>The stored policy of a tenant as this instance serves it (a copy the caller may change).</summary>
    public TenantPolicy? PolicyOf(string tenantId) => _snapshot.Policies.GetValueOrDefault(tenantId)?.Copy();

    public static bool TryRead(StoredDocument document, out TenantPolicy policy)
    {
        try
        {
            policy = DocumentJson.FromDocument<TenantPolicy>(document.Data);
            return true;
        }
        catch (System.Text.Json.JsonException)
        {
            policy = new TenantPolicy();
            return false;
        }
    }

    private Snapshot Build(Dictionary<string, TenantPolicy> policies)
    {
        var all = _configured.Select(t => policies.TryGetValue(t.Id, out var p) ? p.ApplyTo(t) : t).ToList();
        return new Snapshot(policies, all);
    }

    private sealed class Snapshot
    {
        public Snapshot(Dictionary<string, TenantPolicy> policies, IReadOnlyList<TenantSettings> all)
        {
            Policies = policies.ToFrozenDictionary(StringComparer.Ordinal);
            All = all;
            ById = all.ToFrozenDictionary(t => t.Id, StringComparer.Ordinal);
        }

        public FrozenDictionary<string, TenantPolicy> Policies { get; }

        public IReadOnlyList<TenantSettings> All { get; }

        public FrozenDictionary<string, TenantSettings> ById { get; }
    }
}

/// <summary>Seeds and loads the tenants before the first request, then keeps every instance's snapshot fresh.</summary>
internal sealed partial class TenantCatalogRefresher(TenantCatalog catalog, IOptions<TenancyOptions> options, TimeProvider clock, StartupGate gate, ILogger<TenantCatalogRefresher> logger) : IHostedLifecycleService, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _firstLoad;
    private Task? _loop;
    private int _disposed;

    /// <summary>
    /// Starts the first read of the store before the other hosted services start, so that it runs while the web
    /// host builds its pipeline and binds its port (docs/PERFORMANCE.md, "Cold start"). Requests that arrive before
    /// it has finished are answered 503 by the <see cref="StartupGate"/>, and readiness reports "starting".
    /// </summary>
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        _firstLoad = Task.Run(() => LoadAsync(cancellationToken), cancellationToken);
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Awaited before start-up completes: a store that stays unreachable fails start-up here, naming the settings
    /// to check, exactly as if the read had been awaited first.
    /// </summary>
    public Task StartedAsync(CancellationToken cancellationToken) => _firstLoad ?? LoadAsync(cancellationToken);

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        // A tenant's allow-list and tiers from the store apply from the first request on. An unreachable store is
        // retried with backoff (real time: the network, not the portal's clock) up to the configured bound, then
        // start-up fails naming the settings to check.
        var limit = TimeSpan.FromSeconds(Math.Clamp(options.Value.StartupStoreTimeoutSeconds, 0, 600));
        var started = System.Diagnostics.Stopwatch.StartNew();
        var delay = TimeSpan.FromMilliseconds(500);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var outcomes = await catalog.SeedAsync(cancellationToken);
                await catalog.RefreshAsync(cancellationToken);
                foreach (var outcome in outcomes)
                {
                    var setting = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Portal:Tenants:{catalog.IndexOf(outcome.TenantId)}:{outcome.Section}");
                    if (outcome.Applied)
                    {
                        SettingApplied(logger, outcome.TenantId, setting);
                    }
                    else
                    {
                        SettingKept(logger, outcome.TenantId, setting);
                    }
                }

                break;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not OptionsValidationException)
            {
                if (started.Elapsed + delay > limit)
                {
                    throw new InvalidOperationException(
                        $"The store could not be reached at start-up ({attempt} attempts in {started.Elapsed.TotalSeconds:0} s, last error {ex.GetType().Name}). "
                        + "Check Portal:Storage:Provider, Portal:Storage:Firestore:ProjectId, Portal:Storage:Firestore:DatabaseId and Portal:Storage:Firestore:EmulatorHost, "
                        + "the service account's roles/datastore.user, and the network path to Firestore; Portal:Tenancy:StartupStoreTimeoutSeconds bounds the wait.", ex);
                }

                StoreUnreachable(logger, attempt, ex.GetType().Name, (int)delay.TotalMilliseconds);
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 10_000));
            }
        }

        gate.Open();
        _loop = RunAsync(_stopping.Token);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // The host may dispose hosted services before (or without) stopping them, e.g. when start-up failed.
        if (Volatile.Read(ref _disposed) == 0)
        {
            await _stopping.CancelAsync();
        }

        if (_loop is not null)
        {
            await Task.WhenAny(_loop, Task.Delay(Timeout.Infinite, cancellationToken)).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _stopping.Cancel();
            _stopping.Dispose();
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Clamp(options.Value.RefreshSeconds, 1, 300)), clock);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    await catalog.RefreshAsync(cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The last good snapshot keeps serving; the next tick tries again.
                    RefreshFailed(logger, ex.GetType().Name);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    [LoggerMessage(EventId = PortalEvents.TenantSettingApplied, Level = LogLevel.Information, Message = "Tenant {TenantId}: {Setting} changed since it seeded the tenant and the console had not changed it; the new setting is applied")]
    private static partial void SettingApplied(ILogger logger, string tenantId, string setting);

    [LoggerMessage(EventId = PortalEvents.TenantSettingKept, Level = LogLevel.Warning, Message = "Tenant {TenantId}: {Setting} differs from the tenant's value, which its admin changed in the console; the console's value stays. Make the setting match the console, or change it in the console (docs/tenancy.md)")]
    private static partial void SettingKept(ILogger logger, string tenantId, string setting);

    [LoggerMessage(EventId = PortalEvents.TenantStoreUnreachable, Level = LogLevel.Warning, Message = "The store did not answer at start-up (attempt {Attempts}, {ErrorType}); retrying in {DelayMilliseconds} ms")]
    private static partial void StoreUnreachable(ILogger logger, int attempts, string errorType, int delayMilliseconds);

    [LoggerMessage(EventId = PortalEvents.TenantRefreshFailed, Level = LogLevel.Warning, Message = "The tenant catalog could not be refreshed from the store ({ErrorType}); the last snapshot stays in use")]
    private static partial void RefreshFailed(ILogger logger, string errorType);
}
