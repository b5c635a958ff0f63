using System.Security.Claims;
using Portal.Storage;
using Portal.Web.Platform;

namespace Portal.Web.Agents;

/// <summary>
/// An agent's signed-in session, kept on the server so that sign-out, idle time-out and the absolute
/// lifetime hold on every instance (docs/security-requirements.md S3). The cookie carries only its id, the tenant and the
/// agent's subject; nothing about the agent beyond a masked login is stored.
/// </summary>
public sealed record AgentSession
{
    public required string Id { get; init; }

    public required string TenantId { get; init; }

    public required string Subject { get; init; }

    public required string MaskedLogin { get; init; }

    public required IReadOnlyList<string> Tiers { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset LastSeenAt { get; init; }

    public required DateTimeOffset AbsoluteExpiresAt { get; init; }

    /// <summary>
    /// Set when the session cap ended this session (<see cref="AgentSessionStore.CapReason"/>): the document stays, refused
    /// as any ended session is, until it would have idled out, so that the window it belonged to can be told why it was
    /// signed out. Nothing about the session that displaced it is kept.
    /// </summary>
    public string? EndedReason { get; init; }
}

/// <summary>Why an agent's cookie no longer names a live session: <see cref="EndedByCap"/> only when the session cap ended it.</summary>
public sealed record AgentSessionTouch(AgentSession? Live, bool EndedByCap);

/// <summary>The claims the portal's cookie carries: ids only.</summary>
public static class AgentClaims
{
    public const string TenantId = "tid";
    public const string SessionId = "sid";
    public const string Subject = "sub";
    public const string MaskedLogin = "mlogin";
    public const string Tier = "tier";
}

/// <summary>The signed-in agent of the current request, read from the authenticated principal.</summary>
public sealed record AgentContext(string TenantId, string SessionId, string Subject, string MaskedLogin, IReadOnlyList<string> Tiers)
{
    public static AgentContext? From(ClaimsPrincipal user)
    {
        if (user.Identity?.IsAuthenticated != true)
        {
            return null;
        }

        var tenant = user.FindFirstValue(AgentClaims.TenantId);
        var session = user.FindFirstValue(AgentClaims.SessionId);
        var subject = user.FindFirstValue(AgentClaims.Subject);
        if (tenant is null || session is null || subject is null)
        {
            return null;
        }

        var tiers = user.FindAll(AgentClaims.Tier).Select(c => c.Value).ToArray();
        return new AgentContext(tenant, session, subject, user.FindFirstValue(AgentClaims.MaskedLogin) ?? "***", tiers);
    }
}

public sealed class AgentSessionStore(IDocumentStore store, TimeProvider clock)
{
    public static readonly TimeSpan AbsoluteLifetime = TimeSpan.FromHours(12);
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(30);

    // Writing last-seen on every request would turn each page view into a store write; a minute of
    // slack on a 30-minute idle limit is well inside what S3 asks for.
    private static readonly TimeSpan TouchInterval = TimeSpan.FromMinutes(1);

    public static CollectionPath Collection(string tenantId) => CollectionPath.ForTenant(tenantId, "agentSessions");

    public async Task<AgentSession> StartAsync(string tenantId, string subject, string maskedLogin, IReadOnlyList<string> tiers, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var session = new AgentSession
        {
            Id = PortalIds.New(),
            TenantId = tenantId,
            Subject = subject,
            MaskedLogin = maskedLogin,
            Tiers = tiers,
            CreatedAt = now,
            LastSeenAt = now,
            AbsoluteExpiresAt = now + AbsoluteLifetime,
        };
        if (!await store.CreateAsync(new DocumentKey(Collection(tenantId), session.Id), DocumentJson.ToDocument(session), ExpiryOf(session), cancellationToken))
        {
            throw new InvalidOperationException("An agent session id collided; refusing to reuse it.");
        }

        return session;
    }

    /// <summary>The reason stored on a session the cap ended, and audited with its sign-out.</summary>
    public const string CapReason = "session_cap";

    /// <summary>The live session, with its idle timer moved on; null when it ended, idled out or passed its absolute lifetime.</summary>
    public async Task<AgentSession?> TouchAsync(string tenantId, string sessionId, string subject, CancellationToken cancellationToken) =>
        (await TouchOrSayWhyAsync(tenantId, sessionId, subject, cancellationToken)).Live;

    /// <summary>
    /// As <see cref="TouchAsync"/>, and when the session is not live, whether the session cap ended it (within its idle
    /// time, and only for the agent the cookie names): the one reason the signed-out window is told.
    /// </summary>
    public async Task<AgentSessionTouch> TouchOrSayWhyAsync(string tenantId, string sessionId, string subject, CancellationToken cancellationToken)
    {
        var ended = new AgentSessionTouch(null, false);
        if (!PortalIds.IsWellFormed(sessionId))
        {
            return ended;
        }

        var key = new DocumentKey(Collection(tenantId), sessionId);
        var now = clock.GetUtcNow();
        var document = await store.GetAsync(key, cancellationToken);
        if (document is null)
        {
            return ended;
        }

        var session = DocumentJson.FromDocument<AgentSession>(document.Data);
        if (session.TenantId != tenantId || session.Subject != subject || now >= session.AbsoluteExpiresAt || now >= session.LastSeenAt + IdleTimeout)
        {
            return ended;
        }

        if (session.EndedReason is not null)
        {
            return ended with { EndedByCap = session.EndedReason == CapReason };
        }

        if (now - session.LastSeenAt < TouchInterval)
        {
            return new AgentSessionTouch(session, false);
        }

        var live = await store.UpdateAsync(key, current =>
        {
            if (current is null)
            {
                return DocumentMutation<AgentSession?>.Keep(null);
            }

            var found = DocumentJson.FromDocument<AgentSession>(current.Data);
            if (found.EndedReason is not null)
            {
                return DocumentMutation<AgentSession?>.Keep(null);
            }

            var touched = found with { LastSeenAt = now };
            return DocumentMutation<AgentSession?>.Write(DocumentJson.ToDocument(touched), ExpiryOf(touched), touched);
        }, cancellationToken);
        return new AgentSessionTouch(live, false);
    }

    /// <summary>
    /// Ends the agent's live sessions beyond <paramref name="maxSessions"/>, least recently used first, never
    /// <paramref name="keepSessionId"/> (the one just started), and returns them (review F12). Each ended session's
    /// document stays, marked <see cref="CapReason"/>, until it would have idled out: refused like any ended session,
    /// it lets the window that held it say why it was signed out (<see cref="TouchOrSayWhyAsync"/>). Run after every
    /// sign-in: of two sign-ins racing on two instances, the later one's query sees both sessions, so once both
    /// are done the agent holds at most the cap.
    /// </summary>
    public async Task<IReadOnlyList<AgentSession>> EndLeastRecentlyUsedBeyondAsync(string tenantId, string subject, string keepSessionId, int maxSessions, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var others = new List<AgentSession>();
        var query = new DocumentQuery(Collection(tenantId)) { Filters = [new FieldFilter("subject", FilterOperator.Equal, subject)] };
        await foreach (var document in store.QueryAsync(query, cancellationToken))
        {
            var session = DocumentJson.FromDocument<AgentSession>(document.Data);
            if (session.Id != keepSessionId && session.TenantId == tenantId && session.EndedReason is null && now < session.AbsoluteExpiresAt && now < session.LastSeenAt + IdleTimeout)
            {
                others.Add(session);
            }
        }

        var ended = others
            .OrderByDescending(s => s.LastSeenAt)
            .ThenByDescending(s => s.CreatedAt)
            .ThenByDescending(s => s.Id, StringComparer.Ordinal)
            .Skip(Math.Max(0, maxSessions - 1))
            .ToList();
        foreach (var session in ended)
        {
            await EndByCapAsync(tenantId, session.Id, cancellationToken);
        }

        return ended;
    }

    /// <summary>Marks a session ended by the cap; its expiry stays the time it would have idled out or reached its end.</summary>
    private Task<bool> EndByCapAsync(string tenantId, string sessionId, CancellationToken cancellationToken) =>
        store.UpdateAsync(new DocumentKey(Collection(tenantId), sessionId), current =>
        {
            if (current is null)
            {
                return DocumentMutation<bool>.Keep(false);
            }

            var ended = DocumentJson.FromDocument<AgentSession>(current.Data) with { EndedReason = CapReason };
            return DocumentMutation<bool>.Write(DocumentJson.ToDocument(ended), ExpiryOf(ended), true);
        }, cancellationToken);

    public Task EndAsync(string tenantId, string sessionId, CancellationToken cancellationToken) =>
        PortalIds.IsWellFormed(sessionId) ? store.DeleteAsync(new DocumentKey(Collection(tenantId), sessionId), cancellationToken) : Task.CompletedTask;

    private static DateTimeOffset ExpiryOf(AgentSession s)
    {
        var idle = s.LastSeenAt + IdleTimeout;
        return idle < s.AbsoluteExpiresAt ? idle : s.AbsoluteExpiresAt;
    }
}
