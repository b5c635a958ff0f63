using Portal.Storage;

namespace Portal.Testing;

/// <summary>
/// What a test sees of a portal it shares with the other tests of its class: the documents of some collections
/// that were there when the test began, so that it reads only the ones written since (its own audit records,
/// sessions and counters), exactly what it would read on a portal of its own. Ids are never reused, and a document
/// that had expired before the test began stays expired, so nothing of an earlier test is read as new.
/// </summary>
public sealed class StoreMark
{
    private readonly IDocumentStore _store;
    private readonly Dictionary<CollectionPath, HashSet<DocumentKey>> _before;

    private StoreMark(IDocumentStore store, Dictionary<CollectionPath, HashSet<DocumentKey>> before)
    {
        _store = store;
        _before = before;
    }

    /// <summary>Notes every document of <paramref name="collections"/> now.</summary>
    public static async Task<StoreMark> TakeAsync(IDocumentStore store, params CollectionPath[] collections)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(collections);
        var before = new Dictionary<CollectionPath, HashSet<DocumentKey>>();
        foreach (var collection in collections)
        {
            var keys = new HashSet<DocumentKey>();
            await foreach (var doc in store.QueryAsync(new DocumentQuery(collection)))
            {
                keys.Add(doc.Key);
            }

            before[collection] = keys;
        }

        return new StoreMark(store, before);
    }

    /// <summary>The documents of <paramref name="collection"/> (one of the marked ones) written since the mark.</summary>
    public async Task<List<StoredDocument>> SinceAsync(CollectionPath collection)
    {
        if (!_before.TryGetValue(collection, out var before))
        {
            throw new InvalidOperationException($"{collection.Value} was not marked.");
        }

        var since = new List<StoredDocument>();
        await foreach (var doc in _store.QueryAsync(new DocumentQuery(collection)))
        {
            if (!before.Contains(doc.Key))
            {
                since.Add(doc);
            }
        }

        return since;
    }
}
