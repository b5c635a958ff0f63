using Portal.Storage;

namespace Portal.Audit;

/// <summary>Reads one audit record by id, for the detail view. Like every read, it never returns an expired record.</summary>
public interface IAuditRecordReader
{
    /// <summary>The record, or null when it does not exist in this tenant, has expired, or the id is not well-formed.</summary>
    Task<AuditRecord?> GetAsync(string tenantId, string recordId, CancellationToken cancellationToken = default);
}

internal sealed class AuditRecordReader(IDocumentStore store) : IAuditRecordReader
{
    public async Task<AuditRecord?> GetAsync(string tenantId, string recordId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenantId);
        if (!AuditTrail.IsWellFormedId(recordId))
        {
            return null;
        }

        // The key is built from the tenant of the session: an id from another tenant simply is not found here.
        var document = await store.GetAsync(new DocumentKey(CollectionPath.ForTenant(tenantId, "audit"), recordId), cancellationToken);
        return document is null ? null : DocumentJson.FromDocument<AuditRecord>(document.Data);
    }
}
