using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing.Patterns;
using Portal.Web.Agents;

namespace Portal.Web.Platform;

/// <summary>Request-rate limits (section <c>Portal:Web:RateLimits</c>, docs/security-requirements.md A5).</summary>
public sealed class RateLimitOptions
{
    public const string Section = "Portal:Web:RateLimits";

    /// <summary>
    /// Requests per window from one signed-in agent, on any route, from any address. A push page polls every 2 s
    /// (30 a minute); the rest is page loads and form posts, far below 300 for a person at a console.
    /// </summary>
    public int AgentPermitLimit { get; set; } = 300;

    /// <summary>
    /// Anonymous requests per window from one client address (sign-in pages and callbacks, step-up links).
    /// Signed-in requests never count here: a helpdesk office's agents share one public address.
    /// </summary>
    public int AddressPermitLimit { get; set; } = 1200;

    /// <summary>
    /// Requests per window to a route that reaches the IdP (look-up, verification, actions), per signed-in
    /// agent, counted in the store so the limit holds across every instance (<see cref="IdpRouteLimit"/>).
    /// A push page polls every 2 s: 30 a minute, inside the default.
    /// </summary>
    public int SensitivePermitLimit { get; set; } = 60;

    public int WindowSeconds { get; set; } = 60;
}

/// <summary>
/// Request limits. The built-in ASP.NET Core rate limiter holds a global limit per signed-in agent, or per
/// client address for anonymous requests, per instance: it only blunts floods, before anything reaches the
/// store. The stricter limit on the routes that call the IdP is <see cref="IdpRouteLimit"/>, counted in the
/// store and so held across every instance. A rejection is a 429 with <c>Retry-After</c> (the time left until
/// the window resets), rendered by the error page. Per-caller limits (failures, pushes) live in the
/// verification store too.
/// </summary>
internal static class RateLimiting
{
    /// <summary>Route prefixes (as the routes are written, without a leading slash) that reach the IdP.</summary>
    public static IReadOnlyList<string> SensitivePrefixes { get; } = ["verification/", "actions/", "console/lookup"];

    public static IServiceCollection AddPortalRateLimiting(this IServiceCollection services, IConfiguration configuration)
    {
        var limits = configuration.GetSection(RateLimitOptions.Section).Get<RateLimitOptions>() ?? new RateLimitOptions();
        var window = TimeSpan.FromSeconds(Math.Max(1, limits.WindowSeconds));
        services.AddOptions<RateLimitOptions>().Bind(configuration.GetSection(RateLimitOptions.Section));
        services.AddSingleton<IdpRouteLimit>();
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<TimeProvider>((o, clock) =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = (context, _) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : window;
                context.HttpContext.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                context.HttpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                return ValueTask.CompletedTask;
            };

            // A signed-in request counts against its agent only, from whatever address; an anonymous one against
            // its client address. A helpdesk office's agents share one public address: 150 of them, each polling a
            // push every 2 s and loading pages, would exhaust any address limit that still stops an anonymous flood.
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
                IsErrorPage(http) ? RateLimitPartition.GetNoLimiter("error-page")
                : AgentKey(http) is { } agent ? Fixed(agent, limits.AgentPermitLimit, window, clock)
                : Fixed("address:" + ClientAddress(http), limits.AddressPermitLimit, window, clock));
        });
        return services;
    }

    /// <summary>
    /// Marks every endpoint under a sensitive prefix that takes a POST as reaching the IdP, so the controllers that
    /// own those routes need no attribute of their own and a new action route is counted the day it is added.
    /// </summary>
    public static TBuilder WithIdpRouteLimits<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.Add(endpoint =>
        {
            // Pages under those prefixes (GET) only read the store; the posts are what call the IdP.
            if (endpoint is RouteEndpointBuilder route && IsSensitive(route.RoutePattern)
                && endpoint.Metadata.OfType<HttpMethodMetadata>().SelectMany(m => m.HttpMethods).Any(m => !HttpMethods.IsGet(m) && !HttpMethods.IsHead(m)))
            {
                endpoint.Metadata.Add(IdpRouteMetadata.Instance);
            }
        });
        return builder;
    }

    /// <summary>Counts the requests to the routes that reach the IdP; after authentication and the per-instance limiter.</summary>
    public static IApplicationBuilder UseIdpRouteLimits(this IApplicationBuilder app) =>
        app.Use(next => new IdpRouteLimitMiddleware(next, app.ApplicationServices.GetRequiredService<IdpRouteLimit>()).InvokeAsync);

    public static bool IsSensitive(RoutePattern pattern)
    {
        var text = (pattern.RawText ?? "").TrimStart('/');
        return SensitivePrefixes.Any(p => text.StartsWith(p, StringComparison.OrdinalIgnoreCase) || text.Equals(p.TrimEnd('/'), StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>
    /// The client address as <see cref="ClientAddressResolver"/> resolved it (the first middleware makes it the
    /// remote address): behind trusted proxies the client's, and a spoofed left-hand entry of
    /// <c>X-Forwarded-For</c> never picks the partition. An unknown client shares one partition.
    /// </summary>
    public static string ClientAddress(HttpContext http) => http.Connection.RemoteIpAddress is { } address
        ? (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString()
        : IPAddress.None.ToString();

    /// <summary>
    /// The error page rendered for a request that was already counted (a 429, 404 or 500 re-executed by
    /// the error middleware): counting it again would turn the 429 page into an empty response.
    /// </summary>
    private static bool IsErrorPage(HttpContext http) =>
        http.Features.Get<IStatusCodeReExecuteFeature>() is not null || http.Features.Get<IExceptionHandlerFeature>() is not null;

    private static string? AgentKey(HttpContext http) =>
        AgentContext.From(http.User) is { } agent ? $"agent:{agent.TenantId}:{agent.Subject}" : null;

    private static RateLimitPartition<string> Fixed(string key, int permits, TimeSpan window, TimeProvider clock) =>
        RateLimitPartition.Get(key, _ => new ResettingFixedWindowLimiter(Math.Max(1, permits), window, clock));
}

/// <summary>
/// A fixed window that knows when it ends: a refusal carries the time left until the window resets as its
/// <c>Retry-After</c>, where the built-in fixed-window limiter always names the whole window (review F12). A
/// window starts with the first request after the last one ended; time is the portal's <see cref="TimeProvider"/>.
/// </summary>
internal sealed class ResettingFixedWindowLimiter(int permitLimit, TimeSpan window, TimeProvider clock) : RateLimiter
{
    private static readonly RateLimitLease Granted = new Lease(null);
    private readonly Lock _gate = new();
    private DateTimeOffset _windowEnd = DateTimeOffset.MinValue;
    private int _used;

    /// <summary>How long since the last window ended (null while one runs), so the partition is dropped when idle.</summary>
    public override TimeSpan? IdleDuration
    {
        get
        {
            lock (_gate)
            {
                var now = clock.GetUtcNow();
                return now >= _windowEnd ? now - _windowEnd : null;
            }
        }
    }

    public override RateLimiterStatistics? GetStatistics()
    {
        lock (_gate)
        {
            return new RateLimiterStatistics { CurrentAvailablePermits = clock.GetUtcNow() >= _windowEnd ? permitLimit : permitLimit - _used };
        }
    }

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        lock (_gate)
        {
            var now = clock.GetUtcNow();
            if (now >= _windowEnd)
            {
                _windowEnd = now + window;
                _used = 0;
            }

            if (_used + Math.Max(1, permitCount) <= permitLimit)
            {
                _used += permitCount;
                return Granted;
            }

            return new Lease(_windowEnd - now);
        }
    }

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
        ValueTask.FromResult(AttemptAcquireCore(permitCount));

    /// <summary>Granted (no metadata) or refused with the time until the window resets.</summary>
    private sealed class Lease(TimeSpan? retryAfter) : RateLimitLease
    {
        public override bool IsAcquired => retryAfter is null;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = retryAfter is { } wait && metadataName == MetadataName.RetryAfter.Name ? wait : null;
            return metadata is not null;
        }
    }
}
