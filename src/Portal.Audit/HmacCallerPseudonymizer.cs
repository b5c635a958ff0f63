using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Portal.Audit;

/// <summary>
/// HMAC-SHA256 under a per-tenant key derived with HKDF from the one pseudonymisation secret. A plain
/// hash of an IdP id could be reversed by hashing every id; a keyed one cannot without the secret, and a
/// per-tenant key keeps one tenant's pseudonyms from matching another's.
/// </summary>
internal sealed class HmacCallerPseudonymizer(IOptions<AuditOptions> options) : ICallerPseudonymizer
{
    private readonly ConcurrentDictionary<string, byte[]> _keys = new(StringComparer.Ordinal);

    public string HashCallerId(string tenantId, string callerId)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenantId);
        ArgumentNullException.ThrowIfNull(callerId);
        return Hash("portal/pseudonym/" + tenantId, callerId);
    }

    public string HashValue(string tenantId, string purpose, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenantId);
        ArgumentException.ThrowIfNullOrEmpty(purpose);
        ArgumentNullException.ThrowIfNull(value);
        return Hash("portal/" + purpose + "/" + tenantId, value);
    }

    private string Hash(string info, string value)
    {
        var key = _keys.GetOrAdd(info, Derive);
        return Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(value)));
    }

    private byte[] Derive(string info)
    {
        if (!AuditOptions.TryDecodeKey(options.Value.PseudonymisationKey, out var secret))
        {
            throw new InvalidOperationException("Portal:Audit:PseudonymisationKey must be base64 of at least 32 bytes.");
        }

        return HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, 32, salt: [], info: Encoding.UTF8.GetBytes(info));
    }
}
