using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Portal.Storage;
using Portal.Web.Platform;

namespace Portal.Web.Agents;

/// <summary>Marks an endpoint whose requests reach the IdP (look-up, verification, actions): <see cref="IdpRouteLimit"/> counts them.</summary>
public sealed class IdpRouteMetadata
{
    public static IdpRouteMetadata Instance { get; } = new();

    private IdpRouteMetadata()
    {
    }
}

/// <summary>One agent's current window on the routes that reach the IdP, as stored (<c>tenants/{t}/agentRequestWindows</c>).</summary>
public sealed record AgentRequestWindow
{
    public required DateTimeOffset EndsAt { get; init; }

    public required int Used { get; init; }
}

/// <summary>
/// The limit on the routes that reach the IdP, per signed-in agent, held across every instance
/// (docs/security-requirements.md A5): one document per agent in the store, counted in a single-document
/// transaction, so two instances (or fifty parallel requests) never let through more than
/// <see cref="RateLimitOptions.SensitivePermitLimit"/> in a window. The window is fixed: it opens with the
/// agent's first such request and its document expires when it ends; a refusal names the time left.
/// An instance remembers a refusal until the window ends, so a flood is refused without touching the store.
/// </summary>
public sealed class IdpRouteLimit(IDocumentStore store, TimeProvider clock, IOptions<RateLimitOptions> options, ILogger<IdpRouteLimit> logger)
{
    public const string Collection = "agentRequestWindows";

    private const int MaxRememberedRefusals = 10_000;

    private readonly ConcurrentDictionary<string, DateTimeOffset> _refusedUntil = new(StringComparer.Ordinal);

    /// <summary>Counts one request of <paramref name="agent"/>; null when it may go on, else the time until its window resets.</summary>
    public async Task<TimeSpan?> TryAcquireAsync(AgentContext agent, CancellationToken cancellationToken)
    {
        var limits = options.Value;
        var now = clock.GetUtcNow();
        var localKey = agent.TenantId + "\n" + agent.Subject;
        if (_refusedUntil.TryGetValue(localKey, out var until))
        {
            if (now < until)
            {
                return until - now;
            }

            _refusedUntil.TryRemove(KeyValuePair.Create(localKey, until));
        }

        var permits = Math.Max(1, limits.SensitivePermitLimit);
        var window = TimeSpan.FromSeconds(Math.Max(1, limits.WindowSeconds));
        var refusal = await store.UpdateAsync(WindowKey(agent), current =>
        {
            var at = clock.GetUtcNow();
            var open = current is null ? null : DocumentJson.FromDocument<AgentRequestWindow>(current.Data);
            if (open is null || at >= open.EndsAt)
            {
                var fresh = new AgentRequestWindow { EndsAt = at + window, Used = 1 };
                return DocumentMutation<DateTimeOffset?>.Write(DocumentJson.ToDocument(fresh), fresh.EndsAt, null);
            }

            return open.Used < permits
                ? DocumentMutation<DateTimeOffset?>.Write(DocumentJson.ToDocument(open with { Used = open.Used + 1 }), open.EndsAt, null)
                : DocumentMutation<DateTimeOffset?>.Keep(open.EndsAt);
        }, cancellationToken);

        if (refusal is not { } endsAt)
        {
            return null;
        }

        if (_refusedUntil.Count >= MaxRememberedRefusals)
        {
            foreach (var (key, value) in _refusedUntil.Where(e => e.Value <= now).ToList())
            {
                _refusedUntil.TryRemove(KeyValuePair.Create(key, value));
            }
        }

        if (_refusedUntil.TryAdd(localKey, endsAt))
        {
            // Once per agent, window and instance: enough for an operator to see a flood, not a line per request.
            logger.LogWarning(
                "An agent of tenant {TenantId} reached the limit of {Permits} requests to routes that reach the IdP in {WindowSeconds} s; refused until {ResetsAt}.",
                agent.TenantId,
                permits,
                window.TotalSeconds.ToString(CultureInfo.InvariantCulture),
                endsAt);
        }

        var left = endsAt - clock.GetUtcNow();
        return left > TimeSpan.Zero ? left : TimeSpan.FromSeconds(1);
    }

    /// <summary>The agent's subject as a document id: any IdP subject, in the characters every store accepts.</summary>
    internal static DocumentKey WindowKey(AgentContext agent) => new(
        CollectionPath.ForTenant(agent.TenantId, Collection),
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(agent.Subject))));
}

/// <summary>Refuses a request to a route marked <see cref="IdpRouteMetadata"/> once its agent's window is used up.</summary>
internal sealed class IdpRouteLimitMiddleware(RequestDelegate next, IdpRouteLimit limit)
{
    public async Task InvokeAsync(HttpContext context)
    {
        // Anonymous requests go on: authorization refuses them next, and the per-address limit already counted them.
        if (context.GetEndpoint()?.Metadata.GetMetadata<IdpRouteMetadata>() is not null
            && AgentContext.From(context.User) is { } agent
            && await limit.TryAcquireAsync(agent, context.RequestAborted) is { } wait)
        {
            context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            return;
        }

        await next(context);
    }
}
