using Portal.Idp;
using Portal.Storage;

namespace Portal.Web.Verification.Reconciliation;

/// <summary>
/// Where a tenant's reading of its IdP log stands (<c>tenants/{id}/reconciliation/state</c>): the cursor, when it was
/// last read, the last error, and the lease that lets one instance at a time read it. The cursor is the IdP's paging
/// position (an Okta <c>next</c> link's path and query, or a time for Entra): no person's data.
/// </summary>
public sealed record ReconciliationState
{
    public string? Cursor { get; init; }

    public DateTimeOffset? LastReadAt { get; init; }

    /// <summary>The newest account action the log has given so far (the portal's own included): how far behind the reading is.</summary>
    public DateTimeOffset? NewestEventAt { get; init; }

    /// <summary>Outside actions recorded since reconciliation started.</summary>
    public long Recorded { get; init; }

    public string? LastErrorCode { get; init; }

    /// <summary>The IdP adapter's sentence for an administrator (never an IdP body, a token or a person's data).</summary>
    public string? LastError { get; init; }

    public DateTimeOffset? LastErrorAt { get; init; }

    public string? LeaseHolder { get; init; }

    public DateTimeOffset? LeaseUntil { get; init; }
}

/// <summary>Reads and writes <see cref="ReconciliationState"/> atomically; every write after the lease is taken checks it is still held.</summary>
public sealed class ReconciliationStore(IDocumentStore store)
{
    private const string CollectionName = "reconciliation";
    private const string StateId = "state";

    public async Task<ReconciliationState?> GetAsync(string tenantId, CancellationToken cancellationToken) =>
        await store.GetAsync(Key(tenantId), cancellationToken) is { } document ? DocumentJson.FromDocument<ReconciliationState>(document.Data) : null;

    /// <summary>
    /// Takes the lease for <paramref name="holder"/> until <paramref name="until"/> when nobody else holds it now;
    /// returns the state to read from, or null when another instance holds it.
    /// </summary>
    public Task<ReconciliationState?> TryLeaseAsync(string tenantId, string holder, DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken) =>
        store.UpdateAsync(Key(tenantId), current =>
        {
            var state = Read(current);
            if (state.LeaseHolder is { } other && other != holder && state.LeaseUntil > now)
            {
                return DocumentMutation<ReconciliationState?>.Keep(null);
            }

            var leased = state with { LeaseHolder = holder, LeaseUntil = until };
            return DocumentMutation<ReconciliationState?>.Write(DocumentJson.ToDocument(leased), null, leased);
        }, cancellationToken);

    /// <summary>
    /// Moves the cursor on after a page has been recorded, and extends the lease; false (nothing written) when the
    /// lease was lost meanwhile: the instance that holds it now reads from the cursor as it was, and the records already
    /// written are not written twice (their ids are the IdP's event ids).
    /// </summary>
    public Task<bool> AdvanceAsync(string tenantId, string holder, string cursor, DateTimeOffset? newestEventAt, int recorded, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken cancellationToken) =>
        store.UpdateAsync(Key(tenantId), current =>
        {
            var state = Read(current);
            if (state.LeaseHolder != holder)
            {
                return DocumentMutation<bool>.Keep(false);
            }

            var advanced = state with
            {
                Cursor = cursor,
                LastReadAt = now,
                NewestEventAt = newestEventAt is { } newest && (state.NewestEventAt is not { } known || newest > known) ? newest : state.NewestEventAt,
                Recorded = state.Recorded + recorded,
                LastErrorCode = null,
                LastError = null,
                LastErrorAt = null,
                LeaseUntil = leaseUntil,
            };
            return DocumentMutation<bool>.Write(DocumentJson.ToDocument(advanced), null, true);
        }, cancellationToken);

    /// <summary>Keeps the IdP's refusal for the admin console, starts again from the look-back window when the cursor was refused, and gives the lease up.</summary>
    public Task FailedAsync(string tenantId, string holder, IdpError error, DateTimeOffset now, CancellationToken cancellationToken) =>
        store.UpdateAsync(Key(tenantId), current =>
        {
            var state = Read(current);
            if (state.LeaseHolder != holder)
            {
                return DocumentMutation<bool>.Keep(false);
            }

            var failed = state with
            {
                // The IdP refused the stored position itself (a link it no longer honours): start again from the look-back.
                Cursor = error.Code == "bad_cursor" || error.Kind == IdpErrorKind.Invalid ? null : state.Cursor,
                LastErrorCode = error.Code,
                LastError = error.AgentMessage,
                LastErrorAt = now,
                LeaseHolder = null,
                LeaseUntil = null,
            };
            return DocumentMutation<bool>.Write(DocumentJson.ToDocument(failed), null, true);
        }, cancellationToken);

    /// <summary>Gives the lease up after a run, so that any instance may read next time.</summary>
    public Task ReleaseAsync(string tenantId, string holder, CancellationToken cancellationToken) =>
        store.UpdateAsync(Key(tenantId), current =>
        {
            var state = Read(current);
            return state.LeaseHolder != holder
                ? DocumentMutation<bool>.Keep(false)
                : DocumentMutation<bool>.Write(DocumentJson.ToDocument(state with { LeaseHolder = null, LeaseUntil = null }), null, true);
        }, cancellationToken);

    /// <summary>Test hook: puts the cursor back (as a crash before its write would have left it).</summary>
    internal Task SetCursorAsync(string tenantId, string? cursor, CancellationToken cancellationToken) =>
        store.UpdateAsync(Key(tenantId), current =>
            DocumentMutation<bool>.Write(DocumentJson.ToDocument(Read(current) with { Cursor = cursor }), null, true), cancellationToken);

    private static ReconciliationState Read(StoredDocument? current) =>
        current is null ? new ReconciliationState() : DocumentJson.FromDocument<ReconciliationState>(current.Data);

    private static DocumentKey Key(string tenantId) => new(CollectionPath.ForTenant(tenantId, CollectionName), StateId);
}
