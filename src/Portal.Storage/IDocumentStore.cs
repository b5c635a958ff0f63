using System.Text.Json.Nodes;

namespace Portal.Storage;

/// <summary>
/// The one storage contract every portal store is written against. It is deliberately shaped like
/// Firestore (documents in collections addressed by path, single-document transactions, simple
/// tenant-scoped queries, no joins) so that the Firestore backend is an implementation of it and not a
/// redesign, and the SQLite backend (the embedded default) behaves the same way.
/// </summary>
/// <remarks>
/// Documents are JSON objects. Every document may carry an expiry (<c>expireAt</c>): reads and queries
/// never return an expired document, even before a purge (or Firestore's TTL) has deleted it, so
/// retention holds to the second.
/// </remarks>
public interface IDocumentStore
{
    /// <summary>Reads one document; null when it does not exist or has expired.</summary>
    Task<StoredDocument?> GetAsync(DocumentKey key, CancellationToken cancellationToken = default);

    /// <summary>Creates a document; returns false (and changes nothing) when a live one already exists at that key.</summary>
    Task<bool> CreateAsync(DocumentKey key, JsonObject data, DateTimeOffset? expireAt, CancellationToken cancellationToken = default);

    /// <summary>Creates or replaces a document unconditionally.</summary>
    Task SetAsync(DocumentKey key, JsonObject data, DateTimeOffset? expireAt, CancellationToken cancellationToken = default);

    /// <summary>
    /// Atomic read-modify-write of one document (a Firestore transaction on a single document, a SQLite
    /// write transaction). <paramref name="mutate"/> receives the current live document (null when absent
    /// or expired) and decides what to write; it may be called more than once when the backend retries on
    /// contention, so it must be a pure function of its input. Two concurrent callers, on any instance,
    /// never both see the same version.
    /// </summary>
    Task<TResult> UpdateAsync<TResult>(DocumentKey key, Func<StoredDocument?, DocumentMutation<TResult>> mutate, CancellationToken cancellationToken = default);

    /// <summary>
    /// Creates or replaces many documents, as <see cref="SetAsync"/> would one by one, in as few round-trips
    /// as the backend allows (a SQLite transaction per call; Firestore commits of up to 500 writes). Each
    /// chunk is atomic, the whole call is not: after a failure some chunks may have been written. For bulk
    /// loads (seeding, imports), where a write per round-trip would take hours.
    /// </summary>
    Task SetManyAsync(IReadOnlyList<DocumentWrite> writes, CancellationToken cancellationToken = default);

    /// <summary>Deletes a document if it exists.</summary>
    Task DeleteAsync(DocumentKey key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs a query over one collection (equality and range filters, one order, a limit and a cursor).
    /// Expired documents are never returned.
    /// </summary>
    IAsyncEnumerable<StoredDocument> QueryAsync(DocumentQuery query, CancellationToken cancellationToken = default);

    /// <summary>Deletes every document in <paramref name="collection"/> whose expiry is at or before <paramref name="now"/>; returns how many.</summary>
    Task<int> PurgeExpiredAsync(CollectionPath collection, DateTimeOffset now, CancellationToken cancellationToken = default);
}
