using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Portal.Storage;
using Portal.Web.Platform;

namespace Portal.Web.Tenancy;

/// <summary>
/// The probes Cloud Run calls: <c>/health/live</c> (the process answers; nothing else is checked, so a store
/// outage never restarts healthy instances) and <c>/health/ready</c> (the tenants are loaded from the store,
/// a cheap read of the store answers, and the Data Protection key ring can protect and unprotect). Paths
/// ending in "z" such as <c>/healthz</c> are avoided: Cloud Run reserves some of them. The answers say
/// "Healthy" or "Unhealthy" and nothing more; the failing check is logged (by type, never by content).
/// </summary>
internal static class Health
{
    public const string LivePath = "/health/live";
    public const string ReadyPath = "/health/ready";
    private const string ReadyTag = "ready";

    public static IServiceCollection AddPortalHealth(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<StartupCompleteCheck>("startup", tags: [ReadyTag])
            .AddCheck<StoreCheck>("store", tags: [ReadyTag], timeout: TimeSpan.FromSeconds(3))
            .AddCheck<KeyRingCheck>("keyring", tags: [ReadyTag], timeout: TimeSpan.FromSeconds(3));
        return services;
    }

    public static void MapPortalHealth(this IEndpointRouteBuilder endpoints)
    {
        // Probes carry no agent cookie: open to anyone, and they answer only "Healthy" or "Unhealthy".
        endpoints.MapHealthChecks(LivePath, new HealthCheckOptions { Predicate = _ => false }).DisableRateLimiting().AllowAnonymous();
        endpoints.MapHealthChecks(ReadyPath, new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag) }).DisableRateLimiting().AllowAnonymous();
    }

    /// <summary>Ready only once the tenants have been read from the store (until then the allow-lists are not known).</summary>
    private sealed class StartupCompleteCheck(StartupGate gate) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(gate.IsOpen ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("starting"));
    }

    /// <summary>
    /// One point read of a document that never exists: the store answers, with the instance's credentials.
    /// It reads the tenants collection (an id no tenant can have: tenant ids start with a letter or digit) rather than a collection of its own, so the
    /// probe adds no collection group to index, expire or scan.
    /// </summary>
    private sealed class StoreCheck(IDocumentStore store) : IHealthCheck
    {
        private static readonly DocumentKey Probe = new(TenantCatalog.Collection, "_health-probe");

        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            _ = await store.GetAsync(Probe, cancellationToken);
            return HealthCheckResult.Healthy();
        }
    }

    /// <summary>The key ring loads (from the store), decrypts with the key-ring key, and round-trips a payload.</summary>
    private sealed class KeyRingCheck(IDataProtectionProvider protection) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var protector = protection.CreateProtector("Portal.Health");
            var ok = protector.Unprotect(protector.Protect("ok")) == "ok";
            return Task.FromResult(ok ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("keyring"));
        }
    }
}

/// <summary>
/// Closed until the tenants have been read from the store at start-up: until then a request other than a
/// probe gets a 503 with Retry-After, so no request is served without its tenant's stored allow-list and tiers.
/// </summary>
public sealed class StartupGate
{
    private volatile bool _open;

    public bool IsOpen => _open;

    public void Open() => _open = true;
}

internal sealed class StartupGateMiddleware(RequestDelegate next, StartupGate gate)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (gate.IsOpen || context.Request.Path.StartsWithSegments(PublicHostMiddleware.HealthPrefix))
        {
            return next(context);
        }

        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = "5";
        return Task.CompletedTask;
    }
}
