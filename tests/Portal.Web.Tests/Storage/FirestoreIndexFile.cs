using System.Text.Json.Nodes;
using Portal.Storage;

namespace Portal.Web.Tests.Storage;

/// <summary>
/// deploy/cloudrun/firestore.indexes.json read the way Firestore would use it: which composite index a
/// query needs (the store adds <c>__name__</c> in the direction of the order, which every composite index
/// holds implicitly), and whether the file declares it.
/// </summary>
internal sealed class FirestoreIndexFile
{
    private readonly List<(string Group, string Scope, List<(string Field, string Order)> Fields)> _indexes = [];
    private readonly HashSet<(string Group, string Field)> _collectionGroupAscending = [];

    /// <summary>A composite index a query needs: its collection group, its equality fields (any order), then its order field.</summary>
    internal sealed record Need(string Group, IReadOnlySet<string> Equalities, string OrderField, bool Descending)
    {
        public override string ToString() => $"{Group}: [{string.Join(", ", Equalities.Order(StringComparer.Ordinal))}] then {OrderField} {(Descending ? "DESCENDING" : "ASCENDING")}";
    }

    public static FirestoreIndexFile Load()
    {
        var path = Path.Combine(QueryShapeTests.RepositoryRoot(), "deploy", "cloudrun", "firestore.indexes.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        var file = new FirestoreIndexFile();
        foreach (var index in json["indexes"]!.AsArray())
        {
            file._indexes.Add((
                index!["collectionGroup"]!.GetValue<string>(),
                index["queryScope"]!.GetValue<string>(),
                [.. index["fields"]!.AsArray().Select(f => (f!["fieldPath"]!.GetValue<string>(), f["order"]!.GetValue<string>()))]));
        }

        foreach (var over in json["fieldOverrides"]!.AsArray())
        {
            if (over!["indexes"]!.AsArray().Any(i => i!["queryScope"]!.GetValue<string>() == "COLLECTION_GROUP" && i["order"]?.GetValue<string>() == "ASCENDING"))
            {
                file._collectionGroupAscending.Add((over["collectionGroup"]!.GetValue<string>(), over["fieldPath"]!.GetValue<string>()));
            }
        }

        return file;
    }

    /// <summary>The composite index <paramref name="query"/> needs, or null when Firestore's automatic single-field indexes serve it.</summary>
    public static Need? Requirement(DocumentQuery query)
    {
        var group = query.Collection.Value[(query.Collection.Value.LastIndexOf('/') + 1)..];
        var equalities = query.Filters.Where(f => f.Operator == FilterOperator.Equal).Select(f => f.FieldPath).ToHashSet(StringComparer.Ordinal);
        var ranges = query.Filters.Where(f => f.Operator != FilterOperator.Equal).Select(f => f.FieldPath).ToHashSet(StringComparer.Ordinal);
        var order = query.OrderBy;
        if (ranges.Count > 0 && (order is null || ranges.Any(r => r != order.FieldPath)))
        {
            // The store never builds this: a range on a field it does not order by first. Say so instead of guessing.
            return new Need(group, equalities, "(range on " + string.Join(",", ranges) + " without ordering by it)", false);
        }

        var fields = new HashSet<string>(equalities, StringComparer.Ordinal);
        if (order is not null)
        {
            fields.Add(order.FieldPath);
        }

        // One field (in either direction, with __name__ after it), or equalities only (merged single-field
        // indexes, ordered by __name__): no composite index needed.
        if (fields.Count <= 1 || order is null)
        {
            return null;
        }

        return new Need(group, equalities, order.FieldPath, order.Descending);
    }

    public bool Covers(Need need) => _indexes.Any(index =>
        index.Group == need.Group
        && index.Scope == "COLLECTION"
        && index.Fields.Count == need.Equalities.Count + 1
        && index.Fields.Take(need.Equalities.Count).Select(f => f.Field).ToHashSet(StringComparer.Ordinal).SetEquals(need.Equalities)
        && index.Fields[^1].Field == need.OrderField
        && index.Fields[^1].Order == (need.Descending ? "DESCENDING" : "ASCENDING"));

    public bool HasCollectionGroupExpiryIndex(string collectionGroup) => _collectionGroupAscending.Contains((collectionGroup, "_expireAt"));
}
