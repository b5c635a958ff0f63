using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing.Patterns;

namespace Portal.Web.Infrastructure;

/// <summary>Request-rate limits (section <c>Portal:Web:RateLimits</c>, docs/security-requirements.md A5).</summary>
public sealed class RateLimitOptions
{
    public const string Section = "Portal:Web:RateLimits";

    /// <summary>Requests per window from one signed-in agent, on any route.</summary>
    public int AgentPermitLimit { get; set; } = 300;

    /// <summary>
    /// Requests per window from one client address, signed in or not. Higher than the per-agent limit:
    /// a helpdesk office's agents usually share one public address.
    /// </summary>
    public int AddressPermitLimit { get; set; } = 1200;

    /// <summary>
    /// Requests per window to a route that reaches the IdP (look-up, verification, actions), per agent
    /// (per address when not signed in). A push page polls every 2 s: 30 a minute, inside the default.
    /// </summary>
    public int SensitivePermitLimit { get; set; } = 60;

    public int WindowSeconds { get; set; } = 60;
}

/// <summary>
/// The built-in ASP.NET Core rate limiter: a global limit partitioned per agent and per client address,
/// and a stricter <see cref="SensitivePolicy"/> on the routes that call the IdP. A rejection is a 429 with
/// <c>Retry-After</c>, rendered by the error page. Per-caller limits (failures, pushes) live in the
/// verification store, shared by every instance; these limits are per instance and only blunt floods.
/// </summary>
internal static class RateLimiting
{
    public const string SensitivePolicy = "sensitive";

    /// <summary>Route prefixes (as the routes are written, without a leading slash) under the stricter policy.</summary>
    public static IReadOnlyList<string> SensitivePrefixes { get; } = ["verification/", "actions/", "console/lookup"];

    public static IServiceCollection AddPortalRateLimiting(this IServiceCollection services, IConfiguration configuration)
    {
        var limits = configuration.GetSection(RateLimitOptions.Section).Get<RateLimitOptions>() ?? new RateLimitOptions();
        var window = TimeSpan.FromSeconds(Math.Max(1, limits.WindowSeconds));
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = (context, _) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : window;
                context.HttpContext.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                context.HttpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                return ValueTask.CompletedTask;
            };

            // Both limits apply to every request: one agent cannot flood from many addresses, and one
            // address cannot flood by signing in as many agents (or as none).
            o.GlobalLimiter = PartitionedRateLimiter.CreateChained(
                PartitionedRateLimiter.Create<HttpContext, string>(http => IsErrorPage(http)
                    ? RateLimitPartition.GetNoLimiter("error-page")
                    : Fixed("address:" + ClientAddress(http), limits.AddressPermitLimit, window)),
                PartitionedRateLimiter.Create<HttpContext, string>(http => !IsErrorPage(http) && AgentKey(http) is { } agent
                    ? Fixed(agent, limits.AgentPermitLimit, window)
                    : RateLimitPartition.GetNoLimiter("anonymous")));

            o.AddPolicy(SensitivePolicy, http => Fixed("sensitive:" + (AgentKey(http) ?? "address:" + ClientAddress(http)), limits.SensitivePermitLimit, window));
        });
        return services;
    }

    /// <summary>
    /// Puts the stricter policy on every endpoint under a sensitive prefix, so the controllers that own
    /// those routes need no attribute of their own and a new action route is covered the day it is added.
    /// </summary>
    public static TBuilder WithSensitiveRateLimits<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.Add(endpoint =>
        {
            if (endpoint is RouteEndpointBuilder route && IsSensitive(route.RoutePattern))
            {
                endpoint.Metadata.Add(new EnableRateLimitingAttribute(SensitivePolicy));
            }
        });
        return builder;
    }

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

    private static RateLimitPartition<string> Fixed(string key, int permits, TimeSpan window) =>
        RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = Math.Max(1, permits),
            Window = window,
            QueueLimit = 0,
            AutoReplenishment = true,
        });
}
