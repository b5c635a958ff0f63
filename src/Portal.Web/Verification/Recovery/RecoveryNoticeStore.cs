using Portal.Storage;
using Portal.Web.Verification.StepUp;

namespace Portal.Web.Verification.Recovery;

/// <summary>
/// What a recovery notice's "This wasn't me" link needs, and nothing else (<c>recoveryNotices/{SHA-256 of the link
/// token}</c>, docs/recovery.md "Recovery notices"): the tenant, the caller's IdP id encrypted at rest, the caller's
/// pseudonym, the action, who did it and until when the link works. No address, no name, no token: the notice itself
/// was composed in memory and sent.
/// </summary>
public sealed record RecoveryNoticeLink
{
    public required string TenantId { get; init; }

    /// <summary>The caller's IdP id, encrypted with Data Protection and bound to the tenant (<see cref="CallerReferences.AtRest"/>).</summary>
    public required string CallerRefProtected { get; init; }

    public required string CallerIdHash { get; init; }

    /// <summary>The action the notice was about (e.g. <c>tap_issue</c>).</summary>
    public required string Action { get; init; }

    /// <summary>The recovery method the action was done through (e.g. <c>recovery.manager</c>).</summary>
    public required string Method { get; init; }

    /// <summary>The agent who acted: their subject and masked login, for the audit and the alarm of a disputed recovery.</summary>
    public required string AgentSubject { get; init; }

    public required string AgentMaskedLogin { get; init; }

    /// <summary>
    /// The caller's login as every audit record shows it (masked, e.g. <c>a***@d***.example</c>), so the "This wasn't
    /// me" record names the caller as the action's did. Null in a record written before it was kept.
    /// </summary>
    public string? CallerMaskedLogin { get; init; }

    public required DateTimeOffset SentAt { get; init; }

    public required DateTimeOffset ExpiresAt { get; init; }

    /// <summary>Set by the first "This wasn't me": from then on the link does nothing.</summary>
    public DateTimeOffset? UsedAt { get; init; }
}

public enum NoticeLinkUse
{
    Taken,
    Unknown,
    Expired,
    AlreadyUsed,
}

/// <summary>The notices' links over the document store; using one is one atomic update, so it acts once (V10).</summary>
public sealed class RecoveryNoticeStore(IDocumentStore store, TimeProvider clock)
{
    /// <summary>How long a notice's link works: a week, so a caller away for some days still can.</summary>
    public static readonly TimeSpan LinkLifetime = TimeSpan.FromDays(7);

    private static readonly CollectionPath Links = new("recoveryNotices");

    public DateTimeOffset Now => clock.GetUtcNow();

    public async Task CreateAsync(string token, RecoveryNoticeLink link, CancellationToken ct)
    {
        // Kept a day past its expiry, so that a late click reads "expired" rather than "unknown", then purged.
        if (!await store.CreateAsync(Key(token), DocumentJson.ToDocument(link), link.ExpiresAt.AddDays(1), ct))
        {
            throw new InvalidOperationException("A recovery notice link collided.");
        }
    }

    public Task DeleteAsync(string token, CancellationToken ct) => store.DeleteAsync(Key(token), ct);

    /// <summary>The link's record, used or not, expired or not; null when unknown.</summary>
    public async Task<RecoveryNoticeLink?> GetAsync(string token, CancellationToken ct)
    {
        if (!IsWellFormedToken(token))
        {
            return null;
        }

        var doc = await store.GetAsync(Key(token), ct);
        return doc is null ? null : DocumentJson.FromDocument<RecoveryNoticeLink>(doc.Data);
    }

    public bool IsUsable(RecoveryNoticeLink link) => link.UsedAt is null && Now < link.ExpiresAt;

    /// <summary>Marks the link used, once: only the first of any number of requests, on any instance, gets <see cref="NoticeLinkUse.Taken"/>.</summary>
    public Task<(NoticeLinkUse Result, RecoveryNoticeLink? Link)> TakeAsync(string token, CancellationToken ct)
    {
        if (!IsWellFormedToken(token))
        {
            return Task.FromResult<(NoticeLinkUse, RecoveryNoticeLink?)>((NoticeLinkUse.Unknown, null));
        }

        var now = Now;
        return store.UpdateAsync(Key(token), current =>
        {
            if (current is null)
            {
                return DocumentMutation<(NoticeLinkUse, RecoveryNoticeLink?)>.Keep((NoticeLinkUse.Unknown, null));
            }

            var link = DocumentJson.FromDocument<RecoveryNoticeLink>(current.Data);
            if (link.UsedAt is not null)
            {
                return DocumentMutation<(NoticeLinkUse, RecoveryNoticeLink?)>.Keep((NoticeLinkUse.AlreadyUsed, link));
            }

            if (now >= link.ExpiresAt)
            {
                return DocumentMutation<(NoticeLinkUse, RecoveryNoticeLink?)>.Keep((NoticeLinkUse.Expired, link));
            }

            var used = link with { UsedAt = now };
            return DocumentMutation<(NoticeLinkUse, RecoveryNoticeLink?)>.Write(DocumentJson.ToDocument(used), current.ExpireAt, (NoticeLinkUse.Taken, used));
        }, ct);
    }

    public static string NewToken() => StepUpStore.NewToken();

    private static DocumentKey Key(string token) => new(Links, StepUpStore.Hash(token));

    private static bool IsWellFormedToken(string token) =>
        token.Length == 43 && token.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}
