namespace Portal.Storage;

/// <summary>
/// A backend's way to delete every expired document, whatever its collection. Tenant collections have
/// one path per tenant (<c>tenants/{id}/audit</c>), so a purge by collection name could never know them
/// all; each backend deletes by expiry across the whole store instead.
/// </summary>
internal interface IExpiredDocumentPurge
{
    /// <summary>Deletes every document whose expiry is at or before <paramref name="now"/>; returns how many.</summary>
    Task<int> PurgeAllExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken = default);
}
