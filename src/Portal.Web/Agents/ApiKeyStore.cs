using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Portal.Storage;

namespace Portal.Web.Agents;

/// <summary>
/// What a tenant API key may do, chosen when it is created (docs/audit.md, "SIEM export API"): one scope a key, so a
/// SIEM's key cannot switch the tenant's heightened-threat mode and a SOAR's key cannot read the audit.
/// </summary>
public static class ApiKeyScopes
{
    /// <summary>Pulls the tenant's audit; what every key created before scopes existed is.</summary>
    public const string AuditRead = "audit:read";

    /// <summary>Switches the tenant's heightened-threat mode (docs/tenancy.md, "Heightened-threat mode").</summary>
    public const string HeightenedWrite = "heightened:write";

    /// <summary>The scopes an admin can give a key, with what each allows in the admin's words; the first is the default.</summary>
    public static IReadOnlyList<(string Scope, string Words)> All { get; } =
    [
        (AuditRead, "Read the audit (a SIEM's pull)"),
        (HeightenedWrite, "Switch heightened-threat mode on or off (a SOAR or the security team)"),
    ];

    public static bool IsScope(string? scope) => All.Any(s => s.Scope == scope);
}

/// <summary>
/// A tenant's API key for SIEM pulls of its audit or a SOAR's switch of heightened-threat mode, as its
/// <see cref="Scope"/> says (<c>tenants/{t}/apiKeys/{id}</c>). The key itself is never stored: only its SHA-256, so a
/// copy of the store does not hand out working keys (docs/security-requirements.md D5).
/// </summary>
public sealed record ApiKeyRecord
{
    public required string Id { get; init; }

    public required string TenantId { get; init; }

    public required string Name { get; init; }

    /// <summary>SHA-256 of the whole key, lowercase hex.</summary>
    public required string Hash { get; init; }

    /// <summary>The last four characters of the key, so an admin can tell keys apart.</summary>
    public required string Hint { get; init; }

    /// <summary>
    /// One of <see cref="ApiKeyScopes"/>; absent on a key created before scopes existed, which stays what it was
    /// created for: <see cref="ApiKeyScopes.AuditRead"/> (<see cref="EffectiveScope"/>).
    /// </summary>
    public string? Scope { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required string CreatedBySubject { get; init; }

    public required string CreatedByMaskedLogin { get; init; }

    public DateTimeOffset? LastUsedAt { get; init; }

    public DateTimeOffset? RevokedAt { get; init; }

    public string? RevokedBySubject { get; init; }

    /// <summary>What the key may do: its <see cref="Scope"/>, or audit read for a key stored without one.</summary>
    public string EffectiveScope() => Scope ?? ApiKeyScopes.AuditRead;
}

/// <summary>Why a presented key was refused; the API answers the same 401 for each, the audit keeps the reason.</summary>
public enum ApiKeyRefusal
{
    None,
    Missing,
    Malformed,
    Unknown,
    Revoked,
}

public sealed partial class ApiKeyStore(IDocumentStore store, TimeProvider clock)
{
    /// <summary>Every key starts with this, so secret scanners and people recognise a leaked one.</summary>
    public const string Prefix = "portal_ak_";

    /// <summary>256 random bits.</summary>
    public const int SecretBytes = 32;

    private const int NameMaxLength = 60;

    // Writing last-used on every pull would make each SIEM poll a store write; a minute is precise enough.
    private static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    public static CollectionPath Collection(string tenantId) => CollectionPath.ForTenant(tenantId, "apiKeys");

    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    /// <summary>Creates a key; the returned plain key is shown once and exists nowhere else afterwards.</summary>
    public async Task<(ApiKeyRecord Record, string Key)> CreateAsync(string tenantId, string name, AgentContext creator, CancellationToken cancellationToken) =>
        await CreateAsync(tenantId, name, ApiKeyScopes.AuditRead, creator, cancellationToken);

    /// <summary>Creates a key of <paramref name="scope"/>; the returned plain key is shown once and exists nowhere else afterwards.</summary>
    public async Task<(ApiKeyRecord Record, string Key)> CreateAsync(string tenantId, string name, string scope, AgentContext creator, CancellationToken cancellationToken)
    {
        if (!IsValidName(name))
        {
            throw new ArgumentException("A key name is 1-60 letters, digits, spaces, '.', '_' or '-'.", nameof(name));
        }

        if (!ApiKeyScopes.IsScope(scope))
        {
            throw new ArgumentException("A key's scope is one of ApiKeyScopes.", nameof(scope));
        }

        var key = Prefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(SecretBytes));
        var record = new ApiKeyRecord
        {
            Id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)),
            TenantId = tenantId,
            Name = name,
            Hash = HashOf(key),
            Hint = key[^4..],
            Scope = scope,
            CreatedAt = clock.GetUtcNow(),
            CreatedBySubject = creator.Subject,
            CreatedByMaskedLogin = creator.MaskedLogin,
        };
        if (!await store.CreateAsync(new DocumentKey(Collection(tenantId), record.Id), DocumentJson.ToDocument(record), null, cancellationToken))
        {
            throw new InvalidOperationException("An API key id collided; refusing to reuse it.");
        }

        return (record, key);
    }

    public async Task<IReadOnlyList<ApiKeyRecord>> ListAsync(string tenantId, CancellationToken cancellationToken)
    {
        var keys = new List<ApiKeyRecord>();
        var query = new DocumentQuery(Collection(tenantId)) { OrderBy = new FieldOrder("createdAt", Descending: true), Limit = 200 };
        await foreach (var document in store.QueryAsync(query, cancellationToken))
        {
            keys.Add(DocumentJson.FromDocument<ApiKeyRecord>(document.Data));
        }

        return keys;
    }

    /// <summary>Revokes a key of this tenant; false when there is no such key or it was already revoked.</summary>
    public async Task<bool> RevokeAsync(string tenantId, string keyId, AgentContext by, CancellationToken cancellationToken)
    {
        if (!IsWellFormedId(keyId))
        {
            return false;
        }

        var now = clock.GetUtcNow();
        return await store.UpdateAsync(new DocumentKey(Collection(tenantId), keyId), current =>
        {
            var record = current is null ? null : DocumentJson.FromDocument<ApiKeyRecord>(current.Data);
            if (record is null || record.RevokedAt is not null || record.TenantId != tenantId)
            {
                return DocumentMutation<bool>.Keep(false);
            }

            var revoked = record with { RevokedAt = now, RevokedBySubject = by.Subject };
            return DocumentMutation<bool>.Write(DocumentJson.ToDocument(revoked), null, true);
        }, cancellationToken);
    }

    /// <summary>
    /// The live key of <paramref name="tenantId"/> that <paramref name="presented"/> is, with its last-used time
    /// moved on; or why it is refused. A key of another tenant is unknown here: it is looked up only among
    /// this tenant's keys.
    /// </summary>
    public async Task<(ApiKeyRecord? Key, ApiKeyRefusal Refusal)> AuthenticateAsync(string tenantId, string? presented, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(presented))
        {
            return (null, ApiKeyRefusal.Missing);
        }

        if (!KeyPattern().IsMatch(presented))
        {
            return (null, ApiKeyRefusal.Malformed);
        }

        var hash = HashOf(presented);
        var query = new DocumentQuery(Collection(tenantId)) { Filters = [new FieldFilter("hash", FilterOperator.Equal, hash)], Limit = 1 };
        ApiKeyRecord? found = null;
        await foreach (var document in store.QueryAsync(query, cancellationToken))
        {
            found = DocumentJson.FromDocument<ApiKeyRecord>(document.Data);
        }

        if (found is null || found.TenantId != tenantId
            || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(found.Hash), Encoding.ASCII.GetBytes(hash)))
        {
            return (null, ApiKeyRefusal.Unknown);
        }

        if (found.RevokedAt is not null)
        {
            return (found, ApiKeyRefusal.Revoked);
        }

        var now = clock.GetUtcNow();
        if (found.LastUsedAt is { } last && now - last < LastUsedResolution)
        {
            return (found, ApiKeyRefusal.None);
        }

        var touched = await store.UpdateAsync(new DocumentKey(Collection(tenantId), found.Id), current =>
        {
            var record = current is null ? null : DocumentJson.FromDocument<ApiKeyRecord>(current.Data);
            if (record is null || record.RevokedAt is not null)
            {
                // Revoked between the read and now: the revocation wins.
                return DocumentMutation<ApiKeyRecord?>.Keep(null);
            }

            var used = record with { LastUsedAt = now };
            return DocumentMutation<ApiKeyRecord?>.Write(DocumentJson.ToDocument(used), null, used);
        }, cancellationToken);
        return touched is null ? (found, ApiKeyRefusal.Revoked) : (touched, ApiKeyRefusal.None);
    }

    internal static string HashOf(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    internal static bool IsWellFormedId(string? id) => id is { Length: 16 } && id.All(char.IsAsciiHexDigitLower);

    [GeneratedRegex("^portal_ak_[A-Za-z0-9_-]{43}$")]
    private static partial Regex KeyPattern();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9 ._-]{0,59}$")]
    private static partial Regex NamePattern();
}
